// The mmmd wire protocol (docs/PROTOCOL.md is its reference). Every message is
// a frame: FrameHeader (16 bytes, little-endian) then body_bytes of body.
// Requests carry a request_id that the reply echoes. Replies to create and
// open carry the segment's descriptor as SCM_RIGHTS ancillary data on the
// frame's bytes. The decoder is total: any byte string either decodes or
// yields Errc::protocol_error; it is the daemon's fuzz target.
#pragma once

#include "chunk_layout.hpp"
#include "codec.hpp"

#include <mmm/detail/element_type.hpp>
#include <mmm/error.hpp>
#include <mmm/options.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <variant>
#include <vector>

namespace mmm::proto {

using detail::Reader;
using detail::Writer;

inline constexpr std::uint32_t kFrameMagic = 0x504d4d4d;  // "MMMP"
// 4: full type names and schemas, max_count and resize, huge pages, kinds.
// 5: a list page starts with its cursor, so the next page can be asked for
//    before this one is decoded.
inline constexpr std::uint16_t kProtocolVersion = 5;
inline constexpr std::uint32_t kMaxRequestBody = 64 * 1024;
inline constexpr std::uint32_t kMaxReplyBody = 4 * 1024 * 1024;
inline constexpr std::uint32_t kMaxListLimit = 4096;
// Longest wait an open may ask mmmd for.
inline constexpr std::uint32_t kMaxWaitMs = 3600 * 1000;
// What a protocol_error tells the user to do.
inline constexpr const char* kVersionHint =
    "the client and mmmd may be different versions; upgrade both";

enum class MessageType : std::uint16_t {
    create = 1,
    open = 2,
    close = 3,  // one-way: no reply
    remove = 4,
    list = 5,
    info = 6,
    stats = 7,
    ping = 8,
    watch = 9,             // a read-only waiter is about to sleep: count it in sync.watchers
    unwatch = 10,          // one-way: no reply
    commit = 11,           // the creator reserved a `creating` chunk's memory: publish it
    resize = 12,           // grow or shrink a growable chunk
    reply_ok = 0x8000,     // body depends on the request
    reply_error = 0x8001,  // body: ErrorReply
};
inline constexpr MessageType kLastRequestType = MessageType::resize;

struct FrameHeader {
    std::uint32_t magic = kFrameMagic;
    std::uint16_t version = kProtocolVersion;
    std::uint16_t type = 0;
    std::uint32_t request_id = 0;
    std::uint32_t body_bytes = 0;
};
inline constexpr std::size_t kFrameHeaderBytes = 16;

void encode_frame_header(const FrameHeader& h, std::byte* out);
FrameHeader decode_frame_header(std::span<const std::byte, kFrameHeaderBytes> in);
// Empty when acceptable as a request header; otherwise why not.
std::string check_request_header(const FrameHeader& h);
// Whether the frame's length can be trusted, so the stream can go on after it.
bool framing_ok(const FrameHeader& h);

struct CreateRequest {
    std::string name;
    detail::ElementType type;
    ChunkKind kind = ChunkKind::array;
    std::uint64_t count = 0;
    std::uint64_t max_count = 0;  // 0: count
    std::uint32_t mode = 0600;
    Lifetime lifetime = Lifetime::persistent;
    bool single_writer = false;
    HugePages huge_pages = HugePages::automatic;
};
struct OpenRequest {
    std::string name;
    std::optional<detail::ElementType> type;  // none: any element type (AnyChunk)
    ChunkKind kind = ChunkKind::array;
    bool writable = true;
    std::uint32_t wait_ms = 0;
};
struct CloseRequest {
    std::string name;
    std::uint64_t generation = 0;
    // Which of the connection's mappings went: closing a read-only one must
    // not end a write lease.
    bool writable = false;
    // Sent by a client whose writable open of a single-writer chunk failed
    // before it could clear the lease word itself (no descriptor, or the word
    // holds its pid as mmmd sees it): mmmd clears the word if it holds the
    // peer's pid. Safe because no other mapping of that process can hold the
    // lease meanwhile: its opens get `busy`.
    bool release_lease = false;
};
struct RemoveRequest {
    std::string name;
    // Non-zero: remove only that incarnation of the name (a MemChunk's remove()
    // must never delete a new chunk created under the same name since).
    std::uint64_t generation = 0;
};
struct ListRequest {
    std::string after;  // exclusive cursor: names sort bytewise
    std::uint32_t limit = 1024;
};
struct InfoRequest {
    std::string name;
};
struct StatsRequest {};
struct PingRequest {};
struct WatchRequest {
    std::string name;
    std::uint64_t generation = 0;
};
struct UnwatchRequest {
    std::string name;
    std::uint64_t generation = 0;
};
// Sent by the creator of a chunk that create answered in state `creating`,
// once it has reserved the chunk's memory (posix_fallocate on the descriptor).
struct CommitRequest {
    std::string name;
    std::uint64_t generation = 0;
};
struct ResizeRequest {
    std::string name;
    std::uint64_t generation = 0;  // non-zero: only that incarnation
    std::uint64_t count = 0;
};

using Request = std::variant<CreateRequest, OpenRequest, CloseRequest, RemoveRequest, ListRequest,
                             InfoRequest, StatsRequest, PingRequest, WatchRequest, UnwatchRequest,
                             CommitRequest, ResizeRequest>;

// Requests that get no reply.
inline bool is_one_way(MessageType type) {
    return type == MessageType::close || type == MessageType::unwatch;
}

struct ErrorReply {
    Errc code = Errc::internal;
    std::string chunk;
    std::string message;
    std::string hint;
};
// A list page: its head, then `count` ChunkInfo. The head comes first so a
// client can send the request for the next page (after `last`) before it
// decodes this one.
struct ListHead {
    std::uint32_t count = 0;
    bool more = false;         // another page may follow, after `last`
    std::uint64_t chunks = 0;  // chunks in the registry: a size hint, not a promise
    std::string last;          // the name of the page's last chunk
};
struct ListReply {
    std::vector<ChunkInfo> chunks;
    bool more = false;
    std::uint64_t registry_chunks = 0;
};
// The reply to a create or an open: the chunk and where its parts are in the
// segment whose descriptor comes with it.
struct Grant {
    ChunkInfo info;
    detail::SegmentGeometry geometry;
};

// A whole frame (header + body) for a request.
std::vector<std::byte> encode_request(const Request& request, std::uint32_t request_id);
Request decode_request(MessageType type, std::span<const std::byte> body);

void encode_element_type(Writer& w, const detail::ElementType& t);
detail::ElementType decode_element_type(Reader& r);
void encode_info(Writer& w, const ChunkInfo& info);
ChunkInfo decode_info(Reader& r);
void encode_grant(Writer& w, const Grant& g);
Grant decode_grant(Reader& r);
void encode_stats(Writer& w, const Stats& s);
Stats decode_stats(Reader& r);
void encode_list(Writer& w, const ListReply& l);
ListReply decode_list(Reader& r);
// A page: its head, then `chunks`, head.count ChunkInfo already encoded.
void encode_list_page(Writer& w, const ListHead& h, std::span<const std::byte> chunks);
ListHead decode_list_head(Reader& r);
// Appends the page's head.count chunks to `out`.
void decode_list_chunks(Reader& r, const ListHead& h, std::vector<ChunkInfo>& out);
void encode_error(Writer& w, const ErrorReply& e);
ErrorReply decode_error(Reader& r);

// Builds a frame around a body produced by `fill`.
template <class Fill>
std::vector<std::byte> make_frame(MessageType type, std::uint32_t request_id, Fill&& fill) {
    std::vector<std::byte> frame(kFrameHeaderBytes);
    Writer w(frame);
    fill(w);
    FrameHeader h;
    h.type = static_cast<std::uint16_t>(type);
    h.request_id = request_id;
    h.body_bytes = static_cast<std::uint32_t>(frame.size() - kFrameHeaderBytes);
    encode_frame_header(h, frame.data());
    return frame;
}

std::vector<std::byte> make_error_reply(std::uint32_t request_id, const ErrorReply& e);
std::vector<std::byte> make_ok_reply(std::uint32_t request_id);

}  // namespace mmm::proto
