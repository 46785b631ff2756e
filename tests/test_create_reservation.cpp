// Large chunks are reserved by their creator (protocol 3): mmmd answers the
// create with the chunk in state `creating`, the creating client
// posix_fallocates the descriptor on its own CPU and commits; until then
// nobody can open the chunk, and a creator that leaves first leaves nothing.
// The raw-socket creator here plays a client that stops between the steps.
#include "daemon_test.hpp"
#include "error_of.hpp"
#include "eventually.hpp"
#include "raw_socket.hpp"
#include "shm_segments.hpp"

#include "chunk_layout.hpp"
#include "protocol.hpp"

#include <mmm/mmm.hpp>

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <memory>
#include <numeric>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace {

using mmm::test::DaemonTest;
using mmm::test::eventually;
using mmm::test::RawSocket;
using mmm::test::Received;
using namespace std::chrono_literals;
namespace proto = mmm::proto;

// 8 MiB of elements: well above the size from which the creator reserves.
constexpr std::size_t kLargeCount = std::size_t{1} << 20;
static_assert(kLargeCount * sizeof(std::uint64_t) >= mmm::detail::kClientReserveMinBytes);

struct FileSpace {
    std::uint64_t size = 0;
    std::uint64_t allocated = 0;
};

FileSpace space_of(const std::string& path) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) return {};
    return {static_cast<std::uint64_t>(st.st_size), static_cast<std::uint64_t>(st.st_blocks) * 512};
}

class CreateReservationTest : public DaemonTest {
  protected:
    std::unique_ptr<RawSocket> connect() {
        return std::make_unique<RawSocket>(daemon().socket_path());
    }

    std::string path_of(const std::string& chunk) const {
        return mmm::test::segment_path(name_space(), chunk);
    }

    // What mmmd still holds of files whose path starts with `prefix`: its
    // descriptors ("fd <target>") and, with `maps`, its mappings ("map <line>").
    std::vector<std::string> held_by_mmmd(const std::string& prefix, bool maps) {
        const std::string proc = "/proc/" + std::to_string(daemon().pid());
        std::vector<std::string> found;
        std::error_code ec;
        for (const auto& entry : std::filesystem::directory_iterator(proc + "/fd", ec)) {
            std::string target = std::filesystem::read_symlink(entry.path(), ec).string();
            if (target.rfind(prefix, 0) == 0) found.push_back("fd " + target);
        }
        if (!maps) return found;
        std::ifstream lines(proc + "/maps");
        for (std::string line; std::getline(lines, line);)
            if (line.find(prefix) != std::string::npos) found.push_back("map " + line);
        return found;
    }

    // A create sent by hand: the reply's ChunkInfo (its descriptor is dropped).
    mmm::ChunkInfo raw_create(RawSocket& raw, const std::string& name, std::uint32_t id) {
        const auto t = mmm::detail::element_type_of<std::uint64_t>();
        proto::CreateRequest req;
        req.name = name;
        req.type = t;
        req.count = kLargeCount;
        EXPECT_TRUE(raw.send(proto::encode_request(req, id)));
        Received reply = raw.receive(10s);
        EXPECT_TRUE(reply.is_ok_frame()) << reply.describe();
        if (!reply.is_ok_frame()) return {};
        proto::Reader r(reply.body);
        return proto::decode_grant(r).info;
    }

    Received call(RawSocket& raw, const proto::Request& request, std::uint32_t id) {
        EXPECT_TRUE(raw.send(proto::encode_request(request, id)));
        Received reply = raw.receive(10s);
        EXPECT_EQ(reply.header.request_id, id) << reply.describe();
        return reply;
    }

    // Reserves a segment's memory through its /dev/shm path, as the creator
    // would through its descriptor (this test runs as mmmd's user).
    void reserve_by_path(const std::string& chunk) {
        int fd = ::open(path_of(chunk).c_str(), O_RDWR | O_CLOEXEC);
        ASSERT_GE(fd, 0) << path_of(chunk);
        ASSERT_EQ(::posix_fallocate(fd, 0, static_cast<off_t>(space_of(path_of(chunk)).size)), 0);
        ::close(fd);
    }

