// Slow paths of the element seqlocks (contention, a writer that died
// mid-write, futex wake-ups) and the untyped element copies.
#include <mmm/detail/seqlock.hpp>
#include <mmm/error.hpp>

#include "cpu_relax.hpp"
#include "futex.hpp"
#include "pid_alive.hpp"

#include <pthread.h>
#include <sched.h>
#include <unistd.h>

#include <cstring>
#include <optional>
#include <string>

namespace mmm::detail {

std::uint32_t g_current_pid = 0;

namespace {

void refresh_pid() {
    g_current_pid = static_cast<std::uint32_t>(::getpid());
}

// Registered once: a fork child must not write stripes under its parent's pid.
[[maybe_unused]] const bool pid_cache_ready = [] {
    refresh_pid();
    ::pthread_atfork(nullptr, nullptr, &refresh_pid);
    return true;
}();

constexpr std::uint64_t kSeqMask = 0xffffffffu;
constexpr int kSpinsBeforeCheck = 2000;

// Moves a stripe abandoned by a dead writer to the next even sequence.
bool recover(ChunkSync* sync, StripeLine& stripe, std::uint64_t odd) {
    std::uint64_t even = (odd + 1) & kSeqMask;
    if (!stripe.word.compare_exchange_strong(odd, even, std::memory_order_acq_rel)) return false;
    sync->stripe_recoveries.fetch_add(1, std::memory_order_relaxed);
    bump_version(sync);
    return true;
}

}  // namespace

std::uint32_t current_pid_slow() {
    refresh_pid();
    return g_current_pid;
}

std::uint64_t stripe_acquire_slow(ChunkSync* sync, StripeLine& stripe) {
    const std::uint64_t me = std::uint64_t{current_pid()} << 32;
    for (int spins = 0;; ++spins) {
        std::uint64_t w = stripe.word.load(std::memory_order_relaxed);
        if (!(w & 1u)) {
            if (stripe.word.compare_exchange_weak(w, me | ((w + 1) & kSeqMask),
                                                  std::memory_order_acquire,
                                                  std::memory_order_relaxed))
                return w;
            continue;
        }
        if (spins < kSpinsBeforeCheck) {
            cpu_relax();
            continue;
        }
        spins = 0;
        if (!pid_alive(static_cast<std::uint32_t>(w >> 32)))
            recover(sync, stripe, w);
        else
            ::sched_yield();
    }
}

std::optional<std::uint64_t> stripe_wait_even_until(
    ChunkSync* sync, StripeLine& stripe, bool can_recover, std::size_t index,
    const std::string& chunk, std::chrono::steady_clock::time_point deadline) {
    for (int spins = 0;; ++spins) {
        std::uint64_t w = stripe.word.load(std::memory_order_acquire);
        if (!(w & 1u)) return w;
        if (spins < kSpinsBeforeCheck) {
            cpu_relax();
            continue;
        }
        spins = 0;
        auto writer = static_cast<std::uint32_t>(w >> 32);
        if (pid_alive(writer)) {
            if (std::chrono::steady_clock::now() >= deadline) return std::nullopt;
            ::sched_yield();
            continue;
        }
        if (!can_recover)
            throw Error(Errc::owner_died, chunk,
                        "element " + std::to_string(index) + " was being written by pid " +
                            std::to_string(writer) + ", which died mid-write; it may be torn",
                        "a writable mapping recovers it on its next access; rewrite the element");
        recover(sync, stripe, w);
    }
}

std::uint64_t stripe_wait_even(ChunkSync* sync, StripeLine& stripe, bool can_recover,
                               std::size_t index, const std::string& chunk) {
    return *stripe_wait_even_until(sync, stripe, can_recover, index, chunk,
                                   std::chrono::steady_clock::time_point::max());
}

void wake_waiters(ChunkSync* sync) {
    futex_wake_all(&sync->version);
}

namespace {

template <class W>
void load_word(const std::byte* element, void* out) {
    const W w = word_load(reinterpret_cast<const W*>(element));
    std::memcpy(out, &w, sizeof w);
}

template <class W>
void store_word(std::byte* element, const void* value) {
    W w;
    std::memcpy(&w, value, sizeof w);
    word_store(reinterpret_cast<W*>(element), w);
}

}  // namespace

bool seq_read_bytes(const ElementAccess& a, std::size_t index, void* out, bool can_recover,
                    const std::string& chunk, std::chrono::steady_clock::time_point deadline) {
    const std::uint64_t size = a.element_size;
    const std::byte* element = a.data + index * size;
    switch (size) {  // the sizes of is_whole_word_size: one atomic load
        case 1:
            return load_word<std::uint8_t>(element, out), true;
        case 2:
            return load_word<std::uint16_t>(element, out), true;
        case 4:
            return load_word<std::uint32_t>(element, out), true;
        case 8:
            return load_word<std::uint64_t>(element, out), true;
        default:
            break;
    }
    StripeLine& stripe = a.stripe_for(index);
    for (;;) {
        std::uint64_t before = stripe.word.load(std::memory_order_acquire);
        if (before & 1u) {
            auto even = stripe_wait_even_until(a.sync, stripe, can_recover, index, chunk, deadline);
            if (!even) {
                racy_copy(out, element, size);  // the caller was told it may be torn
                return false;
            }
            before = *even;
        }
        racy_copy(out, element, size);
        std::atomic_thread_fence(std::memory_order_acquire);
        if (stripe.word.load(std::memory_order_relaxed) == before) return true;
    }
}

void seq_write_bytes(const ElementAccess& a, std::size_t index, const void* value,
                     bool single_writer) {
    const std::uint64_t size = a.element_size;
    std::byte* element = a.data + index * size;
    switch (size) {
        case 1:
            store_word<std::uint8_t>(element, value);
            break;
        case 2:
            store_word<std::uint16_t>(element, value);
            break;
        case 4:
            store_word<std::uint32_t>(element, value);
            break;
        case 8:
            store_word<std::uint64_t>(element, value);
            break;
        default: {
            StripeLine& stripe = a.stripe_for(index);
            const std::uint64_t even =
                single_writer ? stripe_take_single(a.sync, stripe) : stripe_take(a.sync, stripe);
            std::atomic_thread_fence(std::memory_order_release);
            racy_store(element, value, size);
            stripe.word.store((even + 2) & kSeqMask, std::memory_order_release);
        }
    }
    if (single_writer)
        single_writer_bump(a.sync);
    else
        bump_version(a.sync);
}

}  // namespace mmm::detail
