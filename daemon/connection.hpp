// One client connection: reads and frames requests, queues replies (with the
// descriptor a create or open hands over) and writes them without ever
// blocking the daemon. A stalled or hostile peer only ever costs its own buffers.
#pragma once

#include "peer.hpp"

#include "protocol.hpp"
#include "unique_fd.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/steady_timer.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <span>
#include <vector>

namespace mmmd {

using ConnId = std::uint64_t;
class Connection;

// What a connection reports to its owner.
class ConnectionHandler {
  public:
    // A request frame with a known type and a complete body.
    virtual void on_frame(const std::shared_ptr<Connection>& conn,
                          const mmm::proto::FrameHeader& header,
                          std::span<const std::byte> body) = 0;
    // Called once, when the connection is closed for any reason.
    virtual void on_closed(Connection& conn) = 0;

  protected:
    ~ConnectionHandler() = default;
};

class Connection : public std::enable_shared_from_this<Connection> {
  public:
    using Socket = boost::asio::local::stream_protocol::socket;

    // Beyond this many unsent reply bytes the peer is not reading: drop it.
    static constexpr std::size_t kMaxQueuedBytes = 16u << 20;

    Connection(Socket socket, ConnId id, Peer peer, ConnectionHandler& handler);

    void start();
    // Queues a frame; `fd` (if any) travels with its first byte.
    void send(std::vector<std::byte> frame, mmm::detail::UniqueFd fd = {});
    // Queues a last frame, stops reading, and closes once it is written (or soon anyway).
    void send_and_close(std::vector<std::byte> frame);
    void close();

    ConnId id() const { return id_; }
    const Peer& peer() const { return peer_; }
    bool closed() const { return closed_; }

  private:
    struct Outgoing {
        std::vector<std::byte> bytes;
        mmm::detail::UniqueFd fd;
        std::size_t sent = 0;
    };

    void read_more();
    void on_read(const boost::system::error_code& ec, std::size_t n);
    void parse_frames();
    void take_frame(const mmm::proto::FrameHeader& h, std::span<const std::byte> body);
    void flush();

    Socket socket_;
    ConnId id_;
    Peer peer_;
    ConnectionHandler& handler_;
    boost::asio::steady_timer linger_;
    std::array<std::byte, 64 * 1024> chunk_{};
    std::vector<std::byte> input_;
    std::deque<Outgoing> output_;
    std::size_t queued_bytes_ = 0;
    bool waiting_writable_ = false;
    bool closing_ = false;  // no more reading; close after the output is flushed
    bool closed_ = false;
};

}  // namespace mmmd
