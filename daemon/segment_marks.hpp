// The words mmmd writes into a mapped segment that a client may cut short
// under it: the deleted mark of a removed chunk and the count of a resized
// one. Each runs inside guarded() (fault_guard.hpp) and returns false when
// the page faulted, so the cut costs that one chunk, never the daemon.
//
// segment_marks.cpp is built without ThreadSanitizer's instrumentation
// (daemon/CMakeLists.txt): TSan's atomics hold a per-thread lock around the
// access, so a fault that jumps out of one leaves the lock held and the next
// atomic of mmmd hangs. Out of line, so no inlined copy is instrumented.
#pragma once

#include <cstddef>
#include <cstdint>

namespace mmmd {

// page: a shared mapping of the segment's first page.
bool mark_deleted(void* page) noexcept;
bool publish_count(void* page, std::uint64_t count) noexcept;

// Layout 2 kept state and version as 32-bit words at other offsets.
bool mark_deleted_v2(void* page, std::size_t state_offset, std::size_t version_offset) noexcept;

}  // namespace mmmd
