// One client connection: reads and frames requests, queues replies (with the
// descriptor a create or open hands over) and writes them without ever
// blocking the daemon. A stalled or hostile peer only ever costs its own
// buffers, and those are bounded: while more than kPauseReadingBytes of its
// replies wait to be read, its next requests wait too (mmmd stops reading
// them), so a client that never reads what it asked for holds at most that
// plus one reply.
#pragma once

#include "conn_id.hpp"
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

// Non-blocking send of bytes with an optional descriptor attached to the first
// byte: how every reply leaves mmmd (a frame's descriptor goes with its first
// bytes, which the client's FrameReader relies on). Returns bytes sent, 0 when
// the socket is full, -1 on a dead peer.
long send_some(int fd, std::span<const std::byte> bytes, int attach_fd);

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

    // Past this many unsent reply bytes, stop taking the peer's requests
    // until it has read them.
    static constexpr std::size_t kPauseReadingBytes = 256u << 10;

    Connection(Socket socket, ConnId id, Peer peer, ConnectionHandler& handler);

    void start();
    // Queues a frame; `fd` (if any) travels with its first byte.
    void send(std::vector<std::byte> frame, mmm::detail::UniqueFd fd = {});
    // Queues a last frame, stops reading, and closes once it is written (or soon anyway).
    void send_and_close(std::vector<std::byte> frame);
    void close();

    ConnId id() const { return id_; }
    // Memory this connection holds for its buffers (capacities), for the
    // daemon's memory bookkeeping.
    std::size_t buffered_bytes() const;
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
    std::array<std::byte, std::size_t{64} * 1024> chunk_{};
    std::vector<std::byte> input_;
    std::deque<Outgoing> output_;
    std::size_t queued_bytes_ = 0;
    bool waiting_writable_ = false;
    bool reading_ = false;  // an async read is outstanding
    bool parsing_ = false;
    std::size_t held_at_close_ =
        0;                  // parse_frames is running (replies it sends must not re-enter it)
    bool closing_ = false;  // no more reading; close after the output is flushed
    bool closed_ = false;
};

}  // namespace mmmd
