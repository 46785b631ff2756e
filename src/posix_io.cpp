#include "posix_io.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace mmm::detail {

void throw_errno(const std::string& what, int err, const std::string& chunk, Errc code) {
    const std::string message = what + ": " + std::strerror(err);
    if (err == ENOSPC || err == EDQUOT)
        throw Error(Errc::no_space, chunk, message,
                    "free memory in /dev/shm (df -h /dev/shm), remove unused chunks, or create "
                    "a smaller chunk");
    if (err == EMFILE)
        throw Error(Errc::limit_exceeded, chunk, message,
                    "close descriptors the process no longer needs, or raise its limit "
                    "(ulimit -n)");
    if (err == ENFILE)
        throw Error(Errc::limit_exceeded, chunk, message,
                    "retry once other processes closed files, or raise fs.file-max");
    throw Error(code, chunk, message);
}

bool FileStatus::regular() const {
    return S_ISREG(mode);
}

FileStatus file_status(int fd, const std::string& chunk) {
    struct stat st {};
    if (::fstat(fd, &st) != 0) throw_errno("fstat of the segment", errno, chunk);
    FileStatus out;
    out.size = static_cast<std::uint64_t>(st.st_size);
    out.allocated = static_cast<std::uint64_t>(st.st_blocks) * 512;
    out.dev = st.st_dev;
    out.ino = st.st_ino;
    out.uid = st.st_uid;
    out.mode = st.st_mode;
    return out;
}

void read_exact_at(int fd, void* out, std::size_t n, std::uint64_t offset,
                   const std::string& chunk) {
    auto* p = static_cast<unsigned char*>(out);
    std::size_t done = 0;
    while (done < n) {
        ssize_t got = ::pread(fd, p + done, n - done, static_cast<off_t>(offset + done));
        if (got < 0 && errno == EINTR) continue;
        if (got < 0) throw_errno("reading the segment", errno, chunk);
        if (got == 0)
            throw Error(Errc::corrupt_header, chunk,
                        "the segment ends at " + std::to_string(offset + done) +
                            " bytes, before the " + std::to_string(n) + " bytes at offset " +
                            std::to_string(offset));
        done += static_cast<std::size_t>(got);
    }
}

void write_all_at(int fd, const void* data, std::size_t n, std::uint64_t offset,
                  const std::string& chunk) {
    const auto* p = static_cast<const unsigned char*>(data);
    std::size_t done = 0;
    while (done < n) {
        ssize_t put = ::pwrite(fd, p + done, n - done, static_cast<off_t>(offset + done));
        if (put < 0 && errno == EINTR) continue;
        if (put <= 0) throw_errno("writing the segment", put < 0 ? errno : EIO, chunk);
        done += static_cast<std::size_t>(put);
    }
}

std::uint32_t read_u32_at(int fd, std::uint64_t offset, const std::string& chunk) {
    std::uint32_t value = 0;
    read_exact_at(fd, &value, sizeof value, offset, chunk);
    return value;
}

void write_u32_at(int fd, std::uint64_t offset, std::uint32_t value, const std::string& chunk) {
    write_all_at(fd, &value, sizeof value, offset, chunk);
}

void reserve_range(int fd, std::uint64_t offset, std::uint64_t length, const std::string& chunk) {
    int err = 0;
    do {
        err = ::posix_fallocate(fd, static_cast<off_t>(offset), static_cast<off_t>(length));
    } while (err == EINTR);
    // The pages are charged to the reserving process's memory cgroup; at its
    // limit the kernel may report ENOMEM here (or OOM-kill the process instead:
    // untested, see docs/RELIABILITY.md).
    if (err == ENOMEM)
        throw Error(Errc::no_space, chunk,
                    "out of memory reserving " + std::to_string(length) +
                        " bytes for the chunk (the memory limit of this process's cgroup?)",
                    "raise the memory limit or create a smaller chunk");
    if (err == EFBIG) err = ENOSPC;
    if (err != 0)
        throw_errno("reserving " + std::to_string(length) + " bytes for the chunk", err, chunk);
}

void punch_hole(int fd, std::uint64_t offset, std::uint64_t length, const std::string& chunk) {
    if (length == 0) return;
    for (;;) {
        if (::fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, static_cast<off_t>(offset),
                        static_cast<off_t>(length)) == 0)
            return;
        if (errno != EINTR) throw_errno("giving back the memory of a range", errno, chunk);
    }
}

void set_length(int fd, std::uint64_t length, const std::string& chunk) {
    for (;;) {
        if (::ftruncate(fd, static_cast<off_t>(length)) == 0) return;
        if (errno != EINTR) throw_errno("setting the segment's length", errno, chunk);
    }
}

}  // namespace mmm::detail
