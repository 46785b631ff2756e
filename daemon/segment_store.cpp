#include "segment_store.hpp"

#include "names.hpp"
#include "system_error.hpp"

#include <mmm/detail/seqlock.hpp>
#include <mmm/error.hpp>

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>
#include <boost/interprocess/mapped_region.hpp>
#include <boost/interprocess/shared_memory_object.hpp>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <vector>

namespace mmmd {

namespace bip = boost::interprocess;
using mmm::Errc;
using mmm::Error;
using mmm::detail::ChunkHeader;
using mmm::detail::UniqueFd;

namespace {

constexpr const char* kShmDir = "/dev/shm";

[[noreturn]] void rethrow(const bip::interprocess_exception& e, const std::string& what,
                          const std::string& chunk) {
    int err = e.get_native_error();
    if (err != 0) mmm::detail::throw_errno(what, err, chunk);
    throw Error(Errc::io_error, chunk, what + ": " + e.what());
}

int handle_of(const bip::shared_memory_object& shm) {
    return shm.get_mapping_handle().handle;
}

struct stat stat_of(int fd, const std::string& chunk) {
    struct stat st {};
    if (::fstat(fd, &st) != 0) mmm::detail::throw_errno("fstat of the segment", errno, chunk);
    return st;
}

SegmentId id_of(const struct stat& st) {
    return {st.st_dev, st.st_ino};
}

// Our own descriptor: the shared_memory_object closes its handle when it goes.
UniqueFd dup_fd(int fd, const std::string& chunk) {
    int copy = ::fcntl(fd, F_DUPFD_CLOEXEC, 0);
    if (copy < 0) mmm::detail::throw_errno("dup of the segment descriptor", errno, chunk);
    return UniqueFd(copy);
}

void reserve(int fd, std::uint64_t bytes, const std::string& chunk) {
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
    if (err != 0) mmm::detail::throw_errno("posix_fallocate of the segment", err, chunk);
}

// Removes a half-made segment unless disarmed: a failed create leaves nothing behind.
struct UnlinkGuard {
    const std::string& segment;
    bool armed = true;
    ~UnlinkGuard() {
        if (armed) bip::shared_memory_object::remove(segment.c_str());
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
                                           const mmm::detail::HeaderSnapshot& fixed) {
    const std::string segment = segment_for(chunk);
    std::optional<bip::shared_memory_object> shm;
    try {
        shm.emplace(bip::create_only, segment.c_str(), bip::read_write, bip::permissions(0600));
    } catch (const bip::interprocess_exception& e) {
        if (e.get_error_code() == bip::already_exists_error)
            throw Error(
                Errc::already_exists, chunk,
                "a segment named '" + segment +
                    "' already exists in /dev/shm but mmmd "
                    "does not know it",
                "remove the stray file /dev/shm/" + segment + " or restart mmmd to adopt it");
        rethrow(e, "shm_open of a new segment", chunk);
    }
    UnlinkGuard guard{segment};
    crash_point("create:after_open");
    try {
        shm->truncate(static_cast<bip::offset_t>(fixed.segment_bytes));
        crash_point("create:after_truncate");
        reserve(handle_of(*shm), fixed.segment_bytes, chunk);
        crash_point("create:after_fallocate");
        bip::mapped_region region(*shm, bip::read_write, 0, sizeof(ChunkHeader));
        auto* header = static_cast<ChunkHeader*>(region.get_address());
        mmm::detail::initialize_header(header, fixed);
        crash_point("create:after_header");
        // Published last: until now an interrupted create reads as "creating".
        header->sync.state.store(static_cast<std::uint32_t>(mmm::ChunkState::ready),
                                 std::memory_order_release);
        crash_point("create:after_ready");
    } catch (const bip::interprocess_exception& e) {
        rethrow(e, "preparing the segment", chunk);
    }
    Created created{dup_fd(handle_of(*shm), chunk), id_of(stat_of(handle_of(*shm), chunk))};
    guard.armed = false;
    return created;
}

UniqueFd SegmentStore::open(const std::string& segment, bool writable, SegmentId expect) const {
    std::string chunk = mmm::detail::chunk_name_of_segment(name_space_, segment).value_or(segment);
    try {
        bip::shared_memory_object shm(bip::open_only, segment.c_str(),
                                      writable ? bip::read_write : bip::read_only);
        if (id_of(stat_of(handle_of(shm), chunk)) != expect)
            throw Error(Errc::not_found, chunk, "the chunk's segment was replaced behind mmmd");
        return dup_fd(handle_of(shm), chunk);
    } catch (const bip::interprocess_exception& e) {
        if (e.get_error_code() == bip::not_found_error || e.get_native_error() == ENOENT)
            throw Error(Errc::not_found, chunk, "the chunk's segment vanished from /dev/shm");
        rethrow(e, "shm_open of the segment", chunk);
    }
}

void SegmentStore::remove(const std::string& segment, std::optional<SegmentId> expect) const {
    try {
        bip::shared_memory_object shm(bip::open_only, segment.c_str(), bip::read_write);
        struct stat st {};
        bool ours = ::fstat(handle_of(shm), &st) == 0 && (!expect || id_of(st) == *expect) &&
                    static_cast<std::uint64_t>(st.st_size) >= sizeof(ChunkHeader);
        if (ours && expect) {
            bip::mapped_region region(shm, bip::read_write, 0, sizeof(ChunkHeader));
            auto* header = static_cast<ChunkHeader*>(region.get_address());
            header->sync.state.store(static_cast<std::uint32_t>(mmm::ChunkState::deleted),
                                     std::memory_order_release);
            // Writers waiting for a change wake up and see deleted().
            header->sync.version.fetch_add(1, std::memory_order_seq_cst);
            mmm::detail::wake_waiters(&header->sync);
            crash_point("remove:after_mark");
        }
    } catch (const bip::interprocess_exception&) {
        // Already gone or unreadable: unlinking is all that is left to do.
    }
    bip::shared_memory_object::remove(segment.c_str());
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
    try {
        bip::shared_memory_object shm(bip::open_only, segment.c_str(), bip::read_only);
        struct stat st = stat_of(handle_of(shm), segment);
        out.id = id_of(st);
        out.file_bytes = static_cast<std::uint64_t>(st.st_size);
        out.file_uid = st.st_uid;
        out.file_mode = st.st_mode & 07777;
        if (out.file_bytes < sizeof(ChunkHeader)) {
            out.all_zero = out.file_bytes == 0;  // a short file is treated as interrupted below
            return out;
        }
        // pread, not mmap: at start-up this runs once per segment, and on VMs a
        // map+unmap costs ~140 us against ~18 us for a read (docs/BENCHMARKS.md).
        std::vector<unsigned char> bytes(sizeof(ChunkHeader));
        std::size_t got = 0;
        while (got < bytes.size()) {
            ssize_t n = ::pread(handle_of(shm), bytes.data() + got, bytes.size() - got,
                                static_cast<off_t>(got));
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0)
                mmm::detail::throw_errno("reading the header of segment " + segment,
                                         n < 0 ? errno : EIO, segment);
            got += static_cast<std::size_t>(n);
        }
        mmm::detail::HeaderSnapshot snapshot;
        std::memcpy(&snapshot, bytes.data(), sizeof snapshot);
        out.header = snapshot;
        std::memcpy(
            &out.raw_state,
            bytes.data() + offsetof(ChunkHeader, sync) + offsetof(mmm::detail::ChunkSync, state),
            sizeof out.raw_state);
        out.all_zero = std::all_of(bytes.begin(), bytes.end(), [](auto b) { return b == 0; });
    } catch (const bip::interprocess_exception& e) {
        rethrow(e, "inspecting segment " + segment, segment);
    }
    return out;
}

}  // namespace mmmd
