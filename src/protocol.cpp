// Encoding and decoding of mmmd frames and bodies. The message grammar is in
// docs/PROTOCOL.md. Decoding is total: every read is bounds-checked, every
// enum is validated and a body must be consumed exactly, so arbitrary bytes
// decode or throw Errc::protocol_error (this file is the daemon's fuzz target).
#include "protocol.hpp"

#include "overloaded.hpp"
#include "schema_codec.hpp"

#include <algorithm>
#include <chrono>

namespace mmm::proto {
namespace {

constexpr std::uint32_t kMaxAttachments = 65536;

[[noreturn]] void fail(const std::string& what) {
    throw Error(Errc::protocol_error, "", what, kVersionHint);
}

template <class E>
E read_enum(Reader& r, E last, const char* field) {
    const std::uint8_t v = r.u8();
    if (v > static_cast<std::uint8_t>(last))
        fail(std::string("invalid value in field '") + field + "'");
    return static_cast<E>(v);
}

// Error texts are for people: a very long one (two long type names) is cut.
std::string_view clip(std::string_view text) {
    return text.substr(0, detail::kMaxString);
}

MessageType type_of(const Request& request) {
    static constexpr MessageType kTypes[] = {
        MessageType::create, MessageType::open,    MessageType::close,  MessageType::remove,
        MessageType::list,   MessageType::info,    MessageType::stats,  MessageType::ping,
        MessageType::watch,  MessageType::unwatch, MessageType::commit, MessageType::resize,
    };
    static_assert(std::size(kTypes) == std::variant_size_v<Request>);
    return kTypes[request.index()];
}

void name_and_generation(Writer& w, const std::string& name, std::uint64_t generation) {
    w.str(name);
    w.u64(generation);
}

void write_body(Writer& w, const Request& request) {
    std::visit(detail::Overloaded{
                   [&](const CreateRequest& c) {
                       w.str(c.name);
                       encode_element_type(w, c.type);
                       w.u8(static_cast<std::uint8_t>(c.kind));
                       w.u64(c.count);
                       w.u64(c.max_count);
                       w.u32(c.mode);
                       w.u8(static_cast<std::uint8_t>(c.lifetime));
                       w.u8(c.single_writer ? 1 : 0);
                       w.u8(static_cast<std::uint8_t>(c.huge_pages));
                   },
                   [&](const OpenRequest& o) {
                       w.str(o.name);
                       w.u8(o.type ? 1 : 0);
                       if (o.type) encode_element_type(w, *o.type);
                       w.u8(static_cast<std::uint8_t>(o.kind));
                       w.u8(o.writable ? 1 : 0);
                       w.u32(o.wait_ms);
                   },
                   [&](const CloseRequest& c) {
                       name_and_generation(w, c.name, c.generation);
                       w.u8(c.writable ? 1 : 0);
                       w.u8(c.release_lease ? 1 : 0);
                   },
                   [&](const RemoveRequest& r) { name_and_generation(w, r.name, r.generation); },
                   [&](const ListRequest& l) {
                       w.str(l.after);
                       w.u32(l.limit);
                   },
                   [&](const InfoRequest& i) { w.str(i.name); },
                   [&](const StatsRequest&) {},
                   [&](const PingRequest&) {},
                   [&](const WatchRequest& x) { name_and_generation(w, x.name, x.generation); },
                   [&](const UnwatchRequest& x) { name_and_generation(w, x.name, x.generation); },
                   [&](const CommitRequest& x) { name_and_generation(w, x.name, x.generation); },
                   [&](const ResizeRequest& x) {
                       name_and_generation(w, x.name, x.generation);
                       w.u64(x.count);
                   },
               },
               request);
}

template <class R>
R read_name_and_generation(Reader& r) {
    R x;
    x.name = r.str();
    x.generation = r.u64();
    return x;
}

Request read_body(MessageType type, Reader& r) {
    switch (type) {
        case MessageType::create: {
            CreateRequest c;
            c.name = r.str();
            c.type = decode_element_type(r);
            c.kind = read_enum(r, ChunkKind::heap, "kind");
            c.count = r.u64();
            c.max_count = r.u64();
            c.mode = r.u32();
            c.lifetime = read_enum(r, Lifetime::session, "lifetime");
            c.single_writer = r.boolean("single_writer");
            c.huge_pages = read_enum(r, HugePages::always, "huge_pages");
            return c;
        }
        case MessageType::open: {
            OpenRequest o;
            o.name = r.str();
            if (r.boolean("typed")) o.type = decode_element_type(r);
            o.kind = read_enum(r, ChunkKind::heap, "kind");
            o.writable = r.boolean("writable");
            o.wait_ms = r.u32();
            return o;
        }
        case MessageType::close: {
            auto c = read_name_and_generation<CloseRequest>(r);
            c.writable = r.boolean("writable");
            c.release_lease = r.boolean("release_lease");
            return c;
        }
        case MessageType::remove:
            return read_name_and_generation<RemoveRequest>(r);
        case MessageType::list: {
            ListRequest l;
            l.after = r.str();
            l.limit = r.u32();
            return l;
        }
        case MessageType::info:
            return InfoRequest{r.str()};
        case MessageType::stats:
            return StatsRequest{};
        case MessageType::ping:
            return PingRequest{};
        case MessageType::watch:
            return read_name_and_generation<WatchRequest>(r);
        case MessageType::unwatch:
            return read_name_and_generation<UnwatchRequest>(r);
        case MessageType::commit:
            return read_name_and_generation<CommitRequest>(r);
        case MessageType::resize: {
            auto x = read_name_and_generation<ResizeRequest>(r);
            x.count = r.u64();
            return x;
        }
        default:
            break;
    }
    fail("unknown request type " + std::to_string(static_cast<unsigned>(type)));
}

}  // namespace

// --- frame header --------------------------------------------------------------

void encode_frame_header(const FrameHeader& h, std::byte* out) {
    detail::put_le32(out + 0, h.magic);
    detail::put_le16(out + 4, h.version);
    detail::put_le16(out + 6, h.type);
    detail::put_le32(out + 8, h.request_id);
    detail::put_le32(out + 12, h.body_bytes);
}

FrameHeader decode_frame_header(std::span<const std::byte, kFrameHeaderBytes> in) {
    FrameHeader h;
    h.magic = detail::get_le32(in.data() + 0);
    h.version = detail::get_le16(in.data() + 4);
    h.type = detail::get_le16(in.data() + 6);
    h.request_id = detail::get_le32(in.data() + 8);
    h.body_bytes = detail::get_le32(in.data() + 12);
    return h;
}

bool framing_ok(const FrameHeader& h) {
    return h.magic == kFrameMagic && h.version == kProtocolVersion &&
           h.body_bytes <= kMaxRequestBody;
}

std::string check_request_header(const FrameHeader& h) {
    if (h.magic != kFrameMagic) return "bad frame magic (not an mmm client?)";
    if (h.version != kProtocolVersion)
        return "protocol version " + std::to_string(h.version) + " is not supported (mmmd speaks " +
               std::to_string(kProtocolVersion) + ")";
    if (h.body_bytes > kMaxRequestBody)
        return "request body of " + std::to_string(h.body_bytes) + " bytes exceeds the limit of " +
               std::to_string(kMaxRequestBody);
    if (h.type < static_cast<std::uint16_t>(MessageType::create) ||
        h.type > static_cast<std::uint16_t>(kLastRequestType))
        return "unknown request type " + std::to_string(h.type);
    return {};
}

// --- requests ------------------------------------------------------------------

std::vector<std::byte> encode_request(const Request& request, std::uint32_t request_id) {
    return make_frame(type_of(request), request_id, [&](Writer& w) { write_body(w, request); });
}

Request decode_request(MessageType type, std::span<const std::byte> body) {
    Reader r(body);
    Request request = read_body(type, r);
    r.expect_end();
    return request;
}

void encode_element_type(Writer& w, const detail::ElementType& t) {
    w.str(t.name);
    w.u64(t.size);
    w.u64(t.align);
    detail::encode_schema(w, t.schema);
}

detail::ElementType decode_element_type(Reader& r) {
    detail::ElementType t;
    t.name = r.str();
    t.size = r.u64();
    t.align = r.u64();
    t.schema = detail::decode_schema(r);
    return t;
}

// --- replies -------------------------------------------------------------------

void encode_info(Writer& w, const ChunkInfo& info) {
    w.str(info.name);
    w.u8(static_cast<std::uint8_t>(info.kind));
    w.str(info.type_name);
    w.u64(info.type_fingerprint);
    w.u64(info.element_size);
    w.u64(info.element_align);
    detail::encode_schema(w, info.schema);
    w.u64(info.count);
    w.u64(info.max_count);
    w.u64(info.bytes);
    w.u64(info.segment_bytes);
    w.u8(info.huge_pages ? 1 : 0);
    w.u32(info.mode);
    w.u32(static_cast<std::uint32_t>(info.owner_uid));
    w.u32(static_cast<std::uint32_t>(info.owner_gid));
    w.u32(static_cast<std::uint32_t>(info.creator_pid));
    w.u8(static_cast<std::uint8_t>(info.lifetime));
    w.u8(static_cast<std::uint8_t>(info.state));
    w.u8(info.single_writer ? 1 : 0);
    w.u32(static_cast<std::uint32_t>(info.writer_pid));
    auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(info.created.time_since_epoch());
    w.u64(static_cast<std::uint64_t>(ns.count()));
    w.u64(info.generation);
    w.str(info.segment);
    w.str(clip(info.problem));
    auto n =
        static_cast<std::uint32_t>(std::min<std::size_t>(info.attachments.size(), kMaxAttachments));
    w.u32(n);
    for (std::uint32_t i = 0; i < n; ++i) {
        const Attachment& a = info.attachments[i];
        w.u32(static_cast<std::uint32_t>(a.pid));
        w.u32(static_cast<std::uint32_t>(a.uid));
        w.u8(a.writable ? 1 : 0);
    }
}

ChunkInfo decode_info(Reader& r) {
    ChunkInfo info;
    info.name = r.str();
    info.kind = read_enum(r, ChunkKind::heap, "kind");
    info.type_name = r.str();
    info.type_fingerprint = r.u64();
    info.element_size = r.u64();
    info.element_align = r.u64();
    info.schema = detail::decode_schema(r);
    info.count = r.u64();
    info.max_count = r.u64();
    info.bytes = r.u64();
    info.segment_bytes = r.u64();
    info.huge_pages = r.boolean("huge_pages");
    info.mode = r.u32();
    info.owner_uid = static_cast<uid_t>(r.u32());
    info.owner_gid = static_cast<gid_t>(r.u32());
    info.creator_pid = static_cast<pid_t>(r.u32());
    info.lifetime = read_enum(r, Lifetime::session, "lifetime");
    info.state = read_enum(r, ChunkState::quarantined, "state");
    info.single_writer = r.boolean("single_writer");
    info.writer_pid = static_cast<pid_t>(r.u32());
    auto ns = std::chrono::nanoseconds(static_cast<std::int64_t>(r.u64()));
    info.created = std::chrono::system_clock::time_point(
        std::chrono::duration_cast<std::chrono::system_clock::duration>(ns));
    info.generation = r.u64();
    info.segment = r.str();
    info.problem = r.str();
    std::uint32_t n = r.u32();
    if (n > kMaxAttachments) fail("too many attachments (" + std::to_string(n) + ")");
    for (std::uint32_t i = 0; i < n; ++i) {  // no reserve(n): the bytes may not be there
        Attachment a;
        a.pid = static_cast<pid_t>(r.u32());
        a.uid = static_cast<uid_t>(r.u32());
        a.writable = r.boolean("attachment.writable");
        info.attachments.push_back(a);
    }
    return info;
}

void encode_grant(Writer& w, const Grant& g) {
    encode_info(w, g.info);
    w.u32(g.geometry.stripe_count);
    w.u32(g.geometry.record_bytes);
    w.u64(g.geometry.header_bytes);
    w.u64(g.geometry.data_offset);
    w.u64(g.geometry.segment_bytes);
}

Grant decode_grant(Reader& r) {
    Grant g;
    g.info = decode_info(r);
    g.geometry.stripe_count = r.u32();
    g.geometry.record_bytes = r.u32();
    g.geometry.header_bytes = r.u64();
    g.geometry.data_offset = r.u64();
    g.geometry.segment_bytes = r.u64();
    return g;
}

void encode_stats(Writer& w, const Stats& s) {
    w.u32(static_cast<std::uint32_t>(s.daemon_pid));
    w.str(s.runtime_dir);
    w.str(s.name_space);
    w.str(s.segment_dir);
    w.str(s.huge_dir);
    w.u64(s.chunks);
    w.u64(s.quarantined);
    w.u64(s.bytes);
    w.u64(s.max_bytes);
    w.u64(s.max_chunks);
    w.u64(s.max_chunk_bytes);
    w.u64(s.connections);
    w.u64(s.requests);
    w.u64(s.uptime_ms);
}

Stats decode_stats(Reader& r) {
    Stats s;
    s.daemon_pid = static_cast<pid_t>(r.u32());
    s.runtime_dir = r.str();
    s.name_space = r.str();
    s.segment_dir = r.str();
    s.huge_dir = r.str();
    s.chunks = r.u64();
    s.quarantined = r.u64();
    s.bytes = r.u64();
    s.max_bytes = r.u64();
    s.max_chunks = r.u64();
    s.max_chunk_bytes = r.u64();
    s.connections = r.u64();
    s.requests = r.u64();
    s.uptime_ms = r.u64();
    return s;
}

void encode_list_page(Writer& w, const ListHead& h, std::span<const std::byte> chunks) {
    w.u32(h.count);
    w.u8(h.more ? 1 : 0);
    w.u64(h.chunks);
    w.str(h.last);
    w.raw(chunks);
}

ListHead decode_list_head(Reader& r) {
    ListHead h;
    h.count = r.u32();
    if (h.count > kMaxListLimit)
        fail("list of " + std::to_string(h.count) + " chunks exceeds the limit");
    h.more = r.boolean("more");
    h.chunks = r.u64();
    h.last = r.str();
    if (h.more && h.count == 0) fail("an empty list page says more follow");
    return h;
}

void decode_list_chunks(Reader& r, const ListHead& h, std::vector<ChunkInfo>& out) {
    const std::size_t first = out.size();
    for (std::uint32_t i = 0; i < h.count; ++i) out.push_back(decode_info(r));
    // The cursor the next request was built from must be where this page ends.
    if (h.count > 0 && out[first + h.count - 1].name != h.last)
        fail("a list page's last chunk is not the one its head names");
}

void encode_list(Writer& w, const ListReply& l) {
    auto n = static_cast<std::uint32_t>(std::min<std::size_t>(l.chunks.size(), kMaxListLimit));
    std::vector<std::byte> chunks;
    Writer cw(chunks);
    for (std::uint32_t i = 0; i < n; ++i) encode_info(cw, l.chunks[i]);
    ListHead h{n, (l.more || n < l.chunks.size()) && n > 0, l.registry_chunks,
               n > 0 ? l.chunks[n - 1].name : std::string()};
    encode_list_page(w, h, chunks);
}

ListReply decode_list(Reader& r) {
    ListReply l;
    const ListHead h = decode_list_head(r);
    l.chunks.reserve(h.count);  // bounded by decode_list_head
    decode_list_chunks(r, h, l.chunks);
    l.more = h.more;
    l.registry_chunks = h.chunks;
    return l;
}

void encode_error(Writer& w, const ErrorReply& e) {
    w.u16(static_cast<std::uint16_t>(e.code));
    w.str(clip(e.chunk));
    w.str(clip(e.message));
    w.str(clip(e.hint));
}

ErrorReply decode_error(Reader& r) {
    ErrorReply e;
    std::uint16_t code = r.u16();
    if (code == 0 || code > static_cast<std::uint16_t>(kLastErrc))
        fail("unknown error code " + std::to_string(code));
    e.code = static_cast<Errc>(code);
    e.chunk = r.str();
    e.message = r.str();
    e.hint = r.str();
    return e;
}

std::vector<std::byte> make_error_reply(std::uint32_t request_id, const ErrorReply& e) {
    return make_frame(MessageType::reply_error, request_id, [&](Writer& w) { encode_error(w, e); });
}

std::vector<std::byte> make_ok_reply(std::uint32_t request_id) {
    return make_frame(MessageType::reply_ok, request_id, [](Writer&) {});
}

}  // namespace mmm::proto
