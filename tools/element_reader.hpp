// Copies elements out of a mapped chunk under the chunk's striped seqlocks, so
// a dumped element is never torn by a concurrent checked write(). Raw writers
// (span(), pointer()) take no lock; their elements are a plain snapshot.
//
// Never blocks for long: an admin tool must not hang on a stopped writer. A
// stripe that stays locked is given up on, and its elements are copied raw and
// marked inconsistent.
#pragma once

#include <mmm/detail/chunk_sync.hpp>
#include <mmm/detail/mapped_chunk.hpp>

#include <bitset>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace mmmctl {

struct ElementSnapshot {
    std::vector<std::byte> bytes;
    bool consistent = true;  // false: a writer held the element's stripe throughout
};

class ElementReader {
  public:
    explicit ElementReader(const mmm::detail::MappedChunk& chunk) : chunk_(chunk) {}
    ElementSnapshot read(std::uint64_t index);

  private:
    const mmm::detail::MappedChunk& chunk_;
    std::bitset<mmm::detail::kStripeCount> given_up_;
};

}  // namespace mmmctl
