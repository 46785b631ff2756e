// The layout of a chunk segment (docs/LAYOUT.md):
//
//   offset 0      ChunkHeader: immutable description (written once by mmmd
//                 before state becomes ready), then ChunkSync at 512; chunks
//                 of 1-, 2-, 4- or 8-byte elements end it before the stripes
//                 (header_bytes), since they never take one
//   data_offset   count elements of element_size bytes; data_offset is a
//                 multiple of the page size and of element_align
//
// Anyone with write access can scribble over a header, so nothing here is
// trusted: readers copy the immutable part out (HeaderSnapshot) and validate
// the copy before using any field of it.
#pragma once

#include <mmm/detail/chunk_sync.hpp>
#include <mmm/options.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

namespace mmm::detail {

inline constexpr std::uint64_t kChunkMagic = 0x314b4e48434d4d4dull;  // "MMMCHNK1"
inline constexpr std::uint32_t kLayoutVersion = 2;
inline constexpr std::size_t kNameCapacity = 136;      // 128 chars + NUL, padded
inline constexpr std::size_t kTypeNameCapacity = 256;  // longer names are truncated
inline constexpr std::uint64_t kMaxElementSize = 1ull << 30;
inline constexpr std::uint64_t kMaxElementAlign = 4096;
inline constexpr std::uint64_t kPageSize = 4096;
// HeaderSnapshot::flags
inline constexpr std::uint32_t kFlagSingleWriter = 1u;  // one writable mapping at a time
inline constexpr std::uint32_t kKnownFlags = kFlagSingleWriter;

// The part of the header that never changes after create.
struct HeaderSnapshot {
    std::uint64_t magic;                // 0   kChunkMagic
    std::uint32_t layout_version;       // 8   kLayoutVersion
    std::uint32_t header_bytes;         // 12  header_bytes_for(element_size)
    std::uint64_t data_offset;          // 16
    std::uint64_t segment_bytes;        // 24  data_offset + count * element_size
    std::uint64_t type_fingerprint;     // 32  detail::fingerprint(type_name, size, align)
    std::uint64_t element_size;         // 40
    std::uint64_t element_align;        // 48
    std::uint64_t count;                // 56
    std::uint64_t generation;           // 64  unique per create
    std::int64_t created_ns;            // 72  CLOCK_REALTIME
    std::uint32_t owner_uid;            // 80
    std::uint32_t owner_gid;            // 84
    std::uint32_t creator_pid;          // 88
    std::uint32_t mode;                 // 92  permission bits, <= 0777
    std::uint32_t lifetime;             // 96  mmm::Lifetime
    std::uint32_t flags;                // 100 kFlag* bits
    std::uint64_t checksum;             // 104 FNV-1a of bytes [0,104) and both names
    char name[kNameCapacity];           // 112 NUL-terminated chunk name
    char type_name[kTypeNameCapacity];  // 248 NUL-terminated canonical type name
    std::uint8_t padding[8];            // 504
};
static_assert(sizeof(HeaderSnapshot) == 512);
static_assert(offsetof(HeaderSnapshot, checksum) == 104);
static_assert(offsetof(HeaderSnapshot, name) == 112);
static_assert(offsetof(HeaderSnapshot, type_name) == 248);

struct ChunkHeader {
    HeaderSnapshot fixed;
    ChunkSync sync;  // 512
};
static_assert(offsetof(ChunkHeader, sync) == 512);
static_assert(sizeof(ChunkHeader) == 512 + sizeof(ChunkSync));

// Bytes of header a chunk of this element size has: the whole ChunkHeader, or
// only the part before the stripes for elements that are read and written with
// one atomic access (detail::kWholeWord) and so never take a stripe.
std::uint32_t header_bytes_for(std::uint64_t element_size);
// Offset of the elements: after the header, page aligned (and element aligned).
std::uint64_t data_offset_for(std::uint64_t element_size, std::uint64_t element_align);
// Total segment size, or nullopt when count * size (+ header) overflows.
std::optional<std::uint64_t> segment_bytes_for(std::uint64_t element_size,
                                               std::uint64_t element_align, std::uint64_t count);

std::uint64_t header_checksum(const HeaderSnapshot& h);

// Copies the immutable part out of shared memory (which may change under us).
HeaderSnapshot snapshot_of(const ChunkHeader* shared);

// Empty when the snapshot is a well-formed header for a segment of
// `file_bytes` bytes; otherwise what is wrong with it, for the user.
std::string validate(const HeaderSnapshot& h, std::uint64_t file_bytes);

// Reads the state word; anything out of range reads as quarantined.
ChunkState load_state(const ChunkHeader* shared);

// The bytes of a new header up to the stripes: the snapshot with its checksum,
// then ChunkSync's first two cache lines (counters zero, state = creating, the
// robust process-shared mutex initialised, never locked). Everything after it
// (the stripes) starts zero, so mmmd writes only these bytes into a segment
// that posix_fallocate has just zeroed, and publishes state = ready after.
inline constexpr std::size_t kInitialHeaderBytes =
    offsetof(ChunkHeader, sync) + offsetof(ChunkSync, stripes);
inline constexpr std::size_t kStateOffset =
    offsetof(ChunkHeader, sync) + offsetof(ChunkSync, state);
static_assert(kStateOffset + sizeof(std::uint32_t) <= kInitialHeaderBytes);

struct InitialHeader {
    alignas(ChunkHeader) unsigned char bytes[kInitialHeaderBytes];
};
InitialHeader initial_header(const HeaderSnapshot& fixed);

ChunkInfo info_from(const HeaderSnapshot& h, ChunkState state);

}  // namespace mmm::detail
