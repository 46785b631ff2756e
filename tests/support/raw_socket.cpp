#include "raw_socket.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace mmm::test {
namespace {

using Clock = std::chrono::steady_clock;

void put_le(std::vector<std::byte>& out, std::uint64_t v, int bytes) {
    for (int i = 0; i < bytes; ++i) out.push_back(static_cast<std::byte>((v >> (8 * i)) & 0xff));
}

std::uint64_t get_le(const std::byte* p, int bytes) {
    std::uint64_t v = 0;
    for (int i = 0; i < bytes; ++i)
        v |= std::uint64_t(std::to_integer<std::uint8_t>(p[i])) << (8 * i);
    return v;
}

Received received(Received::Kind kind) {
    Received r;
    r.kind = kind;
    return r;
}

}  // namespace

std::vector<std::byte> raw_frame(std::uint16_t type, std::uint32_t request_id,
                                 std::span<const std::byte> body, std::uint32_t magic,
                                 std::uint16_t version, std::optional<std::uint32_t> body_bytes) {
    // Encoded by hand (not with proto::encode_frame_header) so a test can send
    // headers the codec would never produce.
    std::vector<std::byte> out;
    put_le(out, magic, 4);
    put_le(out, version, 2);
    put_le(out, type, 2);
    put_le(out, request_id, 4);
    put_le(out, body_bytes.value_or(static_cast<std::uint32_t>(body.size())), 4);
    out.insert(out.end(), body.begin(), body.end());
    return out;
}

std::string Received::describe() const {
    switch (kind) {
        case Kind::closed:
            return "connection closed by mmmd";
        case Kind::timed_out:
            return "no answer before the deadline";
        case Kind::garbage:
            return "bytes that are not a frame";
        case Kind::frame:
            break;
    }
    std::string s = "frame type 0x" +
                    [&] {
                        char buf[8];
                        std::snprintf(buf, sizeof buf, "%04x", header.type);
                        return std::string(buf);
                    }() +
                    " id " + std::to_string(header.request_id) + " body " +
                    std::to_string(body.size());
    if (error) s += " error " + std::string(to_string(error->code)) + ": " + error->message;
    return s;
}

RawSocket::RawSocket(const std::string& path) {
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    if (path.size() >= sizeof addr.sun_path) throw std::runtime_error("socket path too long");
    std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
    fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd_ < 0) throw std::runtime_error(std::string("socket: ") + std::strerror(errno));
    if (::connect(fd_, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {
        int err = errno;
        ::close(fd_);
        fd_ = -1;
        throw std::runtime_error("connect " + path + ": " + std::strerror(err));
    }
}

RawSocket::~RawSocket() {
    if (fd_ >= 0) ::close(fd_);
}

bool RawSocket::send(std::span<const std::byte> bytes) {
    for (int rounds = 0; !bytes.empty() && rounds < 100'000; ++rounds) {
        ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            if (errno == EPIPE || errno == ECONNRESET) return false;
            throw std::runtime_error(std::string("send: ") + std::strerror(errno));
        }
        bytes = bytes.subspan(static_cast<std::size_t>(n));
    }
    return bytes.empty();
}

void RawSocket::shutdown_write() {
    ::shutdown(fd_, SHUT_WR);
}

RawSocket::ReadResult RawSocket::read_some(Clock::time_point deadline) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    pollfd p{fd_, POLLIN, 0};
    int r = ::poll(&p, 1, static_cast<int>(std::max<long long>(0, left.count())));
    if (r <= 0) return ReadResult::timed_out;
    std::byte buf[65536];
    ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
    if (n > 0) {
        buffer_.insert(buffer_.end(), buf, buf + n);
        return ReadResult::data;
    }
    if (n < 0 && errno == EINTR) return ReadResult::data;
    return ReadResult::closed;  // EOF or ECONNRESET
}

Received RawSocket::receive(std::chrono::milliseconds timeout) {
    auto deadline = Clock::now() + timeout;
    for (int rounds = 0; rounds < 100'000; ++rounds) {
        if (buffer_.size() >= proto::kFrameHeaderBytes) {
            Received r;
            r.header.magic = static_cast<std::uint32_t>(get_le(buffer_.data(), 4));
            r.header.version = static_cast<std::uint16_t>(get_le(buffer_.data() + 4, 2));
            r.header.type = static_cast<std::uint16_t>(get_le(buffer_.data() + 6, 2));
            r.header.request_id = static_cast<std::uint32_t>(get_le(buffer_.data() + 8, 4));
            r.header.body_bytes = static_cast<std::uint32_t>(get_le(buffer_.data() + 12, 4));
            if (r.header.magic != proto::kFrameMagic ||
                r.header.body_bytes > proto::kMaxReplyBody) {
                r.kind = Received::Kind::garbage;
                buffer_.clear();
                return r;
            }
            std::size_t total = proto::kFrameHeaderBytes + r.header.body_bytes;
            if (buffer_.size() >= total) {
                r.kind = Received::Kind::frame;
                r.body.assign(buffer_.begin() + proto::kFrameHeaderBytes, buffer_.begin() + total);
                buffer_.erase(buffer_.begin(), buffer_.begin() + total);
                if (r.header.type == static_cast<std::uint16_t>(proto::MessageType::reply_error)) {
                    try {
                        proto::Reader reader(r.body);
                        r.error = proto::decode_error(reader);
                    } catch (const std::exception&) {
                        r.kind = Received::Kind::garbage;
                    }
                }
                return r;
            }
        }
        switch (read_some(deadline)) {
            case ReadResult::data:
                continue;
            case ReadResult::closed:
                return received(Received::Kind::closed);
            case ReadResult::timed_out:
                return received(Received::Kind::timed_out);
        }
    }
    return received(Received::Kind::timed_out);
}

bool RawSocket::wait_closed(std::chrono::milliseconds timeout, std::vector<Received>* frames) {
    auto deadline = Clock::now() + timeout;
    for (int rounds = 0; rounds < 100'000; ++rounds) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
        if (left.count() <= 0) return false;
        Received r = receive(left);
        if (r.kind == Received::Kind::closed) return true;
        if (r.kind == Received::Kind::timed_out) return false;
        if (frames) frames->push_back(std::move(r));
    }
    return false;
}

}  // namespace mmm::test
