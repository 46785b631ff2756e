// Registry operations on behalf of clients: create, open, close, remove, list, info.
#include "registry.hpp"

#include "memory_reservation.hpp"
#include "names.hpp"
#include "sync_words.hpp"
#include "system_error.hpp"

#include <mmm/type_name.hpp>

#include <spdlog/spdlog.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>

namespace mmmd {

using mmm::ChunkState;
using mmm::Errc;
using mmm::Error;
using mmm::detail::HeaderSnapshot;
namespace detail = mmm::detail;
namespace proto = mmm::proto;

namespace {

std::string octal(std::uint32_t v) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "0%03o", v);
    return buf;
}

std::string describe(std::string_view type, std::uint64_t size, std::uint64_t align) {
    return std::string(type) + " (" + std::to_string(size) + " bytes, align " +
           std::to_string(align) + ")";
}

// The header holds at most kTypeNameCapacity - 1 bytes of the type name, and
// its fingerprint is over what it holds: compare types in that form.
proto::TypeDescriptor canonical(const proto::TypeDescriptor& t) {
    proto::TypeDescriptor out = t;
    out.name = t.name.substr(0, detail::kTypeNameCapacity - 1);
    out.fingerprint = detail::fingerprint(out.name, t.size, t.align);
    return out;
}

void check_type(const std::string& name, const proto::TypeDescriptor& t) {
    auto bad = [&](const std::string& why) {
        throw Error(Errc::invalid_argument, name, "element type " + why);
    };
    if (t.name.empty()) bad("has no name");
    if (t.size < 1 || t.size > detail::kMaxElementSize)
        bad("size " + std::to_string(t.size) + " is not in 1.." +
            std::to_string(detail::kMaxElementSize));
    if (t.align == 0 || (t.align & (t.align - 1)) != 0 || t.align > detail::kMaxElementAlign)
        bad("alignment " + std::to_string(t.align) + " is not a power of two up to " +
            std::to_string(detail::kMaxElementAlign));
    if (t.size % t.align != 0) bad("size is not a multiple of its alignment");
}

void check_create(const proto::CreateRequest& req) {
    if (auto problem = detail::name_problem(req.name); !problem.empty())
        throw Error(Errc::invalid_name, req.name, problem);
    if (req.count < 1)
        throw Error(Errc::invalid_argument, req.name, "a chunk needs at least 1 element");
    check_type(req.name, req.type);
    if (req.mode > 0777 || (req.mode & 0600) != 0600)
        throw Error(Errc::invalid_argument, req.name,
                    "mode " + octal(req.mode) +
                        " is invalid: it must be within 0777 and give "
                        "the owner read and write (0600)",
                    "use one of mmm::mode, e.g. mmm::mode::owner_only");
}

std::uint64_t random_generation() {
    std::uint64_t g = 0;
    while (g == 0) {
        if (::getrandom(&g, sizeof g, 0) != sizeof g && errno != EINTR)
            detail::throw_errno("getrandom", errno);
    }
    return g;
}

std::int64_t now_ns() {
    timespec ts{};
    ::clock_gettime(CLOCK_REALTIME, &ts);
    return std::int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
}

HeaderSnapshot header_for(const proto::CreateRequest& req, const proto::TypeDescriptor& type,
                          const Peer& peer, std::uint64_t segment_bytes) {
    HeaderSnapshot h{};
    h.magic = detail::kChunkMagic;
    h.layout_version = detail::kLayoutVersion;
    h.header_bytes = detail::header_bytes_for(type.size);
    h.data_offset = detail::data_offset_for(type.size, type.align);
    h.segment_bytes = segment_bytes;
    h.type_fingerprint = type.fingerprint;
    h.element_size = type.size;
    h.element_align = type.align;
    h.count = req.count;
    h.generation = random_generation();
    h.created_ns = now_ns();
    h.owner_uid = peer.uid;
    h.owner_gid = peer.gid;
    h.creator_pid = static_cast<std::uint32_t>(peer.pid);
    h.mode = req.mode;
    h.lifetime = static_cast<std::uint32_t>(req.lifetime);
    h.flags = req.single_writer ? detail::kFlagSingleWriter : 0;
    std::memcpy(h.name, req.name.data(), req.name.size());  // validated: <= 128
    std::memcpy(h.type_name, type.name.data(), type.name.size());
    return h;
}

