// The registry: mmmd's authority on which chunks exist, who owns them, who has
// them open, and what each peer may do with them. Single-threaded: only the
// server's io_context thread calls it.
#pragma once

#include "config.hpp"
#include "peer.hpp"
#include "segment_store.hpp"

#include "chunk_header.hpp"
#include "protocol.hpp"
#include "unique_fd.hpp"

#include <mmm/options.hpp>

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace mmmd {

using ConnId = std::uint64_t;

class Registry {
  public:
    Registry(SegmentStore& store, Limits limits, uid_t daemon_uid);

    // A session chunk adopted at startup whose creator was still alive.
    struct Orphan {
        std::string name;
        std::uint64_t generation = 0;
        pid_t creator_pid = 0;
    };
    // Rebuilds the registry from the namespace's segments; returns the session
    // chunks whose creator must be watched.
    std::vector<Orphan> adopt_existing();

    struct Granted {
        mmm::ChunkInfo info;
        mmm::detail::UniqueFd fd;
    };
    Granted create(ConnId conn, const Peer& peer, const mmm::proto::CreateRequest& req);
    // nullopt when no chunk has that name, or it is still being created (the
    // caller may wait for it).
    std::optional<Granted> open(ConnId conn, const Peer& peer, const mmm::proto::OpenRequest& req);
    void close(ConnId conn, const mmm::proto::CloseRequest& req);
    // A chunk of that name exists but waits for its creator's commit.
    bool is_creating(const std::string& name) const;
    // The creator of a `creating` chunk reserved its memory: publishes it ready.
    void commit(ConnId conn, const mmm::proto::CommitRequest& req);
    // generation 0: whatever chunk has the name now. Returns true when the
    // chunk's memory is freed later (a large segment, see SegmentReaper): then
    // `freed` runs on the event loop once it is; false when it is freed already.
    bool remove(const Peer& peer, const std::string& name, std::uint64_t generation = 0,
                std::function<void()> freed = {});
    mmm::proto::ListReply list(const Peer& peer, const mmm::proto::ListRequest& req) const;
    mmm::ChunkInfo info(const Peer& peer, const std::string& name) const;

    // A read-only waiter of the connection is about to sleep on the chunk's
    // version: counts it in sync.watchers so writers wake it. Throws not_found
    // when that incarnation is gone, limit_exceeded past kMaxWatchesPerConnection.
    void watch(ConnId conn, const Peer& peer, const mmm::proto::WatchRequest& req);
    // The waiter woke up: uncounts it. Ignores what it does not know.
    void unwatch(ConnId conn, const mmm::proto::UnwatchRequest& req);
    static constexpr std::uint32_t kMaxWatchesPerConnection = 1024;

    // Drops the connection's attachments and deletes the session chunks it created.
    void connection_closed(ConnId conn);
    // Deletes an adopted session chunk whose creator exited (if it is still that chunk).
    void creator_exited(const Orphan& orphan);

    // How work finished on another thread gets back to the event loop (posting
    // to its io_context). Unset (adoption at startup): large segments are
    // freed in place.
    using ToEventLoop = std::function<void(std::function<void()>)>;
    void set_event_loop(ToEventLoop to_event_loop) { to_event_loop_ = std::move(to_event_loop); }

    std::uint64_t chunk_count() const { return chunks_; }
    std::uint64_t quarantined_count() const { return entries_.size() - chunks_; }
    std::uint64_t bytes_in_use() const { return bytes_; }
    const Limits& limits() const { return limits_; }

  private:
    struct Attached {
        ConnId conn;
        mmm::Attachment who;
    };
    struct Entry {
        mmm::detail::HeaderSnapshot header{};  // validated, unless quarantined
        mmm::ChunkState state = mmm::ChunkState::ready;
        std::string segment;
        SegmentId id;
        std::uint64_t segment_bytes = 0;
        std::string problem;  // why it is quarantined
        uid_t file_uid = 0;
        std::uint32_t file_mode = 0;
        std::vector<Attached> attached;
        std::optional<ConnId> session_owner;  // deleted when this connection closes
        std::optional<ConnId> reserver;  // state creating: the creator that reserves its memory
        std::uint32_t lease_pid = 0;     // single-writer: the write lease holder as last seen
        std::map<ConnId, std::uint32_t> watches;  // read-only waiters counted in sync.watchers
        std::uint32_t stale_watchers = 0;  // counted by an earlier mmmd; uncounted on unwatch
    };
    using Map = std::map<std::string, Entry, std::less<>>;

    void adopt_one(const std::string& segment, std::vector<Orphan>& orphans);
    void quarantine(const std::string& name, const std::string& segment, const Inspection& seen,
                    std::string problem);
    void check_quota(const std::string& name, std::uint64_t segment_bytes) const;
    void insert(const std::string& name, Entry entry);
    // Returns what SegmentStore::remove does; `freed` as for remove().
    bool erase(Map::iterator it, const char* why, std::function<void()> freed = {});
    bool may_see(const Peer& peer, const Entry& entry) const;
    // The entry of a valid, existing name; invalid_name or not_found otherwise.
    template <class EntryMap>
    static auto existing(EntryMap& entries, const std::string& name) -> decltype(entries.begin());
    mmm::ChunkInfo info_of(const std::string& name, const Entry& entry) const;
    std::size_t opens_of(ConnId conn) const;
    static bool single_writer(const Entry& e);
    // Hands the write lease of a single-writer chunk to `peer`, or throws Errc::busy.
    void grant_lease(const std::string& name, Entry& e, int fd, const Peer& peer);
    // After a mapping or connection went away: frees the lease of a holder that
    // no longer runs, or of `let_go` (a client whose open failed asked for it),
    // and refreshes lease_pid from the segment.
    void settle_lease(const std::string& name, Entry& e, std::uint32_t let_go = 0);
    // Adds `delta` to the segment's sync.watchers (never below zero).
    void add_watchers(const std::string& name, Entry& e, std::int64_t delta);

    SegmentStore& store_;
    Limits limits_;
    uid_t daemon_uid_;
    Map entries_;
    std::uint64_t chunks_ = 0;  // entries that are not quarantined
    std::uint64_t bytes_ = 0;   // their segment bytes, and those of removed ones not yet freed
    std::map<ConnId, std::size_t> opens_;  // attachments per connection
    ToEventLoop to_event_loop_;
};

}  // namespace mmmd
