// Element-consistent access for MemChunk<T>::read/write: striped seqlocks in
// the chunk header. Readers never write shared memory and never block writers;
// writers of elements on different stripes never touch the same cache line.
// The slow paths (contention, a writer that died mid-write, futex wakeups) are
// out of line in src/seqlock.cpp. Not user API.
#pragma once

#include <mmm/detail/chunk_sync.hpp>

#include <atomic>
#include <bit>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <type_traits>

namespace mmm::detail {

// Under ThreadSanitizer the racy element copies are made of relaxed atomics,
// so that the race the sequence check resolves is a declared one.
#if defined(__SANITIZE_THREAD__)
inline constexpr bool kThreadSanitizer = true;
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
inline constexpr bool kThreadSanitizer = true;
#else
inline constexpr bool kThreadSanitizer = false;
#endif
#else
inline constexpr bool kThreadSanitizer = false;
#endif

// getpid() without a system call; refreshed in fork children (see seqlock.cpp).
extern std::uint32_t g_current_pid;
std::uint32_t current_pid_slow();
inline std::uint32_t current_pid() {
    std::uint32_t pid = g_current_pid;
    return pid != 0 ? pid : current_pid_slow();
}

// Returns the even word the stripe had when this writer took it.
std::uint64_t stripe_acquire_slow(ChunkSync* sync, StripeLine& stripe);
// Waits until the stripe is even again; recovers it if its writer died and
// `can_recover`, else throws Errc::owner_died naming `chunk`. Returns the even
// word; the _until form nullopt when a live writer still holds it at `deadline`.
std::uint64_t stripe_wait_even(ChunkSync* sync, StripeLine& stripe, bool can_recover,
                               std::size_t index, const std::string& chunk);
std::optional<std::uint64_t> stripe_wait_even_until(ChunkSync* sync, StripeLine& stripe,
                                                    bool can_recover, std::size_t index,
                                                    const std::string& chunk,
                                                    std::chrono::steady_clock::time_point deadline);
void wake_waiters(ChunkSync* sync);

// Every change of a chunk's elements or state moves `version` on with an
// atomic add and wakes sleepers only when someone is counted: a waiter
// counts itself (seq_cst) before it checks `version` and sleeps, so either
// this load sees it or its check sees the new version (docs/CONCURRENCY.md).
inline void bump_version(ChunkSync* sync) {
    sync->version.fetch_add(1, std::memory_order_seq_cst);
    if (has_sleepers(sync, std::memory_order_seq_cst)) [[unlikely]]
        wake_waiters(sync);
}

// Takes a stripe for a write (any number of writers, any processes): a
// compare-and-swap from an even word to the odd one carrying this pid.
// Returns the even word it had.
inline std::uint64_t stripe_take(ChunkSync* sync, StripeLine& stripe) {
    std::uint64_t even = stripe.word.load(std::memory_order_relaxed);
    const std::uint64_t locked = (std::uint64_t{current_pid()} << 32) | ((even + 1) & 0xffffffffu);
    if ((even & 1u) || !stripe.word.compare_exchange_strong(even, locked, std::memory_order_acquire,
                                                            std::memory_order_relaxed)) [[unlikely]]
        even = stripe_acquire_slow(sync, stripe);
    return even;
}

// The same for the write-lease holder of a single-writer chunk: a plain store.
inline std::uint64_t stripe_take_single(ChunkSync* sync, StripeLine& stripe) {
    std::uint64_t even = stripe.word.load(std::memory_order_relaxed);
    if (even & 1u) [[unlikely]]  // left odd by an earlier holder that died mid-write
        return stripe_acquire_slow(sync, stripe);
    stripe.word.store((std::uint64_t{current_pid()} << 32) | ((even + 1) & 0xffffffffu),
                      std::memory_order_relaxed);
    return even;
}

// The element copy races with writers by design; the sequence check discards a
// torn copy. Under TSan, copy with relaxed atomics so the race is a declared one.
inline void racy_copy(void* dst, const void* src, std::size_t n) {
    if constexpr (kThreadSanitizer) {
        auto* d = static_cast<unsigned char*>(dst);
        auto* s = const_cast<unsigned char*>(static_cast<const unsigned char*>(src));
        for (std::size_t i = 0; i < n; ++i)
            d[i] = std::atomic_ref<unsigned char>(s[i]).load(std::memory_order_relaxed);
    } else {
        std::memcpy(dst, src, n);
    }
}

inline void racy_store(void* dst, const void* src, std::size_t n) {
    if constexpr (kThreadSanitizer) {
        auto* d = static_cast<unsigned char*>(dst);
        auto* s = static_cast<const unsigned char*>(src);
        for (std::size_t i = 0; i < n; ++i)
            std::atomic_ref<unsigned char>(d[i]).store(s[i], std::memory_order_relaxed);
    } else {
        std::memcpy(dst, src, n);
    }
}

// Elements of 1, 2, 4 or 8 bytes are naturally aligned (the data starts on a
// page and elements are packed), so one atomic load or store moves them whole:
// they cannot tear and need no stripe (their chunks have none).
template <class V>
inline constexpr bool kWholeWord = is_whole_word_size(sizeof(V));

template <std::size_t N>
struct WordOf;
template <>
struct WordOf<1> {
    using type [[gnu::may_alias]] = std::uint8_t;
};
template <>
struct WordOf<2> {
    using type [[gnu::may_alias]] = std::uint16_t;
};
template <>
struct WordOf<4> {
    using type [[gnu::may_alias]] = std::uint32_t;
};
template <>
struct WordOf<8> {
    using type [[gnu::may_alias]] = std::uint64_t;
};

template <class V>
inline V word_load(const V* element) {
    using W = typename WordOf<sizeof(V)>::type;
    return std::bit_cast<V>(__atomic_load_n(reinterpret_cast<const W*>(element), __ATOMIC_ACQUIRE));
}

template <class V>
inline void word_store(V* element, const V& value) {
    using W = typename WordOf<sizeof(V)>::type;
    W word;  // memcpy, not bit_cast: V may have padding bits
    std::memcpy(&word, &value, sizeof word);
    __atomic_store_n(reinterpret_cast<W*>(element), word, __ATOMIC_RELAXED);
}

// One copy of the element, straight into the caller's result: the loop breaks
// out to a single `return out` so that the compiler constructs `out` in the
// return slot (named return value optimisation; a `return` inside the loop
// defeated it and cost a second 64-byte copy per read).
template <class V>
inline V seq_read_striped(const ElementAccess& a, const V* element, std::size_t index,
                          bool can_recover, const std::string& chunk) {
    ChunkSync* sync = a.sync;
    StripeLine& stripe = a.stripe_for(index);
    V out;
    for (;;) {
        std::uint64_t before = stripe.word.load(std::memory_order_acquire);
        if (before & 1u) [[unlikely]]
            before = stripe_wait_even(sync, stripe, can_recover, index, chunk);
        // A torn copy is overwritten by the retry before anyone sees it.
        racy_copy(&out, element, sizeof(V));
        std::atomic_thread_fence(std::memory_order_acquire);
        if (stripe.word.load(std::memory_order_relaxed) == before) [[likely]]
            break;
    }
    return out;
}

template <class V>
inline V seq_read(const ElementAccess& a, std::size_t index, bool can_recover,
                  const std::string& chunk) {
    const V* element = reinterpret_cast<const V*>(a.data) + index;
    if constexpr (kWholeWord<V>) {
        return word_load(element);
    } else if constexpr (std::is_default_constructible_v<V>) {
        return seq_read_striped(a, element, index, can_recover, chunk);
    } else {
        struct Bytes {
            alignas(V) unsigned char b[sizeof(V)];
        };
        return std::bit_cast<V>(seq_read_striped(a, reinterpret_cast<const Bytes*>(element), index,
                                                 can_recover, chunk));
    }
}

// Any number of writers in any number of processes: the stripe is taken with a
// CAS and version() is bumped with an atomic add.
template <class V>
inline void seq_write(const ElementAccess& a, std::size_t index, const V& value) {
    ChunkSync* sync = a.sync;
    V* element = reinterpret_cast<V*>(a.data) + index;
    if constexpr (kWholeWord<V>) {
        word_store(element, value);
    } else {
        StripeLine& stripe = a.stripe_for(index);
        const std::uint64_t even = stripe_take(sync, stripe);
        std::atomic_thread_fence(std::memory_order_release);
        racy_store(element, &value, sizeof(V));
        stripe.word.store((even + 2) & 0xffffffffu, std::memory_order_release);
    }
    bump_version(sync);
}

// True when this process could not register for the asymmetric fence (see
// single_writer_fence below) and its single-writer writes need a full fence.
extern bool g_single_writer_full_fence;

// The write lease of a single-writer chunk makes its holder the only writer:
// stripes and version() take plain stores, no read-modify-write. A waiter
// that registers in `waiters` runs membarrier(GLOBAL_EXPEDITED) before it
// re-reads version() (seqlock.cpp), which orders this store before the load
// of `waiters` without a fence here.
inline void single_writer_bump(ChunkSync* sync) {
    sync->version.store(sync->version.load(std::memory_order_relaxed) + 1,
                        std::memory_order_release);
    if (g_single_writer_full_fence) [[unlikely]]
        std::atomic_thread_fence(std::memory_order_seq_cst);
    else
        std::atomic_signal_fence(std::memory_order_seq_cst);
    if (has_sleepers(sync, std::memory_order_relaxed)) [[unlikely]]
        wake_waiters(sync);
}

template <class V>
inline void seq_write_single(const ElementAccess& a, std::size_t index, const V& value) {
    ChunkSync* sync = a.sync;
    V* element = reinterpret_cast<V*>(a.data) + index;
    if constexpr (kWholeWord<V>) {
        word_store(element, value);
    } else {
        StripeLine& stripe = a.stripe_for(index);
        const std::uint64_t even = stripe_take_single(sync, stripe);
        std::atomic_thread_fence(std::memory_order_release);
        racy_store(element, &value, sizeof(V));
        stripe.word.store((even + 2) & 0xffffffffu, std::memory_order_release);
    }
    single_writer_bump(sync);
}

// The same protocol on elements of a size known only at run time (AnyChunk,
// mmmctl, Python): `out` / `value` hold element_size bytes. A read returns
// false when a live writer still held the element's stripe at `deadline`
// (`out` then holds a copy that may be torn).
bool seq_read_bytes(
    const ElementAccess& a, std::size_t index, void* out, bool can_recover,
    const std::string& chunk,
    std::chrono::steady_clock::time_point deadline = std::chrono::steady_clock::time_point::max());
void seq_write_bytes(const ElementAccess& a, std::size_t index, const void* value,
                     bool single_writer);

}  // namespace mmm::detail
