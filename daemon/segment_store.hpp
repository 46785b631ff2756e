// The chunk segments of one namespace in /dev/shm: the only code of mmmd that
// touches shared memory. Creates them (reserved, header published last),
// opens descriptors to hand to clients, marks them deleted, and lists them.
#pragma once

#include "chunk_header.hpp"
#include "segment_reaper.hpp"
#include "unique_fd.hpp"

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mmmd {

// Identifies the file behind a name, so a segment replaced behind mmmd's back
// (same name, other inode) is never handed out or written to.
struct SegmentId {
    dev_t dev = 0;
    ino_t ino = 0;
    bool operator==(const SegmentId&) const = default;
};

// What a segment found in /dev/shm looks like, for adoption at startup.
struct Inspection {
    SegmentId id;
    std::uint64_t file_bytes = 0;
    uid_t file_uid = 0;
    std::uint32_t file_mode = 0;
    bool all_zero = false;                              // the whole header (or file) is zero
    std::optional<mmm::detail::HeaderSnapshot> header;  // nullopt when the file is short
    std::uint32_t raw_state = 0;                        // sync.state as stored
    std::uint32_t raw_watchers = 0;                     // sync.watchers as stored
    std::uint32_t raw_writer_pid = 0;                   // sync.writer_pid as stored
};

class SegmentStore {
  public:
    explicit SegmentStore(std::string name_space);

    const std::string& name_space() const { return name_space_; }
    std::string segment_for(std::string_view chunk) const;

    struct Created {
        mmm::detail::UniqueFd fd;  // O_RDWR, for the creator
        SegmentId id;
    };
    // Who reserves the segment's memory (mmm::detail::kClientReserveMinBytes).
    enum class Reservation { by_mmmd, by_creator };
    // Creates, sizes and initialises the segment. by_mmmd: also reserves its
    // memory and publishes it ready; by_creator: leaves it `creating` until
    // publish(). Never leaves a partial segment behind. Throws mmm::Error
    // (already_exists, no_space, io_error).
    Created create(const std::string& chunk, const mmm::detail::HeaderSnapshot& fixed,
                   Reservation reservation);
    // Stores state = ready in the header of a segment created `creating`.
    void publish(int fd, const std::string& chunk) const;

    // A new descriptor on the segment, read-only or read-write. Throws
    // Errc::not_found when the segment is gone or was replaced.
    mmm::detail::UniqueFd open(const std::string& segment, bool writable, SegmentId expect) const;

    // Stores state = deleted in the header (waking waiters) if the segment is
    // still the expected one, then unlinks it. Best effort: never throws.
    // Returns true when the pages of a large segment are freed later, on the
    // reaper's thread, which then calls `freed` (only when `freed` is given);
    // false when they are freed already (and `freed` is not called).
    bool remove(const std::string& segment, std::optional<SegmentId> expect,
                std::function<void()> freed = {});

    // Segment names of this namespace present in /dev/shm.
    std::vector<std::string> scan() const;
    // Throws mmm::Error when the segment cannot be opened.
    Inspection inspect(const std::string& segment) const;

  private:
    std::string name_space_;
    SegmentReaper reaper_;
};

}  // namespace mmmd