void check_access(const Peer& peer, const std::string& name, const HeaderSnapshot& h,
                  bool writable) {
    std::uint32_t bits = access_bits(peer, h.owner_uid, h.owner_gid, h.mode);
    std::uint32_t need = writable ? (kRead | kWrite) : kRead;
    if ((bits & need) == need) return;
    throw Error(Errc::permission_denied, name,
                "uid " + std::to_string(peer.uid) + " may not " +
                    (writable ? "read and write" : "read") + " chunk '" + name + "': its mode is " +
                    octal(h.mode) + " (owner uid " + std::to_string(h.owner_uid) + ", gid " +
                    std::to_string(h.owner_gid) + ")",
                writable ? "open it read-only (MemChunk<const T>) or ask the owner for a wider mode"
                         : "ask the owner to create it with a wider mode");
}

void check_same_type(const std::string& name, const HeaderSnapshot& h,
                     const proto::TypeDescriptor& want) {
    if (h.type_fingerprint == want.fingerprint && h.element_size == want.size &&
        h.element_align == want.align)
        return;
    std::string_view held(h.type_name, ::strnlen(h.type_name, sizeof h.type_name));
    throw Error(Errc::type_mismatch, name,
                "chunk '" + name + "' holds " + describe(held, h.element_size, h.element_align) +
                    " but was opened as " + describe(want.name, want.size, want.align),
                "open it with the creator's element type");
}

}  // namespace

Registry::Registry(SegmentStore& store, Limits limits, uid_t daemon_uid)
    : store_(store), limits_(limits), daemon_uid_(daemon_uid) {}

void Registry::check_quota(const std::string& name, std::uint64_t need) const {
    const std::string lead = "creating '" + name + "' needs " + std::to_string(need) + " bytes; ";
    const char* hint = "remove unused chunks or restart mmmd with a higher limit";
    if (limits_.max_chunk_bytes != 0 && need > limits_.max_chunk_bytes)
        throw Error(Errc::quota_exceeded, name,
                    lead + "one chunk may have at most " + std::to_string(limits_.max_chunk_bytes) +
                        " bytes (--max-chunk-bytes)",
                    hint);
    if (limits_.max_chunks != 0 && chunks_ >= limits_.max_chunks)
        throw Error(Errc::quota_exceeded, name,
                    "creating '" + name + "' would exceed " + std::to_string(limits_.max_chunks) +
                        " chunks (--max-chunks)",
                    hint);
    if (limits_.max_bytes != 0 && (need > limits_.max_bytes || bytes_ > limits_.max_bytes - need))
        throw Error(Errc::quota_exceeded, name,
                    lead + std::to_string(bytes_) + " of " + std::to_string(limits_.max_bytes) +
                        " bytes (--max-bytes) are in use",
                    hint);
}

Registry::Granted Registry::create(ConnId conn, const Peer& peer, const proto::CreateRequest& req) {
    check_create(req);
    const proto::TypeDescriptor type = canonical(req.type);
    auto bytes = detail::segment_bytes_for(type.size, type.align, req.count);
    if (!bytes)
        throw Error(Errc::size_overflow, req.name,
                    std::to_string(req.count) + " elements of " + std::to_string(type.size) +
                        " bytes do not fit in memory",
                    "ask for fewer elements");
    if (auto it = entries_.find(req.name); it != entries_.end())
        throw Error(Errc::already_exists, req.name,
                    it->second.state == ChunkState::quarantined
                        ? "a quarantined segment holds the name '" + req.name + "'"
                        : "a chunk named '" + req.name + "' already exists",
                    "open it instead, or remove it first");
    if (opens_of(conn) >= limits_.max_open_per_connection)
        throw Error(Errc::limit_exceeded, req.name,
                    "this connection already has " + std::to_string(opens_of(conn)) +
                        " chunks open (--max-open-per-connection)",
                    "close chunks you no longer use");
    check_quota(req.name, *bytes);

    HeaderSnapshot h = header_for(req, type, peer, *bytes);
    const bool by_creator = *bytes >= detail::kClientReserveMinBytes;
    auto created = store_.create(
        req.name, h,
        by_creator ? SegmentStore::Reservation::by_creator : SegmentStore::Reservation::by_mmmd);
    h.checksum = detail::header_checksum(h);

    Entry entry;
    entry.header = h;
    entry.segment = store_.segment_for(req.name);
    entry.id = created.id;
    entry.segment_bytes = *bytes;
    entry.file_uid = daemon_uid_;
    entry.file_mode = 0600;
    entry.attached.push_back({conn, {peer.pid, peer.uid, true}});
    if (by_creator) {
        entry.state = ChunkState::creating;
        entry.reserver = conn;
    }
    if (req.single_writer)
        entry.lease_pid = static_cast<std::uint32_t>(peer.pid);  // the header says so already
    if (req.lifetime == mmm::Lifetime::session) entry.session_owner = conn;
    ++opens_[conn];
    insert(req.name, std::move(entry));

    spdlog::info("created '{}': {} x {} ({} bytes, mode {}, {}) by uid {} pid {}{}", req.name,
                 req.count, type.name, *bytes, octal(req.mode), mmm::to_string(req.lifetime),
                 peer.uid, peer.pid, by_creator ? "; its creator reserves the memory" : "");
    return {info_of(req.name, entries_.at(req.name)), std::move(created.fd)};
}

