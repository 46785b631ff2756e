// The synchronisation words every chunk segment carries in its header. Part of
// the segment layout (docs/LAYOUT.md); here, not in src/, only because the
// inline element accessors of MemChunk<T> use them. Not user API.
#pragma once

#include <pthread.h>

#include <atomic>
#include <cstddef>
#include <cstdint>

namespace mmm::detail {

static_assert(std::atomic<std::uint64_t>::is_always_lock_free &&
                  std::atomic<std::uint32_t>::is_always_lock_free,
              "mmm needs address-free lock-free atomics to share them between processes");

// One seqlock per stripe, on its own cache line. The word packs the writer:
//   bits 0..31  sequence (odd while a write is in progress)
//   bits 32..63 pid of the writer while odd, 0 while even
// so a reader or writer that finds it odd for long can tell whether the writer died.
struct alignas(64) StripeLine {
    std::atomic<std::uint64_t> word;
};
static_assert(sizeof(StripeLine) == 64);

inline constexpr std::size_t kStripeCount = 256;

// Elements of these sizes are read and written with one atomic access and never
// take a stripe (detail::kWholeWord), so their chunks' headers end before the
// stripes (header_bytes_for in src/chunk_header.cpp).
inline constexpr bool is_whole_word_size(std::size_t bytes) {
    return bytes == 1 || bytes == 2 || bytes == 4 || bytes == 8;
}

struct alignas(64) ChunkSync {
    std::atomic<std::uint32_t> version;          // futex word: bumped by checked writes and unlocks
    std::atomic<std::uint32_t> waiters;          // writable waiters sleeping on `version`
    std::atomic<std::uint32_t> state;            // mmm::ChunkState
    std::atomic<std::uint32_t> lock_recoveries;  // times the chunk lock's owner died
    std::atomic<std::uint32_t> stripe_recoveries;  // times a writer died mid-write
    // Single-writer chunks: pid of the process whose mapping holds the write
    // lease (set by mmmd when it grants it, cleared by the holder or by mmmd).
    std::atomic<std::uint32_t> writer_pid;
    // Read-only waiters sleeping on `version`, counted by mmmd on their behalf
    // (a read-only mapping cannot write `waiters`). Writers wake when either is set.
    std::atomic<std::uint32_t> watchers;
    std::uint8_t reserved_words[64 - 7 * sizeof(std::uint32_t)];
    alignas(64) pthread_mutex_t lock;  // PTHREAD_PROCESS_SHARED | PTHREAD_MUTEX_ROBUST
    alignas(64) StripeLine stripes[kStripeCount];
};
static_assert(offsetof(ChunkSync, lock) == 64);

// Whether anyone sleeps on `version` and must be woken after it changes:
// writable waiters count themselves, read-only ones are counted by mmmd.
inline bool has_sleepers(const ChunkSync* sync, std::memory_order order) {
    return (sync->waiters.load(order) | sync->watchers.load(order)) != 0;
}
static_assert(offsetof(ChunkSync, stripes) == 128);
static_assert(sizeof(ChunkSync) == 128 + kStripeCount * 64);

}  // namespace mmm::detail
