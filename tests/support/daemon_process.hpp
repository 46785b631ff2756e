// DaemonProcess: a real mmmd (the one built with this tree) on a runtime
// directory of the test's choosing:
//
//   mmmd --foreground --runtime-dir DIR --log-level warn [extra args...]
//
// start() returns once the daemon accepts connections on DIR/mmmd.sock (a
// bounded poll of connect attempts, 10 s), or throws with what went wrong.
// stop() is SIGTERM, then SIGKILL after 5 s. The destructor stops a running
// daemon. The daemon's stderr is inherited, so its log shows in test output.
//
// Thread-safety: one DaemonProcess belongs to one thread.
#pragma once

#include "child_process.hpp"

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace mmm::test {

class DaemonProcess {
  public:
    explicit DaemonProcess(std::string runtime_dir, std::vector<std::string> extra_args = {});
    ~DaemonProcess();
    DaemonProcess(const DaemonProcess&) = delete;
    DaemonProcess& operator=(const DaemonProcess&) = delete;

    // Starts mmmd and waits until it accepts connections. Throws on failure.
    void start(std::chrono::milliseconds ready_timeout = std::chrono::seconds(10));
    // SIGTERM, wait up to `grace`, then SIGKILL. Returns how it ended (nullopt
    // when it was not running).
    std::optional<ExitStatus> stop(std::chrono::milliseconds grace = std::chrono::seconds(5));
    // SIGKILL and reap: a crash, as far as clients and segments can tell.
    std::optional<ExitStatus> kill9();
    // stop() if running, then start() again on the same runtime directory.
    void restart();

    // A command that starts mmmd (for example setpriv to run it as another
    // user, or prlimit to give it other limits): the next start() runs
    // `prefix... mmmd args...`.
    void set_command_prefix(std::vector<std::string> prefix) { prefix_ = std::move(prefix); }

    bool running() const { return child_ && child_->running(); }
    pid_t pid() const { return child_ ? child_->pid() : -1; }
    const std::string& runtime_dir() const { return runtime_dir_; }
    std::string socket_path() const;
    // The namespace of this daemon's segments (src/names.hpp namespace_for).
    std::string name_space() const;

  private:
    std::string runtime_dir_;
    std::vector<std::string> extra_args_;
    std::vector<std::string> prefix_;
    std::optional<ChildProcess> child_;
};

// The mmmd built with this tree (a path baked in by tests/support/CMakeLists.txt).
std::string daemon_path();

// True when something accepts a connection on the Unix socket at `path`.
bool can_connect(const std::string& path);

}  // namespace mmm::test
