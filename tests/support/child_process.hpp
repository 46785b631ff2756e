// ChildProcess: fork + exec of a real program (a test helper, mmmd, mmmctl)
// with its own arguments and environment, its stdout (and optionally stderr)
// captured through pipes, and waits that always have a deadline.
//
// The child gets PR_SET_PDEATHSIG(SIGKILL), and the destructor kills and reaps
// a child still running, so a failing test never leaves processes behind.
//
// Thread-safety: one ChildProcess belongs to one thread.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mmm::test {

using namespace std::chrono_literals;

// How a child ended (or that it did not end before the deadline).
struct ExitStatus {
    bool timed_out = false;  // still running at the deadline
    bool exited = false;     // WIFEXITED
    int code = -1;           // WEXITSTATUS when exited
    int signal = 0;          // WTERMSIG when killed by a signal

    bool ok() const { return exited && code == 0; }
    bool signaled(int sig) const { return !timed_out && !exited && signal == sig; }
    std::string describe() const;
};

struct ChildOptions {
    // Variables set (or overridden) on top of this process's environment.
    std::map<std::string, std::string> env;
    // Variables removed from the inherited environment.
    std::vector<std::string> unset_env;
    bool capture_stdout = true;
    bool capture_stderr = false;  // else inherited (shows up in the test log)
    // A pipe the test writes to (write_stdin / close_stdin); else /dev/null,
    // unless stdin_fd is given: then the child's stdin is a dup of it.
    bool stdin_pipe = false;
    int stdin_fd = -1;
};

class ChildProcess {
  public:
    // Starts `path` with argv = {path, args...}. Throws std::runtime_error
    // (with errno text) when the fork or the exec fails.
    ChildProcess(const std::string& path, const std::vector<std::string>& args,
                 ChildOptions options = {});
    ~ChildProcess();
    ChildProcess(ChildProcess&& other) noexcept;
    ChildProcess& operator=(ChildProcess&& other) noexcept;
    ChildProcess(const ChildProcess&) = delete;
    ChildProcess& operator=(const ChildProcess&) = delete;

    pid_t pid() const { return pid_; }
    bool running() const { return pid_ > 0 && !status_; }

    // The next line of stdout (without '\n'), or nullopt at end of file or
    // when the timeout passes first.
    std::optional<std::string> read_line(std::chrono::milliseconds timeout = 10s);
    // Everything the child wrote to stdout / stderr so far (drained while waiting).
    const std::string& out() const { return out_; }
    const std::string& err() const { return err_; }

    void write_stdin(std::string_view bytes);
    void close_stdin();

    // Waits for the child to end, draining its output meanwhile. On timeout
    // the child is left running and the status says timed_out.
    ExitStatus wait_for_exit(std::chrono::milliseconds timeout = 10s);
    // Sends a signal (no-op when already reaped).
    void kill(int sig);
    // SIGKILL and reap (bounded); used by destructors.
    void kill_and_reap();

  private:
    bool try_reap(bool block);
    // Reads what is available; returns false when both output pipes are closed.
    void drain(int timeout_ms);
    void close_all();

    pid_t pid_ = -1;
    int pidfd_ = -1;
    int out_fd_ = -1;
    int err_fd_ = -1;
    int in_fd_ = -1;
    std::string out_;
    std::string err_;
    std::size_t line_pos_ = 0;  // how much of out_ read_line has consumed
    std::optional<ExitStatus> status_;
};

// Waits (bounded) for a plain fork()ed child to end and reaps it; on timeout
// the child is SIGKILLed, reaped, and the status says timed_out.
ExitStatus wait_for_pid(pid_t pid, std::chrono::milliseconds timeout = 10s);

// Runs a program to completion (bounded): status, stdout and stderr.
struct RunResult {
    ExitStatus status;
    std::string out;
    std::string err;
};
RunResult run_program(const std::string& path, const std::vector<std::string>& args,
                      ChildOptions options = {}, std::chrono::milliseconds timeout = 30s);

}  // namespace mmm::test
