#include "daemonize.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace mmmd {

namespace {

constexpr char kReady = 'K';  // first byte: K = listening, E = error text follows

void write_all(int fd, const char* data, std::size_t n) {
    while (n > 0) {
        ssize_t w = ::write(fd, data, n);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return;
        data += w;
        n -= static_cast<std::size_t>(w);
    }
}

[[noreturn]] void wait_for_child(int fd) {
    std::string got;
    char buf[512];
    for (;;) {
        ssize_t n = ::read(fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        got.append(buf, static_cast<std::size_t>(n));
    }
    if (!got.empty() && got[0] == kReady) std::_Exit(0);
    if (got.size() > 1)
        std::fprintf(stderr, "mmmd: %s\n", got.c_str() + 1);
    else
        std::fprintf(stderr, "mmmd: exited during startup\n");
    std::_Exit(1);
}

void to_dev_null() {
    int null = ::open("/dev/null", O_RDWR | O_CLOEXEC);
    if (null < 0) return;
    for (int fd : {STDIN_FILENO, STDOUT_FILENO, STDERR_FILENO}) ::dup2(null, fd);
    ::close(null);
}

}  // namespace

void Daemonizer::detach() {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) {
        std::fprintf(stderr, "mmmd: pipe: %s\n", std::strerror(errno));
        std::exit(1);
    }
    std::fflush(nullptr);
    pid_t pid = ::fork();
    if (pid < 0) {
        std::fprintf(stderr, "mmmd: fork: %s\n", std::strerror(errno));
        std::exit(1);
    }
    if (pid > 0) {
        ::close(fds[1]);
        wait_for_child(fds[0]);
    }
    ::close(fds[0]);
    pipe_ = fds[1];
    detached_ = true;
    ::setsid();
}

void Daemonizer::ready() {
    if (pipe_ < 0) return;
    // Do not keep the directory we were started in busy (paths are absolute by now).
    [[maybe_unused]] int ignored = ::chdir("/");
    to_dev_null();
    write_all(pipe_, &kReady, 1);
    ::close(pipe_);
    pipe_ = -1;
}

void Daemonizer::failed(const std::string& message) {
    if (pipe_ < 0) return;
    std::string text = "E" + message;
    write_all(pipe_, text.data(), text.size());
    ::close(pipe_);
    pipe_ = -1;
}

}  // namespace mmmd
