// Slow paths of the element seqlocks and the chunk's change notification.
#include <mmm/detail/mapped_chunk.hpp>
#include <mmm/detail/seqlock.hpp>
#include <mmm/error.hpp>

#include "asymmetric_fence.hpp"
#include "futex.hpp"
#include "pid_alive.hpp"

#include <pthread.h>
#include <sched.h>
#include <unistd.h>

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

// Sleep slices of wait_for_change (see MappedChunk::wait_for_change).
constexpr std::chrono::milliseconds kShortestWatchedWait{2};
constexpr std::chrono::milliseconds kWatchedSlice{1000};
constexpr std::chrono::milliseconds kUncountedSlice{1};

inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    asm volatile("yield");
#endif
}

// Moves a stripe abandoned by a dead writer to the next even sequence.
bool recover(ChunkSync* sync, StripeLine& stripe, std::uint64_t odd) {
    std::uint64_t even = (odd + 1) & kSeqMask;
    if (!stripe.word.compare_exchange_strong(odd, even, std::memory_order_acq_rel)) return false;
    sync->stripe_recoveries.fetch_add(1, std::memory_order_relaxed);
    sync->version.fetch_add(1, std::memory_order_seq_cst);
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

std::uint64_t stripe_wait_even(ChunkSync* sync, StripeLine& stripe, bool can_recover,
                               std::size_t index, const std::string& chunk) {
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

void wake_waiters(ChunkSync* sync) {
    futex_wake_all(&sync->version);
}

std::optional<std::uint32_t> MappedChunk::wait_for_change(std::uint32_t since,
                                                          std::chrono::nanoseconds timeout,
                                                          std::chrono::nanoseconds spin) const {
    using clock = std::chrono::steady_clock;
    ChunkSync* sync = sync_;
    const auto deadline = clock::now() + std::max(timeout, std::chrono::nanoseconds(0));
    auto changed = [&] { return sync->version.load(std::memory_order_seq_cst) != since; };
    if (changed()) return sync->version.load(std::memory_order_acquire);
    // Spin while the peer is likely active: far cheaper than a futex round
    // trip. spin = 0 sleeps at once.
    if (spin > std::chrono::nanoseconds(0)) {
        const auto spin_end = std::min(deadline, clock::now() + spin);
        for (unsigned i = 1; clock::now() < spin_end || i == 1; ++i) {
            for (int k = 0; k < 64; ++k) {
                if (changed()) return sync->version.load(std::memory_order_acquire);
                cpu_relax();
            }
        }
    }
    // Be counted before sleeping, so that writers wake us: a writable mapping
    // counts itself in `waiters`; a read-only one asks mmmd to count it in
    // `watchers` (a round trip, so not for waits shorter than a few of them).
    // A single-writer chunk's writer stores version() without a fence: the
    // asymmetric fence makes our count visible to it (asymmetric_fence.hpp).
    // Uncounted (mmmd away, or no fence), we sleep in short slices instead.
    bool waiting = false, watching = false;
    if (writable_) {
        sync->waiters.fetch_add(1, std::memory_order_seq_cst);
        waiting = true;
    } else if (deadline - clock::now() > kShortestWatchedWait) {
        watching = watch();
    }
    if ((waiting || watching) && single_writer_ && !asymmetric_fence()) {
        if (waiting) sync->waiters.fetch_sub(1, std::memory_order_seq_cst);
        if (watching) unwatch();
        waiting = watching = false;
    }
    // A watched sleep still wakes now and then, in case mmmd lost count.
    const clock::duration slice = waiting    ? clock::duration::max()
                                  : watching ? clock::duration(kWatchedSlice)
                                             : clock::duration(kUncountedSlice);
    while (!changed()) {
        auto left = deadline - clock::now();
        if (left <= clock::duration::zero()) break;
        futex_wait(&sync->version, since,
                   std::chrono::duration_cast<std::chrono::nanoseconds>(std::min(left, slice)));
    }
    if (waiting) sync->waiters.fetch_sub(1, std::memory_order_seq_cst);
    if (watching) unwatch();
    if (changed()) return sync->version.load(std::memory_order_acquire);
    return std::nullopt;
}

}  // namespace mmm::detail
