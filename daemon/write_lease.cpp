#include "write_lease.hpp"

#include "chunk_header.hpp"
#include "system_error.hpp"

#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>

namespace mmmd {
namespace {

constexpr off_t kLeaseOffset = static_cast<off_t>(offsetof(mmm::detail::ChunkHeader, sync) +
                                                  offsetof(mmm::detail::ChunkSync, writer_pid));
constexpr std::uint32_t kMaxPid = 4u << 20;  // Linux PID_MAX_LIMIT

}  // namespace

std::uint32_t lease_holder(int segment_fd, const std::string& chunk) {
    std::uint32_t pid = 0;
    for (;;) {
        ssize_t n = ::pread(segment_fd, &pid, sizeof pid, kLeaseOffset);
        if (n == static_cast<ssize_t>(sizeof pid)) return pid;
        if (n < 0 && errno == EINTR) continue;
        mmm::detail::throw_errno("reading the write lease of the segment", n < 0 ? errno : EIO,
                                 chunk);
    }
}

void set_lease_holder(int segment_fd, std::uint32_t pid, const std::string& chunk) {
    for (;;) {
        ssize_t n = ::pwrite(segment_fd, &pid, sizeof pid, kLeaseOffset);
        if (n == static_cast<ssize_t>(sizeof pid)) return;
        if (n < 0 && errno == EINTR) continue;
        mmm::detail::throw_errno("recording the write lease in the segment", n < 0 ? errno : EIO,
                                 chunk);
    }
}

bool lease_holder_alive(std::uint32_t pid) {
    // The word is in shared memory that any writer could scribble on.
    if (pid == 0 || pid > kMaxPid) return false;
    return ::kill(static_cast<pid_t>(pid), 0) == 0 || errno == EPERM;
}

}  // namespace mmmd
