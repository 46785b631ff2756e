// Feeds arbitrary bytes as a chunk segment to the header validation that mmmd,
// mmmctl and every client run before trusting a segment.
#include "chunk_header.hpp"

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace mmm::detail;
    // The segment as mapped: at least a whole header, the rest zero.
    std::vector<std::uint8_t> segment(std::max(size, sizeof(ChunkHeader)), 0);
    std::memcpy(segment.data(), data, size);
    auto* header = reinterpret_cast<ChunkHeader*>(segment.data());
    HeaderSnapshot h = snapshot_of(header);
    std::uint64_t file_bytes = size;
    std::string problem = validate(h, file_bytes);
    (void)load_state(header);
    if (problem.empty()) {
        // A valid header promises a segment large enough for every element.
        if (h.segment_bytes > file_bytes || h.data_offset + h.count * h.element_size > file_bytes)
            __builtin_trap();
        (void)info_from(h, load_state(header));
    }
    return 0;
}
