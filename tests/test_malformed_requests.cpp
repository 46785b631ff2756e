// mmmd faced with bytes that are not a valid request (docs/PROTOCOL.md
// "Errors and limits"): it answers with an error frame or drops the
// connection, and keeps serving everyone else. A client that sends half a
// frame and stalls holds only its own connection.
#include "daemon_test.hpp"
#include "raw_socket.hpp"

#include <mmm/mmm.hpp>

#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <vector>

namespace {

using namespace std::chrono_literals;
using mmm::proto::MessageType;
using mmm::test::RawSocket;
using mmm::test::Received;

constexpr auto type_u16(MessageType t) {
    return static_cast<std::uint16_t>(t);
}

std::vector<std::byte> ping(std::uint32_t id) {
    return mmm::proto::encode_request(mmm::proto::PingRequest{}, id);
}

std::vector<std::byte> valid_create(const std::string& name, std::uint32_t id) {
    mmm::proto::CreateRequest request;
    request.name = name;
    request.type = mmm::detail::element_type_of<int>();
    request.count = 1;
    return mmm::proto::encode_request(request, id);
}

class MalformedRequestsTest : public mmm::test::DaemonTest {
  protected:
    std::unique_ptr<RawSocket> connect() {
        return std::make_unique<RawSocket>(daemon().socket_path());
    }

    // The daemon still serves: a normal client lists, creates and removes.
    void expect_daemon_serves() {
        ASSERT_TRUE(daemon().running()) << "mmmd died";
        auto fresh = new_client();
        EXPECT_NO_THROW(fresh.list());
        EXPECT_NO_THROW(client().list());
        auto chunk = fresh.create<int>("alive", 1);
        chunk.write(0, 1);
        EXPECT_EQ(client().open<int>("alive").read(0), 1);
        fresh.remove("alive");
    }

    // A fatal header: one protocol_error frame, then the daemon closes.
    void expect_error_then_close(RawSocket& raw) {
        auto reply = raw.receive(10s);
        ASSERT_TRUE(reply.is_error_frame()) << reply.describe();
        EXPECT_EQ(reply.error->code, mmm::Errc::protocol_error) << reply.describe();
        std::vector<Received> more;
        EXPECT_TRUE(raw.wait_closed(10s, &more)) << "mmmd kept a desynchronised stream open";
        EXPECT_TRUE(more.empty()) << more.front().describe();
    }

