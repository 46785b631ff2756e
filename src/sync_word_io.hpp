// Reads and writes of single ChunkSync words through a segment descriptor
// (pread/pwrite), for those who must not or cannot map the segment: mmmd,
// which never maps a segment to keep its words, and a client whose mapping
// did not come about. Not user API.
#pragma once

#include "chunk_header.hpp"

#include <cstddef>
#include <cstdint>
#include <string>

namespace mmm::detail {

// sync.writer_pid: the write lease of a single-writer chunk (daemon/sync_words.hpp).
inline constexpr std::size_t kWriterPidOffset =
    offsetof(ChunkHeader, sync) + offsetof(ChunkSync, writer_pid);
// sync.watchers: the read-only waiters mmmd counts for them.
inline constexpr std::size_t kWatchersOffset =
    offsetof(ChunkHeader, sync) + offsetof(ChunkSync, watchers);

// Throws mmm::Error (io_error) when the segment cannot be read or written.
std::uint32_t read_sync_word(int segment_fd, std::size_t offset, const std::string& chunk);
void write_sync_word(int segment_fd, std::size_t offset, std::uint32_t value,
                     const std::string& chunk);

}  // namespace mmm::detail
