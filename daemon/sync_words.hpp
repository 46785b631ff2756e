// The words of a segment's ChunkSync that mmmd itself keeps, read and written
// with pread/pwrite on a segment descriptor (mmmd never maps a segment for them):
//
//  - sync.writer_pid, the write lease of a single-writer chunk
//    (CreateOptions::single_writer): mmmd sets it when it grants a writable
//    mapping, the holder clears it when it unmaps, and mmmd clears it when the
//    holder disconnects or dies. The word, not mmmd's memory, is the truth, so
//    a restarted mmmd keeps refusing a second writer while the first is alive.
//  - sync.watchers, the read-only waiters that asked mmmd to be counted (a
//    read-only mapping cannot write `waiters` itself). Only mmmd writes it.
#pragma once

#include "chunk_header.hpp"

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <string>

namespace mmmd {

inline constexpr std::size_t kWriterPidOffset =
    offsetof(mmm::detail::ChunkHeader, sync) + offsetof(mmm::detail::ChunkSync, writer_pid);
inline constexpr std::size_t kWatchersOffset =
    offsetof(mmm::detail::ChunkHeader, sync) + offsetof(mmm::detail::ChunkSync, watchers);

// Throws mmm::Error (io_error) when the segment cannot be read or written.
std::uint32_t read_sync_word(int segment_fd, std::size_t offset, const std::string& chunk);
void write_sync_word(int segment_fd, std::size_t offset, std::uint32_t value,
                     const std::string& chunk);

// Whether a recorded lease holder still runs (a zombie does not). A pid reused
// by another process after the holder died reads as alive until that process exits.
bool lease_holder_alive(std::uint32_t pid);

}  // namespace mmmd
