#include "segment_store.hpp"

#include "memory_reservation.hpp"
#include "names.hpp"
#include "system_error.hpp"

#include <mmm/detail/seqlock.hpp>
#include <mmm/error.hpp>

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <vector>

namespace mmmd {

using mmm::Errc;
using mmm::Error;
using mmm::detail::ChunkHeader;
using mmm::detail::UniqueFd;

namespace {

constexpr const char* kShmDir = "/dev/shm";

// Plain shm_open (not boost::interprocess): O_CLOEXEC from the start, no
// fchmod and no descriptor to duplicate. Returns an invalid UniqueFd with
// errno set on failure.
UniqueFd shm_open_fd(const std::string& segment, int flags, mode_t mode = 0) {
    for (;;) {
        UniqueFd fd(::shm_open(segment.c_str(), flags | O_CLOEXEC, mode));
        if (fd || errno != EINTR) return fd;
    }
}

struct stat stat_of(int fd, const std::string& chunk) {
    struct stat st {};
    if (::fstat(fd, &st) != 0) mmm::detail::throw_errno("fstat of the segment", errno, chunk);
    return st;
}

SegmentId id_of(const struct stat& st) {
    return {st.st_dev, st.st_ino};
}

void write_at(int fd, const void* data, std::size_t bytes, off_t offset, const std::string& chunk) {
    const auto* p = static_cast<const unsigned char*>(data);
    std::size_t done = 0;
    while (done < bytes) {
        ssize_t n = ::pwrite(fd, p + done, bytes - done, offset + static_cast<off_t>(done));
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0)
            mmm::detail::throw_errno("writing the segment header", n < 0 ? errno : EIO, chunk);
        done += static_cast<std::size_t>(n);
    }
}

void read_at(int fd, void* data, std::size_t bytes, off_t offset, const std::string& segment) {
    auto* p = static_cast<unsigned char*>(data);
    std::size_t done = 0;
    while (done < bytes) {
        ssize_t n = ::pread(fd, p + done, bytes - done, offset + static_cast<off_t>(done));
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0)
            mmm::detail::throw_errno("reading the header of segment " + segment,
                                     n < 0 ? errno : EIO, segment);
        done += static_cast<std::size_t>(n);
    }
}

// Removes a half-made segment unless disarmed: a failed create leaves nothing behind.
struct UnlinkGuard {
    const std::string& segment;
    bool armed = true;
    ~UnlinkGuard() {
        if (armed) ::shm_unlink(segment.c_str());
    }
};

// Test hook (docs/RELIABILITY.md): MMMD_CRASH_POINT=<point> makes mmmd kill
// itself with SIGKILL when it reaches that point, to test crash recovery.
// Read once, when the first SegmentStore is made at startup.
const std::string& crash_point_setting() {
    static const std::string setting = [] {
        const char* value = std::getenv("MMMD_CRASH_POINT");
        return std::string(value != nullptr ? value : "");
    }();
    return setting;
}

void crash_point(const char* point) {
    const std::string& setting = crash_point_setting();
    if (!setting.empty() && setting == point) ::raise(SIGKILL);
}

// Stores state = deleted in the header of a segment being removed and wakes
// the waiters of its chunk, through a mapping of the first page only (the
// header's snapshot and the first ChunkSync line; the stripes are not needed).
//
// The version bump must be an atomic read-modify-write on the shared word:
// every kind of waiter in wait_for_change (src/seqlock.cpp) sees the removal
// because version changes, and the futex wake only shortens a sleep:
//  - a waiter still spinning (not counted in `waiters`) sees the new version;
//  - a writable waiter registers in `waiters` (seq_cst) before it checks
//    version and sleeps: either its fetch_add comes before our load of
//    `waiters` below, and we wake it, or after it, and then our seq_cst bump
//    of version comes before its check, so it does not sleep (and FUTEX_WAIT
//    itself refuses to sleep once version differs from what it expects);
//  - a read-only waiter is counted in `watchers` by mmmd before it sleeps
//    (through a round trip, so before its check of version), and is woken
//    the same way; one that could not reach mmmd sleeps in slices of at most
//    1 ms and rechecks version after each.
// That is the protocol seq_write (include/mmm/detail/seqlock.hpp) follows, so
// FUTEX_WAKE is only made when someone is registered.
void mark_deleted(int fd) {
    using mmm::detail::ChunkSync;
    static_assert(offsetof(ChunkHeader, sync) + offsetof(ChunkSync, lock) <=
                  mmm::detail::kPageSize);
    void* page = ::mmap(nullptr, mmm::detail::kPageSize, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (page == MAP_FAILED) return;  // best effort: the unlink still happens
    auto* sync = reinterpret_cast<ChunkSync*>(static_cast<unsigned char*>(page) +
                                              offsetof(ChunkHeader, sync));
    sync->state.store(static_cast<std::uint32_t>(mmm::ChunkState::deleted),
                      std::memory_order_release);
    sync->version.fetch_add(1, std::memory_order_seq_cst);
    if (mmm::detail::has_sleepers(sync, std::memory_order_seq_cst)) mmm::detail::wake_waiters(sync);
    crash_point("remove:after_mark");
    ::munmap(page, mmm::detail::kPageSize);
}

}  // namespace

