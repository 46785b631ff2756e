// remove() while another process has the chunk mapped (DESIGN.md "Semantics"):
// that process keeps valid memory and sees deleted() turn true; new opens get
// not_found; the /dev/shm entry is gone at once.
#include "daemon_test.hpp"
#include "shared_types.hpp"

#include <mmm/mmm.hpp>

#include <gtest/gtest.h>

#include <string>

namespace {

using namespace std::chrono_literals;
using mmm_test::Coordinate;

class RemoveWhileMappedTest : public mmm::test::DaemonTest {};

TEST_F(RemoveWhileMappedTest, MappingInAnotherProcessOutlivesTheRemove) {
    auto chunk = client().create<Coordinate>("doomed", 3);
    for (std::size_t i = 0; i < 3; ++i) chunk.write(i, mmm_test::coordinate_at(i));
    const std::string values = "1 -2 4 -9 7 -16";
    ASSERT_TRUE(segment_exists("doomed"));

    mmm::test::ChildOptions options;
    options.stdin_pipe = true;
    auto holder = start_helper("typed_helper", {"hold", "doomed"}, options);
    auto ready = holder.read_line(10s);
    ASSERT_EQ(ready, "ready " + values) << holder.out();

    // The daemon knows the holder has it mapped.
    auto info = client().info("doomed");
    bool attached = false;
    for (const auto& a : info.attachments) attached = attached || a.pid == holder.pid();
    EXPECT_TRUE(attached) << "the holder (pid " << holder.pid() << ") is not among the "
                          << info.attachments.size() << " attachments";

    client().remove("doomed");

    EXPECT_FALSE(segment_exists("doomed")) << "the segment is still in /dev/shm after remove";
    try {
        client().open<Coordinate>("doomed");
        ADD_FAILURE() << "open after remove succeeded";
    } catch (const mmm::Error& e) {
        EXPECT_EQ(e.code(), mmm::Errc::not_found) << e.what();
    }
    EXPECT_TRUE(client().list().empty());

    holder.write_stdin("go\n");
    EXPECT_EQ(holder.read_line(10s), "deleted=1");
    EXPECT_EQ(holder.read_line(10s), "values " + values) << "the holder's memory changed";
    EXPECT_EQ(holder.read_line(10s), "raw " + values);
    auto status = holder.wait_for_exit(10s);
    EXPECT_TRUE(status.ok()) << status.describe() << "\n" << holder.out();

    // This process's own mapping is also still valid and flagged.
    EXPECT_TRUE(chunk.deleted());
    EXPECT_EQ(chunk.read(2).y, -16);
    chunk.write(0, Coordinate{8, 8});
    EXPECT_EQ(chunk.read(0).x, 8);
    expect_no_segments();
}

TEST_F(RemoveWhileMappedTest, RemovedNameCanBeCreatedAgainWhileOldIsMapped) {
    mmm::test::ChildOptions options;
    options.stdin_pipe = true;
    auto coords = client().create<Coordinate>("held", 1);
    coords.write(0, Coordinate{4, 2});
    auto holder = start_helper("typed_helper", {"hold", "held"}, options);
    ASSERT_EQ(holder.read_line(10s), "ready 4 2") << holder.out();

    coords.remove();
    auto fresh = client().create<Coordinate>("held", 1);
    fresh.write(0, Coordinate{9, 9});
    holder.write_stdin("go\n");
    EXPECT_EQ(holder.read_line(10s), "deleted=1");
    EXPECT_EQ(holder.read_line(10s), "values 4 2") << "the holder must keep the old chunk";
    EXPECT_TRUE(holder.wait_for_exit(10s).ok()) << holder.out();
    EXPECT_FALSE(fresh.deleted());
    EXPECT_EQ(fresh.read(0).x, 9);
}

TEST_F(RemoveWhileMappedTest, RemoveThroughTheChunkItself) {
    auto chunk = client().create<int>("self", 4);
    chunk.write(3, 33);
    EXPECT_FALSE(chunk.deleted());
    chunk.remove();
    EXPECT_TRUE(chunk.deleted());
    EXPECT_EQ(chunk.read(3), 33);
    EXPECT_FALSE(segment_exists("self"));
    expect_no_segments();
}

}  // namespace
