#include "segment_reaper.hpp"

#include <pthread.h>
#include <csignal>

namespace mmmd {

SegmentReaper::SegmentReaper() {
    // Signals (SIGTERM, SIGINT) are mmmd's event loop's to handle, not this thread's.
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    thread_ = std::thread([this] { run(); });
    pthread_sigmask(SIG_SETMASK, &old, nullptr);
}

SegmentReaper::~SegmentReaper() {
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    wake_.notify_one();
    thread_.join();
}

void SegmentReaper::close_later(mmm::detail::UniqueFd fd, std::function<void()> then) {
    {
        std::lock_guard lock(mutex_);
        queue_.push_back({std::move(fd), std::move(then)});
    }
    wake_.notify_one();
}

void SegmentReaper::run() {
    std::unique_lock lock(mutex_);
    for (;;) {
        wake_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
        if (queue_.empty()) return;  // stopping, nothing left
        Job job = std::move(queue_.front());
        queue_.pop_front();
        lock.unlock();
        job.fd.reset();  // frees the segment's pages, unless a client still maps it
        if (job.then) job.then();
        lock.lock();
    }
}

}  // namespace mmmd