    // Waits (bounded) until mmmd counts no bytes: a removed large segment is
    // freed off its event loop and counted until then.
    bool bytes_drop_to_zero() {
        return eventually([&] { return client().stats().bytes == 0; }, 10s);
    }
};

TEST_F(CreateReservationTest, LargeChunkIsReservedByItsCreatorAndReadyAtOnce) {
    auto big = client().create<std::uint64_t>("big", kLargeCount);
    auto small = client().create<std::uint64_t>("small", 512);
    for (const char* name : {"big", "small"}) {
        SCOPED_TRACE(name);
        EXPECT_EQ(client().info(name).state, mmm::ChunkState::ready);
        FileSpace space = space_of(path_of(name));
        EXPECT_GT(space.size, 0u);
        EXPECT_GE(space.allocated, space.size) << "not all of the segment is reserved";
    }
    EXPECT_GE(client().info("big").segment_bytes, mmm::detail::kClientReserveMinBytes);
    EXPECT_LT(client().info("small").segment_bytes, mmm::detail::kClientReserveMinBytes);

    // Zero-filled, and another connection sees the creator's writes.
    auto all = big.span();
    EXPECT_EQ(std::accumulate(all.begin(), all.end(), std::uint64_t{0}), 0u);
    big.write(kLargeCount - 1, 42);
    auto other = new_client().open<const std::uint64_t>("big");
    EXPECT_EQ(other.read(kLargeCount - 1), 42u);
}

