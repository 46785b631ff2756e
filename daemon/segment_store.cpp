#include "segment_store.hpp"

#include <mmm/detail/text.hpp>
#include "crash_point.hpp"
#include "names.hpp"
#include "segment_marks.hpp"

#include <mmm/detail/seqlock.hpp>
#include <mmm/error.hpp>

#include <dirent.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <spdlog/spdlog.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <utility>

namespace mmmd {

using mmm::Errc;
using mmm::Error;
namespace detail = mmm::detail;
using detail::UniqueFd;

namespace {

constexpr int kSegmentFlags = O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC;

UniqueFd open_at(int dir_fd, const std::string& name, int flags, mode_t mode = 0) {
    for (;;) {
        UniqueFd fd(::openat(dir_fd, name.c_str(), flags | kSegmentFlags, mode));
        if (fd || errno != EINTR) return fd;
    }
}

SegmentId id_of(const detail::FileStatus& st) {
    return {st.dev, st.ino};
}

// The mount options of the filesystem `path` is on (/proc/self/mountinfo).
std::string mount_options_of(const std::string& path) {
    std::unique_ptr<char, decltype(&std::free)> real(::realpath(path.c_str(), nullptr), &std::free);
    const std::string target = real ? real.get() : path;
    std::ifstream info("/proc/self/mountinfo");
    std::string line, best_point, best_options;
    while (std::getline(info, line)) {
        std::istringstream in(line);
        std::string id, parent, dev, root, point, options;
        in >> id >> parent >> dev >> root >> point >> options;
        // Optional fields end at " - "; then fstype, source, super options.
        std::string word;
        while (in >> word && word != "-") {
        }
        std::string fstype, source, super;
        in >> fstype >> source >> super;
        const bool under = target == point || (target.compare(0, point.size(), point) == 0 &&
                                               (point == "/" || target[point.size()] == '/'));
        if (under && point.size() >= best_point.size()) {
            best_point = point;
            best_options = super;
        }
    }
    return best_options;
}

void check_huge_root(const std::string& root) {
    struct statfs fs {};
    if (::statfs(root.c_str(), &fs) != 0)
        throw std::runtime_error("--huge-dir " + root + ": " + std::strerror(errno));
    if (static_cast<unsigned long>(fs.f_type) != TMPFS_MAGIC)
        throw std::runtime_error("--huge-dir " + root +
                                 " is not on a tmpfs; mount one with huge pages there, for "
                                 "example: mount -t tmpfs -o huge=within_size,mode=1777 tmpfs " +
                                 root + " (docs/DEPLOYMENT.md)");
    const std::string options = mount_options_of(root);
    const auto at = options.find("huge=");
    if (at == std::string::npos || options.compare(at, 10, "huge=never") == 0)
        throw std::runtime_error("--huge-dir " + root + " is a tmpfs without huge pages (options " +
                                 options +
                                 "); mount it with huge=within_size or huge=always "
                                 "(docs/DEPLOYMENT.md)");
}

// The namespace's private directory under `root`: made 0700 if missing; if
// there, it must be a directory of mmmd's own user (it is the one thing in a
// world-writable /dev/shm that decides where segments go).
UniqueFd private_dir(const std::string& path) {
    if (::mkdir(path.c_str(), 0700) != 0 && errno != EEXIST)
        throw std::runtime_error("cannot create the segment directory " + path + ": " +
                                 std::strerror(errno));
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!fd)
        throw std::runtime_error("cannot open the segment directory " + path + ": " +
                                 std::strerror(errno) + " (is it a symbolic link?)");
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0)
        throw std::runtime_error("cannot stat " + path + ": " + std::strerror(errno));
    if (st.st_uid != ::geteuid())
        throw std::runtime_error(
            "the segment directory " + path + " belongs to uid " + std::to_string(st.st_uid) +
            ", not to mmmd's uid " + std::to_string(::geteuid()) +
            ": someone else made it; remove it (as root) and start mmmd again");
    if ((st.st_mode & 077) != 0) {
        spdlog::warn("segment directory {} had mode {}; making it 0700", path,
                     detail::octal(st.st_mode & 07777));
        if (::fchmod(fd.get(), 0700) != 0)
            throw std::runtime_error("cannot chmod 0700 " + path + ": " + std::strerror(errno));
    }
    return fd;
}

}  // namespace

SegmentStore::SegmentStore(std::string name_space, std::string shm_root,
                           const std::string& huge_root)
    : name_space_(std::move(name_space)), shm_root_(std::move(shm_root)) {
    shm_.path = detail::segment_dir_for(shm_root_, name_space_);
    shm_.fd = private_dir(shm_.path);
    if (!huge_root.empty()) {
        check_huge_root(huge_root);
        huge_.path = detail::segment_dir_for(huge_root, name_space_);
        huge_.fd = private_dir(huge_.path);
    }
    crash_point_announce();
}

