// What open, create, remove and info say when the chunk is not what the
// caller expects: type_mismatch (naming both types), not_found, already_exists.
#include "daemon_test.hpp"
#include "protocol.hpp"
#include "raw_socket.hpp"
#include "shared_types.hpp"

#include <mmm/mmm.hpp>

#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <functional>
#include <string>

namespace {

using mmm::Errc;
using mmm_test::Coordinate;
using mmm_test::Sample;

// The mmm::Error `op` threw; fails the test when it threw nothing.
mmm::Error error_of(const std::function<void()>& op) {
    try {
        op();
    } catch (const mmm::Error& e) {
        return e;
    }
    ADD_FAILURE() << "no mmm::Error was thrown";
    return mmm::Error(Errc::ok, {}, "nothing thrown");
}

class OpenErrorsTest : public mmm::test::DaemonTest {};

TEST_F(OpenErrorsTest, TypeMismatchNamesBothTypes) {
    auto chunk = client().create<Coordinate>("typed", 2);
    chunk.write(1, Coordinate{5, 6});
    auto e = error_of([&] { client().open<std::uint64_t>("typed"); });
    EXPECT_EQ(e.code(), Errc::type_mismatch) << e.what();
    EXPECT_EQ(e.chunk(), "typed");
    const std::string what = e.what();
    const std::string creator = mmm::type_name<Coordinate>();
    const std::string opener = mmm::type_name<std::uint64_t>();
    EXPECT_NE(what.find(creator), std::string::npos) << "'" << creator << "' not in: " << what;
    EXPECT_NE(what.find(opener), std::string::npos) << "'" << opener << "' not in: " << what;
    EXPECT_NE(creator, opener);
    // The failed open changed nothing.
    EXPECT_EQ(client().open<Coordinate>("typed").read(1).y, 6);
}

TEST_F(OpenErrorsTest, TypeMismatchAlsoForReadOnlyOpen) {
    auto chunk = client().create<Coordinate>("typed", 1);
    EXPECT_EQ(error_of([&] { client().open<const std::uint64_t>("typed"); }).code(),
              Errc::type_mismatch);
    EXPECT_EQ(error_of([&] { client().open<const int>("typed"); }).code(), Errc::type_mismatch);
}

TEST_F(OpenErrorsTest, SameSizeAndAlignmentIsNotEnough) {
    // uint64 and double, Coordinate and array<int,2>: identical layout, other type.
    auto u = client().create<std::uint64_t>("u64", 1);
    auto c = client().create<Coordinate>("coord", 1);
    static_assert(sizeof(double) == sizeof(std::uint64_t));
    static_assert(sizeof(std::array<int, 2>) == sizeof(Coordinate));
    EXPECT_EQ(error_of([&] { client().open<double>("u64"); }).code(), Errc::type_mismatch);
    EXPECT_EQ(error_of([&] { client().open<std::int64_t>("u64"); }).code(), Errc::type_mismatch);
    EXPECT_EQ(error_of([&] { client().open<std::array<int, 2>>("coord"); }).code(),
              Errc::type_mismatch);
    EXPECT_EQ(error_of([&] { client().open<Sample>("coord"); }).code(), Errc::type_mismatch);
    // And the right type opens.
    EXPECT_NO_THROW(client().open<std::uint64_t>("u64"));
    EXPECT_NO_THROW(client().open<const Coordinate>("coord"));
}

TEST_F(OpenErrorsTest, InfoReportsTheCreatorsType) {
    auto chunk = client().create<Sample>("samples", 3);
    auto info = client().info("samples");
    EXPECT_EQ(info.name, "samples");
    EXPECT_EQ(info.type_name, mmm::type_name<Sample>());
    EXPECT_EQ(info.element_size, sizeof(Sample));
    EXPECT_EQ(info.element_align, alignof(Sample));
    EXPECT_EQ(info.count, 3u);
    EXPECT_EQ(info.bytes, 3 * sizeof(Sample));
    EXPECT_GE(info.segment_bytes, info.bytes);
    EXPECT_EQ(info.state, mmm::ChunkState::ready);
    EXPECT_EQ(info.creator_pid, ::getpid());
}

TEST_F(OpenErrorsTest, NotFound) {
    for (auto e : {error_of([&] { client().open<int>("missing"); }),
                   error_of([&] { client().open<const int>("missing"); }),
                   error_of([&] { client().remove("missing"); }),
                   error_of([&] { client().info("missing"); })}) {
        EXPECT_EQ(e.code(), Errc::not_found) << e.what();
        EXPECT_EQ(e.chunk(), "missing") << e.what();
    }
    expect_no_segments();
}

TEST_F(OpenErrorsTest, OpenWithWaitTimesOutWhenNobodyCreates) {
    auto started = std::chrono::steady_clock::now();
    auto e = error_of([&] { client().open<int>("later", std::chrono::milliseconds(200)); });
    EXPECT_EQ(e.code(), Errc::timeout) << e.what();
    EXPECT_GE(std::chrono::steady_clock::now() - started, std::chrono::milliseconds(150));
}

TEST_F(OpenErrorsTest, RemovedChunkIsNotFound) {
    {
        auto chunk = client().create<int>("gone", 1);
        chunk.remove();
    }
    EXPECT_EQ(error_of([&] { client().open<int>("gone"); }).code(), Errc::not_found);
    EXPECT_EQ(error_of([&] { client().remove("gone"); }).code(), Errc::not_found);
    EXPECT_FALSE(segment_exists("gone"));
    expect_no_segments();
}

TEST_F(OpenErrorsTest, AlreadyExists) {
    auto chunk = client().create<int>("dup", 2);
    chunk.write(1, 99);
    auto same_type = error_of([&] { client().create<int>("dup", 2); });
    EXPECT_EQ(same_type.code(), Errc::already_exists) << same_type.what();
    EXPECT_EQ(same_type.chunk(), "dup");
    // Another type or count: still already_exists, not a silent re-create.
    EXPECT_EQ(error_of([&] { client().create<Coordinate>("dup", 10); }).code(),
              Errc::already_exists);
    auto other = new_client();
    EXPECT_EQ(error_of([&] { other.create<int>("dup", 1); }).code(), Errc::already_exists);
    EXPECT_EQ(chunk.read(1), 99) << "a refused create must not touch the existing chunk";
    EXPECT_EQ(client().info("dup").count, 2u);
    EXPECT_EQ(segments().size(), 1u) << mmm::test::join(segments());
}

TEST_F(OpenErrorsTest, RecreatedNameIsANewChunk) {
    auto first = client().create<int>("again", 1);
    first.write(0, 1);
    auto generation = client().info("again").generation;
    first.remove();
    auto second = client().create<int>("again", 1);
    EXPECT_EQ(second.read(0), 0) << "a re-created chunk starts zero-filled";
    EXPECT_NE(client().info("again").generation, generation);
    EXPECT_EQ(first.read(0), 1) << "the old mapping keeps the old memory";
    EXPECT_TRUE(first.deleted());
    EXPECT_FALSE(second.deleted());
}

// A mapping of a deleted chunk must never delete the new chunk of the same name,
// even if its remove() races the re-create: the daemon checks the generation.
TEST_F(OpenErrorsTest, StaleRemoveLeavesTheNewChunkAlone) {
    auto first = client().create<int>("stale", 1);
    auto old_generation = client().info("stale").generation;
    client().remove("stale");
    auto second = client().create<int>("stale", 1);
    second.write(0, 7);
    try {
        first.remove();
        ADD_FAILURE() << "a stale remove() succeeded";
    } catch (const mmm::Error& e) {
        EXPECT_EQ(e.code(), mmm::Errc::not_found) << e.what();
    }
    // The daemon's own check, without the client's deleted() short cut.
    mmm::test::RawSocket raw(daemon().socket_path());
    ASSERT_TRUE(raw.send(
        mmm::proto::encode_request(mmm::proto::RemoveRequest{"stale", old_generation}, 5)));
    auto reply = raw.receive();
    ASSERT_TRUE(reply.is_error_frame()) << reply.describe();
    EXPECT_EQ(reply.error->code, mmm::Errc::not_found);
    EXPECT_FALSE(second.deleted());
    EXPECT_EQ(client().open<int>("stale").read(0), 7);
    second.remove();  // the current mapping's own generation still works
    EXPECT_TRUE(second.deleted());
}

}  // namespace
