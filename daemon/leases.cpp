// The words of a segment's ChunkSync that mmmd itself keeps, read and written
// with pread/pwrite on a segment descriptor (mmmd maps no segment for them):
//
//  - sync.writer_pid, the write lease of a single-writer chunk
//    (CreateOptions::single_writer): mmmd sets it when it grants a writable
//    mapping, the holder clears it when it unmaps (or when its mapping fails),
//    and mmmd clears it when the holder disconnects or dies. The word, not
//    mmmd's memory, is the truth, so a restarted mmmd keeps refusing a second
//    writer while the first is alive.
//  - sync.watchers, the read-only waiters that asked mmmd to be counted (a
//    read-only mapping cannot write `waiters` itself). Only mmmd writes it.
#include "registry.hpp"

#include "posix_io.hpp"
#include "process_state.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <climits>

namespace mmmd {

using mmm::ChunkState;
using mmm::Errc;
using mmm::Error;
namespace detail = mmm::detail;

void Registry::grant_lease(const std::string& name, Entry& e, int fd, const Peer& peer) {
    const std::uint32_t holder = detail::read_u32_at(fd, detail::kWriterPidOffset, name);
    if (holder != 0 && lease_holder_alive(holder))
        throw Error(Errc::busy, name,
                    "the chunk has a single writer and pid " + std::to_string(holder) +
                        " holds its write lease",
                    "open it read-only (open<const T>), or retry once that process has "
                    "destroyed its writable MemChunk or exited");
    if (holder != 0)
        spdlog::info("'{}': write lease of pid {} (gone) passes to pid {}", name, holder, peer.pid);
    detail::write_u32_at(fd, detail::kWriterPidOffset, static_cast<std::uint32_t>(peer.pid), name);
    e.lease_pid = static_cast<std::uint32_t>(peer.pid);
}

void Registry::settle_lease(const std::string& name, Entry& e, std::uint32_t let_go) {
    if (!e.single_writer || e.lease_pid == 0 || e.state == ChunkState::quarantined) return;
    try {
        auto opened = store_.open(name, e.huge_pages, true, e.id);
        const int fd = opened.fd.get();
        std::uint32_t holder = detail::read_u32_at(fd, detail::kWriterPidOffset, name);
        // A mapping outlives its connection (a client reconnects after a timed-out
        // request), so only a holder that is gone loses the lease here; one that
        // let go has cleared the word itself.
        if (holder != 0 && (holder == let_go || !lease_holder_alive(holder))) {
            detail::write_u32_at(fd, detail::kWriterPidOffset, 0, name);
            spdlog::debug("'{}': write lease of pid {} released (the process {})", name, holder,
                          holder == let_go ? "gave it back" : "is gone");
            holder = 0;
        }
        e.lease_pid = holder;
    } catch (const Error& err) {
        spdlog::warn("'{}': could not settle the write lease: {}", name, err.what());
    }
}

std::uint32_t& Registry::watches_of(Entry& e, ConnId conn) {
    for (auto& [c, n] : e.watches)
        if (c == conn) return n;
    return e.watches.emplace_back(conn, 0).second;
}

void Registry::watch(ConnId conn, const Peer& peer, const std::string& name,
                     std::uint64_t generation) {
    auto it = existing(name);
    Entry& e = it->second;
    if (e.state != ChunkState::ready || e.generation != generation)
        throw Error(Errc::not_found, name, "the chunk this mapping belongs to was deleted");
    check_access(peer, name, e, false);
    std::uint32_t& mine = watches_of(e, conn);
    if (mine >= kMaxWatchesPerConnection)
        throw Error(Errc::limit_exceeded, name,
                    "this connection already has " + std::to_string(mine) +
                        " waiters counted on the chunk");
    add_watchers(name, e, +1);  // first: a failure leaves nothing recorded
    ++mine;
}

void Registry::unwatch(ConnId conn, const std::string& name, std::uint64_t generation) {
    auto it = entries_.find(name);
    if (it == entries_.end() || it->second.generation != generation) return;
    Entry& e = it->second;
    auto w = std::find_if(e.watches.begin(), e.watches.end(),
                          [&](const auto& p) { return p.first == conn; });
    if (w == e.watches.end()) {
        // A waiter counted before mmmd restarted wakes up and says so here:
        // the word holds more waiters than this mmmd counted.
        std::uint64_t ours = 0;
        for (const auto& [c, n] : e.watches) ours += n;
        try {
            auto opened = store_.open(name, e.huge_pages, true, e.id);
            if (detail::read_u32_at(opened.fd.get(), detail::kWatchersOffset, name) > ours)
                add_watchers(name, e, -1);
        } catch (const Error& err) {
            spdlog::warn("'{}': could not uncount a waiter: {}", name, err.what());
        }
        return;
    }
    add_watchers(name, e, -1);
    if (--w->second == 0) e.watches.erase(w);
}

void Registry::add_watchers(const std::string& name, Entry& e, std::int64_t delta) {
    try {
        auto opened = store_.open(name, e.huge_pages, true, e.id);
        const std::int64_t now =
            detail::read_u32_at(opened.fd.get(), detail::kWatchersOffset, name) + delta;
        detail::write_u32_at(
            opened.fd.get(), detail::kWatchersOffset,
            static_cast<std::uint32_t>(std::clamp<std::int64_t>(now, 0, UINT32_MAX)), name);
    } catch (const Error& err) {
        if (delta > 0) throw;
        spdlog::warn("'{}': could not uncount {} watchers: {}", name, -delta, err.what());
    }
}

}  // namespace mmmd
