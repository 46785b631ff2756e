// SegmentWords: a test's own writable mapping of a chunk segment's header,
// straight from its file (as root; a writer of the chunk has the same bytes
// through its descriptor): the sync words and the stripes, to look at them
// or to stage what a crashed writer would leave there.
#pragma once

#include "chunk_layout.hpp"

#include <cstddef>
#include <memory>
#include <string>

namespace mmm::test {

class SegmentWords {
  public:
    // Throws std::runtime_error when the segment cannot be mapped.
    SegmentWords(const std::string& name_space, const std::string& chunk);
    ~SegmentWords();
    SegmentWords(const SegmentWords&) = delete;
    SegmentWords& operator=(const SegmentWords&) = delete;

    detail::ChunkSync* sync() const;
    detail::StripeLine& stripe(std::size_t s) const;
    std::size_t stripe_count() const { return stripes_; }

  private:
    void* base_ = nullptr;
    std::size_t length_ = 0;
    std::size_t stripes_ = 0;
};

}  // namespace mmm::test
