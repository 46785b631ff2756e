// Whether a pid read from shared memory (a stripe's writer, a write lease's
// holder) names a running process. The value is untrusted: zero or anything
// above Linux's PID_MAX_LIMIT counts as dead. A process of another user
// (EPERM) counts as alive. Not user API.
#pragma once

#include <signal.h>

#include <cerrno>
#include <cstdint>
#include <fstream>
#include <string>

namespace mmm::detail {

inline bool pid_alive(std::uint32_t pid) {
    constexpr std::uint32_t kMaxPid = 4u << 20;  // PID_MAX_LIMIT
    if (pid == 0 || pid > kMaxPid) return false;
    return ::kill(static_cast<pid_t>(pid), 0) == 0 || errno == EPERM;
}

// The state letter of /proc/<pid>/stat ('R' running, 'S' sleeping, 'Z' zombie,
// ...), or '?' when it cannot be read (no such process, no procfs).
inline char process_state(std::uint32_t pid) {
    std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
    std::string line;
    if (!std::getline(stat, line)) return '?';
    // The command name in parentheses may itself contain ')' or spaces.
    auto comm_end = line.rfind(')');
    if (comm_end == std::string::npos || comm_end + 2 >= line.size()) return '?';
    return line[comm_end + 2];
}

}  // namespace mmm::detail