std::optional<Registry::Granted> Registry::open(ConnId conn, const Peer& peer,
                                                const proto::OpenRequest& req) {
    if (auto problem = detail::name_problem(req.name); !problem.empty())
        throw Error(Errc::invalid_name, req.name, problem);
    auto it = entries_.find(req.name);
    if (it == entries_.end()) return std::nullopt;
    Entry& e = it->second;
    if (e.state == ChunkState::quarantined)
        throw Error(Errc::corrupt_header, req.name, "the chunk is quarantined: " + e.problem,
                    "its segment failed validation when mmmd adopted it; remove it "
                    "(mmmctl delete) and re-create it");
    if (e.state == ChunkState::creating) return std::nullopt;  // served at the commit
    check_access(peer, req.name, e.header, req.writable);
    if (req.type.size != 0) check_same_type(req.name, e.header, canonical(req.type));
    if (opens_of(conn) >= limits_.max_open_per_connection)
        throw Error(Errc::limit_exceeded, req.name,
                    "this connection already has " + std::to_string(opens_of(conn)) +
                        " chunks open (--max-open-per-connection)",
                    "close chunks you no longer use");
    mmm::detail::UniqueFd fd;
    try {
        fd = store_.open(e.segment, req.writable, e.id);
    } catch (const Error& err) {
        if (err.code() == Errc::not_found) erase(it, "its segment vanished");
        throw;
    }
    if (req.writable && single_writer(e)) grant_lease(req.name, e, fd.get(), peer);
    e.attached.push_back({conn, {peer.pid, peer.uid, req.writable}});
    ++opens_[conn];
    spdlog::debug("opened '{}' {} by uid {} pid {}", req.name, req.writable ? "rw" : "ro", peer.uid,
                  peer.pid);
    return Granted{info_of(req.name, e), std::move(fd)};
}

void Registry::close(ConnId conn, const proto::CloseRequest& req) {
    auto it = entries_.find(req.name);
    if (it == entries_.end() || it->second.header.generation != req.generation) return;
    auto& attached = it->second.attached;
    auto found = std::find_if(attached.begin(), attached.end(), [&](const Attached& a) {
        return a.conn == conn && (!req.writable || a.who.writable == *req.writable);
    });
    if (found == attached.end()) return;
    const mmm::Attachment closed = found->who;
    attached.erase(found);
    if (auto o = opens_.find(conn); o != opens_.end() && --o->second == 0) opens_.erase(o);
    // A holder clears the lease word itself; a client whose open failed before
    // it could asks for it (CloseRequest::release_lease).
    settle_lease(it->first, it->second,
                 req.release_lease && closed.writable ? static_cast<std::uint32_t>(closed.pid) : 0);
}

bool Registry::is_creating(const std::string& name) const {
    auto it = entries_.find(name);
    return it != entries_.end() && it->second.state == ChunkState::creating;
}

