#include "unix_socket.hpp"

#include "posix_io.hpp"

#include <poll.h>
#include <sched.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <array>
#include <cerrno>
#include <cstring>

namespace mmm::detail {
namespace {

constexpr std::size_t kMaxFdsPerFrame = 4;

[[noreturn]] void throw_gone(const std::string& what) {
    throw Error(Errc::daemon_unavailable, {}, what,
                "mmmd went away; start it again (mmmd) and retry");
}

// Checks `fd` without sleeping until it is readable or `spin` has passed.
// Sleeping in poll costs a wake-up when the reply comes, tens of microseconds
// on a virtual machine, while mmmd usually answers within a few: so check
// first, yielding the CPU between checks so that on a busy machine mmmd (or
// anyone else runnable here) gets it instead of being kept waiting by the spin.
bool readable_within(int fd, std::chrono::microseconds spin) {
    if (spin.count() <= 0) return false;
    const auto until = std::chrono::steady_clock::now() + spin;
    do {
        pollfd p{fd, POLLIN, 0};
        if (::poll(&p, 1, 0) > 0) return true;
        ::sched_yield();
    } while (std::chrono::steady_clock::now() < until);
    return false;
}

// Waits until `fd` is readable or the deadline passes.
void wait_readable(int fd, std::chrono::steady_clock::time_point deadline,
                   std::chrono::microseconds spin) {
    if (readable_within(fd, spin)) return;
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

// Reads exactly out.size() bytes, collecting any descriptors that come along.
// Every read is non-blocking (the socket itself is blocking): poll only runs
// before the first read when `poll_first` (a reply that was only just asked
// for is not there yet, so trying first would cost an EAGAIN), and after a
// read that found nothing. Bytes that are already there cost one recvmsg.
void receive_exact(int fd, std::span<std::byte> out, ReceivedFrame& frame,
                   std::chrono::steady_clock::time_point deadline, bool poll_first,
                   std::chrono::microseconds spin) {
    std::size_t got = 0;
    bool wait = poll_first;
    while (got < out.size()) {
        if (wait) wait_readable(fd, deadline, spin);
        iovec iov{out.data() + got, out.size() - got};
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
                wait = true;
                continue;
            }
            if (errno == ECONNRESET) throw_gone("the connection to mmmd was reset");
            throw_errno("recvmsg from mmmd", errno);
        }
        for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
            if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
            std::size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
            for (std::size_t i = 0; i < count; ++i) {
                int received;
                std::memcpy(&received, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
                frame.fds.emplace_back(received);
            }
        }
        if (msg.msg_flags & MSG_CTRUNC) frame.fds_dropped = true;
        if (n == 0) throw_gone("mmmd closed the connection");
        got += static_cast<std::size_t>(n);
        wait = false;  // the rest (a body sent with its header) is usually there already
    }
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

// Reads the header, then exactly the body it announces, never past the end of
// the frame: ClientCore reads frames one after another from the stream and
// keeps nothing between calls. mmmd sends a reply's header and body in one
// sendmsg, so the common case is poll (a few, when spinning) + recvmsg
// (header) + recvmsg (body), or poll + recvmsg for a reply without a body.
ReceivedFrame receive_frame(int fd, std::chrono::steady_clock::time_point deadline,
                            std::chrono::microseconds spin) {
    ReceivedFrame frame;
    std::array<std::byte, proto::kFrameHeaderBytes> head{};
    receive_exact(fd, head, frame, deadline, /*poll_first=*/true, spin);
    frame.header = proto::decode_frame_header(head);
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
    frame.body.resize(frame.header.body_bytes);
    receive_exact(fd, frame.body, frame, deadline, /*poll_first=*/false, spin);
    return frame;
}

}  // namespace mmm::detail
