#include "server.hpp"

#include "posix_io.hpp"

#include <fcntl.h>
#include <malloc.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>

namespace mmmd {

namespace asio = boost::asio;
using stream = asio::local::stream_protocol;

namespace {

// How long accepting rests after a connection was refused at the open-file
// limit; at most this many refusals a second cost CPU.
constexpr std::chrono::milliseconds kAcceptPause{10};
constexpr std::chrono::seconds kLimitLogInterval{10};
// Closed connections' buffers are handed back to the system past this much.
constexpr std::size_t kTrimAfterBytes = 8u << 20;

mmm::detail::UniqueFd open_reserve() {
    return mmm::detail::UniqueFd(::open("/dev/null", O_RDONLY | O_CLOEXEC));
}

}  // namespace

Server::Server(asio::io_context& io, Registry& registry, const Config& config,
               DaemonIdentity identity, std::string socket_path)
    : io_(io),
      registry_(registry),
      config_(config),
      socket_path_(std::move(socket_path)),
      acceptor_(io),
      signals_(io, SIGTERM, SIGINT),
      service_(io, registry, std::move(identity), [this] { return connections_.size(); }),
      pid_watch_(io),
      accept_pause_(io),
      check_timer_(io),
      reserve_fd_(open_reserve()) {
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
    check_segments_later();
}

void Server::check_segments_later() {
    if (config_.check_interval.count() <= 0) return;
    check_timer_.expires_after(config_.check_interval);
    check_timer_.async_wait([this](const boost::system::error_code& ec) {
        if (ec || stopping_) return;
        // A whole round in about 30 checks, at least 256 segments a check.
        const std::size_t budget = std::max<std::size_t>(256, registry_.chunk_count() / 30 + 1);
        registry_.check_segments(budget);
        check_segments_later();
    });
}

bool Server::is_private() const {
    return !config_.group && (config_.socket_mode & 077) == 0;
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
        } else if (ec == asio::error::operation_aborted) {
            return;
        } else if (ec == asio::error::no_descriptors || ec.value() == ENFILE ||
                   ec.value() == ENOBUFS || ec.value() == ENOMEM) {
            refuse_one_at_limit(ec);
            accept_pause_.expires_after(kAcceptPause);
            accept_pause_.async_wait([this](const boost::system::error_code& e) {
                if (!e && !stopping_) accept_next();
            });
            return;
        } else {
            spdlog::warn("accept failed: {}", ec.message());
        }
        accept_next();
    });
}

void Server::refuse_one_at_limit(const boost::system::error_code& ec) {
    ++refused_at_limit_;
    const auto now = std::chrono::steady_clock::now();
    if (now - limit_logged_ >= kLimitLogInterval) {
        spdlog::error(
            "accept failed: {}; refusing connections until descriptors are free "
            "({} refused so far; raise mmmd's open-file limit, LimitNOFILE=)",
            ec.message(), refused_at_limit_);
        limit_logged_ = now;
    }
    reserve_fd_.reset();
    const int fd =
        ::accept4(acceptor_.native_handle(), nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (fd >= 0) {
        const auto notice = mmm::proto::make_error_reply(
            0, {mmm::Errc::limit_exceeded, "",
                "mmmd has as many files open as it may (its open-file limit); it cannot take "
                "this connection now",
                "retry later; the administrator can raise mmmd's limit (LimitNOFILE=)"});
        [[maybe_unused]] auto sent =
            ::send(fd, notice.data(), notice.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
        ::close(fd);
    }
    reserve_fd_ = open_reserve();
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
    // File modes keep other users from a private daemon's socket; this keeps
    // them out even when someone loosened those modes by hand.
    if (is_private() && peer.uid != ::geteuid() && peer.uid != 0) {
        spdlog::warn("refusing a connection from pid {} uid {}: this mmmd serves only uid {}",
                     peer.pid, peer.uid, ::geteuid());
        conn->send_and_close(mmm::proto::make_error_reply(
            0, {mmm::Errc::permission_denied, "",
                "this mmmd serves only its own user (uid " + std::to_string(::geteuid()) + ")",
                "start an mmmd of your own, or ask for a shared one (mmmd --group)"}));
        return;
    }
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
    // A client that asked for much and read little leaves large buffers:
    // give that memory back rather than keep it in the allocator's arenas.
    freed_buffers_ += conn.buffered_bytes();
    if (freed_buffers_ > kTrimAfterBytes) {
        ::malloc_trim(0);
        freed_buffers_ = 0;
    }
}

void Server::stop(int signal) {
    spdlog::info("received signal {}, stopping", signal);
    stopping_ = true;
    boost::system::error_code ignored;
    acceptor_.close(ignored);
    signals_.cancel(ignored);
    accept_pause_.cancel();
    check_timer_.cancel();
    service_.stop();
    pid_watch_.stop();
    auto connections = std::move(connections_);
    connections_.clear();
    for (auto& [id, conn] : connections) conn->close();
    // Refused connections may still linger on their last reply: do not wait for them.
    io_.stop();
}

}  // namespace mmmd