void Registry::commit(ConnId conn, const proto::CommitRequest& req) {
    auto it = entries_.find(req.name);
    if (it == entries_.end() || it->second.header.generation != req.generation)
        throw Error(Errc::not_found, req.name,
                    "the chunk was removed while its creator reserved its memory",
                    "create it again");
    Entry& e = it->second;
    if (e.state != ChunkState::creating || e.reserver != conn)
        throw Error(Errc::invalid_argument, req.name,
                    "the chunk is not waiting for this connection to reserve its memory");
    // From here a failed commit deletes the chunk: its create has failed, and
    // the name and quota must not stay held until the creator disconnects.
    try {
        auto fd = store_.open(e.segment, true, e.id);
        // The promise of create (a full /dev/shm is an error now, never a SIGBUS
        // later) rests on the creator: check that it kept it.
        struct stat st {};
        if (::fstat(fd.get(), &st) != 0)
            detail::throw_errno("fstat of the segment", errno, req.name);
        if (static_cast<std::uint64_t>(st.st_size) != e.segment_bytes)
            throw Error(Errc::invalid_argument, req.name,
                        "the segment was resized to " + std::to_string(st.st_size) +
                            " bytes; it must stay " + std::to_string(e.segment_bytes));
        // Counted, not located: SEEK_HOLE reports tmpfs pages that are
        // reserved but not yet written as holes. A creator that means harm
        // could still reserve past the end (FALLOC_FL_KEEP_SIZE) instead; it
        // owns the chunk and could punch holes later all the same.
        const auto reserved = static_cast<std::uint64_t>(st.st_blocks) * 512;
        if (reserved < e.segment_bytes)
            throw Error(Errc::invalid_argument, req.name,
                        "commit before reservation: " + std::to_string(reserved) + " of " +
                            std::to_string(e.segment_bytes) + " bytes are reserved",
                        "posix_fallocate the whole descriptor before committing");
        store_.publish(fd.get(), req.name);
    } catch (const Error&) {
        erase(it, "its commit failed");
        throw;
    }
    e.state = ChunkState::ready;
    e.reserver.reset();
    spdlog::debug("'{}' is ready: its creator reserved {} bytes", req.name, e.segment_bytes);
}

bool Registry::single_writer(const Entry& e) {
    return e.state != ChunkState::quarantined && (e.header.flags & detail::kFlagSingleWriter) != 0;
}

void Registry::grant_lease(const std::string& name, Entry& e, int fd, const Peer& peer) {
    std::uint32_t holder = read_sync_word(fd, kWriterPidOffset, name);
    if (holder != 0 && lease_holder_alive(holder))
        throw Error(Errc::busy, name,
                    "the chunk has a single writer and pid " + std::to_string(holder) +
                        " holds its write lease",
                    "open it read-only (open<const T>), or retry once that process has "
                    "destroyed its writable MemChunk or exited");
    if (holder != 0)
        spdlog::info("'{}': write lease of pid {} (gone) passes to pid {}", name, holder, peer.pid);
    write_sync_word(fd, kWriterPidOffset, static_cast<std::uint32_t>(peer.pid), name);
    e.lease_pid = static_cast<std::uint32_t>(peer.pid);
}

void Registry::watch(ConnId conn, const Peer& peer, const proto::WatchRequest& req) {
    auto it = existing(entries_, req.name);
    Entry& e = it->second;
    if (e.state == ChunkState::quarantined || e.header.generation != req.generation)
        throw Error(Errc::not_found, req.name, "the chunk this mapping belongs to was deleted");
    check_access(peer, req.name, e.header, false);
    auto w = e.watches.find(conn);
    const std::uint32_t mine = w == e.watches.end() ? 0 : w->second;
    if (mine >= kMaxWatchesPerConnection)
        throw Error(Errc::limit_exceeded, req.name,
                    "this connection already has " + std::to_string(mine) +
                        " waiters counted on the chunk");
    add_watchers(req.name, e, +1);  // first: a failure leaves nothing recorded
    ++e.watches[conn];
}

void Registry::unwatch(ConnId conn, const proto::UnwatchRequest& req) {
    auto it = entries_.find(req.name);
    if (it == entries_.end() || it->second.header.generation != req.generation) return;
    Entry& e = it->second;
    auto w = e.watches.find(conn);
    if (w == e.watches.end()) {
        // A waiter counted before mmmd restarted wakes up and says so here.
        if (e.stale_watchers == 0) return;
        add_watchers(req.name, e, -1);
        --e.stale_watchers;
        return;
    }
    add_watchers(req.name, e, -1);
    if (--w->second == 0) e.watches.erase(w);
}

