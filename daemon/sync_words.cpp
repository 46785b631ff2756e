#include "sync_words.hpp"

#include "pid_alive.hpp"
#include "system_error.hpp"

#include <unistd.h>

#include <cerrno>

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
    // A zombie has already unmapped everything: it writes no more. Without
    // procfs ('?') kill() is all there is to go by.
    const char state = mmm::detail::process_state(pid);
    return state != 'Z' && state != 'X';
}

}  // namespace mmmd
