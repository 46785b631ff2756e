// The chunk segments of one namespace: the only code of mmmd that touches
// segment files. They live in private directories only mmmd's user can write,
// /dev/shm/mmm.<ns>/ and, with --huge-dir, <huge-dir>/mmm.<ns>/ (mode 0700),
// opened with openat(O_NOFOLLOW | O_NONBLOCK) and checked to be regular
// files: no other user can plant, squat or FIFO a name there. Creates segments
// (reserved, header written, state published last), hands out descriptors,
// marks and unlinks removed ones, and lists what is there for adoption.
#pragma once

#include "chunk_layout.hpp"
#include "posix_io.hpp"
#include "segment_reaper.hpp"
#include "unique_fd.hpp"

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace mmmd {

// Identifies the file behind a name, so a segment replaced behind mmmd's back
// (same name, other inode) is never handed out or written to.
struct SegmentId {
    dev_t dev = 0;
    ino_t ino = 0;
    bool operator==(const SegmentId&) const = default;
};

class SegmentStore {
  public:
    // Creates (or checks) the private directories. `huge_root` empty: none.
    // Throws std::runtime_error with a message for the user when a directory
    // is not mmmd's own and private, or the huge root is no huge-page tmpfs.
    SegmentStore(std::string name_space, std::string shm_root, const std::string& huge_root);

    const std::string& name_space() const { return name_space_; }
    // The directory of the registry log (the /dev/shm one).
    int log_dir_fd() const { return shm_.fd.get(); }
    bool has_huge_dir() const { return static_cast<bool>(huge_.fd); }
    const std::string& dir(bool huge) const { return (huge ? huge_ : shm_).path; }
    // Where the /dev/shm directory is (segments of layout 2 sit there, named
    // mmm.<ns>.<chunk>: legacy_adoption.cpp).
    const std::string& shm_root() const { return shm_root_; }
    std::string path_of(const std::string& chunk, bool huge) const;
    void path_of(const std::string& chunk, bool huge, std::string& out) const;  // into `out`

    struct Created {
        mmm::detail::UniqueFd fd;  // O_RDWR, for the creator
        SegmentId id;
    };
    // Who reserves the segment's memory (mmm::detail::kClientReserveMinBytes).
    enum class Reservation { by_mmmd, by_creator };
    // Creates the file, sizes it (by_mmmd: also reserves the live elements'
    // memory) and writes `header` (state creating). Never leaves a partial
    // file behind. Throws mmm::Error (already_exists, no_space, io_error).
    Created create(const std::string& chunk, bool huge, std::uint64_t segment_bytes,
                   std::uint64_t reserve_bytes, const std::vector<std::byte>& header,
                   Reservation reservation);
    // Stores state = ready in the header of a segment created `creating`.
    void publish_ready(int fd, const std::string& chunk) const;

    struct Opened {
        mmm::detail::UniqueFd fd;
        mmm::detail::FileStatus status;
    };
    // A descriptor on the segment, read-only or read-write. Throws
    // Errc::not_found when the segment is gone or was replaced.
    Opened open(const std::string& chunk, bool huge, bool writable, SegmentId expect) const;

    // Unlinks the segment (when it is still the expected one), then stores
    // state = deleted in its header and wakes its waiters. Throws mmm::Error
    // when the unlink fails (nothing changed then). Returns true when the
    // pages of a large segment are freed later, on the reaper's thread, which
    // then calls `freed` (only when given); false when they are freed here.
    // The munmap of the header page and the close that frees a small segment's
    // pages are left to set_deferred's function when there is one.
    bool remove(const std::string& chunk, bool huge, std::optional<SegmentId> expect,
                std::function<void()> freed = {});
    // Where remove() leaves a small segment's last steps once it is marked
    // deleted: mmmd posts them to its event loop (Registry::set_event_loop),
    // which runs them after the reply to the remove is sent, so the client
    // goes on while mmmd unmaps and frees (about 11 us of a remove on a VM
    // without polling, docs/BENCHMARKS.md). At most kMaxDeferred wait at a
    // time (the removes of one handler, a session's chunks, hold descriptors
    // until it returns); past that, and when unset (adoption, unit tests),
    // they are done in place. Posted work that never runs (at shutdown) is
    // done by its destructors.
    using Defer = std::function<void(std::function<void()>)>;
    void set_deferred(Defer deferred) { deferred_ = std::move(deferred); }
    static constexpr std::size_t kMaxDeferred = 32;
    // Unlinks whatever file has the name (adoption's clean-up). Never throws.
    void discard(const std::string& chunk, bool huge) noexcept;

    // Stores the live element count and moves version on (a resize), through a
    // guarded mapping of the header. False when the segment faulted (cut short).
    bool publish_count(int fd, std::uint64_t count) const;

    struct Found {
        std::string name;
        bool huge = false;
        SegmentId id;
        bool regular = true;
    };
    // At a clean stop with no chunks left: removes the registry log and the
    // private directories, so an mmmd without chunks leaves nothing in
    // /dev/shm. Never throws.
    void remove_directories_if_empty() noexcept;

    // The files in the private directories (not the registry log).
    std::vector<Found> scan() const;
    // fstatat of a segment; nullopt when it is missing.
    std::optional<mmm::detail::FileStatus> stat(const std::string& chunk, bool huge) const;

  private:
    struct Dir {
        std::string path;
        mmm::detail::UniqueFd fd;
    };
    const Dir& dir_of(bool huge) const { return huge ? huge_ : shm_; }

    std::string name_space_;
    std::string shm_root_;
    Dir shm_;
    Dir huge_;
    SegmentReaper reaper_;
    Defer deferred_;
    std::shared_ptr<std::size_t> pending_ = std::make_shared<std::size_t>(0);  // posted, not run
};

}  // namespace mmmd
