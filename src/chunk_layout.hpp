// The layout of a chunk segment (docs/LAYOUT.md), layout version 3:
//
//   offset 0    SegmentPrefix (64 bytes): magic, version, geometry, generation
//   offset 64   ChunkSync (192 bytes): the words every mapping shares
//               (version, waiters, state, recoveries, writer lease, watchers;
//               the live count on a line of its own; the robust lock)
//   offset 256  stripe_count seqlock words, 64 bytes each (none for elements
//               of 1, 2, 4 or 8 bytes; else one per element up to 256)
//   then        a copy of the chunk's record as created (chunk_record.hpp)
//   data_offset max_count elements of element_size bytes; data_offset is the
//               end of the header rounded up to the page size and to the
//               element alignment
//
// Only the sync words and the elements are used by clients; the prefix and
// the record copy are for people and tools and nothing trusts them: mmmd keeps
// the truth in its registry log, and clients map with the geometry mmmd
// sends. Not user API.
#pragma once

#include "chunk_record.hpp"

#include <mmm/detail/chunk_sync.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

namespace mmm::detail {

inline constexpr std::uint64_t kSegmentMagic = 0x334b4e48434d4d4dull;  // "MMMCHNK3"
inline constexpr std::uint32_t kLayoutVersion = 3;
inline constexpr std::uint64_t kPageSize = 4096;
inline constexpr std::uint64_t kHugePageSize = std::uint64_t{2} * 1024 * 1024;
// Segments at least this large are reserved by the creating client, not by
// mmmd: tmpfs pages are allocated (and zeroed) on the CPU that calls
// posix_fallocate, and a writer on another CPU first-touches them up to 40%
// slower on VMs; a single-threaded mmmd would also stall every client for
// ~0.4 s per GiB. Smaller segments cost less to reserve than a round trip.
inline constexpr std::uint64_t kClientReserveMinBytes = std::uint64_t{256} * 1024;

struct SegmentPrefix {
    std::uint64_t magic;           // 0   kSegmentMagic
    std::uint32_t layout_version;  // 8   kLayoutVersion
    std::uint32_t stripe_count;    // 12
    std::uint64_t header_bytes;    // 16  prefix, sync, stripes and record copy
    std::uint64_t data_offset;     // 24
    std::uint64_t segment_bytes;   // 32  data_offset + max_count * element_size
    std::uint64_t element_size;    // 40
    std::uint64_t generation;      // 48
    std::uint32_t record_bytes;    // 56  the record copy's length
    std::uint32_t reserved;        // 60
};
static_assert(sizeof(SegmentPrefix) == 64);

inline constexpr std::uint64_t kSyncOffset = sizeof(SegmentPrefix);
inline constexpr std::uint64_t kStripesOffset = kSyncOffset + sizeof(ChunkSync);
static_assert(kStripesOffset == 256);
inline constexpr std::uint64_t kVersionOffset = kSyncOffset + offsetof(ChunkSync, version);
inline constexpr std::uint64_t kStateOffset = kSyncOffset + offsetof(ChunkSync, state);
inline constexpr std::uint64_t kWriterPidOffset = kSyncOffset + offsetof(ChunkSync, writer_pid);
inline constexpr std::uint64_t kWatchersOffset = kSyncOffset + offsetof(ChunkSync, watchers);
inline constexpr std::uint64_t kCountOffset = kSyncOffset + offsetof(ChunkSync, count);

struct SegmentGeometry {
    std::uint32_t stripe_count = 0;
    std::uint32_t record_bytes = 0;
    std::uint64_t header_bytes = 0;
    std::uint64_t data_offset = 0;
    std::uint64_t segment_bytes = 0;
    bool operator==(const SegmentGeometry&) const = default;
};

// 0 for whole-word elements, else max_count rounded up to a power of two, at
// most kMaxStripes.
std::uint32_t stripe_count_for(std::uint64_t element_size, std::uint64_t max_count);
// nullopt when max_count * element_size (and the header) overflows a signed
// 64-bit file offset.
std::optional<SegmentGeometry> geometry_for(std::uint64_t element_size, std::uint64_t element_align,
                                            std::uint64_t max_count, std::uint64_t record_bytes);
std::optional<SegmentGeometry> geometry_for(const ChunkRecord& r, std::uint64_t record_bytes);

// The header mmmd writes into a new segment, header_bytes long: the prefix,
// the sync words (state creating, the live count, a single-writer chunk's
// creator holding the write lease, the robust process-shared lock initialised
// and never locked), zero stripes, the record copy.
std::vector<std::byte> initial_header(const ChunkRecord& r, const SegmentGeometry& g,
                                      const std::vector<std::byte>& record);

}  // namespace mmm::detail
