#include "connection.hpp"

#include <spdlog/spdlog.h>
#include <sys/socket.h>

#include <cerrno>
#include <chrono>
#include <cstring>

namespace mmmd {

namespace asio = boost::asio;
namespace proto = mmm::proto;

namespace {

// How long a connection being closed may take to read its last reply.
constexpr std::chrono::seconds kLinger{5};

std::vector<std::byte> protocol_error(std::uint32_t request_id, std::string message) {
    return proto::make_error_reply(
        request_id, {mmm::Errc::protocol_error, "", std::move(message), proto::kVersionHint});
}

}  // namespace

long send_some(int fd, std::span<const std::byte> bytes, int attach_fd) {
    iovec iov{const_cast<std::byte*>(bytes.data()), bytes.size()};
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))];
    if (attach_fd >= 0) {
        std::memset(control, 0, sizeof control);
        msg.msg_control = control;
        msg.msg_controllen = sizeof control;
        cmsghdr* c = CMSG_FIRSTHDR(&msg);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int));
        std::memcpy(CMSG_DATA(c), &attach_fd, sizeof(int));
    }
    for (;;) {
        ssize_t n = ::sendmsg(fd, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n >= 0) return n;
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) return 0;
        return -1;
    }
}

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
    if (reading_ || closing_ || closed_ || queued_bytes_ > kPauseReadingBytes) return;
    reading_ = true;
    socket_.async_read_some(
        asio::buffer(chunk_),
        [self = shared_from_this()](const auto& ec, std::size_t n) { self->on_read(ec, n); });
}

void Connection::on_read(const boost::system::error_code& ec, std::size_t n) {
    reading_ = false;
    if (closed_) return;
    if (ec) {
        if (ec != asio::error::eof && ec != asio::error::connection_reset)
            spdlog::debug("connection {}: read failed: {}", id_, ec.message());
        return close();
    }
    input_.insert(input_.end(), chunk_.begin(), chunk_.begin() + static_cast<std::ptrdiff_t>(n));
    parse_frames();
    read_more();
}

void Connection::parse_frames() {
    parsing_ = true;
    std::size_t pos = 0;
    // A peer that does not read its replies gets no more of them until it does.
    while (!closing_ && !closed_ && queued_bytes_ <= kPauseReadingBytes &&
           input_.size() - pos >= proto::kFrameHeaderBytes) {
        auto header =
            proto::decode_frame_header(std::span<const std::byte, proto::kFrameHeaderBytes>(
                input_.data() + pos, proto::kFrameHeaderBytes));
        if (!proto::framing_ok(header)) {
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
    if (input_.empty() && input_.capacity() > chunk_.size()) input_.shrink_to_fit();
    parsing_ = false;
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
        long n = send_some(socket_.native_handle(), rest, out.fd ? out.fd.get() : -1);
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
    if (output_.empty() && closing_) return close();
    // Replies read: take the requests that waited, then read on.
    if (queued_bytes_ <= kPauseReadingBytes && !closing_ && !closed_) {
        // Not from inside parse_frames (a reply sent while it runs): it goes on by itself.
        if (parsing_) return;
        if (input_.size() >= proto::kFrameHeaderBytes) parse_frames();
        read_more();
    }
}

std::size_t Connection::buffered_bytes() const {
    if (closed_) return held_at_close_;
    std::size_t out = input_.capacity() + chunk_.size();
    for (const Outgoing& o : output_) out += o.bytes.capacity();
    return out;
}

void Connection::close() {
    if (closed_) return;
    held_at_close_ = buffered_bytes();
    closed_ = true;
    boost::system::error_code ignored;
    linger_.cancel();
    socket_.close(ignored);
    output_.clear();
    handler_.on_closed(*this);
}

}  // namespace mmmd
