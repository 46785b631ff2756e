// Mapping a segment that mmmd granted, and giving the grant back when the
// mapping does not come about (src/mapped_chunk.cpp, the data path). Not user API.
#pragma once

#include "client_core.hpp"
#include "protocol.hpp"

#include <mmm/detail/mapped_chunk.hpp>

#include <memory>
#include <string>

namespace mmm::detail {

// The segment descriptor mmmd attached to its reply; Errc::limit_exceeded
// when the kernel dropped it because this process is at its open-file limit.
int segment_fd(const Reply& reply, const std::string& chunk);

// Checks the geometry mmmd sent and the segment's file behind the
// descriptor, then maps it (PROT_READ only unless writable).
std::unique_ptr<MappedChunk> map_granted(std::shared_ptr<ClientCore> core, const Reply& reply,
                                         const proto::Grant& grant, bool writable, bool populate);

// mmmd counted a mapping, and gave a writable one of a single-writer chunk the
// write lease, before it answered. When the mapping does not come about, this
// lets go of both as a destroyed mapping would. Best effort, never throws.
void release_grant(ClientCore& core, const Reply& reply, const ChunkInfo& info,
                   bool writable) noexcept;

}  // namespace mmm::detail
