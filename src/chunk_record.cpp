#include "chunk_record.hpp"

#include <mmm/detail/text.hpp>
#include "chunk_layout.hpp"
#include "element_type.hpp"
#include "names.hpp"
#include "schema_codec.hpp"

#include <chrono>

namespace mmm::detail {
namespace {

constexpr std::uint8_t kFlagSingleWriter = 1;
constexpr std::uint8_t kFlagHugePages = 2;
constexpr std::uint8_t kFlagResizing = 4;

}  // namespace

std::string record_problem(const ChunkRecord& r) {
    if (auto problem = name_problem(r.name); !problem.empty()) return "name: " + problem;
    if (r.kind != ChunkKind::array && r.kind != ChunkKind::heap) return "unknown kind";
    if (auto problem = type_problem(r.type); !problem.empty()) return "element type: " + problem;
    if (r.kind == ChunkKind::heap && (r.type.size != 1 || r.type.align != 1))
        return "a heap's elements are bytes";
    if (r.count < 1) return "count is 0";
    if (r.max_count < r.count)
        return "count " + std::to_string(r.count) + " exceeds max_count " +
               std::to_string(r.max_count);
    if (!geometry_for(r.type.size, r.type.align, r.max_count, kMaxRecordBytes))
        return "max_count * element size overflows";
    if (r.generation == 0) return "generation is 0";
    if (r.mode > 0777 || (r.mode & 0600) != 0600)
        return "mode " + octal(r.mode) + " is not within 0777 with the owner's read and write";
    if (r.lifetime != Lifetime::persistent && r.lifetime != Lifetime::session)
        return "unknown lifetime";
    if (r.state == ChunkState::deleted) return "a deleted chunk has no record";
    if ((r.state == ChunkState::quarantined) != !r.problem.empty())
        return "a quarantined record says why, and only a quarantined one";
    if (r.problem.size() > kMaxString || !is_printable_ascii(r.problem))
        return "the problem is not up to 4096 printable characters";
    return {};
}

void encode_record(Writer& w, const ChunkRecord& r) {
    w.u8(kRecordFormat);
    w.str(r.name);
    w.u8(static_cast<std::uint8_t>(r.kind));
    w.str(r.type.name);
    w.u64(r.type.size);
    w.u64(r.type.align);
    encode_schema(w, r.type.schema);
    w.u64(r.count);
    w.u64(r.max_count);
    w.u64(r.generation);
    w.u64(static_cast<std::uint64_t>(r.created_ns));
    w.u32(r.owner_uid);
    w.u32(r.owner_gid);
    w.u32(r.creator_pid);
    w.u32(r.mode);
    w.u8(static_cast<std::uint8_t>(r.lifetime));
    w.u8(static_cast<std::uint8_t>((r.single_writer ? kFlagSingleWriter : 0) |
                                   (r.huge_pages ? kFlagHugePages : 0) |
                                   (r.resizing ? kFlagResizing : 0)));
    w.u8(static_cast<std::uint8_t>(r.state));
    w.str(r.problem);
}

std::vector<std::byte> record_bytes(const ChunkRecord& r) {
    std::vector<std::byte> out;
    Writer w(out);
    encode_record(w, r);
    return out;
}

ChunkRecord decode_record(Reader& in) {
    const std::uint8_t format = in.u8();
    if (format != kRecordFormat)
        in.fail("chunk record format " + std::to_string(format) + " is not " +
                std::to_string(kRecordFormat));
    ChunkRecord r;
    r.name = in.str();
    const std::uint8_t kind = in.u8();
    if (kind > static_cast<std::uint8_t>(ChunkKind::heap)) in.fail("unknown chunk kind");
    r.kind = static_cast<ChunkKind>(kind);
    r.type.name = in.str();
    r.type.size = in.u64();
    r.type.align = in.u64();
    r.type.schema = decode_schema(in);
    r.count = in.u64();
    r.max_count = in.u64();
    r.generation = in.u64();
    r.created_ns = static_cast<std::int64_t>(in.u64());
    r.owner_uid = in.u32();
    r.owner_gid = in.u32();
    r.creator_pid = in.u32();
    r.mode = in.u32();
    const std::uint8_t lifetime = in.u8();
    if (lifetime > static_cast<std::uint8_t>(Lifetime::session)) in.fail("unknown lifetime");
    r.lifetime = static_cast<Lifetime>(lifetime);
    const std::uint8_t flags = in.u8();
    if ((flags & ~(kFlagSingleWriter | kFlagHugePages | kFlagResizing)) != 0)
        in.fail("unknown record flags");
    r.single_writer = (flags & kFlagSingleWriter) != 0;
    r.huge_pages = (flags & kFlagHugePages) != 0;
    r.resizing = (flags & kFlagResizing) != 0;
    const std::uint8_t state = in.u8();
    if (state > static_cast<std::uint8_t>(ChunkState::quarantined)) in.fail("unknown stored state");
    r.state = static_cast<ChunkState>(state);
    r.problem = in.str();
    if (auto problem = record_problem(r); !problem.empty())
        in.fail("invalid chunk record: " + problem);
    return r;
}

ChunkInfo info_of(const ChunkRecord& r) {
    ChunkInfo info;
    fill_info(r, fingerprint(r.type), info);
    return info;
}

void fill_info(const ChunkRecord& r, std::uint64_t type_fingerprint, ChunkInfo& info) {
    info.name = r.name;
    info.kind = r.kind;
    info.type_name = r.type.name;
    info.type_fingerprint = type_fingerprint;
    info.element_size = r.type.size;
    info.element_align = r.type.align;
    info.schema = r.type.schema;
    info.count = r.count;
    info.max_count = r.max_count;
    info.bytes = r.count * r.type.size;  // validated: cannot overflow
    info.segment_bytes = 0;
    info.huge_pages = r.huge_pages;
    info.mode = r.mode;
    info.owner_uid = static_cast<uid_t>(r.owner_uid);
    info.owner_gid = static_cast<gid_t>(r.owner_gid);
    info.creator_pid = static_cast<pid_t>(r.creator_pid);
    info.lifetime = r.lifetime;
    info.state = r.state;
    info.problem = r.problem;
    info.single_writer = r.single_writer;
    info.writer_pid = 0;
    info.created = std::chrono::system_clock::time_point(
        std::chrono::duration_cast<std::chrono::system_clock::duration>(
            std::chrono::nanoseconds(r.created_ns)));
    info.generation = r.generation;
    info.segment.clear();
    info.attachments.clear();
}

}  // namespace mmm::detail