void Registry::add_watchers(const std::string& name, Entry& e, std::int64_t delta) {
    auto fd = store_.open(e.segment, true, e.id);
    std::int64_t now = read_sync_word(fd.get(), kWatchersOffset, name) + delta;
    write_sync_word(fd.get(), kWatchersOffset,
                    static_cast<std::uint32_t>(std::clamp<std::int64_t>(now, 0, UINT32_MAX)), name);
}

void Registry::settle_lease(const std::string& name, Entry& e, std::uint32_t let_go) {
    if (!single_writer(e) || e.lease_pid == 0) return;
    try {
        auto fd = store_.open(e.segment, true, e.id);
        std::uint32_t holder = read_sync_word(fd.get(), kWriterPidOffset, name);
        // A mapping outlives its connection (a client reconnects after a timed-out
        // request), so only a holder that is gone loses the lease here; one that
        // let go has cleared the word itself.
        if (holder != 0 && (holder == let_go || !lease_holder_alive(holder))) {
            write_sync_word(fd.get(), kWriterPidOffset, 0, name);
            spdlog::debug("'{}': write lease of pid {} released (the process {})", name, holder,
                          holder == let_go ? "gave it back" : "is gone");
            holder = 0;
        }
        e.lease_pid = holder;
    } catch (const Error& err) {
        spdlog::warn("'{}': could not settle the write lease: {}", name, err.what());
    }
}

template <class EntryMap>
auto Registry::existing(EntryMap& entries, const std::string& name) -> decltype(entries.begin()) {
    if (auto problem = detail::name_problem(name); !problem.empty())
        throw Error(Errc::invalid_name, name, problem);
    auto it = entries.find(name);
    if (it == entries.end())
        throw Error(Errc::not_found, name, "no chunk named '" + name + "'",
                    "mmmctl list shows the chunks that exist");
    return it;
}

bool Registry::remove(const Peer& peer, const std::string& name, std::uint64_t generation,
                      std::function<void()> freed) {
    auto it = existing(entries_, name);
    const Entry& e = it->second;
    if (generation != 0 && e.header.generation != generation)
        throw Error(Errc::not_found, name,
                    "the chunk this mapping belongs to was already deleted; the name now "
                    "belongs to a new chunk, which was left alone",
                    "open the name again to reach the new chunk");
    bool quarantined = e.state == ChunkState::quarantined;
    bool allowed =
        peer.uid == 0 || (quarantined ? peer.uid == daemon_uid_ : peer.uid == e.header.owner_uid);
    if (!allowed)
        throw Error(Errc::permission_denied, name,
                    "uid " + std::to_string(peer.uid) + " may not delete chunk '" + name +
                        "': only its owner (uid " +
                        std::to_string(quarantined ? daemon_uid_ : e.header.owner_uid) +
                        ") or root may",
                    "ask the owner to delete it");
    spdlog::info("deleting '{}' at the request of uid {} pid {}", name, peer.uid, peer.pid);
    return erase(it, "removed", std::move(freed));
}

proto::ListReply Registry::list(const Peer& peer, const proto::ListRequest& req) const {
    // Stay well under kMaxReplyBody whatever the chunks' attachments weigh.
    constexpr std::size_t kBodyBudget = proto::kMaxReplyBody / 2;
    std::uint32_t limit =
        req.limit == 0 ? proto::kMaxListLimit : std::min(req.limit, proto::kMaxListLimit);
    proto::ListReply reply;
    std::size_t body = 0;
    for (auto it = entries_.upper_bound(req.after); it != entries_.end(); ++it) {
        if (!may_see(peer, it->second)) continue;
        if (reply.chunks.size() >= limit || body >= kBodyBudget) {
            reply.more = true;
            break;
        }
        reply.chunks.push_back(info_of(it->first, it->second));
        std::vector<std::byte> scratch;
        proto::Writer w(scratch);
        proto::encode_info(w, reply.chunks.back());
        body += scratch.size();
    }
    return reply;
}

mmm::ChunkInfo Registry::info(const Peer& peer, const std::string& name) const {
    auto it = existing(entries_, name);
    const Entry& e = it->second;
    if (e.state != ChunkState::quarantined) check_access(peer, name, e.header, false);
    return info_of(name, e);
}

