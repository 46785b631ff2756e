// The words of a segment's ChunkSync that mmmd itself keeps, read and written
// with pread/pwrite on a segment descriptor (src/sync_word_io.hpp; mmmd never
// maps a segment for them):
//
//  - sync.writer_pid, the write lease of a single-writer chunk
//    (CreateOptions::single_writer): mmmd sets it when it grants a writable
//    mapping, the holder clears it when it unmaps (or when its mapping fails),
//    and mmmd clears it when the holder disconnects or dies. The word, not
//    mmmd's memory, is the truth, so a restarted mmmd keeps refusing a second
//    writer while the first is alive.
//  - sync.watchers, the read-only waiters that asked mmmd to be counted (a
//    read-only mapping cannot write `waiters` itself). Only mmmd writes it.
#pragma once

#include "sync_word_io.hpp"

#include <cstdint>

namespace mmmd {

using mmm::detail::kWatchersOffset;
using mmm::detail::kWriterPidOffset;
using mmm::detail::read_sync_word;
using mmm::detail::write_sync_word;

// Whether a recorded lease holder still runs (a zombie does not). A pid reused
// by another process after the holder died reads as alive until that process exits.
bool lease_holder_alive(std::uint32_t pid);

}  // namespace mmmd
