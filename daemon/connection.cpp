#include "connection.hpp"

#include "unix_socket.hpp"

#include <spdlog/spdlog.h>

#include <chrono>

namespace mmmd {

namespace asio = boost::asio;
namespace proto = mmm::proto;

namespace {

// How long a connection being closed may take to read its last reply.
constexpr std::chrono::seconds kLinger{5};

// A frame whose length can be trusted: the stream can resynchronise after it.
bool framing_ok(const proto::FrameHeader& h) {
    return h.magic == proto::kFrameMagic && h.version == proto::kProtocolVersion &&
           h.body_bytes <= proto::kMaxRequestBody;
}

std::vector<std::byte> protocol_error(std::uint32_t request_id, std::string message) {
    return proto::make_error_reply(request_id,
                                   {mmm::Errc::protocol_error, "", std::move(message),
                                    "the client and mmmd may be different versions; upgrade both"});
}

}  // namespace

Connection::Connection(Socket socket, ConnId id, Peer peer, ConnectionHandler& handler)
    : socket_(std::move(socket)),
      id_(id),
      peer_(std::move(peer)),
      handler_(handler),
      linger_(socket_.get_executor()) {
    peer_.socket_fd = socket_.native_handle();
}

void Connection::start() {
    read_more();
}

void Connection::read_more() {
    socket_.async_read_some(
        asio::buffer(chunk_),
        [self = shared_from_this()](const auto& ec, std::size_t n) { self->on_read(ec, n); });
}

void Connection::on_read(const boost::system::error_code& ec, std::size_t n) {
    if (closed_) return;
    if (ec) {
        if (ec != asio::error::eof && ec != asio::error::connection_reset)
            spdlog::debug("connection {}: read failed: {}", id_, ec.message());
        return close();
    }
    input_.insert(input_.end(), chunk_.begin(), chunk_.begin() + static_cast<std::ptrdiff_t>(n));
    parse_frames();
    if (!closing_ && !closed_) read_more();
}

void Connection::parse_frames() {
    std::size_t pos = 0;
    while (!closing_ && !closed_ && input_.size() - pos >= proto::kFrameHeaderBytes) {
        auto header =
            proto::decode_frame_header(std::span<const std::byte, proto::kFrameHeaderBytes>(
                input_.data() + pos, proto::kFrameHeaderBytes));
        if (!framing_ok(header)) {
            std::string why = proto::check_request_header(header);
            spdlog::warn("connection {} (pid {} uid {}): {}; closing it", id_, peer_.pid, peer_.uid,
                         why);
            send_and_close(protocol_error(header.request_id, why));
            break;
        }
        if (input_.size() - pos - proto::kFrameHeaderBytes < header.body_bytes) break;
        std::span<const std::byte> body(input_.data() + pos + proto::kFrameHeaderBytes,
                                        header.body_bytes);
        pos += proto::kFrameHeaderBytes + header.body_bytes;
        take_frame(header, body);
    }
    input_.erase(input_.begin(), input_.begin() + static_cast<std::ptrdiff_t>(pos));
}

void Connection::take_frame(const proto::FrameHeader& h, std::span<const std::byte> body) {
    // A well-framed request of an unknown type is answered, and the stream goes on.
    if (std::string why = proto::check_request_header(h); !why.empty()) {
        send(protocol_error(h.request_id, why));
        return;
    }
    handler_.on_frame(shared_from_this(), h, body);
}

void Connection::send(std::vector<std::byte> frame, mmm::detail::UniqueFd fd) {
    if (closed_) return;
    queued_bytes_ += frame.size();
    output_.push_back({std::move(frame), std::move(fd), 0});
    if (queued_bytes_ > kMaxQueuedBytes) {
        spdlog::warn("connection {} (pid {} uid {}) does not read its replies; dropping it", id_,
                     peer_.pid, peer_.uid);
        return close();
    }
    flush();
}

void Connection::send_and_close(std::vector<std::byte> frame) {
    closing_ = true;
    linger_.expires_after(kLinger);
    linger_.async_wait([self = shared_from_this()](const auto& ec) {
        if (!ec) self->close();
    });
    send(std::move(frame));
}

void Connection::flush() {
    while (!output_.empty() && !waiting_writable_) {
        Outgoing& out = output_.front();
        std::span<const std::byte> rest(out.bytes.data() + out.sent, out.bytes.size() - out.sent);
        long n = mmm::detail::send_some(socket_.native_handle(), rest, out.fd ? out.fd.get() : -1);
        if (n < 0) return close();
        if (n == 0) {
            waiting_writable_ = true;
            socket_.async_wait(Socket::wait_write, [self = shared_from_this()](const auto& ec) {
                self->waiting_writable_ = false;
                if (!ec && !self->closed_) self->flush();
            });
            return;
        }
        out.fd.reset();  // the message in flight holds its own reference now
        out.sent += static_cast<std::size_t>(n);
        queued_bytes_ -= static_cast<std::size_t>(n);
        if (out.sent == out.bytes.size()) output_.pop_front();
    }
    if (output_.empty() && closing_) close();
}

void Connection::close() {
    if (closed_) return;
    closed_ = true;
    boost::system::error_code ignored;
    linger_.cancel();
    socket_.close(ignored);
    output_.clear();
    handler_.on_closed(*this);
}

}  // namespace mmmd
