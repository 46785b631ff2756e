// Two processes, one chunk: what process A writes, a separate program B reads
// by name, and what B writes, A sees (DESIGN.md "The data plane").
#include "daemon_test.hpp"
#include "shared_types.hpp"

#include <mmm/mmm.hpp>

#include <gtest/gtest.h>

#include <sstream>
#include <string>
#include <vector>

namespace {

using mmm_test::Coordinate;
using namespace std::chrono_literals;

class CrossProcessTest : public mmm::test::DaemonTest {};

// Parses the helper's "read-coords" output: "size N" then "i x y" lines.
std::vector<Coordinate> parse_coords(mmm::test::ChildProcess& helper) {
    std::vector<Coordinate> out;
    auto first = helper.read_line(10s);
    if (!first || first->rfind("size ", 0) != 0) {
        ADD_FAILURE() << "helper said: " << first.value_or("<nothing>") << "\n" << helper.out();
        return out;
    }
    std::size_t n = std::stoul(first->substr(5));
    for (std::size_t k = 0; k < n && k < 1024; ++k) {
        auto line = helper.read_line(10s);
        if (!line) {
            ADD_FAILURE() << "helper stopped after " << k << " of " << n << " elements";
            break;
        }
        std::istringstream in(*line);
        std::size_t i = 0;
        Coordinate c{};
        in >> i >> c.x >> c.y;
        EXPECT_EQ(i, k);
        out.push_back(c);
    }
    return out;
}

TEST_F(CrossProcessTest, OtherProcessReadsWhatThisOneWrote) {
    auto chunk = client().create<Coordinate>("coords", 5);
    for (std::size_t i = 0; i < chunk.size(); ++i) chunk.write(i, mmm_test::coordinate_at(i));
    // Raw writes must be visible too: they are plain memory.
    chunk[4] = Coordinate{-1000, 2000};

    auto reader = start_helper("typed_helper", {"read-coords", "coords"});
    auto seen = parse_coords(reader);
    auto status = reader.wait_for_exit(10s);
    ASSERT_TRUE(status.ok()) << status.describe() << "\n" << reader.out();
    ASSERT_EQ(seen.size(), 5u);
    for (std::size_t i = 0; i < 4; ++i) {
        EXPECT_EQ(seen[i].x, mmm_test::coordinate_at(i).x) << i;
        EXPECT_EQ(seen[i].y, mmm_test::coordinate_at(i).y) << i;
    }
    EXPECT_EQ(seen[4].x, -1000);
    EXPECT_EQ(seen[4].y, 2000);
}

TEST_F(CrossProcessTest, ThisProcessSeesWhatTheOtherWrote) {
    auto chunk = client().create<Coordinate>("coords", 3);
    chunk.write(0, Coordinate{1, 1});
    auto before = chunk.version();

    auto writer = start_helper("typed_helper", {"write-coord", "coords", "2", "77", "-88"});
    auto status = writer.wait_for_exit(10s);
    ASSERT_TRUE(status.ok()) << status.describe() << "\n" << writer.out();

    // The other process's write is in this mapping already: no re-open.
    Coordinate c = chunk.read(2);
    EXPECT_EQ(c.x, 77);
    EXPECT_EQ(c.y, -88);
    EXPECT_EQ(chunk[2].x, 77);
    EXPECT_NE(chunk.version(), before) << "a checked write in another process bumps version()";
    // Elements the other process did not touch are unchanged.
    EXPECT_EQ(chunk.read(0).x, 1);
    EXPECT_EQ(chunk.read(1).x, 0) << "a new chunk is zero-filled";
}

TEST_F(CrossProcessTest, ReopenFromASecondClientSharesTheSameMemory) {
    auto a = client().create<std::uint64_t>("counter", 1);
    auto other = new_client();
    auto b = other.open<std::uint64_t>("counter");
    a.write(0, 0xdeadbeefcafef00dull);
    EXPECT_EQ(b.read(0), 0xdeadbeefcafef00dull);
    b.write(0, 17);
    EXPECT_EQ(a.read(0), 17u);
    EXPECT_EQ(a.pointer(0), a.span().data());
}

TEST_F(CrossProcessTest, OutOfRangeIndexInAnotherProcessIsAnError) {
    auto chunk = client().create<Coordinate>("small", 2);
    auto writer = start_helper("typed_helper", {"write-coord", "small", "2", "1", "1"});
    auto status = writer.wait_for_exit(10s);
    ASSERT_TRUE(status.exited) << status.describe();
    EXPECT_EQ(status.code, 64 + static_cast<int>(mmm::Errc::out_of_range)) << writer.out();
    EXPECT_EQ(chunk.read(1).x, 0);
    EXPECT_THROW(
        {
            try {
                chunk.read(2);
            } catch (const mmm::Error& e) {
                EXPECT_EQ(e.code(), mmm::Errc::out_of_range);
                throw;
            }
        },
        mmm::Error);
}

}  // namespace
