#include <mmm/chunk_lock.hpp>
#include <mmm/detail/seqlock.hpp>
#include <mmm/error.hpp>

#include "posix_io.hpp"

#include <cerrno>
#include <chrono>
#include <ctime>

namespace mmm {
namespace detail {

namespace {

// The timed lock of ThreadSanitizer builds. TSan (GCC 12) does not intercept
// pthread_mutex_clocklock, and its pthread_mutex_timedlock takes EOWNERDEAD
// for a failure, so a lock recovered from a dead holder looked unlocked to it
// and the unlock was reported. Its trylock knows EOWNERDEAD: poll that.
[[maybe_unused]] int trylock_until(pthread_mutex_t* mutex, long long timeout_ns) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::nanoseconds(timeout_ns);
    for (;;) {
        const int rc = ::pthread_mutex_trylock(mutex);
        if (rc != EBUSY) return rc;
        if (std::chrono::steady_clock::now() >= deadline) return ETIMEDOUT;
        timespec pause{0, 100'000};  // 0.1 ms
        ::nanosleep(&pause, nullptr);
    }
}

}  // namespace

struct ChunkLockAccess {
    static ChunkLock make(ChunkSync* sync, bool owner_died) { return ChunkLock(sync, owner_died); }
};

ChunkLock lock_chunk(ChunkSync* sync, const std::string& name, long long timeout_ns) {
    int rc;
    if (timeout_ns < 0) {
        rc = ::pthread_mutex_lock(&sync->lock);
    } else {
        if constexpr (kThreadSanitizer) {
            rc = trylock_until(&sync->lock, timeout_ns);
        } else {
            // The monotonic clock: immune to wall-clock steps.
            timespec deadline{};
            ::clock_gettime(CLOCK_MONOTONIC, &deadline);
            long long ns = deadline.tv_nsec + timeout_ns % 1000000000;
            deadline.tv_sec += static_cast<time_t>(timeout_ns / 1000000000 + ns / 1000000000);
            deadline.tv_nsec = static_cast<long>(ns % 1000000000);
            rc = ::pthread_mutex_clocklock(&sync->lock, CLOCK_MONOTONIC, &deadline);
        }
        if (rc == ETIMEDOUT) return ChunkLock{};
    }
    bool owner_died = false;
    if (rc == EOWNERDEAD) {
        // The holder died: make the mutex usable again and tell the new holder.
        ::pthread_mutex_consistent(&sync->lock);
        sync->lock_recoveries.fetch_add(1, std::memory_order_relaxed);
        bump_version(sync);
        owner_died = true;
    } else if (rc == ENOTRECOVERABLE) {
        throw Error(Errc::owner_died, name,
                    "the chunk lock is unrecoverable (a holder died and the next one did not "
                    "mark it consistent)",
                    "re-create the chunk");
    } else if (rc != 0) {
        throw_errno("locking the chunk", rc, name);
    }
    return ChunkLockAccess::make(sync, owner_died);
}

}  // namespace detail

void ChunkLock::unlock() noexcept {
    if (!sync_) return;
    detail::bump_version(sync_);
    ::pthread_mutex_unlock(&sync_->lock);
    sync_ = nullptr;
}

}  // namespace mmm
