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

template <class V>
inline V seq_read(ChunkSync* sync, const V* element, std::size_t index, bool can_recover,
                  const std::string& chunk) {
    StripeLine& stripe = stripe_for(sync, index);
    // Copy straight into the result (one copy, not two): a torn copy is
    // overwritten by the retry before anyone sees it.
    struct Bytes {
        alignas(V) unsigned char b[sizeof(V)];
    };
    using Slot = std::conditional_t<std::is_default_constructible_v<V>, V, Bytes>;
    Slot out;
    for (;;) {
        std::uint64_t before = stripe.word.load(std::memory_order_acquire);
        if (before & 1u) [[unlikely]]
            before = stripe_wait_even(sync, stripe, can_recover, index, chunk);
        racy_copy(&out, element, sizeof(V));
        std::atomic_thread_fence(std::memory_order_acquire);
        if (stripe.word.load(std::memory_order_relaxed) == before) [[likely]] {
            if constexpr (std::is_same_v<Slot, V>)
                return out;
            else
                return std::bit_cast<V>(out);
        }
    }
}

template <class V>
inline void seq_write(ChunkSync* sync, V* element, std::size_t index, const V& value) {
    StripeLine& stripe = stripe_for(sync, index);
    std::uint64_t even = stripe.word.load(std::memory_order_relaxed);
    std::uint64_t locked = (std::uint64_t{current_pid()} << 32) | ((even + 1) & 0xffffffffu);
    if ((even & 1u) || !stripe.word.compare_exchange_strong(even, locked, std::memory_order_acquire,
                                                            std::memory_order_relaxed)) [[unlikely]]
        even = stripe_acquire_slow(sync, stripe);
    std::atomic_thread_fence(std::memory_order_release);
    racy_store(element, &value, sizeof(V));
    stripe.word.store((even + 2) & 0xffffffffu, std::memory_order_release);
    sync->version.fetch_add(1, std::memory_order_seq_cst);
    if (sync->waiters.load(std::memory_order_seq_cst) != 0) [[unlikely]]
        wake_waiters(sync);
}

}  // namespace mmm::detail
