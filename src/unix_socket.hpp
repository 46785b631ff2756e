// Blocking Unix-socket I/O for the client side (and tests): connect, send a
// frame, receive a frame with the descriptors that came with it. Every
// failure becomes an mmm::Error; nothing above this looks at errno.
#pragma once

#include "protocol.hpp"
#include "unique_fd.hpp"

#include <sys/types.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace mmm::detail {

// A new Unix stream socket (close-on-exec), not connected yet.
UniqueFd unix_stream_socket();
// Connects `fd` to the daemon socket; Errc::daemon_unavailable with a hint when absent.
void connect_unix(int fd, const std::string& path);
// The uid of the process at the other end of a connected Unix socket (SO_PEERCRED).
uid_t peer_uid(int fd);

struct ReceivedFrame {
    proto::FrameHeader header;
    std::vector<std::byte> body;
    std::vector<UniqueFd> fds;
    // The kernel dropped descriptors sent with the frame (MSG_CTRUNC): this
    // process is at its limit of open files.
    bool fds_dropped = false;
};

// Sends all bytes (MSG_NOSIGNAL); throws daemon_unavailable on a closed peer.
void send_all(int fd, std::span<const std::byte> bytes);
// The receiving side of one connection to mmmd: hands out whole frames, one
// after another, reading the socket in as few recvmsg calls as the bytes
// allow. A reply's header and body come in one recvmsg when they are there
// together; bytes past the frame stay here for the next one. Descriptors go
// with the frame they were sent with (see attach_fds in unix_socket.cpp).
class FrameReader {
  public:
    // Receives the next whole frame before `deadline`; throws timeout /
    // daemon_unavailable / protocol_error (bad magic, version or oversize
    // body). Checks for it without sleeping for up to `spin` first
    // (ClientOptions::reply_spin). After a throw the stream is out of step:
    // reset() and reconnect.
    ReceivedFrame next(int fd, std::chrono::steady_clock::time_point deadline,
                       std::chrono::microseconds spin = std::chrono::microseconds(0));
    // Bytes of a frame are here already (next() may need no read).
    bool has_buffered() const { return begin_ < end_; }
    // Forgets what the previous connection left.
    void reset() noexcept;

  private:
    struct ReceivedFds {
        std::uint64_t last_byte = 0;  // stream offset of the last byte that came with them
        std::vector<UniqueFd> fds;
        bool dropped = false;
    };
    // One recvmsg of up to `most` bytes appended to buffer_ (more than zero).
    void read_some(int fd, std::size_t most, std::chrono::steady_clock::time_point deadline,
                   std::chrono::microseconds spin, bool wait_first);
    // Reads until `bytes` are buffered.
    void fill(int fd, std::size_t bytes, std::chrono::steady_clock::time_point deadline,
              std::chrono::microseconds spin, bool wait_first);
    std::vector<std::byte> buffer_;
    // Received bytes not handed out yet: [begin_, end_); buffer_ is the room.
    std::size_t begin_ = 0;
    std::size_t end_ = 0;
    std::uint64_t offset_ = 0;  // stream offset of buffer_[0]
    std::vector<ReceivedFds> fds_;
};

}  // namespace mmm::detail
