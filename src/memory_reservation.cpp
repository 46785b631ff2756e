#include "memory_reservation.hpp"

#include "system_error.hpp"

#include <mmm/error.hpp>

#include <fcntl.h>

#include <cerrno>

namespace mmm::detail {

void reserve_memory(int fd, std::uint64_t bytes, const std::string& chunk) {
    int err = 0;
    do {
        err = ::posix_fallocate(fd, 0, static_cast<off_t>(bytes));
    } while (err == EINTR);
    if (err == ENOSPC || err == EFBIG)
        throw Error(
            Errc::no_space, chunk,
            "/dev/shm has no room for the " + std::to_string(bytes) + " bytes this chunk needs",
            "free memory in /dev/shm (df -h /dev/shm), remove unused chunks, or "
            "create a smaller chunk");
    // The pages are charged to the reserving process's memory cgroup; at its
    // limit the kernel may report ENOMEM here (or OOM-kill the process instead:
    // untested, see docs/RELIABILITY.md).
    if (err == ENOMEM)
        throw Error(Errc::no_space, chunk,
                    "out of memory reserving the " + std::to_string(bytes) +
                        " bytes this chunk needs (the memory limit of this process's cgroup?)",
                    "raise the memory limit or create a smaller chunk");
    if (err != 0) throw_errno("posix_fallocate of the segment", err, chunk);
}

}  // namespace mmm::detail