SegmentStore::SegmentStore(std::string name_space) : name_space_(std::move(name_space)) {
    if (!crash_point_setting().empty())
        spdlog::warn("test hook MMMD_CRASH_POINT={} is set: mmmd will kill itself there",
                     crash_point_setting());
}

std::string SegmentStore::segment_for(std::string_view chunk) const {
    return mmm::detail::segment_name(name_space_, chunk);
}

SegmentStore::Created SegmentStore::create(const std::string& chunk,
                                           const mmm::detail::HeaderSnapshot& fixed,
                                           Reservation reservation) {
    const std::string segment = segment_for(chunk);
    // 0600 given to shm_open itself: only mmmd opens segments by name, clients
    // get descriptors from it.
    UniqueFd fd = shm_open_fd(segment, O_CREAT | O_EXCL | O_RDWR, 0600);
    if (!fd) {
        int err = errno;
        if (err == EEXIST)
            throw Error(
                Errc::already_exists, chunk,
                "a segment named '" + segment +
                    "' already exists in /dev/shm but mmmd "
                    "does not know it",
                "remove the stray file /dev/shm/" + segment + " or restart mmmd to adopt it");
        mmm::detail::throw_errno("shm_open of a new segment", err, chunk);
    }
    UnlinkGuard guard{segment};
    crash_point("create:after_open");
    // posix_fallocate both sizes the file and reserves its memory (no
    // ftruncate); the pages it reserves read as zero. A segment the creator
    // reserves is only sized here (sparse, reads as zero too).
    if (reservation == Reservation::by_mmmd)
        mmm::detail::reserve_memory(fd.get(), fixed.segment_bytes, chunk);
    struct stat st = stat_of(fd.get(), chunk);
    if (static_cast<std::uint64_t>(st.st_size) != fixed.segment_bytes &&
        ::ftruncate(fd.get(), static_cast<off_t>(fixed.segment_bytes)) != 0)
        mmm::detail::throw_errno("ftruncate of the segment", errno, chunk);
    // Only a umask that takes the owner's bits leaves anything to fix here.
    if ((st.st_mode & 07777) != 0600 && ::fchmod(fd.get(), 0600) != 0)
        mmm::detail::throw_errno("fchmod of the segment", errno, chunk);
    crash_point("create:after_truncate");  // the segment has its size, all zero
    crash_point("create:after_fallocate");
    // pwrite, not mmap: the header's non-zero bytes are its first 640 (the
    // stripes after them are already zero), and mapping + touching + unmapping
    // costs far more than a write on VMs (docs/BENCHMARKS.md).
    const mmm::detail::InitialHeader initial = mmm::detail::initial_header(fixed);
    write_at(fd.get(), initial.bytes, sizeof initial.bytes, 0, chunk);
    crash_point("create:after_header");
    // Published last, by a write of its own: until now an interrupted create
    // reads as all zero or "creating" and is reclaimed at the next start.
    if (reservation == Reservation::by_mmmd) publish(fd.get(), chunk);
    guard.armed = false;
    return Created{std::move(fd), id_of(st)};
}

void SegmentStore::publish(int fd, const std::string& chunk) const {
    const auto ready = static_cast<std::uint32_t>(mmm::ChunkState::ready);
    write_at(fd, &ready, sizeof ready, static_cast<off_t>(mmm::detail::kStateOffset), chunk);
    crash_point("create:after_ready");
}

