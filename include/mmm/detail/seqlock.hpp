// Element-consistent access for MemChunk<T>::read/write: striped seqlocks in
// the chunk header. Readers never write shared memory and never block writers;
// writers of elements on different stripes never touch the same cache line.
// The slow paths (contention, a writer that died mid-write, futex wakeups) are
// out of line in src/seqlock.cpp. Not user API.
#pragma once

#include <mmm/detail/chunk_sync.hpp>

#include <atomic>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <type_traits>

#if defined(__SANITIZE_THREAD__)
#define MMM_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define MMM_TSAN 1
#endif
#endif

namespace mmm::detail {

// getpid() without a system call; refreshed in fork children (see seqlock.cpp).
extern std::uint32_t g_current_pid;
std::uint32_t current_pid_slow();
inline std::uint32_t current_pid() {
    std::uint32_t pid = g_current_pid;
    return pid != 0 ? pid : current_pid_slow();
}

inline StripeLine& stripe_for(ChunkSync* sync, std::size_t index) {
    return sync->stripes[index % kStripeCount];
}

// Returns the even word the stripe had when this writer took it.
std::uint64_t stripe_acquire_slow(ChunkSync* sync, StripeLine& stripe);
// Waits until the stripe is even again; recovers it if its writer died and
// `can_recover`, else throws Errc::owner_died naming `chunk`. Returns the even word.
std::uint64_t stripe_wait_even(ChunkSync* sync, StripeLine& stripe, bool can_recover,
                               std::size_t index, const std::string& chunk);
void wake_waiters(ChunkSync* sync);

// The element copy races with writers by design; the sequence check discards a
// torn copy. Under TSan, copy with relaxed atomics so the race is a declared one.
inline void racy_copy(void* dst, const void* src, std::size_t n) {
#if defined(MMM_TSAN)
    auto* d = static_cast<unsigned char*>(dst);
    auto* s = const_cast<unsigned char*>(static_cast<const unsigned char*>(src));
    for (std::size_t i = 0; i < n; ++i)
        d[i] = std::atomic_ref<unsigned char>(s[i]).load(std::memory_order_relaxed);
#else
    std::memcpy(dst, src, n);
#endif
}

inline void racy_store(void* dst, const void* src, std::size_t n) {
#if defined(MMM_TSAN)
    auto* d = static_cast<unsigned char*>(dst);
    auto* s = static_cast<const unsigned char*>(src);
    for (std::size_t i = 0; i < n; ++i)
        std::atomic_ref<unsigned char>(d[i]).store(s[i], std::memory_order_relaxed);
#else
    std::memcpy(dst, src, n);
#endif
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
inline V seq_read_striped(ChunkSync* sync, const V* element, std::size_t index, bool can_recover,
                          const std::string& chunk) {
    StripeLine& stripe = stripe_for(sync, index);
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
inline V seq_read(ChunkSync* sync, const V* element, std::size_t index, bool can_recover,
                  const std::string& chunk) {
    if constexpr (kWholeWord<V>) {
        return word_load(element);
    } else if constexpr (std::is_default_constructible_v<V>) {
        return seq_read_striped(sync, element, index, can_recover, chunk);
    } else {
        struct Bytes {
            alignas(V) unsigned char b[sizeof(V)];
        };
        return std::bit_cast<V>(seq_read_striped(sync, reinterpret_cast<const Bytes*>(element),
                                                 index, can_recover, chunk));
    }
}

// Any number of writers in any number of processes: the stripe is taken with a
// CAS and version() is bumped with an atomic add.
template <class V>
inline void seq_write(ChunkSync* sync, V* element, std::size_t index, const V& value) {
    if constexpr (kWholeWord<V>) {
        word_store(element, value);
    } else {
        StripeLine& stripe = stripe_for(sync, index);
        std::uint64_t even = stripe.word.load(std::memory_order_relaxed);
        std::uint64_t locked = (std::uint64_t{current_pid()} << 32) | ((even + 1) & 0xffffffffu);
        if ((even & 1u) || !stripe.word.compare_exchange_strong(
                               even, locked, std::memory_order_acquire, std::memory_order_relaxed))
            [[unlikely]]
            even = stripe_acquire_slow(sync, stripe);
        std::atomic_thread_fence(std::memory_order_release);
        racy_store(element, &value, sizeof(V));
        stripe.word.store((even + 2) & 0xffffffffu, std::memory_order_release);
    }
    sync->version.fetch_add(1, std::memory_order_seq_cst);
    if (has_sleepers(sync, std::memory_order_seq_cst)) [[unlikely]]
        wake_waiters(sync);
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
inline void seq_write_single(ChunkSync* sync, V* element, std::size_t index, const V& value) {
    if constexpr (kWholeWord<V>) {
        word_store(element, value);
    } else {
        StripeLine& stripe = stripe_for(sync, index);
        std::uint64_t even = stripe.word.load(std::memory_order_relaxed);
        if (even & 1u) [[unlikely]]  // left odd by an earlier holder that died mid-write
            even = stripe_acquire_slow(sync, stripe);
        else
            stripe.word.store((std::uint64_t{current_pid()} << 32) | ((even + 1) & 0xffffffffu),
                              std::memory_order_relaxed);
        std::atomic_thread_fence(std::memory_order_release);
        racy_store(element, &value, sizeof(V));
        stripe.word.store((even + 2) & 0xffffffffu, std::memory_order_release);
    }
    single_writer_bump(sync);
}

}  // namespace mmm::detail
