// Reserving a segment's memory up front, so that a full /dev/shm is an error
// at create time and never a SIGBUS at a later store.
#pragma once

#include <cstdint>
#include <string>

namespace mmm::detail {

// Segments at least this large are reserved by the creating client, not by
// mmmd: tmpfs pages are allocated (and zeroed) on the CPU that calls
// posix_fallocate, and a writer on another CPU first-touches them up to 40%
// slower on VMs; a single-threaded mmmd would also stall every client for
// ~0.4 s per GiB. Smaller segments cost less to reserve than a round trip.
inline constexpr std::uint64_t kClientReserveMinBytes = 256 * 1024;

// posix_fallocate of [0, bytes) on the descriptor: sizes the file and
// allocates its pages (which read as zero). Throws Errc::no_space when
// /dev/shm is full or the caller's memory cgroup is at its limit,
// Errc::io_error otherwise.
void reserve_memory(int fd, std::uint64_t bytes, const std::string& chunk);

}  // namespace mmm::detail
