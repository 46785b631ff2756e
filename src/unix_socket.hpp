// Blocking Unix-socket I/O for the client side (and tests): connect, send a
// frame, receive a frame with the descriptors that came with it. Every
// failure becomes an mmm::Error; nothing above this looks at errno.
#pragma once

#include "protocol.hpp"
#include "unique_fd.hpp"

#include <sys/types.h>

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
// Receives one whole frame before `deadline`; throws timeout / daemon_unavailable /
// protocol_error (bad magic, version or oversize body). Checks for the reply
// without sleeping for up to `spin` first (ClientOptions::reply_spin).
ReceivedFrame receive_frame(int fd, std::chrono::steady_clock::time_point deadline,
                            std::chrono::microseconds spin = std::chrono::microseconds(0));

}  // namespace mmm::detail
