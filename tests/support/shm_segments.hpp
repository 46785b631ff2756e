// The POSIX shared-memory segments of one daemon namespace, as /dev/shm shows
// them ("mmm.<ns>.<name>"): for leak checks and for cleanup after a test.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace mmm::test {

// "/dev/shm/mmm.<ns>.<chunk>".
std::string segment_path(const std::string& name_space, const std::string& chunk);
bool segment_exists(const std::string& name_space, const std::string& chunk);
// File names (not paths) in /dev/shm that belong to the namespace, sorted.
std::vector<std::string> segments_of(const std::string& name_space);
// shm_unlinks every segment of the namespace; returns the names it removed.
std::vector<std::string> remove_segments_of(const std::string& name_space);

// Unlinks the namespace's segments when it goes out of scope (tests that run
// daemons without the DaemonTest fixture).
class SegmentCleanup {
  public:
    explicit SegmentCleanup(std::string name_space) : name_space_(std::move(name_space)) {}
    ~SegmentCleanup() { remove_segments_of(name_space_); }
    SegmentCleanup(const SegmentCleanup&) = delete;
    SegmentCleanup& operator=(const SegmentCleanup&) = delete;

  private:
    std::string name_space_;
};

}  // namespace mmm::test
