// Registry operations on behalf of clients: create, open, close, commit,
// remove, resize, list, info; and the bookkeeping every one of them shares.
#include "registry.hpp"

#include <mmm/detail/text.hpp>
#include "crash_point.hpp"
#include "element_type.hpp"
#include "fnv1a.hpp"
#include "names.hpp"
#include "posix_io.hpp"

#include <spdlog/spdlog.h>
#include <sys/random.h>
#include <time.h>

#include <algorithm>
#include <cerrno>
#include <limits>

namespace mmmd {

using mmm::ChunkState;
using mmm::Errc;
using mmm::Error;
namespace detail = mmm::detail;

namespace {

const char* kRemoveHint = "remove unused chunks or restart mmmd with a higher limit";

// A chunk's generation tells its incarnations apart, across restarts too
// (none is kept on disk): a random start drawn once, then splitmix64 of a
// counter, a bijection, so no two of one run are equal. One getrandom per
// start instead of one per create.
std::uint64_t random_generation() {
    static const std::uint64_t seed = [] {
        std::uint64_t s = 0;
        while (::getrandom(&s, sizeof s, 0) != sizeof s)
            if (errno != EINTR) detail::throw_errno("getrandom", errno);
        return s;
    }();
    static std::uint64_t counter = 0;
    for (;;) {
        std::uint64_t z = seed + ++counter * 0x9e3779b97f4a7c15ULL;
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
        z ^= z >> 31;
        if (z != 0) return z;  // 0 means "any incarnation" in requests
    }
}

std::int64_t now_ns() {
    timespec ts{};
    ::clock_gettime(CLOCK_REALTIME, &ts);
    return std::int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
}

std::uint64_t round_up(std::uint64_t x, std::uint64_t to) {
    return (x + to - 1) / to * to;
}

void check_spec(const CreateSpec& s) {
    if (auto problem = detail::name_problem(s.name); !problem.empty())
        throw Error(Errc::invalid_name, {}, problem);
    if (s.count < 1)
        throw Error(Errc::invalid_argument, s.name, "a chunk needs at least 1 element");
    if (s.max_count != 0 && s.max_count < s.count)
        throw Error(Errc::invalid_argument, s.name,
                    "max_count " + std::to_string(s.max_count) + " is below count " +
                        std::to_string(s.count));
    if (auto problem = detail::type_problem(s.type); !problem.empty())
        throw Error(Errc::invalid_argument, s.name, "the element type: " + problem);
    if (s.kind == mmm::ChunkKind::heap && (s.type.size != 1 || s.type.align != 1))
        throw Error(Errc::invalid_argument, s.name, "a heap's elements are bytes");
    if (s.mode > 0777 || (s.mode & 0600) != 0600)
        throw Error(Errc::invalid_argument, s.name,
                    "mode " + detail::octal(s.mode) +
                        " is invalid: it must be within 0777 and give the owner read and write "
                        "(0600)",
                    "use one of mmm::mode, e.g. mmm::mode::owner_only");
}

}  // namespace

Registry::Registry(SegmentStore& store, RegistryLog& log, Limits limits, uid_t daemon_uid)
    : store_(store), log_(log), limits_(limits), daemon_uid_(daemon_uid) {}

// --- records and geometry ----------------------------------------------------------

std::shared_ptr<const detail::ElementType> Registry::intern(const detail::ElementType& t) {
    auto& same_hash = types_[detail::fingerprint(t)];
    std::erase_if(same_hash, [](const auto& w) { return w.expired(); });
    for (const auto& w : same_hash) {
        auto known = w.lock();
        if (known->name == t.name && known->size == t.size && known->align == t.align &&
            known->schema == t.schema)
            return known;
    }
    auto fresh = std::make_shared<const detail::ElementType>(t);
    same_hash.push_back(fresh);
    return fresh;
}

detail::ChunkRecord Registry::record_of(const std::string& name, const Entry& e,
                                        bool resizing) const {
    detail::ChunkRecord r;
    record_of(name, e, resizing, r);
    return r;
}

void Registry::record_of(const std::string& name, const Entry& e, bool resizing,
                         detail::ChunkRecord& r) const {
    r.name = name;
    r.kind = e.kind;
    r.type = *e.type;
    r.count = e.count;
    r.max_count = e.max_count;
    r.generation = e.generation;
    r.created_ns = e.created_ns;
    r.owner_uid = e.owner_uid;
    r.owner_gid = e.owner_gid;
    r.creator_pid = e.creator_pid;
    r.mode = e.mode;
    r.lifetime = e.lifetime;
    r.single_writer = e.single_writer;
    r.huge_pages = e.huge_pages;
    r.state = e.state;
    r.problem = e.problem;
    r.resizing = resizing;
}

Registry::Entry Registry::entry_of(const detail::ChunkRecord& r) {
    Entry e;
    e.type = intern(r.type);
    e.kind = r.kind;
    e.state = r.state;
    e.lifetime = r.lifetime;
    e.single_writer = r.single_writer;
    e.huge_pages = r.huge_pages;
    e.mode = r.mode;
    e.owner_uid = r.owner_uid;
    e.owner_gid = r.owner_gid;
    e.creator_pid = r.creator_pid;
    e.count = r.count;
    e.max_count = r.max_count;
    e.generation = r.generation;
    e.created_ns = r.created_ns;
    e.problem = r.problem;
    return e;
}

detail::SegmentGeometry Registry::geometry_of(const Entry& e) const {
    // Validated when the entry was made: cannot overflow.
    return *detail::geometry_for(e.type->size, e.type->align, e.max_count, e.record_bytes);
}

std::uint64_t Registry::live_bytes(const Entry& e) const {
    if (!e.recorded) return 0;
    return geometry_of(e).data_offset + e.count * e.type->size;
}

mmm::ChunkInfo Registry::info_of(const std::string& name, const Entry& e) const {
    detail::ChunkRecord record;
    mmm::ChunkInfo info;
    fill_info(name, e, record, info);
    return info;
}

void Registry::fill_info(const std::string& name, const Entry& e, detail::ChunkRecord& record,
                         mmm::ChunkInfo& info) const {
    if (e.recorded) {
        // What the record says, as a client reading it from the header would see it.
        record_of(name, e, false, record);
        if (fingerprinted_ != e.type) {
            fingerprinted_ = e.type;
            fingerprint_ = detail::fingerprint(*e.type);
        }
        detail::fill_info(record, fingerprint_, info);
        info.segment_bytes = geometry_of(e).segment_bytes;
    } else {
        // A segment without a record: nothing is known of it but the file.
        info = mmm::ChunkInfo{};
        info.name = name;
        info.state = e.state;
        info.problem = e.problem;
        info.owner_uid = daemon_uid_;
        info.mode = 0600;
    }
    store_.path_of(name, e.huge_pages, info.segment);
    info.writer_pid = static_cast<pid_t>(e.lease_pid);
    for (const Attached& a : e.attached) info.attachments.push_back(a.who);
}

// --- requests ----------------------------------------------------------------------

void Registry::check_quota(const std::string& name, std::uint64_t need, bool new_chunk) const {
    const std::string lead = "'" + name + "' needs " + std::to_string(need) + " more bytes; ";
    if (limits_.max_chunk_bytes != 0 && need > limits_.max_chunk_bytes)
        throw Error(Errc::quota_exceeded, name,
                    lead + "one chunk may have at most " + std::to_string(limits_.max_chunk_bytes) +
                        " bytes (--max-chunk-bytes)",
                    kRemoveHint);
    if (new_chunk && limits_.max_chunks != 0 && chunks_ >= limits_.max_chunks)
        throw Error(Errc::quota_exceeded, name,
                    "creating '" + name + "' would exceed " + std::to_string(limits_.max_chunks) +
                        " chunks (--max-chunks)",
                    kRemoveHint);
    if (limits_.max_bytes != 0 && (need > limits_.max_bytes || bytes_ > limits_.max_bytes - need))
        throw Error(Errc::quota_exceeded, name,
                    lead + std::to_string(bytes_) + " of " + std::to_string(limits_.max_bytes) +
                        " bytes (--max-bytes) are in use",
                    kRemoveHint);
}

void Registry::check_access(const Peer& peer, const std::string& name, const Entry& e,
                            bool writable) const {
    const std::uint32_t bits = access_bits(peer, e.owner_uid, e.owner_gid, e.mode);
    const std::uint32_t need = writable ? (kRead | kWrite) : kRead;
    if ((bits & need) == need) return;
    throw Error(Errc::permission_denied, name,
                "uid " + std::to_string(peer.uid) + " may not " +
                    (writable ? "read and write" : "read") + " chunk '" + name + "': its mode is " +
                    detail::octal(e.mode) + " (owner uid " + std::to_string(e.owner_uid) +
                    ", gid " + std::to_string(e.owner_gid) + ")",
                writable ? "open it read-only (MemChunk<const T>) or ask the owner for a wider mode"
                         : "ask the owner to create it with a wider mode");
}

Grant Registry::create(ConnId conn, const Peer& peer, const CreateSpec& spec) {
    check_spec(spec);
    const std::uint64_t max_count = spec.max_count != 0 ? spec.max_count : spec.count;
    if (auto it = entries_.find(spec.name); it != entries_.end())
        throw Error(Errc::already_exists, spec.name,
                    it->second.state == ChunkState::quarantined
                        ? "a quarantined chunk holds the name '" + spec.name + "'"
                        : "a chunk named '" + spec.name + "' already exists",
                    "open it instead, or remove it first");
    if (opens_of(conn) >= limits_.max_open_per_connection)
        throw Error(Errc::limit_exceeded, spec.name,
                    "this connection already has " + std::to_string(opens_of(conn)) +
                        " chunks open (--max-open-per-connection)",
                    "close chunks you no longer use");

    detail::ChunkRecord r;
    r.name = spec.name;
    r.kind = spec.kind;
    r.type = spec.type;
    r.count = spec.count;
    r.max_count = max_count;
    r.generation = random_generation();
    r.created_ns = now_ns();
    r.owner_uid = peer.uid;
    r.owner_gid = peer.gid;
    r.creator_pid = static_cast<std::uint32_t>(peer.pid);
    r.mode = spec.mode;
    r.lifetime = spec.lifetime;
    r.single_writer = spec.single_writer;
    r.state = ChunkState::creating;
    const auto size_of = [&](const detail::ChunkRecord& rec) {
        return detail::geometry_for(rec, detail::record_bytes(rec).size());
    };
    auto g = size_of(r);
    if (!g)
        throw Error(Errc::size_overflow, spec.name,
                    std::to_string(max_count) + " elements of " + std::to_string(spec.type.size) +
                        " bytes do not fit in memory",
                    "ask for fewer elements");
    if (spec.huge_pages == mmm::HugePages::always && !store_.has_huge_dir())
        throw Error(Errc::invalid_argument, spec.name,
                    "huge pages were asked for, but this mmmd has no huge-page directory",
                    "start mmmd with --huge-dir (docs/DEPLOYMENT.md), or use HugePages::automatic");
    r.huge_pages = store_.has_huge_dir() && (spec.huge_pages == mmm::HugePages::always ||
                                             (spec.huge_pages == mmm::HugePages::automatic &&
                                              g->segment_bytes >= detail::kHugePageSize));
    const std::vector<std::byte> record = detail::record_bytes(r);
    g = detail::geometry_for(r, record.size());
    const std::uint64_t live = g->data_offset + r.count * r.type.size;
    check_quota(spec.name, live, true);

    const auto reservation = live >= detail::kClientReserveMinBytes
                                 ? SegmentStore::Reservation::by_creator
                                 : SegmentStore::Reservation::by_mmmd;
    auto created = store_.create(spec.name, r.huge_pages, g->segment_bytes, live,
                                 detail::initial_header(r, *g, record), reservation);
    try {
        if (reservation == SegmentStore::Reservation::by_mmmd) {
            r.state = ChunkState::ready;
            log_.put(r);
            crash_point("create:after_record");
            store_.publish_ready(created.fd.get(), spec.name);
        } else {
            log_.put(r);  // creating: reclaimed at the next start unless committed
        }
    } catch (...) {
        store_.discard(spec.name, r.huge_pages);
        throw;
    }
    Entry e = entry_of(r);
    e.record_bytes = static_cast<std::uint32_t>(record.size());
    e.id = created.id;
    if (reservation == SegmentStore::Reservation::by_creator) e.reserver = conn;
    if (spec.lifetime == mmm::Lifetime::session) e.session_owner = conn;
    // A single-writer chunk starts with its creator holding the write lease.
    if (spec.single_writer) e.lease_pid = static_cast<std::uint32_t>(peer.pid);
    e.attached.push_back({conn, {peer.pid, peer.uid, true}});
    ++opens_[conn];
    auto [it, inserted] = entries_.emplace(spec.name, std::move(e));
    ++chunks_;
    bytes_ += live;
    spdlog::info("created '{}': {} x {} ({} bytes{}) by uid {} pid {}", spec.name, spec.count,
                 detail::printable(spec.type.name), live, r.huge_pages ? ", huge pages" : "",
                 peer.uid, peer.pid);
    return Grant{info_of(spec.name, it->second), *g, std::move(created.fd)};
}

std::optional<Grant> Registry::open(ConnId conn, const Peer& peer, const OpenSpec& spec) {
    if (auto problem = detail::name_problem(spec.name); !problem.empty())
        throw Error(Errc::invalid_name, {}, problem);
    auto it = entries_.find(spec.name);
    if (it == entries_.end() || it->second.state == ChunkState::creating) return std::nullopt;
    Entry& e = it->second;
    if (e.state == ChunkState::quarantined)
        throw Error(Errc::corrupt_header, spec.name,
                    "chunk '" + spec.name + "' is quarantined: " + e.problem,
                    "its owner (or root) can remove it: mmmctl delete " + spec.name);
    check_access(peer, spec.name, e, spec.writable);
    if (spec.kind != e.kind)
        throw Error(Errc::type_mismatch, spec.name,
                    "chunk '" + spec.name + "' is " +
                        (e.kind == mmm::ChunkKind::heap ? "a heap chunk" : "an array chunk") +
                        ", not " +
                        (spec.kind == mmm::ChunkKind::heap ? "a heap" : "an array of elements"),
                    e.kind == mmm::ChunkKind::heap ? "open it with Client::open_heap"
                                                   : "open it with Client::open<T> or open_any");
    if (spec.type) {
        if (std::string mismatch = detail::type_mismatch(*e.type, *spec.type); !mismatch.empty())
            throw Error(
                Errc::type_mismatch, spec.name, mismatch,
                "open it with the creator's element type (mmmctl info " + spec.name + " shows it)");
    }
    if (opens_of(conn) >= limits_.max_open_per_connection)
        throw Error(Errc::limit_exceeded, spec.name,
                    "this connection already has " + std::to_string(opens_of(conn)) +
                        " chunks open (--max-open-per-connection)",
                    "close chunks you no longer use");
    SegmentStore::Opened opened = open_segment(it, spec.writable);
    if (spec.writable && e.single_writer) grant_lease(spec.name, e, opened.fd.get(), peer);
    e.attached.push_back({conn, {peer.pid, peer.uid, spec.writable}});
    ++opens_[conn];
    spdlog::debug("opened '{}' {} by uid {} pid {}", spec.name, spec.writable ? "rw" : "ro",
                  peer.uid, peer.pid);
    return Grant{info_of(spec.name, e), geometry_of(e), std::move(opened.fd)};
}

SegmentStore::Opened Registry::open_segment(Map::iterator it, bool writable) {
    Entry& e = it->second;
    const std::string name = it->first;
    SegmentStore::Opened opened;
    try {
        opened = store_.open(name, e.huge_pages, writable, e.id);
    } catch (const Error& err) {
        if (err.code() == Errc::not_found) {
            spdlog::warn("'{}': {}; forgetting the chunk", name, err.message());
            discard(it, "its segment vanished");
        }
        throw;
    }
    if (opened.status.size != geometry_of(e).segment_bytes) {
        std::string problem = repair(name, e, opened.status, -1);
        quarantine(it, problem);
        throw Error(Errc::corrupt_header, name, "chunk '" + name + "' is quarantined: " + problem,
                    "its owner (or root) can remove it: mmmctl delete " + name);
    }
    return opened;
}

std::string Registry::repair(const std::string& name, Entry& e, const detail::FileStatus& st,
                             int fd) {
    const detail::SegmentGeometry g = geometry_of(e);
    std::string problem;
    try {
        SegmentStore::Opened own;
        if (fd < 0) {
            own = store_.open(name, e.huge_pages, true, e.id);
            fd = own.fd.get();
        }
        if (st.size != g.segment_bytes) {
            // Back to its length, so that readers touching the lost part read
            // zeros instead of dying of SIGBUS; the lost data stays lost.
            problem = "a writer " + std::string(st.size < g.segment_bytes ? "cut" : "grew") +
                      " its segment to " + std::to_string(st.size) + " bytes (it has " +
                      std::to_string(g.segment_bytes) + ")";
            detail::set_length(fd, g.segment_bytes, name);
        }
        // Memory past the live elements (a writer's fallocate, also past the
        // end with KEEP_SIZE, or pages a stale pointer touched after a
        // shrink) is given back: quotas count only the live bytes.
        const std::uint64_t page = e.huge_pages ? detail::kHugePageSize : detail::kPageSize;
        const std::uint64_t live_end = round_up(live_bytes(e), page);
        if (st.allocated > live_end) {
            detail::punch_hole(fd, live_end, std::numeric_limits<std::int64_t>::max() - live_end,
                               name);
            spdlog::warn("'{}': gave back {} bytes reserved past its live elements", name,
                         st.allocated - live_end);
        }
    } catch (const Error& err) {
        spdlog::warn("'{}': could not repair its segment: {}", name, err.what());
    }
    return problem;
}

void Registry::close(ConnId conn, const std::string& name, std::uint64_t generation, bool writable,
                     bool release_lease) {
    auto it = entries_.find(name);
    if (it == entries_.end() || it->second.generation != generation) return;
    auto& attached = it->second.attached;
    auto found = std::find_if(attached.begin(), attached.end(), [&](const Attached& a) {
        return a.conn == conn && a.who.writable == writable;
    });
    if (found == attached.end()) return;
    const mmm::Attachment closed = found->who;
    attached.erase(found);
    if (auto o = opens_.find(conn); o != opens_.end() && --o->second == 0) opens_.erase(o);
    // A holder clears the lease word itself; a client whose open failed before
    // it could asks for it.
    settle_lease(it->first, it->second,
                 release_lease && closed.writable ? static_cast<std::uint32_t>(closed.pid) : 0);
}

bool Registry::is_creating(const std::string& name) const {
    auto it = entries_.find(name);
    return it != entries_.end() && it->second.state == ChunkState::creating;
}

void Registry::commit(ConnId conn, const std::string& name, std::uint64_t generation) {
    auto it = entries_.find(name);
    if (it == entries_.end() || it->second.generation != generation)
        throw Error(Errc::not_found, name,
                    "the chunk was removed while its creator reserved its memory",
                    "create it again");
    Entry& e = it->second;
    if (e.state != ChunkState::creating || e.reserver != conn)
        throw Error(Errc::invalid_argument, name,
                    "the chunk is not waiting for this connection to reserve its memory");
    // From here a failed commit deletes the chunk: its create has failed, and
    // the name and quota must not stay held until the creator disconnects.
    try {
        auto opened = store_.open(name, e.huge_pages, true, e.id);
        const detail::SegmentGeometry g = geometry_of(e);
        if (opened.status.size != g.segment_bytes)
            throw Error(Errc::invalid_argument, name,
                        "the segment was resized to " + std::to_string(opened.status.size) +
                            " bytes; it must stay " + std::to_string(g.segment_bytes));
        // The promise of create (a full /dev/shm is an error now, never a SIGBUS
        // later) rests on the creator: check that it kept it. Counted, not
        // located: SEEK_HOLE reports tmpfs pages that are reserved but not yet
        // written as holes.
        const std::uint64_t need = live_bytes(e);
        if (opened.status.allocated < need)
            throw Error(Errc::invalid_argument, name,
                        "commit before reservation: " + std::to_string(opened.status.allocated) +
                            " of " + std::to_string(need) + " bytes are reserved",
                        "posix_fallocate the live part of the descriptor before committing");
        e.state = ChunkState::ready;
        log_.put(record_of(name, e));
        store_.publish_ready(opened.fd.get(), name);
    } catch (const Error&) {
        e.state = ChunkState::creating;
        discard(it, "its commit failed");
        throw;
    }
    e.reserver.reset();
    spdlog::debug("'{}' is ready: its creator reserved {} bytes", name, live_bytes(e));
}

Registry::Map::iterator Registry::existing(const std::string& name) {
    if (auto problem = detail::name_problem(name); !problem.empty())
        throw Error(Errc::invalid_name, {}, problem);
    auto it = entries_.find(name);
    if (it == entries_.end())
        throw Error(Errc::not_found, name, "no chunk named '" + name + "'",
                    "mmmctl list shows the chunks that exist");
    return it;
}

bool Registry::remove(const Peer& peer, const std::string& name, std::uint64_t generation,
                      std::function<void()> freed) {
    auto it = existing(name);
    const Entry& e = it->second;
    if (generation != 0 && e.generation != generation)
        throw Error(Errc::not_found, name,
                    "the chunk this mapping belongs to was already deleted; the name now "
                    "belongs to a new chunk, which was left alone",
                    "open the name again to reach the new chunk");
    // A segment without a record has no known owner: it is mmmd's user's.
    const std::uint32_t owner = e.recorded ? e.owner_uid : daemon_uid_;
    if (peer.uid != 0 && peer.uid != owner)
        throw Error(Errc::permission_denied, name,
                    "uid " + std::to_string(peer.uid) + " may not delete chunk '" + name +
                        "': only its owner (uid " + std::to_string(owner) + ") or root may",
                    "ask the owner to delete it");
    spdlog::info("deleting '{}' at the request of uid {} pid {}", name, peer.uid, peer.pid);
    return erase(it, "removed", std::move(freed));
}

mmm::ChunkInfo Registry::resize(const Peer& peer, const std::string& name, std::uint64_t generation,
                                std::uint64_t count) {
    auto it = existing(name);
    Entry& e = it->second;
    if (generation != 0 && e.generation != generation)
        throw Error(Errc::not_found, name, "the chunk this mapping belongs to was deleted");
    if (e.state != ChunkState::ready)
        throw Error(e.state == ChunkState::quarantined ? Errc::corrupt_header : Errc::not_found,
                    name, "chunk '" + name + "' is " + std::string(mmm::to_string(e.state)));
    if (peer.uid != 0 && peer.uid != e.owner_uid)
        throw Error(Errc::permission_denied, name,
                    "uid " + std::to_string(peer.uid) + " may not resize chunk '" + name +
                        "': only its owner (uid " + std::to_string(e.owner_uid) + ") or root may",
                    "ask the owner to resize it (docs/SECURITY.md says why)");
    if (e.kind != mmm::ChunkKind::array)
        throw Error(Errc::invalid_argument, name, "a heap chunk cannot be resized");
    if (count < 1) throw Error(Errc::invalid_argument, name, "a chunk needs at least 1 element");
    if (count > e.max_count)
        throw Error(Errc::out_of_range, name,
                    "cannot resize '" + name + "' to " + std::to_string(count) +
                        " elements: it holds at most " + std::to_string(e.max_count) +
                        " (its max_count)",
                    "create it with a larger CreateOptions::max_count");
    if (count == e.count) return info_of(name, e);

    const std::uint64_t old_live = live_bytes(e);
    const detail::SegmentGeometry g = geometry_of(e);
    const std::uint64_t new_live = g.data_offset + count * e.type->size;
    auto opened = open_segment(it, true);
    const int fd = opened.fd.get();
    const std::uint64_t page = e.huge_pages ? detail::kHugePageSize : detail::kPageSize;
    if (count > e.count) {
        check_quota(name, new_live - old_live, false);
        if (limits_.max_chunk_bytes != 0 && new_live > limits_.max_chunk_bytes)
            throw Error(Errc::quota_exceeded, name,
                        "one chunk may have at most " + std::to_string(limits_.max_chunk_bytes) +
                            " bytes (--max-chunk-bytes); '" + name + "' would have " +
                            std::to_string(new_live),
                        kRemoveHint);
        // New elements read as zero: whatever a stale pointer left past the old
        // end goes first, then the memory is reserved (a full /dev/shm is
        // no_space now, with the chunk unchanged, never SIGBUS later).
        const std::uint64_t first_page = round_up(old_live, page);
        const std::uint64_t partial = std::min(first_page, new_live) - old_live;
        if (partial > 0) {
            const std::vector<std::byte> zeros(partial);
            detail::write_all_at(fd, zeros.data(), zeros.size(), old_live, name);
        }
        if (new_live > first_page) detail::punch_hole(fd, first_page, new_live - first_page, name);
        detail::reserve_range(fd, old_live, new_live - old_live, name);
        crash_point("resize:after_reserve");
    }
    // The log first, flagged: a restart from here on publishes the new count
    // (adoption.cpp), so the chunk comes back old or new, never in between.
    const std::uint64_t old_count = e.count;
    e.count = count;
    try {
        log_.put(record_of(name, e, true));
    } catch (...) {
        e.count = old_count;
        throw;
    }
    crash_point("resize:after_log");
    if (count > old_count) bytes_ += new_live - old_live;
    // A shrink publishes the smaller count before its memory goes, so that
    // nobody starts on the tail.
    if (!store_.publish_count(fd, count)) quarantine(it, "its segment was cut short by a writer");
    crash_point("resize:after_publish");
    if (count < old_count) {
        const std::uint64_t keep = round_up(new_live, page);
        if (keep < g.segment_bytes) detail::punch_hole(fd, keep, g.segment_bytes - keep, name);
        bytes_ -= old_live - new_live;
    }
    if (e.state != ChunkState::quarantined) log_.put(record_of(name, e));
    spdlog::info("resized '{}' to {} elements at the request of uid {} pid {}", name, count,
                 peer.uid, peer.pid);
    maybe_compact_log();
    return info_of(name, e);
}

void Registry::visit(
    const Peer& peer, const std::string& after,
    const std::function<bool(const std::string& name, const mmm::ChunkInfo&)>& fn) const {
    // Reused from one chunk to the next: their strings keep their room.
    detail::ChunkRecord record;
    mmm::ChunkInfo info;
    for (auto it = entries_.upper_bound(after); it != entries_.end(); ++it) {
        if (!may_see(peer, it->second)) continue;
        fill_info(it->first, it->second, record, info);
        if (!fn(it->first, info)) return;
    }
}

mmm::ChunkInfo Registry::info(const Peer& peer, const std::string& name) {
    auto it = existing(name);
    const Entry& e = it->second;
    if (!e.recorded) {
        if (!may_see(peer, e))
            throw Error(Errc::permission_denied, name, "only mmmd's user or root may see it");
    } else {
        check_access(peer, name, e, false);
    }
    return info_of(name, e);
}

void Registry::connection_closed(ConnId conn) {
    opens_.erase(conn);
    for (auto it = entries_.begin(); it != entries_.end();) {
        auto next = std::next(it);
        Entry& e = it->second;
        if (e.reserver == conn) {
            discard(it, "its creator left before reserving its memory");
            it = next;
            continue;
        }
        bool had = std::erase_if(e.attached, [&](const Attached& a) { return a.conn == conn; }) > 0;
        auto w = std::find_if(e.watches.begin(), e.watches.end(),
                              [&](const auto& p) { return p.first == conn; });
        if (w != e.watches.end()) {
            const std::uint32_t count = w->second;
            e.watches.erase(w);
            add_watchers(it->first, e, -static_cast<std::int64_t>(count));
        }
        if (e.session_owner == conn) {
            spdlog::info("deleting session chunk '{}': its creator disconnected", it->first);
            discard(it, "session ended");
        } else if (had) {
            settle_lease(it->first, e);
        }
        it = next;
    }
}

void Registry::creator_exited(const Orphan& orphan) {
    auto it = entries_.find(orphan.name);
    if (it == entries_.end() || it->second.generation != orphan.generation) return;
    spdlog::info("deleting session chunk '{}': its creator pid {} exited", orphan.name,
                 orphan.creator_pid);
    discard(it, "session ended");
}

std::size_t Registry::check_segments(std::size_t budget) {
    std::size_t checked = 0;
    auto it = entries_.upper_bound(next_check_);
    // Going on in name order from where the last call stopped, each chunk at
    // most once per call: a budget above the chunk count is a whole round.
    while (checked < std::min(budget, entries_.size())) {
        if (it == entries_.end()) it = entries_.begin();
        auto next = std::next(it);
        next_check_ = it->first;
        Entry& e = it->second;
        ++checked;
        if (e.state != ChunkState::ready) {
            it = next;
            continue;
        }
        try {
            auto st = store_.stat(it->first, e.huge_pages);
            const detail::SegmentGeometry g = geometry_of(e);
            const std::uint64_t page = e.huge_pages ? detail::kHugePageSize : detail::kPageSize;
            if (!st || !st->regular() || st->ino != e.id.ino) {
                spdlog::warn("'{}': its segment vanished; forgetting the chunk", it->first);
                discard(it, "its segment vanished");
            } else if (st->size != g.segment_bytes ||
                       st->allocated > round_up(live_bytes(e), page)) {
                std::string problem = repair(it->first, e, *st, -1);
                if (!problem.empty()) {
                    spdlog::warn("'{}': {}; quarantined", it->first, problem);
                    quarantine(it, problem);
                }
            }
        } catch (const Error& err) {
            spdlog::warn("'{}': checking its segment failed: {}", it->first, err.what());
        }
        it = next;
    }
    return checked;
}

// --- bookkeeping ---------------------------------------------------------------------

void Registry::insert(const std::string& name, Entry entry) {
    if (entry.state != ChunkState::quarantined) ++chunks_;
    bytes_ += live_bytes(entry);
    entries_.emplace(name, std::move(entry));
}

bool Registry::erase(Map::iterator it, const char* why, std::function<void()> freed) {
    Entry& e = it->second;
    const std::uint64_t bytes = live_bytes(e);
    // The bytes stay counted against --max-bytes until the memory is back.
    auto on_freed = [this, bytes, freed = std::move(freed)] {
        bytes_ -= bytes;
        if (freed) freed();
    };
    std::function<void()> later;
    if (to_event_loop_)
        later = [to_event_loop = to_event_loop_, on_freed] { to_event_loop(on_freed); };
    // Unlinked first: when that fails nothing has changed, and the caller says so.
    const bool deferred =
        store_.remove(it->first, e.huge_pages,
                      e.recorded ? std::optional<SegmentId>(e.id) : std::nullopt, std::move(later));
    if (e.recorded) log_.erase(it->first, e.generation);
    if (e.state != ChunkState::quarantined) --chunks_;
    if (!deferred) bytes_ -= bytes;  // `freed` is only for a deferred free (remove() says so)
    for (const Attached& a : e.attached)
        if (auto o = opens_.find(a.conn); o != opens_.end() && --o->second == 0) opens_.erase(o);
    spdlog::info("deleted '{}' ({}): {} bytes {}", it->first, why, bytes,
                 deferred ? "being freed" : "freed");
    entries_.erase(it);
    maybe_compact_log();
    return deferred;
}

void Registry::discard(Map::iterator it, const char* why) noexcept {
    try {
        erase(it, why);
    } catch (const std::exception& err) {
        spdlog::error("'{}' ({}): could not delete it: {}", it->first, why, err.what());
        quarantine(it, std::string("mmmd could not delete it (") + why + "): " + err.what());
    }
}

void Registry::quarantine(Map::iterator it, std::string problem) {
    Entry& e = it->second;
    if (e.state != ChunkState::quarantined) --chunks_;
    e.state = ChunkState::quarantined;
    e.problem = std::move(problem);
    if (e.recorded) {
        try {
            log_.put(record_of(it->first, e));
        } catch (const Error& err) {
            spdlog::warn("'{}': could not record its quarantine: {}", it->first, err.what());
        }
    }
}

void Registry::maybe_compact_log() {
    if (!log_.wants_compaction()) return;
    try {
        log_.compact([this](const auto& put) {
            for (const auto& [name, e] : entries_)
                if (e.recorded) put(record_of(name, e));
        });
    } catch (const Error& err) {
        spdlog::warn("could not compact the registry log: {}", err.what());
    }
}

bool Registry::may_see(const Peer& peer, const Entry& e) const {
    if (peer.uid == 0) return true;
    if (!e.recorded) return peer.uid == daemon_uid_;
    return (access_bits(peer, e.owner_uid, e.owner_gid, e.mode) & kRead) != 0;
}

std::size_t Registry::opens_of(ConnId conn) const {
    auto it = opens_.find(conn);
    return it == opens_.end() ? 0 : it->second;
}

}  // namespace mmmd
