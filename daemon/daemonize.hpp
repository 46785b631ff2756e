// Going to the background so that whoever started mmmd learns whether it
// really came up: the parent waits on a pipe and exits 0 only once the child
// reports that the socket listens, or prints the child's error and exits 1.
#pragma once

#include <string>

namespace mmmd {

class Daemonizer {
  public:
    // Forks; the parent never returns from here. The child starts a new session.
    void detach();
    bool detached() const { return detached_; }
    // Child: startup is complete; the parent exits 0. Standard streams go to /dev/null.
    void ready();
    // Child: startup failed; the parent prints `message` and exits 1.
    void failed(const std::string& message);

  private:
    int pipe_ = -1;
    bool detached_ = false;
};

}  // namespace mmmd
