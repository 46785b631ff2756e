// The client's frame reader on a real socketpair: frames that arrive glued
// together in one recvmsg come out one by one, each with the descriptors that
// were sent with it, however the kernel groups the bytes. Starts no daemon.
#include "protocol.hpp"
#include "unix_socket.hpp"

#include <mmm/error.hpp>

#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
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

// As mmmd sends a frame: all of it in one sendmsg, the descriptor (if any)
// with it. Blocks until the kernel took every byte.
void send_frame(int fd, const std::vector<std::byte>& frame, int passed = -1) {
    std::size_t sent = 0;
    while (sent < frame.size()) {
        iovec iov{const_cast<std::byte*>(frame.data() + sent), frame.size() - sent};
        alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
        msghdr msg{};
        msg.msg_iov = &iov;
        msg.msg_iovlen = 1;
        if (passed >= 0 && sent == 0) {
            msg.msg_control = control;
            msg.msg_controllen = sizeof control;
            cmsghdr* c = CMSG_FIRSTHDR(&msg);
            c->cmsg_level = SOL_SOCKET;
            c->cmsg_type = SCM_RIGHTS;
            c->cmsg_len = CMSG_LEN(sizeof(int));
            std::memcpy(CMSG_DATA(c), &passed, sizeof(int));
        }
        const ssize_t n = ::sendmsg(fd, &msg, MSG_NOSIGNAL);
        ASSERT_GT(n, 0) << std::strerror(errno);
        sent += static_cast<std::size_t>(n);
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

void expect_body(const ReceivedFrame& f, std::uint32_t id, std::size_t bytes) {
    EXPECT_EQ(f.header.request_id, id);
    ASSERT_EQ(f.body.size(), bytes);
    for (std::size_t i = 0; i < bytes; i += 997)
        ASSERT_EQ(f.body[i], static_cast<std::byte>(static_cast<std::uint8_t>(id + i))) << i;
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
    ReceivedFrame one = next(reader, s.client.get());
    expect_body(one, 1, 10);
    EXPECT_TRUE(one.fds.empty());
    ReceivedFrame two = next(reader, s.client.get());
    expect_body(two, 2, 300);
    ASSERT_EQ(two.fds.size(), 1u);
    EXPECT_EQ(inode_of(two.fds[0].get()), inode_of(pipe_read.get()));
    ReceivedFrame three = next(reader, s.client.get());
    expect_body(three, 3, 0);
    EXPECT_TRUE(three.fds.empty());
    ReceivedFrame four = next(reader, s.client.get());
    expect_body(four, 4, 40);
    ASSERT_EQ(four.fds.size(), 1u);
    EXPECT_EQ(inode_of(four.fds[0].get()), inode_of(pipe_write.get()));
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
    expect_body(first, 7, kLong);
    EXPECT_TRUE(first.fds.empty());
    expect_body(second, 8, 5);
    ASSERT_EQ(second.fds.size(), 1u);
    EXPECT_EQ(inode_of(second.fds[0].get()), inode_of(pipe_read.get()));
    expect_body(third, 9, 5000);
    EXPECT_TRUE(third.fds.empty());
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
    expect_body(f, 5, 2000);
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

}  // namespace
