#include "unix_socket.hpp"

#include "posix_io.hpp"

#include <poll.h>
#include <sched.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace mmm::detail {
namespace {

constexpr std::size_t kMaxFdsPerFrame = 4;

[[noreturn]] void throw_gone(const std::string& what) {
    throw Error(Errc::daemon_unavailable, {}, what,
                "mmmd went away; start it again (mmmd) and retry");
}

// Waits until `fd` is readable or the deadline passes.
void wait_readable(int fd, std::chrono::steady_clock::time_point deadline) {
    for (;;) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            deadline - std::chrono::steady_clock::now());
        if (left.count() < 0)
            throw Error(Errc::timeout, {}, "mmmd did not answer in time",
                        "check that mmmd is healthy (mmmctl stats)");
        pollfd p{fd, POLLIN, 0};
        int rc = ::poll(&p, 1, static_cast<int>(std::min<long long>(left.count() + 1, 1 << 30)));
        if (rc > 0) return;
        if (rc < 0 && errno != EINTR) throw_errno("poll on the mmmd socket", errno);
    }
}

// Bytes one recvmsg asks for when the frame's size is not known yet: every
// reply but a page of a long list fits, so header and body come together.
constexpr std::size_t kReadBytes = 4096;
// A body this long is received straight into the frame, never copied.
constexpr std::size_t kDirectBodyBytes = std::size_t{64} * 1024;

struct Received {
    std::size_t bytes = 0;
    std::vector<UniqueFd> fds;
    bool fds_dropped = false;
};

// One recvmsg into `into` (more than zero bytes, with any descriptors that
// came along). Every read is non-blocking (the socket itself is blocking).
// `wait_first`: the bytes were only just asked for, so they are probably not
// there yet: with `spin`, try (yielding the CPU in between) until they come
// or `spin` passes, so the read that finds them is the check; without, sleep
// in poll first rather than pay an EAGAIN. Otherwise the rest of a frame
// sent in one piece is usually there: read, and wait only if it is not.
Received receive_some(int fd, std::span<std::byte> into,
                      std::chrono::steady_clock::time_point deadline,
                      std::chrono::microseconds spin, bool wait_first) {
    const bool spinning = wait_first && spin.count() > 0;
    const auto spin_until = spinning ? std::chrono::steady_clock::now() + spin
                                     : std::chrono::steady_clock::time_point::min();
    bool wait = wait_first && !spinning;
    for (;;) {
        if (wait) wait_readable(fd, deadline);
        iovec iov{into.data(), into.size()};
        alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * kMaxFdsPerFrame)];
        msghdr msg{};
        msg.msg_iov = &iov;
        msg.msg_iovlen = 1;
        msg.msg_control = control;
        msg.msg_controllen = sizeof control;
        ssize_t n = ::recvmsg(fd, &msg, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
        if (n < 0) {
            if (errno == EINTR) continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK) {
                if (spinning && !wait && std::chrono::steady_clock::now() < spin_until) {
                    ::sched_yield();
                } else {
                    wait = true;
                }
                continue;
            }
            if (errno == ECONNRESET) throw_gone("the connection to mmmd was reset");
            throw_errno("recvmsg from mmmd", errno);
        }
        Received got;
        for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
            if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
            std::size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
            for (std::size_t i = 0; i < count; ++i) {
                int received;
                std::memcpy(&received, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
                got.fds.emplace_back(received);
            }
        }
        got.fds_dropped = (msg.msg_flags & MSG_CTRUNC) != 0;
        if (n == 0) throw_gone("mmmd closed the connection");
        got.bytes = static_cast<std::size_t>(n);
        return got;
    }
}

void add_fds(ReceivedFrame& frame, std::vector<UniqueFd>& fds, bool dropped) {
    for (UniqueFd& fd : fds) frame.fds.push_back(std::move(fd));
    frame.fds_dropped = frame.fds_dropped || dropped;
}

}  // namespace

UniqueFd unix_stream_socket() {
    UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!fd) throw_errno("socket(AF_UNIX)", errno);
    return fd;
}

void connect_unix(int fd, const std::string& path) {
    sockaddr_un addr{};
    if (path.size() >= sizeof addr.sun_path)
        throw Error(Errc::invalid_argument, {}, "socket path too long: " + path,
                    "use a shorter MMM_RUNTIME_DIR");
    addr.sun_family = AF_UNIX;
    std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
    for (;;) {
        if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) return;
        if (errno == EINTR) continue;
        int err = errno;
        if (err == ENOENT || err == ECONNREFUSED)
            throw Error(Errc::daemon_unavailable, {},
                        "mmmd is not running (no daemon listens on " + path + ")",
                        "start it with `mmmd` or set MMM_RUNTIME_DIR to its runtime directory");
        if (err == EACCES || err == EPERM)
            throw Error(Errc::permission_denied, {},
                        "not allowed to connect to mmmd at " + path + ": " + std::strerror(err),
                        "ask the daemon's administrator for access (mmmd --group)");
        throw_errno("connect to mmmd at " + path, err, {}, Errc::daemon_unavailable);
    }
}

