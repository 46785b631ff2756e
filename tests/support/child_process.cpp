#include "child_process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <stdexcept>
#include <utility>

extern char** environ;

namespace mmm::test {
namespace {

using Clock = std::chrono::steady_clock;

[[noreturn]] void fail(const std::string& what) {
    throw std::runtime_error(what + ": " + std::strerror(errno));
}

void close_fd(int& fd) {
    if (fd >= 0) ::close(fd);
    fd = -1;
}

int remaining_ms(Clock::time_point deadline) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    return static_cast<int>(std::clamp<long long>(left.count(), 0, 60'000));
}

std::vector<std::string> build_env(const ChildOptions& options) {
    std::vector<std::string> env;
    for (char** e = environ; e && *e; ++e) {
        std::string_view entry(*e);
        auto key = std::string(entry.substr(0, entry.find('=')));
        if (options.env.count(key)) continue;
        if (std::find(options.unset_env.begin(), options.unset_env.end(), key) !=
            options.unset_env.end())
            continue;
        env.emplace_back(entry);
    }
    for (const auto& [k, v] : options.env) env.push_back(k + "=" + v);
    return env;
}

std::vector<char*> c_strings(std::vector<std::string>& strings) {
    std::vector<char*> out;
    out.reserve(strings.size() + 1);
    for (auto& s : strings) out.push_back(s.data());
    out.push_back(nullptr);
    return out;
}

}  // namespace

std::string ExitStatus::describe() const {
    if (timed_out) return "still running at the deadline";
    if (exited) return "exited with code " + std::to_string(code);
    return "killed by signal " + std::to_string(signal) + " (" + strsignal(signal) + ")";
}

ChildProcess::ChildProcess(const std::string& path, const std::vector<std::string>& args,
                           ChildOptions options) {
    // Everything the child needs is built before fork: after it, only
    // async-signal-safe calls.
    std::vector<std::string> argv_strings{path};
    argv_strings.insert(argv_strings.end(), args.begin(), args.end());
    std::vector<std::string> env_strings = build_env(options);
    std::vector<char*> argv = c_strings(argv_strings);
    std::vector<char*> envp = c_strings(env_strings);

    int out_pipe[2] = {-1, -1}, err_pipe[2] = {-1, -1}, in_pipe[2] = {-1, -1};
    int exec_pipe[2] = {-1, -1};  // CLOEXEC: closes on a successful exec, else carries errno
    auto close_pipes = [&] {
        for (int* p : {out_pipe, err_pipe, in_pipe, exec_pipe}) {
            close_fd(p[0]);
            close_fd(p[1]);
        }
    };
    if ((options.capture_stdout && ::pipe2(out_pipe, O_CLOEXEC) != 0) ||
        (options.capture_stderr && ::pipe2(err_pipe, O_CLOEXEC) != 0) ||
        (options.stdin_pipe && ::pipe2(in_pipe, O_CLOEXEC) != 0) ||
        ::pipe2(exec_pipe, O_CLOEXEC) != 0) {
        int saved = errno;
        close_pipes();
        errno = saved;
        fail("pipe2");
    }
    int dev_null = ::open("/dev/null", O_RDWR | O_CLOEXEC);
    pid_t parent = ::getpid();

    pid_t pid = ::fork();
    if (pid < 0) {
        int saved = errno;
        close_pipes();
        close_fd(dev_null);
        errno = saved;
        fail("fork");
    }
    if (pid == 0) {
        ::prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (::getppid() != parent) ::_exit(127);
        sigset_t none;
        sigemptyset(&none);
        ::sigprocmask(SIG_SETMASK, &none, nullptr);
        ::signal(SIGPIPE, SIG_DFL);
        int in =
            options.stdin_pipe ? in_pipe[0] : (options.stdin_fd >= 0 ? options.stdin_fd : dev_null);
        if (in >= 0) ::dup2(in, 0);
        if (out_pipe[1] >= 0) ::dup2(out_pipe[1], 1);
        if (err_pipe[1] >= 0) ::dup2(err_pipe[1], 2);
        ::execve(argv[0], argv.data(), envp.data());
        int err = errno;
        [[maybe_unused]] auto n = ::write(exec_pipe[1], &err, sizeof err);
        ::_exit(127);
    }

    pid_ = pid;
    close_fd(dev_null);
    close_fd(out_pipe[1]);
    close_fd(err_pipe[1]);
    close_fd(in_pipe[0]);
    close_fd(exec_pipe[1]);
    out_fd_ = out_pipe[0];
    err_fd_ = err_pipe[0];
    in_fd_ = in_pipe[1];

    int exec_errno = 0;
    ssize_t n;
    do {
        n = ::read(exec_pipe[0], &exec_errno, sizeof exec_errno);
    } while (n < 0 && errno == EINTR);
    close_fd(exec_pipe[0]);
    if (n == static_cast<ssize_t>(sizeof exec_errno)) {
        kill_and_reap();
        close_all();
        errno = exec_errno;
        fail("exec " + path);
    }
    pidfd_ = static_cast<int>(::syscall(SYS_pidfd_open, pid_, 0));  // -1: poll fallback
}

ChildProcess::~ChildProcess() {
    kill_and_reap();
    close_all();
}

ChildProcess::ChildProcess(ChildProcess&& o) noexcept
    : pid_(std::exchange(o.pid_, -1)),
      pidfd_(std::exchange(o.pidfd_, -1)),
      out_fd_(std::exchange(o.out_fd_, -1)),
      err_fd_(std::exchange(o.err_fd_, -1)),
      in_fd_(std::exchange(o.in_fd_, -1)),
      out_(std::move(o.out_)),
      err_(std::move(o.err_)),
      line_pos_(o.line_pos_),
      status_(std::move(o.status_)) {}

ChildProcess& ChildProcess::operator=(ChildProcess&& o) noexcept {
    if (this != &o) {
        kill_and_reap();
        close_all();
        pid_ = std::exchange(o.pid_, -1);
        pidfd_ = std::exchange(o.pidfd_, -1);
        out_fd_ = std::exchange(o.out_fd_, -1);
        err_fd_ = std::exchange(o.err_fd_, -1);
        in_fd_ = std::exchange(o.in_fd_, -1);
        out_ = std::move(o.out_);
        err_ = std::move(o.err_);
        line_pos_ = o.line_pos_;
        status_ = std::move(o.status_);
    }
    return *this;
}

void ChildProcess::close_all() {
    close_fd(pidfd_);
    close_fd(out_fd_);
    close_fd(err_fd_);
    close_fd(in_fd_);
}

bool ChildProcess::try_reap(bool block) {
    if (pid_ <= 0) return true;
    if (status_) return true;
    int wstatus = 0;
    pid_t r;
    do {
        r = ::waitpid(pid_, &wstatus, block ? 0 : WNOHANG);
    } while (r < 0 && errno == EINTR);
    if (r == 0) return false;
    ExitStatus s;
    if (r < 0) {
        s.exited = true;  // already reaped elsewhere (ECHILD): nothing more to learn
        s.code = -1;
    } else if (WIFEXITED(wstatus)) {
        s.exited = true;
        s.code = WEXITSTATUS(wstatus);
    } else if (WIFSIGNALED(wstatus)) {
        s.signal = WTERMSIG(wstatus);
    }
    status_ = s;
    close_fd(pidfd_);
    return true;
}

void ChildProcess::drain(int timeout_ms) {
    pollfd fds[3];
    int n = 0;
    int out_index = -1, err_index = -1;
    if (out_fd_ >= 0) {
        out_index = n;
        fds[n++] = {out_fd_, POLLIN, 0};
    }
    if (err_fd_ >= 0) {
        err_index = n;
        fds[n++] = {err_fd_, POLLIN, 0};
    }
    if (pidfd_ >= 0 && !status_) fds[n++] = {pidfd_, POLLIN, 0};
    if (n == 0) return;
    int r = ::poll(fds, static_cast<nfds_t>(n), timeout_ms);
    if (r <= 0) return;
    auto read_into = [](int& fd, std::string& buffer) {
        char buf[4096];
        ssize_t got = ::read(fd, buf, sizeof buf);
        if (got > 0)
            buffer.append(buf, static_cast<std::size_t>(got));
        else if (got == 0 || (errno != EINTR && errno != EAGAIN))
            close_fd(fd);
    };
    if (out_index >= 0 && fds[out_index].revents) read_into(out_fd_, out_);
    if (err_index >= 0 && fds[err_index].revents) read_into(err_fd_, err_);
}

std::optional<std::string> ChildProcess::read_line(std::chrono::milliseconds timeout) {
    auto deadline = Clock::now() + timeout;
    for (int rounds = 0; rounds < 100'000; ++rounds) {
        auto nl = out_.find('\n', line_pos_);
        if (nl != std::string::npos) {
            std::string line = out_.substr(line_pos_, nl - line_pos_);
            line_pos_ = nl + 1;
            return line;
        }
        if (out_fd_ < 0 || Clock::now() >= deadline) break;
        // Poll only the output: a reaped-but-unread pidfd would spin.
        pollfd p{out_fd_, POLLIN, 0};
        if (::poll(&p, 1, remaining_ms(deadline)) > 0) {
            char buf[4096];
            ssize_t got = ::read(out_fd_, buf, sizeof buf);
            if (got > 0)
                out_.append(buf, static_cast<std::size_t>(got));
            else if (got == 0 || (errno != EINTR && errno != EAGAIN))
                close_fd(out_fd_);
        }
    }
    if (out_fd_ < 0 && line_pos_ < out_.size()) {  // a last line without '\n'
        std::string line = out_.substr(line_pos_);
        line_pos_ = out_.size();
        return line;
    }
    return std::nullopt;
}

void ChildProcess::write_stdin(std::string_view bytes) {
    if (in_fd_ < 0) throw std::logic_error("ChildProcess: stdin is not a pipe (or closed)");
    while (!bytes.empty()) {
        ssize_t n = ::write(in_fd_, bytes.data(), bytes.size());
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) fail("write to the child's stdin");
        bytes.remove_prefix(static_cast<std::size_t>(n));
    }
}

void ChildProcess::close_stdin() {
    close_fd(in_fd_);
}

ExitStatus ChildProcess::wait_for_exit(std::chrono::milliseconds timeout) {
    auto deadline = Clock::now() + timeout;
    for (int rounds = 0; rounds < 1'000'000; ++rounds) {
        if (try_reap(false)) break;
        if (Clock::now() >= deadline) {
            ExitStatus s;
            s.timed_out = true;
            return s;
        }
        // With a pidfd, poll wakes on exit; without one, poll in 10 ms slices.
        drain(pidfd_ >= 0 ? remaining_ms(deadline) : std::min(10, remaining_ms(deadline)));
    }
    if (!status_) {
        ExitStatus s;
        s.timed_out = true;
        return s;
    }
    // The child is gone; collect what is left in the pipes (bounded: a
    // grandchild could still hold them open).
    auto drain_deadline = std::min(deadline, Clock::now() + 2s) + 100ms;
    for (int rounds = 0; rounds < 10'000 && (out_fd_ >= 0 || err_fd_ >= 0); ++rounds) {
        if (Clock::now() >= drain_deadline) break;
        drain(remaining_ms(drain_deadline));
    }
    return *status_;
}

void ChildProcess::kill(int sig) {
    if (running()) ::kill(pid_, sig);
}

void ChildProcess::kill_and_reap() {
    if (!running()) return;
    ::kill(pid_, SIGKILL);
    try_reap(true);  // SIGKILL cannot be ignored: this returns promptly
}

ExitStatus wait_for_pid(pid_t pid, std::chrono::milliseconds timeout) {
    auto deadline = Clock::now() + timeout;
    int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
    ExitStatus s;
    s.timed_out = true;
    for (int rounds = 0; rounds < 1'000'000; ++rounds) {
        int wstatus = 0;
        pid_t r = ::waitpid(pid, &wstatus, WNOHANG);
        if (r < 0 && errno == EINTR) continue;
        if (r == pid) {
            s.timed_out = false;
            if (WIFEXITED(wstatus)) {
                s.exited = true;
                s.code = WEXITSTATUS(wstatus);
            } else if (WIFSIGNALED(wstatus)) {
                s.signal = WTERMSIG(wstatus);
            }
            break;
        }
        if (r < 0 || Clock::now() >= deadline) break;
        if (pidfd >= 0) {
            pollfd p{pidfd, POLLIN, 0};
            ::poll(&p, 1, remaining_ms(deadline));
        } else {
            pollfd none{};
            ::poll(&none, 0, std::min(5, remaining_ms(deadline)));  // poll interval, bounded
        }
    }
    if (pidfd >= 0) ::close(pidfd);
    if (s.timed_out) {
        ::kill(pid, SIGKILL);
        int ignored = 0;
        ::waitpid(pid, &ignored, 0);
    }
    return s;
}

RunResult run_program(const std::string& path, const std::vector<std::string>& args,
                      ChildOptions options, std::chrono::milliseconds timeout) {
    options.capture_stdout = true;
    options.capture_stderr = true;
    ChildProcess child(path, args, std::move(options));
    RunResult result;
    result.status = child.wait_for_exit(timeout);
    if (result.status.timed_out) child.kill_and_reap();
    result.out = child.out();
    result.err = child.err();
    return result;
}

}  // namespace mmm::test
