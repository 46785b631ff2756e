// The daemon going down does not stop mapped chunks from working; clients
// reconnect for control operations when it comes back, and a restarted mmmd
// re-adopts the chunks of its namespace (DESIGN.md "Semantics", "control plane").
#include "daemon_test.hpp"
#include "names.hpp"
#include "shared_types.hpp"
#include "shm_segments.hpp"

#include <mmm/mmm.hpp>

#include <gtest/gtest.h>

#include <string>

namespace {

using namespace std::chrono_literals;
using mmm_test::Coordinate;

class DaemonRestartTest : public mmm::test::DaemonTest {};

TEST_F(DaemonRestartTest, MappingSurvivesKillAndClientReconnects) {
    auto chunk = client().create<Coordinate>("survivor", 4);
    chunk.write(0, Coordinate{1, 2});
    const pid_t first_pid = daemon().pid();

    auto status = daemon().kill9();
    ASSERT_TRUE(status.has_value());
    EXPECT_TRUE(status->signaled(SIGKILL)) << status->describe();

    // No daemon: element access still works (it never talks to mmmd).
    chunk.write(1, Coordinate{3, 4});
    EXPECT_EQ(chunk.read(0).y, 2);
    EXPECT_EQ(chunk.read(1).x, 3);
    EXPECT_TRUE(segment_exists("survivor")) << "a crash must not take the segment with it";

    daemon().start();
    EXPECT_NE(daemon().pid(), first_pid);

    // The same Client reconnects on its next request.
    std::vector<mmm::ChunkInfo> listed;
    ASSERT_NO_THROW(listed = client().list());
    ASSERT_EQ(listed.size(), 1u) << "the restarted mmmd did not re-adopt the chunk";
    EXPECT_EQ(listed[0].name, "survivor");
    EXPECT_EQ(listed[0].count, 4u);
    EXPECT_EQ(listed[0].type_name, mmm::type_name<Coordinate>());
    EXPECT_EQ(client().stats().daemon_pid, daemon().pid());

    // The old mapping and a fresh open are the same memory.
    auto again = new_client().open<Coordinate>("survivor");
    EXPECT_EQ(again.read(1).y, 4);
    again.write(2, Coordinate{5, 6});
    EXPECT_EQ(chunk.read(2).x, 5);
    EXPECT_FALSE(chunk.deleted());

    // And the old connection's chunk can be removed through the new daemon.
    client().remove("survivor");
    EXPECT_TRUE(chunk.deleted());
    expect_no_segments();
}

TEST_F(DaemonRestartTest, CleanStopKeepsPersistentChunks) {
    {
        auto chunk = client().create<std::uint64_t>("persistent", 2);
        chunk.write(1, 0xabcdefull);
    }
    auto status = daemon().stop();
    ASSERT_TRUE(status.has_value());
    EXPECT_FALSE(status->signaled(SIGKILL)) << "mmmd needed SIGKILL: " << status->describe();
    daemon().start();
    auto chunk = client().open<std::uint64_t>("persistent");
    EXPECT_EQ(chunk.read(1), 0xabcdefull);
}

TEST_F(DaemonRestartTest, RestartedDaemonHasTheSameNamespace) {
    auto before = client().stats();
    EXPECT_EQ(before.name_space, name_space());
    EXPECT_EQ(before.name_space, daemon().name_space());
    daemon().restart();
    auto after = client().stats();
    EXPECT_EQ(after.name_space, before.name_space);
    EXPECT_NE(after.daemon_pid, before.daemon_pid);
}

TEST(TwoDaemonsTest, NamespacesDoNotSeeEachOther) {
    mmm::test::TempDir dir_a("mmm-test"), dir_b("mmm-test");
    mmm::test::SegmentCleanup cleanup_a(mmm::detail::namespace_for(dir_a.path()));
    mmm::test::SegmentCleanup cleanup_b(mmm::detail::namespace_for(dir_b.path()));
    mmm::test::DaemonProcess a(dir_a.path()), b(dir_b.path());
    a.start();
    b.start();
    ASSERT_NE(a.name_space(), b.name_space());
    {
        mmm::Client ca(mmm::ClientOptions{.runtime_dir = dir_a.path()});
        mmm::Client cb(mmm::ClientOptions{.runtime_dir = dir_b.path()});
        auto x = ca.create<int>("same-name", 1);
        auto y = cb.create<int>("same-name", 1);  // no already_exists: another namespace
        x.write(0, 1);
        y.write(0, 2);
        EXPECT_EQ(ca.open<int>("same-name").read(0), 1);
        EXPECT_EQ(cb.open<int>("same-name").read(0), 2);
        ca.remove("same-name");
        EXPECT_EQ(cb.list().size(), 1u);
        cb.remove("same-name");
    }
    a.stop();
    b.stop();
    EXPECT_TRUE(mmm::test::segments_of(a.name_space()).empty());
    EXPECT_TRUE(mmm::test::segments_of(b.name_space()).empty());
}

}  // namespace
