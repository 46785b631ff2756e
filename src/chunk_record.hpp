// A chunk's record: everything that decides the chunk's fate and how to map
// it (name, kind, type and schema, counts, owner, mode, lifetime, state).
// mmmd keeps the truth of each chunk as a record in its registry log, where
// no client can write (daemon/registry_log.hpp); a copy goes into the
// segment's header for people and tools, and the chunk's ChunkInfo sent to
// clients is made from it. The encoding (docs/LAYOUT.md, "Chunk records"):
//
//   u8 format (1), str name, u8 kind, str type name, u64 element size,
//   u64 element align, schema (schema_codec.hpp), u64 count, u64 max_count,
//   u64 generation, u64 created_ns, u32 owner uid, u32 owner gid,
//   u32 creator pid, u32 mode, u8 lifetime, u8 flags (1 single writer,
//   2 huge pages, 4 resizing), u8 state (0 creating, 1 ready, 3 quarantined), str problem
//   (why it is quarantined; empty otherwise)
//
// A decoded record is validated whole before it is returned. Not user API.
#pragma once

#include "codec.hpp"

#include <span>

#include <mmm/detail/element_type.hpp>
#include <mmm/options.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace mmm::detail {

inline constexpr std::uint8_t kRecordFormat = 1;
// The whole record as stored: a name, a type name and a schema at most.
inline constexpr std::size_t kMaxRecordBytes = std::size_t{64} * 1024;

struct ChunkRecord {
    std::string name;
    ChunkKind kind = ChunkKind::array;
    ElementType type;
    std::uint64_t count = 0;
    std::uint64_t max_count = 0;
    std::uint64_t generation = 0;  // random, unique per create
    std::int64_t created_ns = 0;   // CLOCK_REALTIME at create
    std::uint32_t owner_uid = 0;
    std::uint32_t owner_gid = 0;
    std::uint32_t creator_pid = 0;
    std::uint32_t mode = 0600;
    Lifetime lifetime = Lifetime::persistent;
    bool single_writer = false;
    bool huge_pages = false;  // the segment lives in mmmd's huge-page directory
    // A resize to `count` has begun and may not be published in the segment
    // yet: a restarted mmmd publishes `count` (docs/RELIABILITY.md).
    bool resizing = false;
    // creating, ready, or quarantined (mmmd refuses to serve it: `problem`
    // says why, for example a writer cut its segment short). Never deleted:
    // a deleted chunk has no record.
    ChunkState state = ChunkState::creating;
    std::string problem;
};

// Empty when the record is one mmmd may hold; otherwise what is wrong with it.
std::string record_problem(const ChunkRecord& r);

void encode_record(Writer& w, const ChunkRecord& r);
std::vector<std::byte> record_bytes(const ChunkRecord& r);
// Throws mmm::Error with the Reader's failure code when the bytes are not a
// valid record.
ChunkRecord decode_record(Reader& r);

// What clients see of the record (no attachments, lease or location yet).
ChunkInfo info_of(const ChunkRecord& r);
// The same into `info`, reusing its strings' room (mmmd lists a million
// chunks through one); `type_fingerprint` is fingerprint(r.type).
void fill_info(const ChunkRecord& r, std::uint64_t type_fingerprint, ChunkInfo& info);

}  // namespace mmm::detail