namespace {

// A segment's header page, mapped to write the words others wait on (the
// deleted mark, a resize's count); unmapped when it goes.
struct HeaderPage {
    void* page = MAP_FAILED;
    HeaderPage() = default;
    explicit HeaderPage(int fd)
        : page(::mmap(nullptr, detail::kPageSize, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0)) {}
    HeaderPage(HeaderPage&& other) noexcept : page(std::exchange(other.page, MAP_FAILED)) {}
    HeaderPage& operator=(HeaderPage&& other) noexcept {
        std::swap(page, other.page);  // ours is unmapped with `other`
        return *this;
    }
    ~HeaderPage() {
        if (page != MAP_FAILED) ::munmap(page, detail::kPageSize);
    }
};

}  // namespace

std::string SegmentStore::path_of(const std::string& chunk, bool huge) const {
    std::string out;
    path_of(chunk, huge, out);
    return out;
}

void SegmentStore::path_of(const std::string& chunk, bool huge, std::string& out) const {
    const std::string& dir = dir_of(huge).path;
    out.reserve(dir.size() + 1 + chunk.size());
    out.assign(dir).append(1, '/').append(chunk);
}

SegmentStore::Created SegmentStore::create(const std::string& chunk, bool huge,
                                           std::uint64_t segment_bytes, std::uint64_t reserve_bytes,
                                           const std::vector<std::byte>& header,
                                           Reservation reservation) {
    const Dir& dir = dir_of(huge);
    UniqueFd fd = open_at(dir.fd.get(), chunk, O_CREAT | O_EXCL | O_RDWR, 0600);
    if (!fd) {
        const int err = errno;
        if (err == EEXIST)
            throw Error(
                Errc::already_exists, chunk,
                "a segment file " + path_of(chunk, huge) + " exists but mmmd does not know it",
                "restart mmmd to adopt or reclaim it");
        detail::throw_errno("creating the segment file", err, chunk);
    }
    // Removes a half-made segment: a failed create leaves nothing behind.
    struct UnlinkGuard {
        int dir_fd;
        const std::string& name;
        bool armed = true;
        ~UnlinkGuard() {
            if (armed) ::unlinkat(dir_fd, name.c_str(), 0);
        }
    } guard{dir.fd.get(), chunk};
    crash_point("create:after_open");
    // posix_fallocate both sizes the file and reserves its memory; the pages
    // it reserves read as zero. A segment its creator reserves, and the tail
    // of a growable chunk, are only sized here (sparse, zero too).
    if (reservation == Reservation::by_mmmd)
        detail::reserve_range(fd.get(), 0, reserve_bytes, chunk);
    detail::FileStatus st = detail::file_status(fd.get(), chunk);
    if (st.size != segment_bytes) detail::set_length(fd.get(), segment_bytes, chunk);
    // Only a umask that takes the owner's bits leaves anything to fix here.
    if ((st.mode & 07777) != 0600 && ::fchmod(fd.get(), 0600) != 0)
        detail::throw_errno("fchmod of the segment", errno, chunk);
    crash_point("create:after_reserve");  // the segment has its size and memory, all zero
    // pwrite, not mmap: mapping + touching + unmapping costs far more than a
    // write on VMs (docs/BENCHMARKS.md).
    detail::write_all_at(fd.get(), header.data(), header.size(), 0, chunk);
    crash_point("create:after_header");
    guard.armed = false;
    return Created{std::move(fd), id_of(st)};
}

void SegmentStore::publish_ready(int fd, const std::string& chunk) const {
    detail::write_u32_at(fd, detail::kStateOffset,
                         static_cast<std::uint32_t>(mmm::ChunkState::ready), chunk);
    crash_point("create:after_ready");
}

SegmentStore::Opened SegmentStore::open(const std::string& chunk, bool huge, bool writable,
                                        SegmentId expect) const {
    UniqueFd fd = open_at(dir_of(huge).fd.get(), chunk, writable ? O_RDWR : O_RDONLY);
    if (!fd) {
        const int err = errno;
        if (err == ENOENT) throw Error(Errc::not_found, chunk, "the chunk's segment file vanished");
        detail::throw_errno("opening the segment", err, chunk);
    }
    detail::FileStatus st = detail::file_status(fd.get(), chunk);
    if (!st.regular() || id_of(st) != expect)
        throw Error(Errc::not_found, chunk, "the chunk's segment was replaced behind mmmd");
    return Opened{std::move(fd), st};
}