uid_t peer_uid(int fd) {
    ucred cred{};
    socklen_t len = sizeof cred;
    if (::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0)
        throw_errno("getsockopt(SO_PEERCRED) on the mmmd socket", errno, {},
                    Errc::daemon_unavailable);
    return cred.uid;
}

void send_all(int fd, std::span<const std::byte> bytes) {
    std::size_t sent = 0;
    while (sent < bytes.size()) {
        ssize_t n = ::send(fd, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR) continue;
            if (errno == EPIPE || errno == ECONNRESET || errno == ENOTCONN)
                throw_gone("the connection to mmmd is closed");
            throw_errno("send to mmmd", errno);
        }
        sent += static_cast<std::size_t>(n);
    }
}

void FrameReader::reset() noexcept {
    buffer_.clear();
    begin_ = 0;
    end_ = 0;
    offset_ = 0;
    fds_.clear();
}

// Descriptors come with the bytes of the sendmsg that carried them, and a
// recvmsg that picks them up ends there (Linux's unix_stream_read_generic
// stops after the piece that had them), though it may have begun with the
// bytes of an earlier frame. mmmd sends a frame's descriptors with its first
// bytes, so they belong to the frame that holds the last byte of that read.
void FrameReader::read_some(int fd, std::size_t most,
                            std::chrono::steady_clock::time_point deadline,
                            std::chrono::microseconds spin, bool wait_first) {
    if (begin_ == end_) {
        offset_ += end_;
        begin_ = end_ = 0;
    }
    if (buffer_.size() - end_ < most) {
        // Move what is left to the front, then grow if that is not room enough.
        std::copy(buffer_.begin() + static_cast<std::ptrdiff_t>(begin_),
                  buffer_.begin() + static_cast<std::ptrdiff_t>(end_), buffer_.begin());
        offset_ += begin_;
        end_ -= begin_;
        begin_ = 0;
        if (buffer_.size() - end_ < most) buffer_.resize(end_ + most);
    }
    Received got =
        receive_some(fd, std::span(buffer_).subspan(end_, most), deadline, spin, wait_first);
    end_ += got.bytes;
    if (!got.fds.empty() || got.fds_dropped)
        fds_.push_back({offset_ + end_ - 1, std::move(got.fds), got.fds_dropped});
}

void FrameReader::fill(int fd, std::size_t bytes, std::chrono::steady_clock::time_point deadline,
                       std::chrono::microseconds spin, bool wait_first) {
    while (end_ - begin_ < bytes) {
        read_some(fd, std::max(bytes - (end_ - begin_), kReadBytes), deadline, spin, wait_first);
        wait_first = false;  // the rest of a frame is usually there already
    }
}

ReceivedFrame FrameReader::next(int fd, std::chrono::steady_clock::time_point deadline,
                                std::chrono::microseconds spin) {
    fill(fd, proto::kFrameHeaderBytes, deadline, spin, /*wait_first=*/true);
    ReceivedFrame frame;
    frame.header = proto::decode_frame_header(
        std::span(buffer_).subspan(begin_).first<proto::kFrameHeaderBytes>());
    if (frame.header.magic != proto::kFrameMagic)
        throw Error(Errc::protocol_error, {}, "mmmd answered with a frame of bad magic",
                    "is something else listening on the mmmd socket?");
    if (frame.header.version != proto::kProtocolVersion)
        throw Error(Errc::protocol_error, {},
                    "mmmd speaks protocol version " + std::to_string(frame.header.version) +
                        ", this library speaks " + std::to_string(proto::kProtocolVersion),
                    "use an mmmd and a libmmm of the same release");
    if (frame.header.body_bytes > proto::kMaxReplyBody)
        throw Error(Errc::protocol_error, {}, "mmmd sent an oversized reply");
    const std::size_t body_bytes = frame.header.body_bytes;
    const std::uint64_t frame_end =
        offset_ + begin_ + proto::kFrameHeaderBytes + body_bytes;  // stream offset
    begin_ += proto::kFrameHeaderBytes;
    if (body_bytes < kDirectBodyBytes) fill(fd, body_bytes, deadline, spin, false);
    const std::size_t from_buffer = std::min(end_ - begin_, body_bytes);
    const auto first = buffer_.begin() + static_cast<std::ptrdiff_t>(begin_);
    frame.body.reserve(body_bytes);
    frame.body.assign(first, first + static_cast<std::ptrdiff_t>(from_buffer));
    begin_ += from_buffer;
    while (!fds_.empty() && fds_.front().last_byte < frame_end) {
        add_fds(frame, fds_.front().fds, fds_.front().dropped);
        fds_.erase(fds_.begin());
    }
    if (from_buffer < body_bytes) {
        // A long body: the rest straight into the frame, never reading past it.
        frame.body.resize(body_bytes);
        for (std::size_t got = from_buffer; got < body_bytes;) {
            Received more = receive_some(fd, std::span(frame.body).subspan(got), deadline, spin,
                                         /*wait_first=*/false);
            got += more.bytes;
            add_fds(frame, more.fds, more.fds_dropped);
        }
        offset_ = frame_end;  // the buffer ended inside this frame: it is empty
        begin_ = end_ = 0;
    }
    return frame;
}

}  // namespace mmm::detail
