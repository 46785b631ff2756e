// Whether a pid read from shared memory (a stripe's writer, a write lease's
// holder) names a running process. The value is untrusted: zero or anything
// above Linux's PID_MAX_LIMIT counts as dead. A process of another user
// (EPERM) counts as alive. Not user API.
#pragma once

#include <signal.h>

#include <cerrno>
#include <cstdint>

namespace mmm::detail {

inline bool pid_alive(std::uint32_t pid) {
    constexpr std::uint32_t kMaxPid = 4u << 20;  // PID_MAX_LIMIT
    if (pid == 0 || pid > kMaxPid) return false;
    return ::kill(static_cast<pid_t>(pid), 0) == 0 || errno == EPERM;
}

}  // namespace mmm::detail
