#include "daemon_process.hpp"

#include "names.hpp"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <csignal>
#include <cstring>
#include <stdexcept>
#include <thread>

#ifndef MMM_DAEMON_PATH
#error "MMM_DAEMON_PATH must be defined by tests/support/CMakeLists.txt"
#endif

namespace mmm::test {

std::string daemon_path() {
    return MMM_DAEMON_PATH;
}

bool can_connect(const std::string& path) {
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    if (path.size() >= sizeof addr.sun_path) return false;
    std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
    int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return false;
    bool ok = ::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) == 0;
    ::close(fd);
    return ok;
}

DaemonProcess::DaemonProcess(std::string runtime_dir, std::vector<std::string> extra_args)
    : runtime_dir_(std::move(runtime_dir)), extra_args_(std::move(extra_args)) {}

DaemonProcess::~DaemonProcess() {
    try {
        stop();
    } catch (...) {
        // The ChildProcess destructor still kills and reaps.
    }
}

std::string DaemonProcess::socket_path() const {
    return detail::socket_path(runtime_dir_);
}

std::string DaemonProcess::name_space() const {
    return detail::namespace_for(runtime_dir_);
}

void DaemonProcess::start(std::chrono::milliseconds ready_timeout) {
    if (running()) throw std::logic_error("DaemonProcess::start: mmmd is already running");
    std::vector<std::string> args{"--foreground", "--runtime-dir", runtime_dir_, "--log-level",
                                  "warn"};
    args.insert(args.end(), extra_args_.begin(), extra_args_.end());
    ChildOptions options;
    options.capture_stdout = false;  // the log goes to the test's output
    options.env["MMM_RUNTIME_DIR"] = runtime_dir_;
    if (prefix_.empty()) {
        child_.emplace(daemon_path(), args, std::move(options));
    } else {
        std::vector<std::string> all(prefix_.begin() + 1, prefix_.end());
        all.push_back(daemon_path());
        all.insert(all.end(), args.begin(), args.end());
        child_.emplace(prefix_.front(), all, std::move(options));
    }

    // A stale socket of a killed daemon refuses connections until the new one
    // listens, so a successful connect means this daemon is serving.
    auto deadline = std::chrono::steady_clock::now() + ready_timeout;
    for (int attempt = 0; attempt < 10'000; ++attempt) {
        if (can_connect(socket_path())) return;
        auto status = child_->wait_for_exit(std::chrono::milliseconds(0));
        if (!status.timed_out) {
            child_.reset();
            throw std::runtime_error("mmmd exited before it accepted connections: " +
                                     status.describe());
        }
        if (std::chrono::steady_clock::now() >= deadline) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(5));  // poll interval, bounded
    }
    child_->kill_and_reap();
    child_.reset();
    throw std::runtime_error("mmmd did not accept connections on " + socket_path() + " within " +
                             std::to_string(ready_timeout.count()) + " ms");
}

std::optional<ExitStatus> DaemonProcess::stop(std::chrono::milliseconds grace) {
    if (!child_) return std::nullopt;
    std::optional<ExitStatus> result;
    if (child_->running()) {
        child_->kill(SIGTERM);
        auto status = child_->wait_for_exit(grace);
        if (status.timed_out) {
            child_->kill(SIGKILL);
            status = child_->wait_for_exit(std::chrono::seconds(5));
        }
        result = status;
    }
    child_.reset();
    return result;
}

std::optional<ExitStatus> DaemonProcess::kill9() {
    if (!child_) return std::nullopt;
    std::optional<ExitStatus> result;
    if (child_->running()) {
        child_->kill(SIGKILL);
        result = child_->wait_for_exit(std::chrono::seconds(5));
    }
    child_.reset();
    return result;
}

void DaemonProcess::restart() {
    stop();
    start();
}

}  // namespace mmm::test
