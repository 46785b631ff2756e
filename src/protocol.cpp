// Encoding and decoding of mmmd frames and bodies (docs/PROTOCOL.md).
//
// Bodies are sequences of little-endian integers and strings (u16 length, then
// that many bytes, at most kMaxString). Request bodies:
//
//   type      = str name, u64 fingerprint, u64 size, u64 align
//   create    = str name, type, u64 count, u32 mode, u8 lifetime
//   open      = str name, type, u8 writable, u32 wait_ms
//   close     = str name, u64 generation
//   remove    = str name
//   list      = str after, u32 limit
//   info      = str name
//   stats     = (empty)
//   ping      = (empty)
//
// Decoding is total: every read is bounds-checked, every enum is validated and
// a body must be consumed exactly, so arbitrary bytes decode or throw
// Errc::protocol_error (this file is the daemon's fuzz target).
#include "protocol.hpp"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <type_traits>

namespace mmm::proto {
namespace {

constexpr std::uint32_t kMaxAttachments = 65536;

[[noreturn]] void fail(const std::string& what) {
    throw Error(Errc::protocol_error, "", what,
                "the client and mmmd may be different versions; upgrade both");
}

template <class T>
void put_le(std::byte* out, T v) {
    static_assert(std::is_unsigned_v<T>);
    for (std::size_t i = 0; i < sizeof(T); ++i)
        out[i] = static_cast<std::byte>((v >> (8 * i)) & 0xffu);
}

template <class T>
T get_le(const std::byte* in) {
    static_assert(std::is_unsigned_v<T>);
    T v = 0;
    for (std::size_t i = 0; i < sizeof(T); ++i)
        v = static_cast<T>(v | (static_cast<T>(std::to_integer<unsigned>(in[i])) << (8 * i)));
    return v;
}

bool read_bool(Reader& r, const char* field) {
    std::uint8_t v = r.u8();
    if (v > 1) fail(std::string("invalid boolean in field '") + field + "'");
    return v == 1;
}

Lifetime read_lifetime(Reader& r) {
    std::uint8_t v = r.u8();
    if (v > static_cast<std::uint8_t>(Lifetime::session)) fail("invalid lifetime value");
    return static_cast<Lifetime>(v);
}

ChunkState read_state(Reader& r) {
    std::uint8_t v = r.u8();
    if (v > static_cast<std::uint8_t>(ChunkState::quarantined)) fail("invalid chunk state value");
    return static_cast<ChunkState>(v);
}

void write_type(Writer& w, const TypeDescriptor& t) {
    w.str(t.name);
    w.u64(t.fingerprint);
    w.u64(t.size);
    w.u64(t.align);
}

TypeDescriptor read_type(Reader& r) {
    TypeDescriptor t;
    t.name = r.str();
    t.fingerprint = r.u64();
    t.size = r.u64();
    t.align = r.u64();
    return t;
}

template <class... F>
struct Overloaded : F... {
    using F::operator()...;
};
template <class... F>
Overloaded(F...) -> Overloaded<F...>;

MessageType type_of(const Request& request) {
    static constexpr MessageType kTypes[] = {
        MessageType::create, MessageType::open,    MessageType::close,  MessageType::remove,
        MessageType::list,   MessageType::info,    MessageType::stats,  MessageType::ping,
        MessageType::watch,  MessageType::unwatch, MessageType::commit,
    };
    static_assert(std::size(kTypes) == std::variant_size_v<Request>);
    return kTypes[request.index()];
}

void write_body(Writer& w, const Request& request) {
    std::visit(Overloaded{
                   [&](const CreateRequest& c) {
                       w.str(c.name);
                       write_type(w, c.type);
                       w.u64(c.count);
                       w.u32(c.mode);
                       w.u8(static_cast<std::uint8_t>(c.lifetime));
                       w.u8(c.single_writer ? 1 : 0);
                   },
                   [&](const OpenRequest& o) {
                       w.str(o.name);
                       write_type(w, o.type);
                       w.u8(o.writable ? 1 : 0);
                       w.u32(o.wait_ms);
                   },
                   [&](const CloseRequest& c) {
                       w.str(c.name);
                       w.u64(c.generation);
                       if (c.writable) w.u8(*c.writable ? 1 : 0);
                       if (c.writable && c.release_lease) w.u8(1);
                   },
                   [&](const RemoveRequest& r) {
                       w.str(r.name);
                       w.u64(r.generation);
                   },
                   [&](const ListRequest& l) {
                       w.str(l.after);
                       w.u32(l.limit);
                   },
                   [&](const InfoRequest& i) { w.str(i.name); },
                   [&](const StatsRequest&) {},
                   [&](const PingRequest&) {},
                   [&](const WatchRequest& x) {
                       w.str(x.name);
                       w.u64(x.generation);
                   },
                   [&](const UnwatchRequest& x) {
                       w.str(x.name);
                       w.u64(x.generation);
                   },
                   [&](const CommitRequest& x) {
                       w.str(x.name);
                       w.u64(x.generation);
                   },
               },
               request);
}

CreateRequest read_create(Reader& r) {
    CreateRequest c;
    c.name = r.str();
    c.type = read_type(r);
    c.count = r.u64();
    c.mode = r.u32();
    c.lifetime = read_lifetime(r);
    // Appended later: a request without it creates a chunk of many writers.
    if (!r.at_end()) c.single_writer = read_bool(r, "single_writer");
    return c;
}

OpenRequest read_open(Reader& r) {
    OpenRequest o;
    o.name = r.str();
    o.type = read_type(r);
    o.writable = read_bool(r, "writable");
    o.wait_ms = r.u32();
    return o;
}

Request read_body(MessageType type, Reader& r) {
    switch (type) {
        case MessageType::create:
            return read_create(r);
        case MessageType::open:
            return read_open(r);
        case MessageType::close: {
            CloseRequest c;
            c.name = r.str();
            c.generation = r.u64();
            if (!r.at_end()) c.writable = read_bool(r, "writable");
            if (!r.at_end()) c.release_lease = read_bool(r, "release_lease");
            return c;
        }
        case MessageType::remove: {
            RemoveRequest req;
            req.name = r.str();
            // The generation was appended later; a request without it removes any.
            if (!r.at_end()) req.generation = r.u64();
            return req;
        }
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
        case MessageType::watch: {
            WatchRequest x;
            x.name = r.str();
            x.generation = r.u64();
            return x;
        }
        case MessageType::unwatch: {
            UnwatchRequest x;
            x.name = r.str();
            x.generation = r.u64();
            return x;
        }
        case MessageType::commit: {
            CommitRequest x;
            x.name = r.str();
            x.generation = r.u64();
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
    put_le(out + 0, h.magic);
    put_le(out + 4, h.version);
    put_le(out + 6, h.type);
    put_le(out + 8, h.request_id);
    put_le(out + 12, h.body_bytes);
}

FrameHeader decode_frame_header(std::span<const std::byte, kFrameHeaderBytes> in) {
    FrameHeader h;
    h.magic = get_le<std::uint32_t>(in.data() + 0);
    h.version = get_le<std::uint16_t>(in.data() + 4);
    h.type = get_le<std::uint16_t>(in.data() + 6);
    h.request_id = get_le<std::uint32_t>(in.data() + 8);
    h.body_bytes = get_le<std::uint32_t>(in.data() + 12);
    return h;
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
        h.type > static_cast<std::uint16_t>(MessageType::commit))
        return "unknown request type " + std::to_string(h.type);
    return {};
}

// --- primitives ----------------------------------------------------------------

void Writer::u8(std::uint8_t v) {
    out_.push_back(static_cast<std::byte>(v));
}

void Writer::u16(std::uint16_t v) {
    std::size_t at = out_.size();
    out_.resize(at + 2);
    put_le(out_.data() + at, v);
}

void Writer::u32(std::uint32_t v) {
    std::size_t at = out_.size();
    out_.resize(at + 4);
    put_le(out_.data() + at, v);
}

void Writer::u64(std::uint64_t v) {
    std::size_t at = out_.size();
    out_.resize(at + 8);
    put_le(out_.data() + at, v);
}

void Writer::str(std::string_view s) {
    s = s.substr(0, kMaxString);
    u16(static_cast<std::uint16_t>(s.size()));
    const auto* p = reinterpret_cast<const std::byte*>(s.data());
    out_.insert(out_.end(), p, p + s.size());
}

namespace {
void need(std::size_t pos, std::size_t n, std::size_t size) {
    if (n > size - pos) fail("message is truncated");
}
}  // namespace

std::uint8_t Reader::u8() {
    need(pos_, 1, in_.size());
    return std::to_integer<std::uint8_t>(in_[pos_++]);
}

std::uint16_t Reader::u16() {
    need(pos_, 2, in_.size());
    auto v = get_le<std::uint16_t>(in_.data() + pos_);
    pos_ += 2;
    return v;
}

std::uint32_t Reader::u32() {
    need(pos_, 4, in_.size());
    auto v = get_le<std::uint32_t>(in_.data() + pos_);
    pos_ += 4;
    return v;
}

std::uint64_t Reader::u64() {
    need(pos_, 8, in_.size());
    auto v = get_le<std::uint64_t>(in_.data() + pos_);
    pos_ += 8;
    return v;
}

std::string Reader::str() {
    std::size_t n = u16();
    if (n > kMaxString) fail("string of " + std::to_string(n) + " bytes exceeds the limit");
    need(pos_, n, in_.size());
    std::string s(reinterpret_cast<const char*>(in_.data() + pos_), n);
    pos_ += n;
    return s;
}

void Reader::expect_end() const {
    if (!at_end()) fail(std::to_string(in_.size() - pos_) + " unexpected trailing bytes");
}

// --- requests ------------------------------------------------------------------

std::vector<std::byte> encode_request(const Request& request, std::uint32_t request_id) {
    return make_reply(type_of(request), request_id, [&](Writer& w) { write_body(w, request); });
}

Request decode_request(MessageType type, std::span<const std::byte> body) {
    Reader r(body);
    Request request = read_body(type, r);
    r.expect_end();
    return request;
}

// --- replies -------------------------------------------------------------------

void encode_info(Writer& w, const ChunkInfo& info) {
    w.str(info.name);
    w.str(info.type_name);
    w.u64(info.type_fingerprint);
    w.u64(info.element_size);
    w.u64(info.element_align);
    w.u64(info.count);
    w.u64(info.bytes);
    w.u64(info.segment_bytes);
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
    w.str(info.problem);
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
    info.type_name = r.str();
    info.type_fingerprint = r.u64();
    info.element_size = r.u64();
    info.element_align = r.u64();
    info.count = r.u64();
    info.bytes = r.u64();
    info.segment_bytes = r.u64();
    info.mode = r.u32();
    info.owner_uid = static_cast<uid_t>(r.u32());
    info.owner_gid = static_cast<gid_t>(r.u32());
    info.creator_pid = static_cast<pid_t>(r.u32());
    info.lifetime = read_lifetime(r);
    info.state = read_state(r);
    info.single_writer = read_bool(r, "single_writer");
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
        a.writable = read_bool(r, "attachment.writable");
        info.attachments.push_back(a);
    }
    return info;
}

void encode_stats(Writer& w, const Stats& s) {
    w.u32(static_cast<std::uint32_t>(s.daemon_pid));
    w.str(s.runtime_dir);
    w.str(s.name_space);
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

void encode_list(Writer& w, const ListReply& l) {
    auto n = static_cast<std::uint32_t>(std::min<std::size_t>(l.chunks.size(), kMaxListLimit));
    w.u32(n);
    for (std::uint32_t i = 0; i < n; ++i) encode_info(w, l.chunks[i]);
    w.u8(l.more || n < l.chunks.size() ? 1 : 0);
}

ListReply decode_list(Reader& r) {
    ListReply l;
    std::uint32_t n = r.u32();
    if (n > kMaxListLimit) fail("list of " + std::to_string(n) + " chunks exceeds the limit");
    for (std::uint32_t i = 0; i < n; ++i) l.chunks.push_back(decode_info(r));
    l.more = read_bool(r, "more");
    return l;
}

void encode_error(Writer& w, const ErrorReply& e) {
    w.u16(static_cast<std::uint16_t>(e.code));
    w.str(e.chunk);
    w.str(e.message);
    w.str(e.hint);
}

ErrorReply decode_error(Reader& r) {
    ErrorReply e;
    std::uint16_t code = r.u16();
    if (code == 0 || code > static_cast<std::uint16_t>(Errc::busy))
        fail("unknown error code " + std::to_string(code));
    e.code = static_cast<Errc>(code);
    e.chunk = r.str();
    e.message = r.str();
    e.hint = r.str();
    return e;
}

std::vector<std::byte> make_error_reply(std::uint32_t request_id, const ErrorReply& e) {
    return make_reply(MessageType::reply_error, request_id, [&](Writer& w) { encode_error(w, e); });
}

}  // namespace mmm::proto
