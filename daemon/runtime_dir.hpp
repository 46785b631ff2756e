// The runtime directory mmmd owns, and the single-instance lock and pid file in it.
#pragma once

#include "unique_fd.hpp"

#include <sys/types.h>

#include <optional>
#include <string>

namespace mmmd {

// Creates the directory (0700) if missing, else checks that it is ours and
// private. With a group, gives it that group and mode 0710 so members can
// reach the socket. Throws std::runtime_error with a message for the user.
void prepare_runtime_dir(const std::string& dir, std::optional<gid_t> group);

// Holds <dir>/mmmd.lock for the life of the daemon and owns <dir>/mmmd.pid.
class InstanceLock {
  public:
    // Throws std::runtime_error "mmmd is already running on DIR (pid N)".
    explicit InstanceLock(const std::string& dir);
    ~InstanceLock();
    InstanceLock(const InstanceLock&) = delete;
    InstanceLock& operator=(const InstanceLock&) = delete;

    void write_pid_file();

  private:
    std::string dir_;
    mmm::detail::UniqueFd lock_;
    bool wrote_pid_ = false;
};

}  // namespace mmmd
