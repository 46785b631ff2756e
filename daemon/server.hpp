// mmmd's event loop: the listening socket (who may connect, what happens at
// the open-file limit), per-uid connection limits, the connections themselves,
// shutdown on SIGTERM/SIGINT, watching the creators of adopted session chunks,
// and the periodic check of the segments. Single-threaded: everything runs on
// one io_context.
#pragma once

#include "config.hpp"
#include "connection.hpp"
#include "pid_watch.hpp"
#include "registry.hpp"
#include "service.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>

#include <map>
#include <memory>
#include <string>
#include <vector>

namespace mmmd {

class Server final : public ConnectionHandler {
  public:
    Server(boost::asio::io_context& io, Registry& registry, const Config& config,
           DaemonIdentity identity, std::string socket_path);
    ~Server();

    // Binds the socket (replacing a stale one) with the configured mode and group.
    void listen();
    // Starts accepting and handling signals; io_context::run() does the rest.
    void start();
    void watch_creators(const std::vector<Registry::Orphan>& orphans);

    void on_frame(const std::shared_ptr<Connection>& conn, const mmm::proto::FrameHeader& header,
                  std::span<const std::byte> body) override;
    void on_closed(Connection& conn) override;

  private:
    void accept_next();
    void on_accept(boost::asio::local::stream_protocol::socket socket);
    // Out of descriptors: the reserve one makes room to take the waiting
    // connection and tell it why it is refused, so it is not left hanging and
    // the acceptor does not spin on a connection it cannot take.
    void refuse_one_at_limit(const boost::system::error_code& ec);
    // Whether this mmmd serves only its own user (no --group, a private socket mode).
    bool is_private() const;
    void check_segments_later();
    void stop(int signal);

    boost::asio::io_context& io_;
    Registry& registry_;
    const Config& config_;
    std::string socket_path_;
    boost::asio::local::stream_protocol::acceptor acceptor_;
    boost::asio::signal_set signals_;
    Service service_;
    PidWatch pid_watch_;
    std::map<ConnId, std::shared_ptr<Connection>> connections_;
    std::map<uid_t, std::uint64_t> per_uid_;
    boost::asio::steady_timer accept_pause_;
    boost::asio::steady_timer check_timer_;
    mmm::detail::UniqueFd reserve_fd_;
    std::uint64_t refused_at_limit_ = 0;
    std::chrono::steady_clock::time_point limit_logged_{};
    std::size_t freed_buffers_ = 0;  // buffer memory of closed connections since the last trim
    ConnId next_id_ = 1;
    bool listening_ = false;
    bool stopping_ = false;
};

}  // namespace mmmd