void Registry::connection_closed(ConnId conn) {
    opens_.erase(conn);
    for (auto it = entries_.begin(); it != entries_.end();) {
        auto next = std::next(it);
        Entry& e = it->second;
        if (e.reserver == conn) {
            erase(it, "its creator left before reserving its memory");
            it = next;
            continue;
        }
        bool had = std::erase_if(e.attached, [&](const Attached& a) { return a.conn == conn; }) > 0;
        if (auto w = e.watches.find(conn); w != e.watches.end()) {
            std::uint32_t count = w->second;
            e.watches.erase(w);
            try {
                add_watchers(it->first, e, -static_cast<std::int64_t>(count));
            } catch (const Error& err) {
                spdlog::warn("'{}': could not uncount {} watchers: {}", it->first, count,
                             err.what());
            }
        }
        if (e.session_owner == conn) {
            spdlog::info("deleting session chunk '{}': its creator disconnected", it->first);
            erase(it, "session ended");
        } else if (had) {
            settle_lease(it->first, e);
        }
        it = next;
    }
}

void Registry::creator_exited(const Orphan& orphan) {
    auto it = entries_.find(orphan.name);
    if (it == entries_.end() || it->second.header.generation != orphan.generation) return;
    spdlog::info("deleting session chunk '{}': its creator pid {} exited", orphan.name,
                 orphan.creator_pid);
    erase(it, "session ended");
}

// --- bookkeeping -----------------------------------------------------------------

void Registry::insert(const std::string& name, Entry entry) {
    if (entry.state != ChunkState::quarantined) {
        ++chunks_;
        bytes_ += entry.segment_bytes;
    }
    entries_.emplace(name, std::move(entry));
}

bool Registry::erase(Map::iterator it, const char* why, std::function<void()> freed) {
    Entry& e = it->second;
    bool quarantined = e.state == ChunkState::quarantined;
    const std::uint64_t bytes = quarantined ? 0 : e.segment_bytes;
    // The bytes stay counted against --max-bytes until the memory is back.
    auto on_freed = [this, bytes, freed = std::move(freed)] {
        bytes_ -= bytes;
        if (freed) freed();
    };
    std::function<void()> later;
    if (to_event_loop_)
        later = [to_event_loop = to_event_loop_, on_freed] { to_event_loop(on_freed); };
    // A quarantined header is not ours to write: only unlink it.
    bool deferred = store_.remove(
        e.segment, quarantined ? std::nullopt : std::optional<SegmentId>(e.id), std::move(later));
    if (!quarantined) --chunks_;
    if (!deferred) on_freed();
    for (const Attached& a : e.attached)
        if (auto o = opens_.find(a.conn); o != opens_.end() && --o->second == 0) opens_.erase(o);
    spdlog::info("deleted '{}' ({}): {} bytes {}", it->first, why, e.segment_bytes,
                 deferred ? "being freed" : "freed");
    entries_.erase(it);
    return deferred;
}

bool Registry::may_see(const Peer& peer, const Entry& e) const {
    if (peer.uid == 0) return true;
    if (e.state == ChunkState::quarantined) return peer.uid == daemon_uid_;
    return (access_bits(peer, e.header.owner_uid, e.header.owner_gid, e.header.mode) & kRead) != 0;
}

std::size_t Registry::opens_of(ConnId conn) const {
    auto it = opens_.find(conn);
    return it == opens_.end() ? 0 : it->second;
}

mmm::ChunkInfo Registry::info_of(const std::string& name, const Entry& e) const {
    mmm::ChunkInfo info;
    if (e.state == ChunkState::quarantined) {
        // Nothing of a header that failed validation is shown: it may be garbage.
        info.name = name;
        info.segment_bytes = e.segment_bytes;
        info.owner_uid = e.file_uid;
        info.mode = e.file_mode & 0777;
        info.problem = e.problem;
    } else {
        info = detail::info_from(e.header, e.state);
    }
    info.state = e.state;
    info.segment = e.segment;
    info.writer_pid = static_cast<pid_t>(e.lease_pid);
    for (const Attached& a : e.attached) info.attachments.push_back(a.who);
    return info;
}

}  // namespace mmmd
