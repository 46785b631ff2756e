// The segments of one daemon namespace, as the file system shows them: the
// private directory /dev/shm/mmm.<ns>/ (one file per chunk, and mmmd's
// registry log .registry), for leak checks and for cleanup after a test.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace mmm::test {

// "/dev/shm/mmm.<ns>".
std::string segment_dir(const std::string& name_space);
// "/dev/shm/mmm.<ns>/<chunk>".
std::string segment_path(const std::string& name_space, const std::string& chunk);
bool segment_exists(const std::string& name_space, const std::string& chunk);
// Chunk segments (not the registry log) of the namespace, sorted.
std::vector<std::string> segments_of(const std::string& name_space);
// Removes the namespace's directory (segments and registry log) and any
// segments of the previous layout (/dev/shm/mmm.<ns>.<chunk>); returns the
// chunk segments it removed.
std::vector<std::string> remove_segments_of(const std::string& name_space);

// Removes the namespace's segments when it goes out of scope (tests that run
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
