#include <mmm/chunk_lock.hpp>
#include <mmm/detail/seqlock.hpp>
#include <mmm/error.hpp>

#include "posix_io.hpp"

#include <cerrno>
#include <ctime>

namespace mmm {
namespace detail {

struct ChunkLockAccess {
    static ChunkLock make(ChunkSync* sync, bool owner_died) { return ChunkLock(sync, owner_died); }
};

ChunkLock lock_chunk(ChunkSync* sync, const std::string& name, long long timeout_ns) {
    int rc;
    if (timeout_ns < 0) {
        rc = ::pthread_mutex_lock(&sync->lock);
    } else {
        // TSan (GCC 12) does not intercept pthread_mutex_clocklock; timedlock it
        // knows. Otherwise the monotonic clock: immune to wall-clock steps.
        constexpr clockid_t clock = kThreadSanitizer ? CLOCK_REALTIME : CLOCK_MONOTONIC;
        timespec deadline{};
        ::clock_gettime(clock, &deadline);
        long long ns = deadline.tv_nsec + timeout_ns % 1000000000;
        deadline.tv_sec += static_cast<time_t>(timeout_ns / 1000000000 + ns / 1000000000);
        deadline.tv_nsec = static_cast<long>(ns % 1000000000);
        if constexpr (kThreadSanitizer)
            rc = ::pthread_mutex_timedlock(&sync->lock, &deadline);
        else
            rc = ::pthread_mutex_clocklock(&sync->lock, clock, &deadline);
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
