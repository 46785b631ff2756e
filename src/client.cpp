// mmm::Client: the control flow of creating, opening and managing chunks.
// Requests go through ClientCore (client_core.hpp); mapping what mmmd grants
// is the data path's (mapped_chunk.hpp).
#include <mmm/client.hpp>
#include <mmm/heap.hpp>

#include "chunk_layout.hpp"
#include "client_core.hpp"
#include "element_type.hpp"
#include "mapped_chunk.hpp"
#include "names.hpp"
#include "posix_io.hpp"

#include <algorithm>
#include <iterator>
#include <limits>

namespace mmm {
namespace {

using detail::ElementType;
using detail::Reply;

proto::Grant grant_of(const Reply& reply) {
    detail::Reader r(reply.body);
    return proto::decode_grant(r);
}

ChunkInfo info_of(const Reply& reply) {
    detail::Reader r(reply.body);
    return proto::decode_info(r);
}

// Room for a whole list at once, from its first page's head: that page alone
// when it is the last, else the registry's size, at most `cap` (a hint from
// the daemon, not a promise: when the room cannot be had, the list grows).
void reserve_for(std::vector<ChunkInfo>& all, const proto::ListHead& head, std::uint64_t cap) {
    const std::uint64_t want =
        head.more ? std::max<std::uint64_t>(head.chunks, head.count) : head.count;
    try {
        all.reserve(static_cast<std::size_t>(std::min(want, cap)));
    } catch (const std::exception&) {
        // std::bad_alloc under a tight RLIMIT_AS: decode into a growing vector
    }
}

// A create that throws leaves no chunk behind (a retry must not find it):
// removes this incarnation of it. False when that failed too; the first
// error is the one the caller reports.
template <class Call>
bool remove_created(Call&& call, const ChunkInfo& info) noexcept {
    try {
        call(proto::RemoveRequest{info.name, info.generation});
        return true;
    } catch (...) {
        return false;
    }
}

// mmmd left a large chunk `creating` for us to reserve its memory on this CPU
// (detail::kClientReserveMinBytes); nobody else can open it until we commit.
// `call` sends on the connection that made the create (it alone may commit).
template <class Call>
void reserve_and_commit(Call& call, const proto::Grant& grant, const Reply& reply) {
    const ChunkInfo& info = grant.info;
    try {
        // The live elements only: a growable chunk's tail is reserved by resize.
        detail::reserve_range(detail::segment_fd(reply, info.name), 0,
                              grant.geometry.data_offset + info.count * info.element_size,
                              info.name);
    } catch (const Error&) {
        // If that fails, mmmd deletes it when this connection closes or at its next start.
        remove_created(call, info);
        throw;
    }
    // A commit mmmd refuses deletes the chunk there.
    call(proto::CommitRequest{info.name, info.generation});
}

void check_create(std::string_view name, std::size_t count, const CreateOptions& options,
                  const ElementType& type) {
    detail::require_valid_name(name);
    const std::string chunk(name);
    if (count == 0)
        throw Error(Errc::invalid_argument, chunk, "a chunk needs at least 1 element",
                    "pass a count >= 1");
    if (options.max_count != 0 && options.max_count < count)
        throw Error(Errc::invalid_argument, chunk,
                    "max_count " + std::to_string(options.max_count) + " is below count " +
                        std::to_string(count),
                    "pass a max_count >= count, or 0 for a chunk of fixed size");
    if (auto problem = detail::type_problem(type); !problem.empty())
        throw Error(Errc::invalid_argument, chunk, "the element type: " + problem);
    const std::uint64_t max_count = options.max_count != 0 ? options.max_count : count;
    if (!detail::geometry_for(type.size, type.align, max_count, detail::kMaxRecordBytes) ||
        max_count >
            static_cast<std::uint64_t>(std::numeric_limits<std::ptrdiff_t>::max()) / type.size)
        throw Error(Errc::size_overflow, chunk,
                    "count x sizeof(T) = " + std::to_string(max_count) + " x " +
                        std::to_string(type.size) + " overflows",
                    "ask for fewer elements");
}

}  // namespace

Client::Client() : Client(ClientOptions{}) {}
Client::Client(ClientOptions options)
    : core_(std::make_shared<detail::ClientCore>(std::move(options))) {}
Client::~Client() = default;
Client::Client(Client&&) noexcept = default;
Client& Client::operator=(Client&&) noexcept = default;

const std::string& Client::runtime_dir() const {
    return core_->runtime_dir();
}

std::unique_ptr<detail::MappedChunk> Client::create_mapped(std::string_view name, std::size_t count,
                                                           const ElementType& type,
                                                           const CreateOptions& options,
                                                           ChunkKind kind) {
    check_create(name, count, options, type);
    proto::CreateRequest request{std::string(name),
                                 type,
                                 kind,
                                 count,
                                 options.max_count,
                                 options.mode,
                                 options.lifetime,
                                 options.single_writer,
                                 options.huge_pages};
    proto::Grant grant;
    auto reply = core_->exclusively([&](auto&& call) {
        auto created = call(request);
        grant = grant_of(created);
        if (grant.info.state == ChunkState::creating) reserve_and_commit(call, grant, created);
        return created;
    });
    try {
        return detail::map_granted(core_, reply, grant, true, options.populate);
    } catch (...) {
        // Removed while this process still holds the lease: nobody else can
        // have written to it; opens served since see deleted(). When the remove
        // fails, the chunk stays like any whose creator went away.
        if (!remove_created([&](const proto::Request& r) { return core_->call(r); }, grant.info))
            detail::release_grant(*core_, reply, grant.info, true);
        throw;
    }
}

std::unique_ptr<detail::MappedChunk> Client::open_mapped(std::string_view name,
                                                         const ElementType& type, bool writable,
                                                         const OpenOptions& options,
                                                         ChunkKind kind) {
    detail::require_valid_name(name);
    if (options.wait.count() < 0 || options.wait.count() > proto::kMaxWaitMs)
        throw Error(Errc::invalid_argument, std::string(name),
                    "open wait must be between 0 and 1 hour");
    proto::OpenRequest request{std::string(name), std::nullopt, kind, writable,
                               static_cast<std::uint32_t>(options.wait.count())};
    if (type.size != 0) request.type = type;
    auto reply = core_->call(request, options.wait);
    const proto::Grant grant = grant_of(reply);
    try {
        return detail::map_granted(core_, reply, grant, writable, options.populate);
    } catch (...) {
        detail::release_grant(*core_, reply, grant.info, writable);
        throw;
    }
}

AnyChunk Client::create_any(std::string_view name, const Schema& schema, std::size_t count,
                            CreateOptions options, std::string_view type_name) {
    return AnyChunk(create_mapped(
        name, count, ElementType{std::string(type_name), schema.size(), schema.align(), schema},
        options));
}

AnyChunk Client::open_any(std::string_view name, Access access, OpenOptions options) {
    return AnyChunk(open_mapped(name, ElementType{}, access == Access::read_write, options));
}

namespace {
const ElementType& heap_element_type() {
    static const ElementType type{detail::heap_type_name(), 1, 1, Schema()};  // opaque byte
    return type;
}
}  // namespace

Heap Client::create_heap(std::string_view name, std::size_t bytes, CreateOptions options) {
    detail::require_valid_name(name);
    if (bytes < heap::min_bytes)
        throw Error(Errc::invalid_argument, std::string(name),
                    "a heap of " + std::to_string(bytes) + " bytes is too small: a heap needs at " +
                        "least " + std::to_string(heap::min_bytes) +
                        " bytes (its allocator's and index's headers take part of them)",
                    "pass bytes >= mmm::heap::min_bytes");
    if (options.max_count != 0)
        throw Error(Errc::invalid_argument, std::string(name),
                    "a heap chunk cannot be resized, so it takes no max_count",
                    "leave CreateOptions::max_count at 0");
    Heap heap(create_mapped(name, bytes, heap_element_type(), options, ChunkKind::heap));
    // Builds the managed segment now, under the lock (an opener that locks
    // first waits for it; a creator that dies first leaves it to the next).
    heap.lock().unlock();
    return heap;
}

Heap Client::open_heap(std::string_view name, OpenOptions options) {
    return open_heap(name, Access::read_write, options);
}

Heap Client::open_heap(std::string_view name, Access access, OpenOptions options) {
    return Heap(open_mapped(name, heap_element_type(), access == Access::read_write, options,
                            ChunkKind::heap));
}

void Client::remove(std::string_view name) {
    detail::require_valid_name(name);
    core_->call(proto::RemoveRequest{std::string(name)});
}

ChunkInfo Client::resize(std::string_view name, std::size_t new_count) {
    detail::require_valid_name(name);
    return info_of(core_->call(proto::ResizeRequest{std::string(name), 0, new_count}));
}

std::vector<ChunkInfo> Client::list() {
    // Pipelined: the request for the next page goes out as soon as a page's
    // head (its cursor) is read, so mmmd builds page N+1 while this process
    // decodes page N. Entries are decoded straight into one vector reserved
    // from the registry's size: at a million chunks, page faults on the
    // entries are most of the client's time, and growing (or joining pages)
    // would touch every entry twice.
    constexpr std::uint64_t kMaxReserve = std::uint64_t{1} << 21;  // a hint is not trusted further
    std::vector<ChunkInfo> all;
    std::string after;
    core_->pipeline(proto::ListRequest{after, proto::kMaxListLimit},
                    [&](detail::Reply& reply, const detail::ClientCore::PipelineSend& send) {
                        detail::Reader r(reply.body);
                        const proto::ListHead head = proto::decode_list_head(r);
                        // Names only go forward, or a faulty daemon could keep us here.
                        if (head.count > 0 && !(head.last > after))
                            r.fail("a list page does not move past its cursor");
                        if (head.more) send(proto::ListRequest{head.last, proto::kMaxListLimit});
                        if (all.empty()) reserve_for(all, head, kMaxReserve);
                        proto::decode_list_chunks(r, head, all);
                        if (head.count > 0) after = head.last;
                    });
    // A hint far above what this user may see: give the address space back.
    if (all.size() < all.capacity() / 2) all.shrink_to_fit();
    return all;
}

ChunkInfo Client::info(std::string_view name) {
    detail::require_valid_name(name);
    return info_of(core_->call(proto::InfoRequest{std::string(name)}));
}

Stats Client::stats() {
    auto reply = core_->call(proto::StatsRequest{});
    detail::Reader r(reply.body);
    return proto::decode_stats(r);
}

}  // namespace mmm