bool SegmentStore::remove(const std::string& chunk, bool huge, std::optional<SegmentId> expect,
                          std::function<void()> freed) {
    const Dir& dir = dir_of(huge);
    // Held across the unlink: to mark the header, and so that the unlink frees
    // nothing (see SegmentReaper).
    UniqueFd fd = open_at(dir.fd.get(), chunk, O_RDWR);
    if (!fd && errno != ENOENT)
        spdlog::warn("'{}': could not open its segment to mark it deleted: {}", chunk,
                     std::strerror(errno));
    std::optional<detail::FileStatus> st;
    if (fd) {
        try {
            st = detail::file_status(fd.get(), chunk);
        } catch (const Error&) {
        }
    }
    if (::unlinkat(dir.fd.get(), chunk.c_str(), 0) != 0 && errno != ENOENT)
        detail::throw_errno(
            "unlinking " + path_of(chunk, huge), errno, chunk,
            errno == EACCES || errno == EPERM ? Errc::permission_denied : Errc::io_error);
    // A file that is not the chunk's (replaced, or a leftover) is not ours to write.
    HeaderPage header;
    if (fd && st && st->regular() && expect && id_of(*st) == *expect &&
        st->size >= detail::kStripesOffset) {
        header = HeaderPage(fd.get());
        if (header.page != MAP_FAILED && !mark_deleted(header.page))
            spdlog::warn("'{}': its segment was cut short; not marked deleted", chunk);
    }
    crash_point("remove:after_mark");
    const bool in_place = !freed || !fd || !st || st->allocated < detail::kClientReserveMinBytes;
    if (!in_place) {
        // The reaper's close must drop the last reference, or the pages would
        // be freed by whoever goes last, maybe the event loop.
        header = HeaderPage();
        try {
            reaper_.close_later(std::move(fd), std::move(freed));
            return true;
        } catch (const std::exception&) {
            // out of memory queueing it: close here after all
        }
    }
    // The mark is done, so the client may be answered: the rest can wait,
    // unless many removes of one handler (a session's chunks) already do.
    if (deferred_ && *pending_ < kMaxDeferred && (header.page != MAP_FAILED || fd)) {
        try {
            auto rest =
                std::make_shared<std::pair<HeaderPage, UniqueFd>>(std::move(header), std::move(fd));
            deferred_([rest, pending = pending_]() mutable {
                rest.reset();
                --*pending;
            });
            ++*pending_;
        } catch (const std::exception&) {
            // out of memory: unmapped and closed here, by the destructors
        }
    }
    return false;
}

void SegmentStore::discard(const std::string& chunk, bool huge) noexcept {
    if (::unlinkat(dir_of(huge).fd.get(), chunk.c_str(), 0) != 0 && errno != ENOENT)
        spdlog::warn("could not unlink {}: {}", path_of(chunk, huge), std::strerror(errno));
}

void SegmentStore::remove_directories_if_empty() noexcept {
    try {
        if (!scan().empty()) return;
    } catch (const std::exception&) {
        return;
    }
    ::unlinkat(shm_.fd.get(), ".registry", 0);
    for (const Dir* dir : {&shm_, &huge_})
        if (dir->fd && ::rmdir(dir->path.c_str()) != 0 && errno != ENOENT && errno != ENOTEMPTY)
            spdlog::warn("could not remove {}: {}", dir->path, std::strerror(errno));
}

bool SegmentStore::publish_count(int fd, std::uint64_t count) const {
    const HeaderPage header(fd);
    return header.page != MAP_FAILED && mmmd::publish_count(header.page, count);
}

std::vector<SegmentStore::Found> SegmentStore::scan() const {
    std::vector<Found> found;
    for (bool huge : {false, true}) {
        const Dir& dir = dir_of(huge);
        if (!dir.fd) continue;
        struct stat dir_st {};
        ::fstat(dir.fd.get(), &dir_st);
        // The DIR stream takes its own descriptor of the directory.
        const int raw = ::openat(dir.fd.get(), ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (raw < 0) detail::throw_errno("listing " + dir.path, errno);
        DIR* d = ::fdopendir(raw);
        if (d == nullptr) {
            const int err = errno;
            ::close(raw);
            detail::throw_errno("listing " + dir.path, err);
        }
        struct CloseDir {
            void operator()(DIR* p) const { ::closedir(p); }
        };
        std::unique_ptr<DIR, CloseDir> closer(d);
        while (dirent* e = ::readdir(d)) {
            if (e->d_name[0] == '.') continue;  // ".", "..", the registry log
            Found f;
            f.name = e->d_name;
            f.huge = huge;
            f.id = {dir_st.st_dev, e->d_ino};
            f.regular = e->d_type == DT_REG || e->d_type == DT_UNKNOWN;
            found.push_back(std::move(f));
        }
    }
    return found;
}

std::optional<detail::FileStatus> SegmentStore::stat(const std::string& chunk, bool huge) const {
    struct stat st {};
    if (::fstatat(dir_of(huge).fd.get(), chunk.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
        if (errno == ENOENT) return std::nullopt;
        detail::throw_errno("stat of " + path_of(chunk, huge), errno, chunk);
    }
    detail::FileStatus out;
    out.size = static_cast<std::uint64_t>(st.st_size);
    out.allocated = static_cast<std::uint64_t>(st.st_blocks) * 512;
    out.dev = st.st_dev;
    out.ino = st.st_ino;
    out.uid = st.st_uid;
    out.mode = st.st_mode;
    return out;
}

}  // namespace mmmd
