#include "server.hpp"

#include "system_error.hpp"

#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>

namespace mmmd {

namespace asio = boost::asio;
using stream = asio::local::stream_protocol;

Server::Server(asio::io_context& io, Registry& registry, const Config& config,
               DaemonIdentity identity, std::string socket_path)
    : io_(io),
      registry_(registry),
      config_(config),
      socket_path_(std::move(socket_path)),
      acceptor_(io),
      signals_(io, SIGTERM, SIGINT),
      service_(io, registry, std::move(identity), [this] { return connections_.size(); }),
      pid_watch_(io) {
    registry_.set_event_loop(
        [&io](std::function<void()> work) { asio::post(io, std::move(work)); });
}

Server::~Server() {
    if (listening_) ::unlink(socket_path_.c_str());
}

void Server::listen() {
    // We hold the instance lock, so a socket file left here is a dead daemon's.
    if (::unlink(socket_path_.c_str()) != 0 && errno != ENOENT)
        mmm::detail::throw_errno("removing the stale socket " + socket_path_, errno);
    stream::endpoint endpoint(socket_path_);
    acceptor_.open(endpoint.protocol());
    acceptor_.bind(endpoint);
    listening_ = true;
    if (::chmod(socket_path_.c_str(), config_.socket_mode) != 0)
        mmm::detail::throw_errno("chmod of " + socket_path_, errno);
    if (config_.group && ::chown(socket_path_.c_str(), static_cast<uid_t>(-1), *config_.group) != 0)
        mmm::detail::throw_errno("chgrp of " + socket_path_, errno);
    acceptor_.listen(stream::acceptor::max_listen_connections);
}

void Server::start() {
    signals_.async_wait([this](const boost::system::error_code& ec, int signal) {
        if (!ec) stop(signal);
    });
    accept_next();
}

void Server::watch_creators(const std::vector<Registry::Orphan>& orphans) {
    for (const auto& orphan : orphans) {
        bool watched = pid_watch_.watch(orphan.creator_pid,
                                        [this, orphan] { registry_.creator_exited(orphan); });
        if (!watched)
            spdlog::warn(
                "cannot watch pid {}, creator of session chunk '{}'; it stays until removed",
                orphan.creator_pid, orphan.name);
    }
}

void Server::accept_next() {
    acceptor_.async_accept([this](const boost::system::error_code& ec, stream::socket socket) {
        if (stopping_) return;
        if (!ec) {
            on_accept(std::move(socket));
        } else if (ec != asio::error::operation_aborted) {
            // EMFILE and friends: keep the daemon up; the peer sees its connect fail.
            spdlog::warn("accept failed: {}", ec.message());
        }
        accept_next();
    });
}

void Server::on_accept(stream::socket socket) {
    Peer peer;
    try {
        peer = peer_of(socket.native_handle());
    } catch (const std::exception& e) {
        spdlog::warn("dropping a connection: {}", e.what());
        return;
    }
    const ConnId id = next_id_++;
    auto conn = std::make_shared<Connection>(std::move(socket), id, peer, *this);
    std::uint64_t& count = per_uid_[peer.uid];
    if (count >= config_.limits.max_connections_per_uid) {
        spdlog::warn("refusing a connection from pid {} uid {}: it has {} already", peer.pid,
                     peer.uid, count);
        if (count == 0) per_uid_.erase(peer.uid);
        conn->send_and_close(mmm::proto::make_error_reply(
            0, {mmm::Errc::limit_exceeded, "",
                "uid " + std::to_string(peer.uid) + " already has " + std::to_string(count) +
                    " connections to mmmd (--max-connections-per-uid)",
                "close idle clients (one mmm::Client per process is enough)"}));
        return;
    }
    ++count;
    connections_.emplace(id, conn);
    spdlog::debug("connection {} from pid {} uid {} gid {}", id, peer.pid, peer.uid, peer.gid);
    conn->start();
}

void Server::on_frame(const std::shared_ptr<Connection>& conn,
                      const mmm::proto::FrameHeader& header, std::span<const std::byte> body) {
    service_.handle(conn, header, body);
}

void Server::on_closed(Connection& conn) {
    // At shutdown connections close without ending their sessions: chunks survive mmmd.
    if (stopping_) return;
    auto it = connections_.find(conn.id());
    if (it == connections_.end()) return;  // a refused connection
    auto keep = it->second;                // `conn` must outlive this call
    connections_.erase(it);
    if (auto u = per_uid_.find(conn.peer().uid); u != per_uid_.end() && --u->second == 0)
        per_uid_.erase(u);
    spdlog::debug("connection {} (pid {}) closed", conn.id(), conn.peer().pid);
    service_.connection_closed(conn.id());
}

void Server::stop(int signal) {
    spdlog::info("received signal {}, stopping", signal);
    stopping_ = true;
    boost::system::error_code ignored;
    acceptor_.close(ignored);
    signals_.cancel(ignored);
    service_.stop();
    pid_watch_.stop();
    auto connections = std::move(connections_);
    connections_.clear();
    for (auto& [id, conn] : connections) conn->close();
    // Refused connections may still linger on their last reply: do not wait for them.
    io_.stop();
}

}  // namespace mmmd
