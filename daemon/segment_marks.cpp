#include "segment_marks.hpp"

#include "chunk_layout.hpp"
#include "fault_guard.hpp"
#include "futex.hpp"

#include <mmm/detail/seqlock.hpp>
#include <mmm/options.hpp>

#include <atomic>

namespace mmmd {

namespace detail = mmm::detail;

namespace {

detail::ChunkSync* sync_of(void* page) {
    return reinterpret_cast<detail::ChunkSync*>(static_cast<unsigned char*>(page) +
                                                detail::kSyncOffset);
}

}  // namespace

// flatten: the helpers from the headers are inlined here, built as this file
// is, rather than called as a copy built with instrumentation.
[[gnu::flatten]] bool mark_deleted(void* page) noexcept {
    detail::ChunkSync* sync = sync_of(page);
    return guarded(page, detail::kPageSize, [&] {
        sync->state.store(static_cast<std::uint32_t>(mmm::ChunkState::deleted),
                          std::memory_order_release);
        // An atomic read-modify-write on the shared word: every kind of waiter
        // sees the removal because version changes (seqlock.hpp bump_version).
        detail::bump_version(sync);
    });
}

[[gnu::flatten]] bool publish_count(void* page, std::uint64_t count) noexcept {
    detail::ChunkSync* sync = sync_of(page);
    return guarded(page, detail::kPageSize, [&] {
        sync->count.store(count, std::memory_order_release);
        detail::bump_version(sync);
    });
}

[[gnu::flatten]] bool mark_deleted_v2(void* page, std::size_t state_offset,
                                      std::size_t version_offset) noexcept {
    auto* base = static_cast<unsigned char*>(page);
    auto* state = reinterpret_cast<std::atomic<std::uint32_t>*>(base + state_offset);
    auto* version = reinterpret_cast<std::atomic<std::uint32_t>*>(base + version_offset);
    return guarded(page, detail::kPageSize, [&] {
        state->store(static_cast<std::uint32_t>(mmm::ChunkState::deleted),
                     std::memory_order_release);
        version->fetch_add(1, std::memory_order_seq_cst);
        detail::futex_wake_all(version);
    });
}

}  // namespace mmmd
