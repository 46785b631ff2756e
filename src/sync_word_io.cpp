#include "sync_word_io.hpp"

#include "system_error.hpp"

#include <unistd.h>

#include <cerrno>

namespace mmm::detail {

std::uint32_t read_sync_word(int segment_fd, std::size_t offset, const std::string& chunk) {
    std::uint32_t value = 0;
    for (;;) {
        ssize_t n = ::pread(segment_fd, &value, sizeof value, static_cast<off_t>(offset));
        if (n == static_cast<ssize_t>(sizeof value)) return value;
        if (n < 0 && errno == EINTR) continue;
        throw_errno("reading a sync word of the segment", n < 0 ? errno : EIO, chunk);
    }
}

void write_sync_word(int segment_fd, std::size_t offset, std::uint32_t value,
                     const std::string& chunk) {
    for (;;) {
        ssize_t n = ::pwrite(segment_fd, &value, sizeof value, static_cast<off_t>(offset));
        if (n == static_cast<ssize_t>(sizeof value)) return;
        if (n < 0 && errno == EINTR) continue;
        throw_errno("writing a sync word of the segment", n < 0 ? errno : EIO, chunk);
    }
}

}  // namespace mmm::detail
