// A one-byte-message pipe between a test and a fork()ed child, with bounded waits.
#pragma once

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <chrono>
#include <stdexcept>

namespace mmm::test {

class SignalPipe {
  public:
    SignalPipe() {
        if (::pipe2(fds_, O_CLOEXEC) != 0) throw std::runtime_error("pipe2 failed");
    }
    ~SignalPipe() {
        for (int fd : fds_)
            if (fd >= 0) ::close(fd);
    }
    SignalPipe(const SignalPipe&) = delete;
    SignalPipe& operator=(const SignalPipe&) = delete;

    bool send(char c = '!') { return ::write(fds_[1], &c, 1) == 1; }
    // The next byte, or 0 on timeout / end of file.
    char receive(std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
        pollfd p{fds_[0], POLLIN, 0};
        if (::poll(&p, 1, static_cast<int>(timeout.count())) != 1) return 0;
        char c = 0;
        return ::read(fds_[0], &c, 1) == 1 ? c : 0;
    }

  private:
    int fds_[2] = {-1, -1};
};

}  // namespace mmm::test
