// Blocking Unix-socket I/O for the client side (and tests): connect, send a
// frame, receive a frame with the descriptors that came with it. Every
// failure becomes an mmm::Error; nothing above this looks at errno.
#pragma once

#include "protocol.hpp"
#include "unique_fd.hpp"

#include <chrono>
#include <cstddef>
#include <span>
#include <string>
#include <vector>

namespace mmm::detail {

// A new Unix stream socket (close-on-exec), not connected yet.
UniqueFd unix_stream_socket();
// Connects `fd` to the daemon socket; Errc::daemon_unavailable with a hint when absent.
void connect_unix(int fd, const std::string& path);
// Both in one.
UniqueFd connect_unix(const std::string& path);

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
// Receives one whole frame before `deadline`; throws timeout / daemon_unavailable /
// protocol_error (bad magic, version or oversize body). Checks for the reply
// without sleeping for up to `spin` first (ClientOptions::reply_spin).
ReceivedFrame receive_frame(int fd, std::chrono::steady_clock::time_point deadline,
                            std::chrono::microseconds spin = std::chrono::microseconds(0));

// Non-blocking send of bytes with an optional descriptor attached to the first
// byte; returns bytes sent, 0 on EAGAIN, -1 on a dead peer. For the daemon.
long send_some(int fd, std::span<const std::byte> bytes, int attach_fd);

}  // namespace mmm::detail
