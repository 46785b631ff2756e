// The synchronisation words every chunk segment carries in its header, and
// what the inline element accessors need to reach an element and its stripe.
// Part of the segment layout (docs/LAYOUT.md; the rest is src/chunk_layout.hpp);
// here, not in src/, only because the inline accessors of MemChunk<T> use
// them. Not user API.
#pragma once

#include <pthread.h>

#include <algorithm>
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

// A chunk has one stripe per element up to this many (a power of two, at
// least its element count rounded up), so a small chunk has a small header.
inline constexpr std::uint64_t kMaxStripes = 256;

// Elements of these sizes are read and written with one atomic access and never
// take a stripe, so their chunks have no stripe table.
inline constexpr bool is_whole_word_size(std::uint64_t bytes) {
    return bytes == 1 || bytes == 2 || bytes == 4 || bytes == 8;
}

struct alignas(64) ChunkSync {
    // Line 0: what every checked write and every waiter touches.
    std::atomic<std::uint32_t> version;  // futex word: bumped by checked writes, unlocks, resizes
    std::atomic<std::uint32_t> waiters;  // writable waiters sleeping on `version`
    std::atomic<std::uint32_t> state;    // mmm::ChunkState, as mmmd last published it
    std::atomic<std::uint32_t> lock_recoveries;    // times the chunk lock's owner died
    std::atomic<std::uint32_t> stripe_recoveries;  // times a writer died mid-write
    // Single-writer chunks: pid of the process whose mapping holds the write
    // lease (set by mmmd when it grants it, cleared by the holder or by mmmd).
    std::atomic<std::uint32_t> writer_pid;
    // Read-only waiters sleeping on `version`, counted by mmmd on their behalf
    // (a read-only mapping cannot write `waiters`). Writers wake when either is set.
    std::atomic<std::uint32_t> watchers;
    // Heap chunks only (mmm::Heap; 0 in array chunks): whether the managed
    // segment in the data bytes is built, and whether it is known damaged.
    // Written under the chunk lock (HeapState in src/heap.cpp; docs/LAYOUT.md).
    std::atomic<std::uint32_t> heap_state;
    // Line 1: the live element count, published by mmmd (growable chunks
    // change it). On a line of its own so that checked accesses, which read
    // it, never miss because a writer bumped `version`.
    alignas(64) std::atomic<std::uint64_t> count;
    // Line 2.
    alignas(64) pthread_mutex_t lock;  // PTHREAD_PROCESS_SHARED | PTHREAD_MUTEX_ROBUST
};
static_assert(offsetof(ChunkSync, heap_state) == 28);
static_assert(offsetof(ChunkSync, count) == 64);
static_assert(offsetof(ChunkSync, lock) == 128);
static_assert(sizeof(ChunkSync) == 192);

// Whether anyone sleeps on `version` and must be woken after it changes:
// writable waiters count themselves, read-only ones are counted by mmmd.
inline bool has_sleepers(const ChunkSync* sync, std::memory_order order) {
    return (sync->waiters.load(order) | sync->watchers.load(order)) != 0;
}

// Where one mapping's elements and their synchronisation words are: built
// once per mapping (src/mapped_chunk.cpp) and copied into the typed and
// untyped handles, whose element paths read nothing else.
struct ElementAccess {
    std::byte* data = nullptr;
    ChunkSync* sync = nullptr;
    StripeLine* stripes = nullptr;  // null for whole-word elements
    std::uint64_t stripe_mask = 0;  // stripe count - 1
    std::uint64_t capacity = 0;     // elements the mapping covers (the chunk's max_count)
    std::uint64_t element_size = 0;

    // The live element count, never beyond what the mapping covers (a writer
    // can scribble on the word; it cannot make an access leave the mapping).
    std::uint64_t count() const {
        return std::min(sync->count.load(std::memory_order_acquire), capacity);
    }
    StripeLine& stripe_for(std::uint64_t index) const { return stripes[index & stripe_mask]; }
};

}  // namespace mmm::detail
