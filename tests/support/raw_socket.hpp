// RawSocket: a bare connection to mmmd's socket that sends whatever bytes a
// test wants (malformed frames, half frames, garbage) and reads what comes
// back, always with a deadline. No mmm client logic is involved.
//
// Thread-safety: one RawSocket belongs to one thread.
#pragma once

#include "protocol.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace mmm::test {

// A frame header (16 bytes, as on the wire) followed by `body`; any field may
// be wrong on purpose.
std::vector<std::byte> raw_frame(std::uint16_t type, std::uint32_t request_id,
                                 std::span<const std::byte> body,
                                 std::uint32_t magic = proto::kFrameMagic,
                                 std::uint16_t version = proto::kProtocolVersion,
                                 std::optional<std::uint32_t> body_bytes = std::nullopt);

// What the daemon did in answer.
struct Received {
    enum class Kind {
        frame,      // a whole frame arrived (header + body)
        closed,     // the daemon closed the connection (EOF or reset) first
        timed_out,  // nothing conclusive before the deadline
        garbage,    // bytes that are not a frame (bad magic or oversize)
    };
    Kind kind = Kind::timed_out;
    proto::FrameHeader header{};
    std::vector<std::byte> body;
    // Decoded when the frame is a reply_error.
    std::optional<proto::ErrorReply> error;

    bool is_error_frame() const { return kind == Kind::frame && error.has_value(); }
    bool is_ok_frame() const {
        return kind == Kind::frame &&
               header.type == static_cast<std::uint16_t>(proto::MessageType::reply_ok);
    }
    std::string describe() const;
};

class RawSocket {
  public:
    // Connects to the Unix socket; throws std::runtime_error on failure.
    explicit RawSocket(const std::string& path);
    ~RawSocket();
    RawSocket(const RawSocket&) = delete;
    RawSocket& operator=(const RawSocket&) = delete;

    // Sends all bytes; false when the peer has closed (EPIPE / ECONNRESET).
    bool send(std::span<const std::byte> bytes);
    void shutdown_write();
    // The next frame, or how the wait ended.
    Received receive(std::chrono::milliseconds timeout = std::chrono::seconds(10));
    // Reads and discards until the daemon closes; false if it does not within
    // the timeout. Frames read meanwhile are appended to `frames` if given.
    bool wait_closed(std::chrono::milliseconds timeout = std::chrono::seconds(10),
                     std::vector<Received>* frames = nullptr);
    int fd() const { return fd_; }

  private:
    // Reads once (poll up to timeout); false on EOF/reset or timeout.
    enum class ReadResult { data, closed, timed_out };
    ReadResult read_some(std::chrono::steady_clock::time_point deadline);

    int fd_ = -1;
    std::vector<std::byte> buffer_;
};

}  // namespace mmm::test