    // A bad body: an error frame for that request id, and the connection
    // still works (a ping on it is answered).
    void expect_error_and_still_open(RawSocket& raw, std::uint32_t id) {
        auto reply = raw.receive(10s);
        ASSERT_TRUE(reply.is_error_frame()) << reply.describe();
        EXPECT_EQ(reply.header.request_id, id);
        EXPECT_EQ(reply.error->code, mmm::Errc::protocol_error) << reply.describe();
        ASSERT_TRUE(raw.send(ping(id + 1000)));
        auto pong = raw.receive(10s);
        EXPECT_TRUE(pong.is_ok_frame()) << pong.describe();
        EXPECT_EQ(pong.header.request_id, id + 1000);
    }
};

TEST_F(MalformedRequestsTest, RandomBytesNeverHurtTheDaemon) {
    std::mt19937 rng(20240611);  // fixed seed: reproducible
    std::uniform_int_distribution<int> length(1, 300);
    std::uniform_int_distribution<int> byte(0, 255);
    for (int round = 0; round < 40; ++round) {
        SCOPED_TRACE("round " + std::to_string(round));
        std::vector<std::byte> junk(static_cast<std::size_t>(length(rng)));
        for (auto& b : junk) b = static_cast<std::byte>(byte(rng));
        auto raw = connect();
        raw->send(junk);  // may be refused half-way: the daemon may close first
        raw->shutdown_write();
        std::vector<Received> frames;
        EXPECT_TRUE(raw->wait_closed(10s, &frames))
            << "mmmd neither answered nor closed after " << junk.size() << " junk bytes";
        for (const auto& f : frames) EXPECT_TRUE(f.is_error_frame()) << f.describe();
    }
    ASSERT_NO_FATAL_FAILURE(expect_daemon_serves());
    expect_no_segments();
}

TEST_F(MalformedRequestsTest, TruncatedHeaderThenClose) {
    for (std::size_t cut : {1u, 4u, 7u, 15u}) {
        auto frame = ping(1);
        auto raw = connect();
        ASSERT_TRUE(raw->send(std::span(frame).first(cut)));
        // Closing mid-header must not crash or wedge the daemon.
    }
    ASSERT_NO_FATAL_FAILURE(expect_daemon_serves());
}

TEST_F(MalformedRequestsTest, TruncatedBodyThenClose) {
    auto frame = valid_create("never", 1);
    ASSERT_GT(frame.size(), mmm::proto::kFrameHeaderBytes + 4);
    {
        auto raw = connect();
        ASSERT_TRUE(raw->send(std::span(frame).first(frame.size() - 3)));
        raw->shutdown_write();
        EXPECT_TRUE(raw->wait_closed(10s));
    }
    ASSERT_NO_FATAL_FAILURE(expect_daemon_serves());
    EXPECT_FALSE(segment_exists("never")) << "a half-received create created a chunk";
}

TEST_F(MalformedRequestsTest, HugeBodyLengthIsRefused) {
    for (std::uint32_t body_bytes : {0xffffffffu, mmm::proto::kMaxRequestBody + 1}) {
        SCOPED_TRACE(body_bytes);
        auto raw = connect();
        ASSERT_TRUE(raw->send(mmm::test::raw_frame(type_u16(MessageType::list), 7, {},
                                                   mmm::proto::kFrameMagic,
                                                   mmm::proto::kProtocolVersion, body_bytes)));
        ASSERT_NO_FATAL_FAILURE(expect_error_then_close(*raw));
    }
    ASSERT_NO_FATAL_FAILURE(expect_daemon_serves());
}

TEST_F(MalformedRequestsTest, BadMagicIsRefused) {
    auto raw = connect();
    ASSERT_TRUE(raw->send(mmm::test::raw_frame(type_u16(MessageType::ping), 3, {}, 0x47455420)));
    ASSERT_NO_FATAL_FAILURE(expect_error_then_close(*raw));
    ASSERT_NO_FATAL_FAILURE(expect_daemon_serves());
}

TEST_F(MalformedRequestsTest, OtherProtocolVersionIsRefusedNamingBoth) {
    auto raw = connect();
    ASSERT_TRUE(raw->send(
        mmm::test::raw_frame(type_u16(MessageType::ping), 3, {}, mmm::proto::kFrameMagic, 99)));
    auto reply = raw->receive(10s);
    ASSERT_TRUE(reply.is_error_frame()) << reply.describe();
    EXPECT_EQ(reply.error->code, mmm::Errc::protocol_error);
    EXPECT_NE(reply.error->message.find("99"), std::string::npos) << reply.error->message;
    EXPECT_NE(reply.error->message.find(std::to_string(mmm::proto::kProtocolVersion)),
              std::string::npos)
        << reply.error->message;
    EXPECT_TRUE(raw->wait_closed(10s));
    ASSERT_NO_FATAL_FAILURE(expect_daemon_serves());
}

TEST_F(MalformedRequestsTest, ValidHeaderWithGarbageBody) {
    auto raw = connect();
    std::uint32_t id = 10;
    for (auto type : {MessageType::create, MessageType::open, MessageType::remove,
                      MessageType::list, MessageType::info}) {
        SCOPED_TRACE(static_cast<int>(type));
        // 0xff...: a string length of 65535, beyond the body and kMaxString.
        std::vector<std::byte> garbage(40, std::byte{0xff});
        ASSERT_TRUE(raw->send(mmm::test::raw_frame(type_u16(type), id, garbage)));
        ASSERT_NO_FATAL_FAILURE(expect_error_and_still_open(*raw, id));
        ++id;
    }
    ASSERT_NO_FATAL_FAILURE(expect_daemon_serves());
    expect_no_segments();
}

TEST_F(MalformedRequestsTest, BodyCutShortOrWithTrailingBytes) {
    auto raw = connect();
    auto frame = valid_create("cut", 1);
    std::span<const std::byte> body = std::span(frame).subspan(mmm::proto::kFrameHeaderBytes);

    // Header and body agree on a length, but the body stops mid-field.
    auto short_body = body.first(body.size() / 2);
    ASSERT_TRUE(raw->send(mmm::test::raw_frame(type_u16(MessageType::create), 21, short_body)));
    ASSERT_NO_FATAL_FAILURE(expect_error_and_still_open(*raw, 21));

    // A whole create body followed by junk.
    std::vector<std::byte> longer(body.begin(), body.end());
    longer.insert(longer.end(), 5, std::byte{0x42});
    ASSERT_TRUE(raw->send(mmm::test::raw_frame(type_u16(MessageType::create), 22, longer)));
    ASSERT_NO_FATAL_FAILURE(expect_error_and_still_open(*raw, 22));

    EXPECT_FALSE(segment_exists("cut"));
    ASSERT_NO_FATAL_FAILURE(expect_daemon_serves());
}

TEST_F(MalformedRequestsTest, UnknownMessageType) {
    auto raw = connect();
    std::uint32_t id = 30;
    // The first number past the last request type (11 became commit in protocol 3).
    const auto first_unknown = static_cast<std::uint16_t>(type_u16(MessageType::commit) + 1);
    for (std::uint16_t type :
         {std::uint16_t{0}, first_unknown, std::uint16_t{0x1234}, type_u16(MessageType::reply_ok),
          type_u16(MessageType::reply_error), std::uint16_t{0xffff}}) {
        SCOPED_TRACE(type);
        ASSERT_TRUE(raw->send(mmm::test::raw_frame(type, id, {})));
        ASSERT_NO_FATAL_FAILURE(expect_error_and_still_open(*raw, id));
        ++id;
    }
    ASSERT_NO_FATAL_FAILURE(expect_daemon_serves());
}

TEST_F(MalformedRequestsTest, OneWayCloseGetsNoReply) {
    auto raw = connect();
    ASSERT_TRUE(raw->send(
        mmm::proto::encode_request(mmm::proto::CloseRequest{"not-open", 12345, false, false}, 40)));
    ASSERT_TRUE(raw->send(ping(41)));
    auto reply = raw->receive(10s);
    ASSERT_TRUE(reply.is_ok_frame()) << reply.describe();
    EXPECT_EQ(reply.header.request_id, 41u) << "a one-way close was answered";
    ASSERT_NO_FATAL_FAILURE(expect_daemon_serves());
}

// Every request with an answer gets exactly one: a second would be read as
// the answer to the next request on the connection (a remove of a small
// chunk was answered twice).
TEST_F(MalformedRequestsTest, EachRequestIsAnsweredOnce) {
    auto raw = connect();
    ASSERT_TRUE(raw->send(valid_create("answered-once", 50)));
    auto created = raw->receive(10s);
    ASSERT_TRUE(created.is_ok_frame()) << created.describe();
    EXPECT_EQ(created.header.request_id, 50u);
    ASSERT_TRUE(
        raw->send(mmm::proto::encode_request(mmm::proto::RemoveRequest{"answered-once", 0}, 51)));
    auto removed = raw->receive(10s);
    ASSERT_TRUE(removed.is_ok_frame()) << removed.describe();
    EXPECT_EQ(removed.header.request_id, 51u);
    ASSERT_TRUE(raw->send(ping(52)));
    auto pong = raw->receive(10s);
    ASSERT_TRUE(pong.is_ok_frame()) << pong.describe();
    EXPECT_EQ(pong.header.request_id, 52u) << "a request was answered twice";
}

// The error paths of watch (a read-only waiter asking mmmd to count it), and
// the one-way unwatch.
TEST_F(MalformedRequestsTest, WatchErrorsAndOneWayUnwatch) {
    auto chunk = client().create<int>("watched", 1);
    const std::uint64_t generation = client().info("watched").generation;
    auto raw = connect();
    using mmm::proto::WatchRequest;
    auto watch = [&](const std::string& name, std::uint64_t gen, std::uint32_t id) {
        return raw->send(mmm::proto::encode_request(WatchRequest{name, gen}, id));
    };
    auto expect_error = [&](std::uint32_t id, mmm::Errc code) {
        auto reply = raw->receive(10s);
        ASSERT_TRUE(reply.is_error_frame()) << reply.describe();
        EXPECT_EQ(reply.header.request_id, id);
        EXPECT_EQ(reply.error->code, code) << reply.describe();
    };
    ASSERT_TRUE(watch("nothing-here", generation, 60));
    expect_error(60, mmm::Errc::not_found);
    ASSERT_TRUE(watch("watched", generation + 1, 61));  // another incarnation
    expect_error(61, mmm::Errc::not_found);

    // At most kMaxWatchesPerConnection (1024) per connection and chunk.
    std::uint32_t id = 100;
    for (int i = 0; i < 1024; ++i, ++id) {
        ASSERT_TRUE(watch("watched", generation, id));
        auto reply = raw->receive(10s);
        ASSERT_TRUE(reply.is_ok_frame()) << "watch " << i << ": " << reply.describe();
    }
    ASSERT_TRUE(watch("watched", generation, id));
    expect_error(id, mmm::Errc::limit_exceeded);

    // unwatch is answered by nothing, known or not.
    ASSERT_TRUE(raw->send(
        mmm::proto::encode_request(mmm::proto::UnwatchRequest{"watched", generation}, 2000)));
    ASSERT_TRUE(
        raw->send(mmm::proto::encode_request(mmm::proto::UnwatchRequest{"nothing-here", 1}, 2001)));
    ASSERT_TRUE(raw->send(ping(2002)));
    auto reply = raw->receive(10s);
    ASSERT_TRUE(reply.is_ok_frame()) << reply.describe();
    EXPECT_EQ(reply.header.request_id, 2002u) << "a one-way unwatch was answered";
    ASSERT_NO_FATAL_FAILURE(expect_daemon_serves());
}

TEST_F(MalformedRequestsTest, HalfFrameStallDoesNotBlockOthers) {
    auto stalled = connect();
    auto frame = ping(50);
    ASSERT_TRUE(stalled->send(std::span(frame).first(9)));  // mid-header, then silence

    // Others are served meanwhile, well within their request timeout.
    mmm::Client other(mmm::ClientOptions{.runtime_dir = runtime_dir(),
                                         .request_timeout = std::chrono::seconds(5)});
    auto chunk = other.create<int>("while-stalled", 2);
    chunk.write(1, 11);
    EXPECT_EQ(other.open<int>("while-stalled").read(1), 11);
    EXPECT_EQ(other.list().size(), 1u);
    other.remove("while-stalled");
    EXPECT_NO_THROW(client().stats());

    // The stalled client finishes its frame later and is answered.
    ASSERT_TRUE(stalled->send(std::span(frame).subspan(9)));
    auto reply = stalled->receive(10s);
    EXPECT_TRUE(reply.is_ok_frame()) << reply.describe();
    EXPECT_EQ(reply.header.request_id, 50u);
}

TEST_F(MalformedRequestsTest, ManyStalledConnectionsDoNotBlockOthers) {
    std::vector<std::unique_ptr<RawSocket>> stalled;
    auto frame = valid_create("stalled", 60);
    for (int i = 0; i < 16; ++i) {
        stalled.push_back(connect());
        // Some stop in the header, some in the body.
        ASSERT_TRUE(stalled.back()->send(std::span(frame).first(i % 2 ? 5 : frame.size() - 2)));
    }
    mmm::Client other(mmm::ClientOptions{.runtime_dir = runtime_dir(),
                                         .request_timeout = std::chrono::seconds(5)});
    EXPECT_NO_THROW(other.list());
    ASSERT_NO_FATAL_FAILURE(expect_daemon_serves());
    stalled.clear();
    ASSERT_NO_FATAL_FAILURE(expect_daemon_serves());
    EXPECT_FALSE(segment_exists("stalled"));
}

}  // namespace
