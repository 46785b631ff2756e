// run_forked: runs a function in a fork()ed child (optionally after dropping
// to another uid/gid, as root) and reports how the child ended; start_forked
// starts it and returns at once. The function
// returns the exit code; an mmm::Error escaping it becomes exit_code_of(code),
// so a test can assert "the child got Errc::permission_denied" from the status.
//
// The child dies with the test process (PR_SET_PDEATHSIG), never dumps core,
// and ends with _exit so no GoogleTest or static destructors run twice.
#pragma once

#include "child_process.hpp"

#include <mmm/error.hpp>

#include <grp.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <exception>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>

namespace mmm::test {

inline constexpr int kErrcExitBase = 100;
inline constexpr int kDropFailed = 97;
inline constexpr int kUnknownException = 99;

constexpr int exit_code_of(mmm::Errc code) {
    return kErrcExitBase + static_cast<int>(code);
}

struct Credentials {
    uid_t uid;
    gid_t gid;
};
inline constexpr Credentials kNobody{65534, 65534};

// A fork()ed child, killed and reaped when the object goes unless wait() has
// reaped it (an assertion that returns early leaves no child behind).
class ForkedChild {
  public:
    explicit ForkedChild(pid_t pid) : pid_(pid) {}
    ForkedChild(ForkedChild&& o) noexcept : pid_(std::exchange(o.pid_, -1)) {}
    ForkedChild& operator=(ForkedChild&&) = delete;
    ~ForkedChild() {
        if (pid_ > 0) wait_for_pid(pid_, std::chrono::milliseconds(0));  // kills, then reaps
    }
    pid_t pid() const { return pid_; }
    ExitStatus wait(std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
        return wait_for_pid(std::exchange(pid_, -1), timeout);
    }

  private:
    pid_t pid_;
};

// Starts `fn` in a fork()ed child and returns at once.
template <class F>
ForkedChild start_forked(F&& fn, std::optional<Credentials> as = std::nullopt) {
    std::fflush(stdout);
    std::fflush(stderr);
    pid_t pid = ::fork();
    if (pid < 0) throw std::runtime_error("fork failed");
    if (pid == 0) {
        ::prctl(PR_SET_PDEATHSIG, SIGKILL);
        rlimit no_core{0, 0};
        ::setrlimit(RLIMIT_CORE, &no_core);
        if (as &&
            (::setgroups(0, nullptr) != 0 || ::setgid(as->gid) != 0 || ::setuid(as->uid) != 0)) {
            std::fprintf(stderr, "child: cannot drop to uid %d gid %d\n", static_cast<int>(as->uid),
                         static_cast<int>(as->gid));
            ::_exit(kDropFailed);
        }
        int rc = kUnknownException;
        try {
            rc = fn();
        } catch (const mmm::Error& e) {
            std::fprintf(stderr, "child %d: mmm::Error %s: %s\n", static_cast<int>(::getpid()),
                         std::string(mmm::to_string(e.code())).c_str(), e.what());
            rc = exit_code_of(e.code());
        } catch (const std::exception& e) {
            std::fprintf(stderr, "child %d: exception: %s\n", static_cast<int>(::getpid()),
                         e.what());
        }
        std::fflush(stdout);
        std::fflush(stderr);
        ::_exit(rc);
    }
    return ForkedChild(pid);
}

// Runs `fn` in a fork()ed child and waits for it.
template <class F>
ExitStatus run_forked(F&& fn, std::optional<Credentials> as = std::nullopt,
                      std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    return start_forked(std::forward<F>(fn), as).wait(timeout);
}

// True when the child exited with the code standing for `code`.
inline bool got(const ExitStatus& s, mmm::Errc code) {
    return s.exited && s.code == exit_code_of(code);
}

}  // namespace mmm::test
