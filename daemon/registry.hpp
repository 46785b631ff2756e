// The registry: mmmd's authority on which chunks exist, who owns them, who has
// them open, and what each peer may do with them. It speaks the product's
// language (chunk names, element types, counts, peers), never the wire's:
// daemon/service.hpp decodes requests into these calls and encodes their
// results. Every change is written to the registry log (registry_log.hpp)
// before it is answered, and the log is the truth a restarted mmmd adopts.
//
// Single-threaded: only the event loop's thread calls it.
#pragma once

#include "config.hpp"
#include "conn_id.hpp"
#include "peer.hpp"
#include "registry_log.hpp"
#include "segment_store.hpp"

#include "chunk_layout.hpp"
#include "chunk_record.hpp"
#include "unique_fd.hpp"

#include <mmm/options.hpp>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace mmmd {

struct CreateSpec {
    std::string name;
    mmm::ChunkKind kind = mmm::ChunkKind::array;
    mmm::detail::ElementType type;
    std::uint64_t count = 0;
    std::uint64_t max_count = 0;  // 0: count
    std::uint32_t mode = 0600;
    mmm::Lifetime lifetime = mmm::Lifetime::persistent;
    bool single_writer = false;
    mmm::HugePages huge_pages = mmm::HugePages::automatic;
};

struct OpenSpec {
    std::string name;
    std::optional<mmm::detail::ElementType> type;  // none: any type
    mmm::ChunkKind kind = mmm::ChunkKind::array;
    bool writable = false;
};

// A chunk handed to a client: what it is, where its parts are, and a
// descriptor on its segment opened with exactly the access granted.
struct Grant {
    mmm::ChunkInfo info;
    mmm::detail::SegmentGeometry geometry;
    mmm::detail::UniqueFd fd;
};

class Registry {
  public:
    Registry(SegmentStore& store, RegistryLog& log, Limits limits, uid_t daemon_uid);

    // A session chunk adopted at startup whose creator was still alive.
    struct Orphan {
        std::string name;
        std::uint64_t generation = 0;
        pid_t creator_pid = 0;
    };
    // Rebuilds the registry from the log and the segment directories (and
    // migrates segments of the previous layout once); returns the session
    // chunks whose creator must be watched. daemon/adoption.cpp.
    std::vector<Orphan> adopt();

    Grant create(ConnId conn, const Peer& peer, const CreateSpec& spec);
    // nullopt when no chunk has that name, or it is still being created (the
    // caller may wait for it).
    std::optional<Grant> open(ConnId conn, const Peer& peer, const OpenSpec& spec);
    // A mapping of the connection went away; `release_lease`: its process asks
    // mmmd to clear the write lease word it could not clear itself.
    void close(ConnId conn, const std::string& name, std::uint64_t generation, bool writable,
               bool release_lease);
    // A chunk of that name exists but waits for its creator's commit.
    bool is_creating(const std::string& name) const;
    // The creator of a `creating` chunk reserved its memory: publishes it ready.
    void commit(ConnId conn, const std::string& name, std::uint64_t generation);
    // generation 0: whatever chunk has the name now. Returns true when the
    // chunk's memory is freed later (a large segment, see SegmentReaper): then
    // `freed` runs on the event loop once it is; false when it is freed already.
    bool remove(const Peer& peer, const std::string& name, std::uint64_t generation = 0,
                std::function<void()> freed = {});
    // Grows or shrinks a growable chunk (docs/CONCURRENCY.md, "Growable chunks").
    mmm::ChunkInfo resize(const Peer& peer, const std::string& name, std::uint64_t generation,
                          std::uint64_t count);
    mmm::ChunkInfo info(const Peer& peer, const std::string& name);
    // The chunks `peer` may see, by name after `after`, until `visit` returns false.
    void visit(
        const Peer& peer, const std::string& after,
        const std::function<bool(const std::string& name, const mmm::ChunkInfo&)>& visit) const;

    // A read-only waiter of the connection is about to sleep on the chunk's
    // version: counts it in sync.watchers so writers wake it. Throws not_found
    // when that incarnation is gone, limit_exceeded past kMaxWatchesPerConnection.
    void watch(ConnId conn, const Peer& peer, const std::string& name, std::uint64_t generation);
    // The waiter woke up: uncounts it. Ignores what it does not know.
    void unwatch(ConnId conn, const std::string& name, std::uint64_t generation);
    static constexpr std::uint32_t kMaxWatchesPerConnection = 1024;

    // Drops the connection's attachments and deletes the session chunks it created.
    void connection_closed(ConnId conn);
    // Deletes an adopted session chunk whose creator exited (if it is still that chunk).
    void creator_exited(const Orphan& orphan);

    // Checks up to `budget` chunks' segment files (round robin) for what a
    // writer may have done to them behind mmmd (cut short, grown, extra
    // memory); quarantines and repairs what it finds. Returns how many it checked.
    std::size_t check_segments(std::size_t budget);

    // How work finished on another thread gets back to the event loop (posting
    // to its io_context). Unset (adoption at startup): large segments are
    // freed in place.
    using ToEventLoop = std::function<void(std::function<void()>)>;
    // The store posts a remove's last steps the same way (SegmentStore::set_deferred).
    void set_event_loop(ToEventLoop to_event_loop) {
        store_.set_deferred(to_event_loop);
        to_event_loop_ = std::move(to_event_loop);
    }

    std::uint64_t chunk_count() const { return chunks_; }
    std::uint64_t quarantined_count() const { return entries_.size() - chunks_; }
    std::uint64_t bytes_in_use() const { return bytes_; }
    const Limits& limits() const { return limits_; }
    const SegmentStore& store() const { return store_; }

