#include "sync_words.hpp"

#include "pid_alive.hpp"
#include "system_error.hpp"

#include <unistd.h>

#include <cerrno>
#include <fstream>
#include <string>

namespace mmmd {
std::uint32_t read_sync_word(int segment_fd, std::size_t offset, const std::string& chunk) {
    std::uint32_t value = 0;
    for (;;) {
        ssize_t n = ::pread(segment_fd, &value, sizeof value, static_cast<off_t>(offset));
        if (n == static_cast<ssize_t>(sizeof value)) return value;
        if (n < 0 && errno == EINTR) continue;
        mmm::detail::throw_errno("reading a sync word of the segment", n < 0 ? errno : EIO, chunk);
    }
}

void write_sync_word(int segment_fd, std::size_t offset, std::uint32_t value,
                     const std::string& chunk) {
    for (;;) {
        ssize_t n = ::pwrite(segment_fd, &value, sizeof value, static_cast<off_t>(offset));
        if (n == static_cast<ssize_t>(sizeof value)) return;
        if (n < 0 && errno == EINTR) continue;
        mmm::detail::throw_errno("writing a sync word of the segment", n < 0 ? errno : EIO, chunk);
    }
}

bool lease_holder_alive(std::uint32_t pid) {
    if (!mmm::detail::pid_alive(pid)) return false;
    // A zombie has already unmapped everything: it writes no more.
    std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
    std::string line;
    if (!std::getline(stat, line)) return true;  // no procfs: trust kill()
    auto comm_end = line.rfind(')');
    if (comm_end == std::string::npos || comm_end + 2 >= line.size()) return true;
    char state = line[comm_end + 2];
    return state != 'Z' && state != 'X';
}

}  // namespace mmmd