UniqueFd SegmentStore::open(const std::string& segment, bool writable, SegmentId expect) const {
    std::string chunk = mmm::detail::chunk_name_of_segment(name_space_, segment).value_or(segment);
    UniqueFd fd = shm_open_fd(segment, writable ? O_RDWR : O_RDONLY);
    if (!fd) {
        int err = errno;
        if (err == ENOENT)
            throw Error(Errc::not_found, chunk, "the chunk's segment vanished from /dev/shm");
        mmm::detail::throw_errno("shm_open of the segment", err, chunk);
    }
    if (id_of(stat_of(fd.get(), chunk)) != expect)
        throw Error(Errc::not_found, chunk, "the chunk's segment was replaced behind mmmd");
    return fd;
}

bool SegmentStore::remove(const std::string& segment, std::optional<SegmentId> expect,
                          std::function<void()> freed) {
    // Held across the unlink, so that the unlink frees nothing (see SegmentReaper);
    // not needed at all for a file we neither mark nor free later. Without an
    // expected identity the file is not known to be ours: never write to it.
    UniqueFd fd;
    if (expect || freed) fd = shm_open_fd(segment, expect ? O_RDWR : O_RDONLY);
    struct stat st {};
    if (fd && ::fstat(fd.get(), &st) != 0) st = {};
    if (expect && fd && id_of(st) == *expect &&
        static_cast<std::uint64_t>(st.st_size) >= mmm::detail::kInitialHeaderBytes)
        mark_deleted(fd.get());
    // Otherwise already gone or unreadable: unlinking is all that is left to do.
    ::shm_unlink(segment.c_str());
    if (!freed || !fd ||
        static_cast<std::uint64_t>(st.st_size) < mmm::detail::kClientReserveMinBytes)
        return false;  // closed here, freed now
    try {
        reaper_.close_later(std::move(fd), std::move(freed));
        return true;
    } catch (const std::exception&) {
        return false;  // out of memory queueing it: close here after all
    }
}

std::vector<std::string> SegmentStore::scan() const {
    const std::string prefix = segment_for("");
    std::vector<std::string> found;
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator(kShmDir, ec)) {
        std::string name = entry.path().filename().string();
        if (name.size() > prefix.size() && name.compare(0, prefix.size(), prefix) == 0)
            found.push_back(std::move(name));
    }
    if (ec) mmm::detail::throw_errno(std::string("listing ") + kShmDir, ec.value());
    std::sort(found.begin(), found.end());
    return found;
}

Inspection SegmentStore::inspect(const std::string& segment) const {
    Inspection out;
    UniqueFd fd = shm_open_fd(segment, O_RDONLY);
    if (!fd) mmm::detail::throw_errno("inspecting segment " + segment, errno, segment);
    struct stat st = stat_of(fd.get(), segment);
    out.id = id_of(st);
    out.file_bytes = static_cast<std::uint64_t>(st.st_size);
    out.file_uid = st.st_uid;
    out.file_mode = st.st_mode & 07777;
    if (out.file_bytes < mmm::detail::kInitialHeaderBytes) {
        out.all_zero = out.file_bytes == 0;  // a short file is treated as interrupted below
        return out;
    }
    // pread, not mmap: at start-up this runs once per segment, and on VMs a
    // map+unmap costs ~140 us against ~18 us for a read (docs/BENCHMARKS.md).
    // Everything adoption looks at is in the bytes mmmd writes at create
    // (the stripes after them, where a chunk has any, start zero).
    std::vector<unsigned char> bytes(mmm::detail::kInitialHeaderBytes);
    read_at(fd.get(), bytes.data(), bytes.size(), 0, segment);
    mmm::detail::HeaderSnapshot snapshot;
    std::memcpy(&snapshot, bytes.data(), sizeof snapshot);
    out.header = snapshot;
    std::memcpy(&out.raw_state, bytes.data() + mmm::detail::kStateOffset, sizeof out.raw_state);
    auto sync_word = [&](std::size_t field, std::uint32_t& out_word) {
        std::memcpy(&out_word, bytes.data() + offsetof(ChunkHeader, sync) + field, sizeof out_word);
    };
    sync_word(offsetof(mmm::detail::ChunkSync, watchers), out.raw_watchers);
    sync_word(offsetof(mmm::detail::ChunkSync, writer_pid), out.raw_writer_pid);
    out.all_zero = std::all_of(bytes.begin(), bytes.end(), [](auto b) { return b == 0; });
    return out;
}

}  // namespace mmmd