  private:
    struct Attached {
        ConnId conn;
        mmm::Attachment who;
    };
    struct Entry {
        // The truth, as in the log (its name is the map's key).
        std::shared_ptr<const mmm::detail::ElementType> type;  // shared by chunks of one type
        mmm::ChunkKind kind = mmm::ChunkKind::array;
        mmm::ChunkState state = mmm::ChunkState::ready;
        mmm::Lifetime lifetime = mmm::Lifetime::persistent;
        bool single_writer = false;
        bool huge_pages = false;
        bool recorded = true;  // false: a segment found without a record (quarantined)
        std::uint32_t mode = 0;
        std::uint32_t owner_uid = 0;
        std::uint32_t owner_gid = 0;
        std::uint32_t creator_pid = 0;
        std::uint32_t record_bytes = 0;  // the record copy in the segment's header
        std::uint64_t count = 0;
        std::uint64_t max_count = 0;
        std::uint64_t generation = 0;
        std::int64_t created_ns = 0;
        std::string problem;  // why it is quarantined
        // What mmmd knows besides.
        SegmentId id;
        std::vector<Attached> attached;
        std::optional<ConnId> session_owner;  // deleted when this connection closes
        std::optional<ConnId> reserver;  // state creating: the creator that reserves its memory
        std::uint32_t lease_pid = 0;     // single-writer: the write lease holder as last seen
        std::vector<std::pair<ConnId, std::uint32_t>> watches;  // read-only waiters counted
    };
    using Map = std::map<std::string, Entry, std::less<>>;

    // --- records and geometry (registry.cpp) ---
    mmm::detail::ChunkRecord record_of(const std::string& name, const Entry& e,
                                       bool resizing = false) const;
    void record_of(const std::string& name, const Entry& e, bool resizing,
                   mmm::detail::ChunkRecord& r) const;
    Entry entry_of(const mmm::detail::ChunkRecord& r);
    mmm::detail::SegmentGeometry geometry_of(const Entry& e) const;
    std::uint64_t live_bytes(const Entry& e) const;
    std::shared_ptr<const mmm::detail::ElementType> intern(const mmm::detail::ElementType& t);

    void check_quota(const std::string& name, std::uint64_t need, bool new_chunk) const;
    void insert(const std::string& name, Entry entry);
    // Deletes the chunk: its segment, its record, its entry. Returns what
    // SegmentStore::remove does; `freed` as for remove().
    bool erase(Map::iterator it, const char* why, std::function<void()> freed = {});
    // erase() for mmmd's own reasons (a session that ended, a failed commit):
    // when the segment cannot be unlinked, the chunk is quarantined instead.
    void discard(Map::iterator it, const char* why) noexcept;
    void quarantine(Map::iterator it, std::string problem);
    bool may_see(const Peer& peer, const Entry& entry) const;
    // The entry of a valid, existing name; invalid_name or not_found otherwise.
    Map::iterator existing(const std::string& name);
    mmm::ChunkInfo info_of(const std::string& name, const Entry& entry) const;
    // The same into `info`, through `record`: both reused across a list.
    void fill_info(const std::string& name, const Entry& entry, mmm::detail::ChunkRecord& record,
                   mmm::ChunkInfo& info) const;
    std::size_t opens_of(ConnId conn) const;
    void check_access(const Peer& peer, const std::string& name, const Entry& e,
                      bool writable) const;
    // The segment's file as the client will map it: quarantines the chunk
    // (and repairs its length) when a writer cut it short or grew it.
    SegmentStore::Opened open_segment(Map::iterator it, bool writable);
    // What a writer did to the file behind mmmd, if anything (the repair done).
    std::string repair(const std::string& name, Entry& e, const mmm::detail::FileStatus& st,
                       int fd);
    void maybe_compact_log();

    // --- leases and watches (leases.cpp) ---
    // Hands the write lease of a single-writer chunk to `peer`, or throws Errc::busy.
    void grant_lease(const std::string& name, Entry& e, int fd, const Peer& peer);
    // After a mapping or connection went away: frees the lease of a holder that
    // no longer runs, or of `let_go` (a client whose open failed asked for it),
    // and refreshes lease_pid from the segment.
    void settle_lease(const std::string& name, Entry& e, std::uint32_t let_go = 0);
    // Adds `delta` to the segment's sync.watchers (never below zero).
    void add_watchers(const std::string& name, Entry& e, std::int64_t delta);
    std::uint32_t& watches_of(Entry& e, ConnId conn);

    // --- adoption (adoption.cpp, legacy_adoption.cpp) ---
    void adopt_record(const mmm::detail::ChunkRecord& record, const SegmentStore::Found& file,
                      std::vector<Orphan>& orphans);
    void quarantine_orphan(const SegmentStore::Found& file, std::string problem);
    void migrate_legacy_segments();

    SegmentStore& store_;
    RegistryLog& log_;
    Limits limits_;
    uid_t daemon_uid_;
    Map entries_;
    std::map<std::uint64_t, std::vector<std::weak_ptr<const mmm::detail::ElementType>>> types_;
    std::uint64_t chunks_ = 0;  // entries that are not quarantined
    std::uint64_t bytes_ = 0;   // their live bytes, and those of removed ones not yet freed
    std::map<ConnId, std::size_t> opens_;  // attachments per connection
    std::string next_check_;               // where check_segments goes on
    ToEventLoop to_event_loop_;
    // The last type's fingerprint (a list of many chunks of one type asks
    // for it again and again); holding the type keeps its address unique.
    mutable std::shared_ptr<const mmm::detail::ElementType> fingerprinted_;
    mutable std::uint64_t fingerprint_ = 0;
};

}  // namespace mmmd
