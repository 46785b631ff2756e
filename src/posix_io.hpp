// The thin layer between mmm and the POSIX calls on files and descriptors:
// every failure becomes an mmm::Error here (with ENOSPC and EDQUOT as
// Errc::no_space wherever they happen), EINTR and short transfers are retried
// here, and nothing above it looks at errno. Not user API.
#pragma once

#include <mmm/error.hpp>

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <string>

namespace mmm::detail {

// "<what>: <strerror(err)>" as an mmm::Error. ENOSPC and EDQUOT are
// Errc::no_space, EMFILE and ENFILE Errc::limit_exceeded, whatever `code`
// says; anything else is `code`.
[[noreturn]] void throw_errno(const std::string& what, int err, const std::string& chunk = {},
                              Errc code = Errc::io_error);

struct FileStatus {
    std::uint64_t size = 0;
    std::uint64_t allocated = 0;  // bytes of memory the file holds (st_blocks * 512)
    dev_t dev = 0;
    ino_t ino = 0;
    uid_t uid = 0;
    std::uint32_t mode = 0;  // st_mode: type and permission bits
    bool regular() const;
    bool same_file(const FileStatus& o) const { return dev == o.dev && ino == o.ino; }
};
FileStatus file_status(int fd, const std::string& chunk);

// Reads exactly n bytes at `offset`; Errc::corrupt_header when the file ends first.
void read_exact_at(int fd, void* out, std::size_t n, std::uint64_t offset,
                   const std::string& chunk);
void write_all_at(int fd, const void* data, std::size_t n, std::uint64_t offset,
                  const std::string& chunk);
std::uint32_t read_u32_at(int fd, std::uint64_t offset, const std::string& chunk);
void write_u32_at(int fd, std::uint64_t offset, std::uint32_t value, const std::string& chunk);

// posix_fallocate of [offset, offset + length): sizes the file to at least
// its end and allocates the pages (which read as zero where they were holes).
// Errc::no_space when the filesystem or this process's memory cgroup is full.
void reserve_range(int fd, std::uint64_t offset, std::uint64_t length, const std::string& chunk);
// Gives the memory of [offset, offset + length) back; the file keeps its length
// and the range reads as zero.
void punch_hole(int fd, std::uint64_t offset, std::uint64_t length, const std::string& chunk);
void set_length(int fd, std::uint64_t length, const std::string& chunk);

}  // namespace mmm::detail
