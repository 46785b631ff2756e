// The client's frame reader on a real socketpair: frames that arrive glued
// together in one recvmsg come out one by one, each with the descriptors that
// were sent with it, however the kernel groups the bytes. Starts no daemon.
#include "connection.hpp"
#include "protocol.hpp"
#include "unix_socket.hpp"

#include <mmm/error.hpp>

#include <gtest/gtest.h>

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <thread>

namespace {

namespace proto = mmm::proto;
using mmm::detail::FrameReader;
using mmm::detail::ReceivedFrame;
using mmm::detail::UniqueFd;

struct SocketPair {
    UniqueFd client, daemon;
    SocketPair() {
        int fds[2];
        if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0)
            throw std::runtime_error("socketpair failed");
        client = UniqueFd(fds[0]);
        daemon = UniqueFd(fds[1]);
    }
};

std::vector<std::byte> frame_of(std::uint32_t id, std::size_t body_bytes) {
    return proto::make_frame(proto::MessageType::reply_ok, id, [&](mmm::detail::Writer& w) {
        for (std::size_t i = 0; i < body_bytes; ++i) w.u8(static_cast<std::uint8_t>(id + i));
    });
}

// With mmmd's own send (its descriptor goes with the first bytes), waiting
// while the socket is full, until the kernel took every byte.
void send_frame(int fd, const std::vector<std::byte>& frame, int passed = -1) {
    std::span<const std::byte> rest(frame);
    while (!rest.empty()) {
        const long n = mmmd::send_some(fd, rest, passed);
        ASSERT_GE(n, 0) << "the reading end went away";
        if (n == 0) {
            pollfd p{fd, POLLOUT, 0};
            ASSERT_EQ(::poll(&p, 1, 10'000), 1) << "the reader stopped reading";
            continue;
        }
        passed = -1;
        rest = rest.subspan(static_cast<std::size_t>(n));
    }
}

ReceivedFrame next(FrameReader& reader, int fd) {
    return reader.next(fd, std::chrono::steady_clock::now() + std::chrono::seconds(10));
}

ino_t inode_of(int fd) {
    struct stat st {};
    EXPECT_EQ(::fstat(fd, &st), 0);
    return st.st_ino;
}

// The frame is `id`'s, with its body as frame_of made it, and with the one
// descriptor `passed` (by inode) or none when -1.
void expect_frame(const ReceivedFrame& f, std::uint32_t id, std::size_t bytes, int passed = -1) {
    EXPECT_EQ(f.header.request_id, id);
    ASSERT_EQ(f.body.size(), bytes);
    for (std::size_t i = 0; i < bytes; i += 997)
        ASSERT_EQ(f.body[i], static_cast<std::byte>(static_cast<std::uint8_t>(id + i))) << i;
    if (passed < 0) {
        EXPECT_TRUE(f.fds.empty()) << "frame " << id << " took a descriptor not its own";
        return;
    }
    ASSERT_EQ(f.fds.size(), 1u) << "frame " << id;
    EXPECT_EQ(inode_of(f.fds[0].get()), inode_of(passed));
}

TEST(FrameReader, FramesReadTogetherKeepTheirOwnDescriptors) {
    SocketPair s;
    int pipe_fds[2];
    ASSERT_EQ(::pipe2(pipe_fds, O_CLOEXEC), 0);
    UniqueFd pipe_read(pipe_fds[0]), pipe_write(pipe_fds[1]);
    // All three are queued before the first read: the first recvmsg can take
    // the bytes of frame 1 and frame 2 and, with them, frame 2's descriptor.
    send_frame(s.daemon.get(), frame_of(1, 10));
    send_frame(s.daemon.get(), frame_of(2, 300), pipe_read.get());
    send_frame(s.daemon.get(), frame_of(3, 0));
    send_frame(s.daemon.get(), frame_of(4, 40), pipe_write.get());

    FrameReader reader;
    expect_frame(next(reader, s.client.get()), 1, 10);
    expect_frame(next(reader, s.client.get()), 2, 300, pipe_read.get());
    expect_frame(next(reader, s.client.get()), 3, 0);
    expect_frame(next(reader, s.client.get()), 4, 40, pipe_write.get());
    EXPECT_FALSE(reader.has_buffered());
}

TEST(FrameReader, LongBodyThenAFrameWithADescriptor) {
    SocketPair s;
    int pipe_fds[2];
    ASSERT_EQ(::pipe2(pipe_fds, O_CLOEXEC), 0);
    UniqueFd pipe_read(pipe_fds[0]), pipe_write(pipe_fds[1]);
    constexpr std::size_t kLong =
        std::size_t{3} * 1024 * 1024;  // more than the socket buffer holds
    std::thread sender([&] {
        send_frame(s.daemon.get(), frame_of(7, kLong));
        send_frame(s.daemon.get(), frame_of(8, 5), pipe_read.get());
        send_frame(s.daemon.get(), frame_of(9, 5000));
    });
    FrameReader reader;
    ReceivedFrame first = next(reader, s.client.get());
    ReceivedFrame second = next(reader, s.client.get());
    ReceivedFrame third = next(reader, s.client.get());
    sender.join();
    expect_frame(first, 7, kLong);
    expect_frame(second, 8, 5, pipe_read.get());
    expect_frame(third, 9, 5000);
}

TEST(FrameReader, HeaderAndBodyArrivingApartMakeOneFrame) {
    SocketPair s;
    const auto frame = frame_of(5, 2000);
    const std::vector<std::byte> head(frame.begin(), frame.begin() + 7);
    const std::vector<std::byte> rest(frame.begin() + 7, frame.end());
    FrameReader reader;
    std::thread sender([&] {
        send_frame(s.daemon.get(), head);
        send_frame(s.daemon.get(), rest);
    });
    ReceivedFrame f =
        reader.next(s.client.get(), std::chrono::steady_clock::now() + std::chrono::seconds(10),
                    std::chrono::microseconds(50));
    sender.join();
    expect_frame(f, 5, 2000);
}

TEST(FrameReader, SilenceIsATimeoutAndAClosedPeerIsGone) {
    SocketPair s;
    FrameReader reader;
    try {
        reader.next(s.client.get(),
                    std::chrono::steady_clock::now() + std::chrono::milliseconds(20),
                    std::chrono::microseconds(50));
        FAIL() << "no frame was sent";
    } catch (const mmm::Error& e) {
        EXPECT_EQ(e.code(), mmm::Errc::timeout) << e.what();
    }
    const auto frame = frame_of(6, 100);
    send_frame(s.daemon.get(), std::vector<std::byte>(frame.begin(), frame.begin() + 20));
    s.daemon.reset();
    reader.reset();
    try {
        next(reader, s.client.get());
        FAIL() << "the frame was cut short";
    } catch (const mmm::Error& e) {
        EXPECT_EQ(e.code(), mmm::Errc::daemon_unavailable) << e.what();
    }
}

// A reply header the client cannot trust is a protocol_error naming what is
// wrong; nothing after it is read as a frame.
TEST(FrameReader, BadMagicOtherVersionAndOversizeAreProtocolErrors) {
    struct Case {
        const char* what;
        proto::FrameHeader header;
        const char* says;
    };
    proto::FrameHeader bad_magic;
    bad_magic.magic = 0x12345678;
    proto::FrameHeader other_version;
    other_version.version = proto::kProtocolVersion + 1;
    proto::FrameHeader oversize;
    oversize.body_bytes = proto::kMaxReplyBody + 1;
    for (const Case& c : {Case{"bad magic", bad_magic, "bad magic"},
                          Case{"other version", other_version, "protocol version"},
                          Case{"oversize", oversize, "oversized"}}) {
        SocketPair s;
        std::vector<std::byte> head(proto::kFrameHeaderBytes);
        proto::encode_frame_header(c.header, head.data());
        send_frame(s.daemon.get(), head);
        FrameReader reader;
        try {
            next(reader, s.client.get());
            ADD_FAILURE() << c.what << ": accepted";
        } catch (const mmm::Error& e) {
            EXPECT_EQ(e.code(), mmm::Errc::protocol_error) << c.what << ": " << e.what();
            EXPECT_NE(e.message().find(c.says), std::string::npos) << e.what();
        }
    }
}

}  // namespace
