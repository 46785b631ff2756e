// The write lease of a single-writer chunk (CreateOptions::single_writer): the
// pid in the header's sync.writer_pid word. mmmd sets it when it grants a
// writable mapping, the holder clears it when it unmaps, and mmmd clears it
// when the holder disconnects or dies. The word, not mmmd's memory, is the
// truth, so a restarted mmmd keeps refusing a second writer while the first
// is alive. Read and written with pread/pwrite on a segment descriptor: mmmd
// never maps a segment for this.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>

namespace mmmd {

// The holder recorded in the segment; 0 when the lease is free. Throws mmm::Error.
std::uint32_t lease_holder(int segment_fd, const std::string& chunk);

// Records `pid` (0 releases). The descriptor must be writable. Throws mmm::Error.
void set_lease_holder(int segment_fd, std::uint32_t pid, const std::string& chunk);

// Whether a recorded holder still runs. A pid reused by another process after
// the holder died reads as alive until that process exits (docs/CONCURRENCY.md).
bool lease_holder_alive(std::uint32_t pid);

}  // namespace mmmd
