#include "service.hpp"

#include "crash_point.hpp"

#include "overloaded.hpp"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>

namespace mmmd {

namespace proto = mmm::proto;
using mmm::Errc;
using mmm::Error;

namespace {

// How long an open that did not ask to wait waits for a chunk that exists but
// is still being created (its creator reserves its memory: ~0.4 s per GiB), so
// that "create, else open" works; under ClientOptions::request_timeout.
constexpr std::chrono::milliseconds kCreatingGrace = std::chrono::seconds(5);
constexpr std::size_t kMaxWaitsPerConnection = 4096;

// A list page stays well under kMaxReplyBody whatever its chunks' attachments weigh.
constexpr std::size_t kListBodyBudget = proto::kMaxReplyBody / 2;

std::vector<std::byte> ok(std::uint32_t id) {
    return proto::make_ok_reply(id);
}

std::vector<std::byte> ok_info(std::uint32_t id, const mmm::ChunkInfo& info) {
    return proto::make_frame(proto::MessageType::reply_ok, id,
                             [&](proto::Writer& w) { proto::encode_info(w, info); });
}

std::vector<std::byte> ok_grant(std::uint32_t id, const Grant& g) {
    return proto::make_frame(proto::MessageType::reply_ok, id, [&](proto::Writer& w) {
        proto::encode_grant(w, proto::Grant{g.info, g.geometry});
    });
}

OpenSpec spec_of(const proto::OpenRequest& r) {
    return OpenSpec{r.name, r.type, r.kind, r.writable};
}

std::vector<std::byte> error_reply(std::uint32_t id, const Error& e) {
    return proto::make_error_reply(id, {e.code(), e.chunk(), e.message(), e.hint()});
}

}  // namespace

struct Service::Waiter {
    Waiter(boost::asio::io_context& io, const Conn& c, std::uint32_t id, proto::OpenRequest r)
        : conn(c), conn_id(c->id()), request_id(id), req(std::move(r)), timer(io) {}
    std::weak_ptr<Connection> conn;
    ConnId conn_id;
    std::uint32_t request_id;
    proto::OpenRequest req;
    boost::asio::steady_timer timer;
};

Service::Service(boost::asio::io_context& io, Registry& registry, DaemonIdentity identity,
                 std::function<std::uint64_t()> connection_count)
    : io_(io),
      registry_(registry),
      identity_(std::move(identity)),
      connection_count_(std::move(connection_count)) {}

void Service::handle(const Conn& conn, const proto::FrameHeader& header,
                     std::span<const std::byte> body) {
    ++requests_;
    const auto type = static_cast<proto::MessageType>(header.type);
    try {
        dispatch(conn, header.request_id, proto::decode_request(type, body));
    } catch (const Error& e) {
        if (proto::is_one_way(type)) {  // nobody waits for an answer
            spdlog::debug("request {} from pid {} failed: {}", header.type, conn->peer().pid,
                          e.what());
            return;
        }
        spdlog::debug("request {} from pid {} failed: {} ({})", header.type, conn->peer().pid,
                      e.message(), mmm::to_string(e.code()));
        conn->send(error_reply(header.request_id, e));
    } catch (const std::exception& e) {
        spdlog::error("request {} from pid {} hit a bug: {}", header.type, conn->peer().pid,
                      e.what());
        if (!proto::is_one_way(type))
            conn->send(error_reply(
                header.request_id,
                Error(Errc::internal, "", e.what(), "this is a bug in mmmd: please report it")));
    }
}

void Service::dispatch(const Conn& conn, std::uint32_t id, const proto::Request& request) {
    const Peer& peer = conn->peer();
    std::visit(
        mmm::detail::Overloaded{
            [&](const proto::CreateRequest& r) { create(conn, id, r); },
            [&](const proto::OpenRequest& r) { open(conn, id, r); },
            [&](const proto::CloseRequest& r) {
                registry_.close(conn->id(), r.name, r.generation, r.writable, r.release_lease);
            },
            [&](const proto::RemoveRequest& r) {
                // A large chunk's memory is freed off the event loop; the reply
                // waits for it, so the caller's next create finds the room.
                std::weak_ptr<Connection> weak = conn;
                auto reply = [weak, id] {
                    if (auto c = weak.lock(); c && !c->closed()) c->send(ok(id));
                };
                if (!registry_.remove(peer, r.name, r.generation, reply)) conn->send(ok(id));
            },
            [&](const proto::ListRequest& r) { list(conn, id, r); },
            [&](const proto::InfoRequest& r) {
                conn->send(ok_info(id, registry_.info(peer, r.name)));
            },
            [&](const proto::StatsRequest&) {
                auto s = stats();
                conn->send(proto::make_frame(proto::MessageType::reply_ok, id,
                                             [&](proto::Writer& w) { proto::encode_stats(w, s); }));
            },
            [&](const proto::PingRequest&) { conn->send(ok(id)); },
            [&](const proto::WatchRequest& r) {
                registry_.watch(conn->id(), peer, r.name, r.generation);
                conn->send(ok(id));
            },
            [&](const proto::UnwatchRequest& r) {
                registry_.unwatch(conn->id(), r.name, r.generation);
            },
            [&](const proto::CommitRequest& r) {
                registry_.commit(conn->id(), r.name, r.generation);
                conn->send(ok(id));
                serve_waiters(r.name);
            },
            [&](const proto::ResizeRequest& r) {
                conn->send(ok_info(id, registry_.resize(peer, r.name, r.generation, r.count)));
            },
        },
        request);
}

void Service::create(const Conn& conn, std::uint32_t id, const proto::CreateRequest& req) {
    CreateSpec spec{req.name, req.kind,     req.type,          req.count,     req.max_count,
                    req.mode, req.lifetime, req.single_writer, req.huge_pages};
    auto granted = registry_.create(conn->id(), conn->peer(), spec);
    const bool ready = granted.info.state == mmm::ChunkState::ready;
    conn->send(ok_grant(id, granted), std::move(granted.fd));
    if (ready) serve_waiters(req.name);  // else when its creator commits it
}

void Service::open(const Conn& conn, std::uint32_t id, const proto::OpenRequest& req) {
    if (req.wait_ms > proto::kMaxWaitMs)
        throw Error(
            Errc::invalid_argument, req.name,
            "an open may wait at most " + std::to_string(proto::kMaxWaitMs) + " ms (1 hour)");
    auto granted = registry_.open(conn->id(), conn->peer(), spec_of(req));
    if (granted) return conn->send(ok_grant(id, *granted), std::move(granted->fd));
    std::chrono::milliseconds wait(req.wait_ms);
    if (wait.count() == 0 && registry_.is_creating(req.name)) wait = kCreatingGrace;
    if (wait.count() == 0)
        throw Error(Errc::not_found, req.name, "no chunk named '" + req.name + "'",
                    "create it first, or open with OpenOptions::wait to wait for its creator");
    park(conn, id, req, wait);
}

void Service::list(const Conn& conn, std::uint32_t id, const proto::ListRequest& req) {
    const std::uint32_t limit =
        req.limit == 0 ? proto::kMaxListLimit : std::min(req.limit, proto::kMaxListLimit);
    if (!req.after.empty()) crash_point("list:next_page");
    proto::ListHead head;
    head.chunks = registry_.chunk_count() + registry_.quarantined_count();  // all it may list
    list_page_.clear();
    proto::Writer w(list_page_);
    const std::string* last = nullptr;
    registry_.visit(conn->peer(), req.after,
                    [&](const std::string& name, const mmm::ChunkInfo& info) {
                        if (head.count >= limit || w.size() >= kListBodyBudget) {
                            head.more = true;
                            return false;
                        }
                        proto::encode_info(w, info);
                        last = &name;
                        ++head.count;
                        return true;
                    });
    if (last != nullptr) head.last = *last;
    conn->send(proto::make_frame(proto::MessageType::reply_ok, id, [&](proto::Writer& out) {
        proto::encode_list_page(out, head, list_page_);
    }));
}

// --- waiting opens -----------------------------------------------------------------

void Service::park(const Conn& conn, std::uint32_t id, const proto::OpenRequest& req,
                   std::chrono::milliseconds wait) {
    if (waits_per_conn_[conn->id()] >= kMaxWaitsPerConnection)
        throw Error(Errc::limit_exceeded, req.name,
                    "this connection already waits for " + std::to_string(kMaxWaitsPerConnection) +
                        " chunks");
    auto waiter = std::make_shared<Waiter>(io_, conn, id, req);
    waiters_.emplace(req.name, waiter);
    ++waits_per_conn_[conn->id()];
    waiter->timer.expires_after(wait);
    waiter->timer.async_wait([this, waiter](const boost::system::error_code& ec) {
        if (!ec) expire(waiter);
    });
}

void Service::unpark(const std::shared_ptr<Waiter>& waiter) {
    auto [first, last] = waiters_.equal_range(waiter->req.name);
    for (auto it = first; it != last; ++it) {
        if (it->second != waiter) continue;
        waiters_.erase(it);
        if (auto n = waits_per_conn_.find(waiter->conn_id);
            n != waits_per_conn_.end() && --n->second == 0)
            waits_per_conn_.erase(n);
        break;
    }
    waiter->timer.cancel();
}

void Service::expire(const std::shared_ptr<Waiter>& waiter) {
    unpark(waiter);
    auto conn = waiter->conn.lock();
    if (!conn || conn->closed()) return;
    const std::string& name = waiter->req.name;
    const std::uint32_t waited = waiter->req.wait_ms;
    if (registry_.is_creating(name)) {
        // Not ready yet: not_found for an open that did not ask to wait.
        conn->send(error_reply(
            waiter->request_id,
            Error(waited == 0 ? Errc::not_found : Errc::timeout, name,
                  "chunk '" + name +
                      "' is still being created: its creator has been reserving its "
                      "memory for longer than " +
                      std::to_string(waited == 0 ? kCreatingGrace.count() : waited) + " ms",
                  "open with a longer OpenOptions::wait")));
        return;
    }
    conn->send(error_reply(
        waiter->request_id,
        Error(waited == 0 ? Errc::not_found : Errc::timeout, name,
              waited == 0 ? "no chunk named '" + name + "' (its create did not complete)"
                          : "no chunk named '" + name + "' was created within " +
                                std::to_string(waited) + " ms",
              "check that the creating process runs against the same runtime directory")));
}

void Service::serve_waiters(const std::string& name) {
    auto [first, last] = waiters_.equal_range(name);
    std::vector<std::shared_ptr<Waiter>> ready;
    for (auto it = first; it != last; ++it) ready.push_back(it->second);
    for (const auto& waiter : ready) {
        unpark(waiter);
        auto conn = waiter->conn.lock();
        if (!conn || conn->closed()) continue;
        try {
            open(conn, waiter->request_id, waiter->req);
        } catch (const Error& e) {
            conn->send(error_reply(waiter->request_id, e));
        } catch (const std::exception& e) {
            conn->send(error_reply(waiter->request_id, Error(Errc::internal, "", e.what())));
        }
    }
}

void Service::connection_closed(ConnId conn) {
    std::vector<std::shared_ptr<Waiter>> gone;
    for (const auto& [name, waiter] : waiters_)
        if (waiter->conn_id == conn) gone.push_back(waiter);
    for (const auto& waiter : gone) unpark(waiter);
    registry_.connection_closed(conn);
}

void Service::stop() {
    for (auto& [name, waiter] : waiters_) waiter->timer.cancel();
    waiters_.clear();
    waits_per_conn_.clear();
}

mmm::Stats Service::stats() const {
    mmm::Stats s;
    s.daemon_pid = ::getpid();
    s.runtime_dir = identity_.runtime_dir;
    s.name_space = identity_.name_space;
    s.segment_dir = identity_.segment_dir;
    s.huge_dir = identity_.huge_dir;
    s.chunks = registry_.chunk_count();
    s.quarantined = registry_.quarantined_count();
    s.bytes = registry_.bytes_in_use();
    s.max_bytes = registry_.limits().max_bytes;
    s.max_chunks = registry_.limits().max_chunks;
    s.max_chunk_bytes = registry_.limits().max_chunk_bytes;
    s.connections = connection_count_();
    s.requests = requests_;
    s.uptime_ms =
        static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                       std::chrono::steady_clock::now() - identity_.started)
                                       .count());
    return s;
}

}  // namespace mmmd