TEST_F(CreateReservationTest, ChunkIsInvisibleToOpenUntilItsCreatorCommits) {
    auto creator = connect();
    mmm::ChunkInfo info = raw_create(*creator, "pending", 1);
    ASSERT_EQ(info.state, mmm::ChunkState::creating);
    ASSERT_NE(info.generation, 0u);

    // list and info show the state; the name is taken.
    EXPECT_EQ(client().info("pending").state, mmm::ChunkState::creating);
    auto listed = client().list();
    ASSERT_EQ(listed.size(), 1u);
    EXPECT_EQ(listed[0].state, mmm::ChunkState::creating);
    EXPECT_EQ(mmm::test::error_of([&] { client().create<std::uint64_t>("pending", 1); }),
              mmm::Errc::already_exists);

    // Opens park, even one that did not ask to wait ("create, else open" must
    // work): mmmd answers the ping sent after them first.
    auto waiter = connect();
    ASSERT_TRUE(waiter->send(proto::encode_request(
        proto::OpenRequest{"pending", std::nullopt, mmm::ChunkKind::array, true, 0}, 7)));
    ASSERT_TRUE(waiter->send(proto::encode_request(
        proto::OpenRequest{"pending", std::nullopt, mmm::ChunkKind::array, true, 10'000}, 8)));
    Received pong = call(*waiter, proto::PingRequest{}, 9);
    ASSERT_TRUE(pong.is_ok_frame()) << pong.describe();
    // A short wait ends with a timeout that says why.
    auto impatient = connect();
    ASSERT_TRUE(impatient->send(proto::encode_request(
        proto::OpenRequest{"pending", std::nullopt, mmm::ChunkKind::array, true, 100}, 10)));
    Received late = impatient->receive(10s);
    ASSERT_TRUE(late.is_error_frame()) << late.describe();
    EXPECT_EQ(late.error->code, mmm::Errc::timeout);
    EXPECT_NE(late.error->message.find("still being created"), std::string::npos)
        << late.describe();

    // Commits from another connection or for another incarnation are refused
    // and change nothing.
    ASSERT_NO_FATAL_FAILURE(reserve_by_path("pending"));
    auto stranger = connect();
    Received foreign = call(*stranger, proto::CommitRequest{"pending", info.generation}, 3);
    ASSERT_TRUE(foreign.is_error_frame()) << foreign.describe();
    EXPECT_EQ(foreign.error->code, mmm::Errc::invalid_argument);
    Received stale = call(*creator, proto::CommitRequest{"pending", info.generation + 1}, 4);
    ASSERT_TRUE(stale.is_error_frame()) << stale.describe();
    EXPECT_EQ(stale.error->code, mmm::Errc::not_found);
    EXPECT_EQ(client().info("pending").state, mmm::ChunkState::creating);

    Received done = call(*creator, proto::CommitRequest{"pending", info.generation}, 5);
    ASSERT_TRUE(done.is_ok_frame()) << done.describe();
    EXPECT_EQ(client().info("pending").state, mmm::ChunkState::ready);
    // The parked opens are answered now.
    for (std::uint32_t id : {7u, 8u}) {
        Received opened = waiter->receive(10s);
        ASSERT_TRUE(opened.is_ok_frame()) << opened.describe();
        EXPECT_EQ(opened.header.request_id, id);
    }
    auto chunk = client().open<std::uint64_t>("pending");
    EXPECT_EQ(chunk.size(), kLargeCount);
    // A second commit of a ready chunk is refused.
    Received again = call(*creator, proto::CommitRequest{"pending", info.generation}, 6);
    ASSERT_TRUE(again.is_error_frame()) << again.describe();
    EXPECT_EQ(again.error->code, mmm::Errc::invalid_argument);
    EXPECT_EQ(client().info("pending").state, mmm::ChunkState::ready);
}

// A commit mmmd refuses (here: nothing reserved) deletes the chunk, so that a
// failed create does not hold the name and quota until its creator disconnects.
TEST_F(CreateReservationTest, ACommitBeforeReservationDeletesTheChunk) {
    auto creator = connect();
    mmm::ChunkInfo info = raw_create(*creator, "unreserved", 1);
    ASSERT_EQ(info.state, mmm::ChunkState::creating);
    Received early = call(*creator, proto::CommitRequest{"unreserved", info.generation}, 2);
    ASSERT_TRUE(early.is_error_frame()) << early.describe();
    EXPECT_EQ(early.error->code, mmm::Errc::invalid_argument);
    EXPECT_NE(early.error->message.find("commit before reservation"), std::string::npos)
        << early.describe();
    EXPECT_EQ(mmm::test::error_of([&] { client().info("unreserved"); }), mmm::Errc::not_found);
    EXPECT_TRUE(bytes_drop_to_zero());
    EXPECT_FALSE(segment_exists("unreserved"));
    auto chunk = client().create<std::uint64_t>("unreserved", kLargeCount);
    EXPECT_EQ(client().info("unreserved").state, mmm::ChunkState::ready);
}

// The segment must keep its size: a creator that resized it (here: doubled,
// and reserved all of it) gets its commit refused, and the chunk is deleted.
TEST_F(CreateReservationTest, ACommitOfAResizedSegmentDeletesTheChunk) {
    auto creator = connect();
    mmm::ChunkInfo info = raw_create(*creator, "resized", 1);
    ASSERT_EQ(info.state, mmm::ChunkState::creating);
    int fd = ::open(path_of("resized").c_str(), O_RDWR | O_CLOEXEC);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(::posix_fallocate(fd, 0, static_cast<off_t>(2 * info.segment_bytes)), 0);
    ::close(fd);
    Received refused = call(*creator, proto::CommitRequest{"resized", info.generation}, 2);
    ASSERT_TRUE(refused.is_error_frame()) << refused.describe();
    EXPECT_EQ(refused.error->code, mmm::Errc::invalid_argument);
    EXPECT_NE(refused.error->message.find("resized"), std::string::npos) << refused.describe();
    EXPECT_EQ(mmm::test::error_of([&] { client().info("resized"); }), mmm::Errc::not_found);
    EXPECT_TRUE(bytes_drop_to_zero());
    EXPECT_FALSE(segment_exists("resized"));
}

// One Client, two threads: an open parked until the chunk is ready must not
// hold the connection against the creator's commit (they would wait for each
// other until the open's wait ran out).
TEST_F(CreateReservationTest, CreatorAndWaitingOpenShareAClient) {
    constexpr std::size_t kCount = std::size_t{32} << 20;  // 256 MiB: ~0.1 s to reserve
    auto observer = new_client();
    std::optional<mmm::Error> open_error;
    std::thread opener([&] {
        // Starts once the create is known to be reserving.
        eventually(
            [&] {
                try {
                    return observer.info("shared").state == mmm::ChunkState::creating;
                } catch (const mmm::Error&) {
                    return false;
                }
            },
            10s);
        open_error = mmm::test::thrown([&] {
            mmm::OpenOptions options;
            options.wait = 5s;
            client().open<std::uint64_t>("shared", options);
        });
    });
    const auto start = std::chrono::steady_clock::now();
    auto created = client().create<std::uint64_t>("shared", kCount);
    const auto took = std::chrono::steady_clock::now() - start;
    opener.join();
    EXPECT_FALSE(open_error.has_value()) << open_error->what();
    EXPECT_LT(took, 4s) << "the create waited for the parked open";
}

TEST_F(CreateReservationTest, CreatorThatLeavesBeforeCommittingLeavesNothing) {
    auto creator = connect();
    mmm::ChunkInfo info = raw_create(*creator, "abandoned", 1);
    ASSERT_EQ(info.state, mmm::ChunkState::creating);
    ASSERT_TRUE(segment_exists("abandoned"));
    // A waiting open stays parked through the abandoned create.
    auto waiter = connect();
    ASSERT_TRUE(waiter->send(proto::encode_request(
        proto::OpenRequest{"abandoned", std::nullopt, mmm::ChunkKind::array, false, 10'000}, 7)));
    Received pong = call(*waiter, proto::PingRequest{}, 8);
    ASSERT_TRUE(pong.is_ok_frame()) << pong.describe();

    creator.reset();  // closes the connection
    ASSERT_TRUE(eventually([&] { return !segment_exists("abandoned"); }, 10s));
    EXPECT_TRUE(client().list().empty());
    EXPECT_TRUE(bytes_drop_to_zero());

    // The name is free again, and the new chunk is what the waiter gets.
    auto chunk = client().create<std::uint64_t>("abandoned", 4);
    Received opened = waiter->receive(10s);
    ASSERT_TRUE(opened.is_ok_frame()) << opened.describe();
    proto::Reader r(opened.body);
    EXPECT_EQ(proto::decode_info(r).generation, client().info("abandoned").generation);
}

TEST_F(CreateReservationTest, ARemovedPendingChunkCannotBeCommitted) {
    auto creator = connect();
    mmm::ChunkInfo info = raw_create(*creator, "gone", 1);
    ASSERT_EQ(info.state, mmm::ChunkState::creating);
    client().remove("gone");
    EXPECT_FALSE(segment_exists("gone"));
    Received late = call(*creator, proto::CommitRequest{"gone", info.generation}, 2);
    ASSERT_TRUE(late.is_error_frame()) << late.describe();
    EXPECT_EQ(late.error->code, mmm::Errc::not_found);
    expect_no_segments();
}

// mmmd dies while a chunk waits for its creator's commit: the next mmmd finds
// the header in state `creating` and reclaims the segment, and the creator's
// commit fails (its connection is gone) instead of publishing anything.
TEST_F(CreateReservationTest, ChunkWaitingForCommitIsReclaimedByTheNextMmmd) {
    auto creator = connect();
    mmm::ChunkInfo info = raw_create(*creator, "orphaned", 1);
    ASSERT_EQ(info.state, mmm::ChunkState::creating);
    ASSERT_NO_FATAL_FAILURE(reserve_by_path("orphaned"));  // the creator got as far as reserving
    auto ready = client().create<std::uint64_t>("kept", kLargeCount);
    daemon().kill9();
    daemon().start();
    EXPECT_FALSE(segment_exists("orphaned"));
    auto listed = client().list();
    ASSERT_EQ(listed.size(), 1u);
    EXPECT_EQ(listed[0].name, "kept");
    EXPECT_EQ(listed[0].state, mmm::ChunkState::ready);
    EXPECT_FALSE(creator->send(
                     proto::encode_request(proto::CommitRequest{"orphaned", info.generation}, 2)) &&
                 creator->receive(10s).is_ok_frame());
    EXPECT_EQ(mmm::test::error_of([&] { client().info("orphaned"); }), mmm::Errc::not_found);
}

// The creator reserved and committed, then could not map the chunk (its
// address space is limited): create throws and leaves no chunk behind, while
// the creator stays connected (not only when it disconnects).
TEST_F(CreateReservationTest, ACreateWhoseMappingFailsLeavesNothing) {
    mmm::test::ChildOptions options;
    options.stdin_pipe = true;
    auto creator = start_helper("typed_helper", {"create-unmappable", "unmappable", "32"}, options);
    auto line = creator.read_line(30s);
    ASSERT_TRUE(line.has_value()) << creator.out();
    if (*line == "mapped" || line->rfind("skip", 0) == 0) {
        creator.close_stdin();
        (void)creator.wait_for_exit(10s);
        if (*line == "mapped") client().remove("unmappable");
        GTEST_SKIP() << "RLIMIT_AS did not stop a 32 MiB mapping here: " << *line;
    }
    // io_error from mmap: the reservation and the commit went through, so the
    // clean-up under test ran (not the reservation's own, which says no_space).
    EXPECT_EQ(line->rfind("error io_error", 0), 0u) << *line;
    // The create's clean-up is a remove on the creator's connection, answered
    // before create throws: nothing to wait for.
    const auto left = client().list();
    EXPECT_TRUE(left.empty()) << "the failed create left '" << left.front().name << "'";
    EXPECT_FALSE(segment_exists("unmappable"));
    EXPECT_NO_THROW((void)client().create<std::uint8_t>("unmappable", 1));
    client().remove("unmappable");
    creator.close_stdin();
    EXPECT_TRUE(creator.wait_for_exit(10s).ok()) << creator.out();
}

// mmmd holds a descriptor across the unlink of a large segment and closes it
// on its reaper thread (freeing 0.2 s/GiB of pages is not the event loop's
// job); that descriptor must go, or the memory is never returned.
TEST_F(CreateReservationTest, RemovedLargeSegmentIsReleasedByMmmd) {
    const std::string path = path_of("released");
    {
        auto chunk = client().create<std::uint64_t>("released", kLargeCount);
        chunk.write(0, 1);
    }
    client().remove("released");
    // The reply waited until the memory was back: nothing of it is left.
    EXPECT_FALSE(segment_exists("released"));
    EXPECT_EQ(client().stats().bytes, 0u);
    for (const std::string& held : held_by_mmmd(path, false))
        ADD_FAILURE() << "mmmd still holds " << held;
    // mmmd serves on, and the name is free.
    auto again = client().create<std::uint64_t>("released", 1);
}

// A small segment's last steps at a remove (unmapping the header page mmmd
// marked, the close that frees the pages) run just after the reply goes out;
// they must run, or every remove leaks a descriptor and the chunk's memory.
TEST_F(CreateReservationTest, RemovedSmallSegmentsAreReleasedByMmmd) {
    constexpr int kChunks = 100;
    const std::string prefix = path_of("small-");
    for (int i = 0; i < kChunks; ++i) {
        const std::string name = "small-" + std::to_string(i);
        { client().create<std::uint64_t>(name, 8).write(0, 1); }
        client().remove(name);
    }
    (void)eventually([&] { return held_by_mmmd(prefix, true).empty(); }, 5s);
    const auto left = held_by_mmmd(prefix, true);
    EXPECT_TRUE(left.empty()) << "mmmd still holds " << left.size() << " of them, first: "
                              << (left.empty() ? std::string() : left.front());
    EXPECT_EQ(client().stats().bytes, 0u);
    expect_no_segments();
}

}  // namespace
