#include "pid_watch.hpp"

#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <boost/asio/post.hpp>

#include <cerrno>

namespace mmmd {

namespace {

// pidfd_open has no glibc wrapper before 2.36.
int pidfd_open(pid_t pid) {
    return static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
}

bool is_gone(pid_t pid) {
    return pid <= 0 || (::kill(pid, 0) != 0 && errno == ESRCH);
}

}  // namespace

bool PidWatch::watch(pid_t pid, std::function<void()> on_exit) {
    int fd = pid > 0 ? pidfd_open(pid) : -1;
    if (fd < 0) {
        if (!is_gone(pid)) return false;  // alive but unwatchable (old kernel)
        boost::asio::post(io_, std::move(on_exit));
        return true;
    }
    // A pidfd becomes readable when its process exits.
    auto it = watched_.emplace(watched_.end(), io_, fd);
    it->async_wait(boost::asio::posix::stream_descriptor::wait_read,
                   [this, it, on_exit = std::move(on_exit)](const boost::system::error_code& ec) {
                       if (ec) return;  // cancelled by stop(); `it` may be gone
                       watched_.erase(it);
                       on_exit();
                   });
    return true;
}

void PidWatch::stop() {
    for (auto& d : watched_) {
        boost::system::error_code ignored;
        d.close(ignored);
    }
    watched_.clear();
}

}  // namespace mmmd
