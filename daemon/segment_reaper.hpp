// Closes the last descriptor of removed large segments on a thread of its own.
//
// Dropping the last reference to a tmpfs file frees its pages there and then:
// about 0.2 s per GiB, during which a single-threaded mmmd would answer no
// one. mmmd keeps a descriptor open across the unlink (so the unlink itself
// frees nothing) and hands it over here; `then` tells it when the memory is
// back (the reply to a remove waits for that, so remove-then-create never
// finds /dev/shm still full).
#pragma once

#include "unique_fd.hpp"

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>

namespace mmmd {

class SegmentReaper {
  public:
    SegmentReaper();
    // Closes whatever is still queued, then joins the thread.
    ~SegmentReaper();
    SegmentReaper(const SegmentReaper&) = delete;
    SegmentReaper& operator=(const SegmentReaper&) = delete;

    // `then` runs on the reaper's thread once the descriptor is closed.
    void close_later(mmm::detail::UniqueFd fd, std::function<void()> then);

  private:
    void run();

    std::mutex mutex_;
    std::condition_variable wake_;
    struct Job {
        mmm::detail::UniqueFd fd;
        std::function<void()> then;
    };
    std::deque<Job> queue_;
    bool stopping_ = false;
    std::thread thread_;  // last: starts once the rest is constructed
};

}  // namespace mmmd
