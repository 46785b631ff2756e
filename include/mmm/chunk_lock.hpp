// mmm::ChunkLock: the scoped, exclusive, cross-process lock of one chunk, for
// updates that span several elements. Robust: when the holder dies, the next
// locker gets the lock and previous_owner_died() is true; the chunk's version
// moves on at every release.
//
// Thread-safety: a ChunkLock is owned by one thread; it is movable, not copyable.
#pragma once

#include <mmm/detail/chunk_sync.hpp>

#include <string>
#include <utility>

namespace mmm {

namespace detail {
struct ChunkLockAccess;
}

class ChunkLock {
  public:
    ChunkLock() = default;
    ChunkLock(ChunkLock&& o) noexcept
        : sync_(std::exchange(o.sync_, nullptr)), owner_died_(o.owner_died_) {}
    ChunkLock& operator=(ChunkLock&& o) noexcept {
        if (this != &o) {
            unlock();
            sync_ = std::exchange(o.sync_, nullptr);
            owner_died_ = o.owner_died_;
        }
        return *this;
    }
    ChunkLock(const ChunkLock&) = delete;
    ChunkLock& operator=(const ChunkLock&) = delete;
    ~ChunkLock() { unlock(); }

    // True when the previous holder died holding the lock: the elements it was
    // updating may be half-written; check them before trusting them.
    bool previous_owner_died() const noexcept { return owner_died_; }
    bool owns_lock() const noexcept { return sync_ != nullptr; }
    explicit operator bool() const noexcept { return owns_lock(); }
    // Bumps the chunk's version, wakes waiters, then releases.
    void unlock() noexcept;

  private:
    friend struct detail::ChunkLockAccess;
    ChunkLock(detail::ChunkSync* sync, bool owner_died) : sync_(sync), owner_died_(owner_died) {}

    detail::ChunkSync* sync_ = nullptr;
    bool owner_died_ = false;
};

namespace detail {
// A held lock, or an empty one when timeout_ns >= 0 ran out (-1: wait forever).
ChunkLock lock_chunk(ChunkSync* sync, const std::string& name, long long timeout_ns);
}  // namespace detail

}  // namespace mmm
