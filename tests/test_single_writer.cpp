// Single-writer chunks (CreateOptions::single_writer): one writable mapping at a
// time holds the write lease, recorded in the segment and enforced by mmmd.
// Every other writable open gets Errc::busy; read-only opens always work; the
// lease passes on when its holder destroys its MemChunk, disconnects or dies,
// and a restarted mmmd still refuses a second writer while the holder lives.
#include "daemon_test.hpp"
#include "error_of.hpp"
#include "eventually.hpp"
#include "pid_alive.hpp"
#include "process_state.hpp"
#include "shared_types.hpp"
#include "shm_segments.hpp"

#include <mmm/mmm.hpp>

#include <fcntl.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <csignal>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <thread>

namespace {

using namespace std::chrono_literals;
using mmm::test::eventually;
using mmm_test::Coordinate;

mmm::CreateOptions single_writer() {
    mmm::CreateOptions options;
    options.single_writer = true;
    return options;
}

class SingleWriterTest : public mmm::test::DaemonTest {
  protected:
    mmm::test::ChildProcess start_leaser(const std::string& name) {
        mmm::test::ChildOptions options;
        options.stdin_pipe = true;
        return start_helper("typed_helper", {"lease", name}, options);
    }

    // Retries a writable open until the lease is free or the deadline passes:
    // mmmd notices a disconnect asynchronously.
    std::optional<mmm::MemChunk<Coordinate>> open_writable_within(const std::string& name,
                                                                  std::chrono::seconds limit) {
        const auto deadline = std::chrono::steady_clock::now() + limit;
        for (int attempt = 0; attempt < 10'000; ++attempt) {
            try {
                return client().open<Coordinate>(name);
            } catch (const mmm::Error& e) {
                if (e.code() != mmm::Errc::busy) throw;
            }
            if (std::chrono::steady_clock::now() >= deadline) break;
            std::this_thread::yield();
        }
        return std::nullopt;
    }
};

TEST_F(SingleWriterTest, CreatorHoldsTheLeaseAndOtherWritersAreRefused) {
    auto chunk = client().create<Coordinate>("solo", 4, single_writer());
    EXPECT_TRUE(chunk.single_writer());
    auto info = client().info("solo");
    EXPECT_TRUE(info.single_writer);
    EXPECT_EQ(info.writer_pid, ::getpid());

    // A second writable mapping, even in the same process, would race the
    // holder's plain stores.
    auto err = mmm::test::thrown([&] { (void)client().open<Coordinate>("solo"); });
    ASSERT_TRUE(err.has_value()) << "a second writable open of a single-writer chunk succeeded";
    EXPECT_EQ(err->code(), mmm::Errc::busy) << err->what();
    EXPECT_EQ(err->chunk(), "solo");
    EXPECT_NE(err->message().find(std::to_string(::getpid())), std::string::npos)
        << "the error does not name the holder: " << err->what();

    auto other = start_leaser("solo");
    auto line = other.read_line(10s);
    ASSERT_TRUE(line.has_value()) << other.out();
    EXPECT_EQ(line->rfind("error busy", 0), 0u) << *line;
    EXPECT_EQ(other.wait_for_exit(10s).code, 64 + static_cast<int>(mmm::Errc::busy));

    // Readers are never refused, and see the holder's writes.
    auto ro = client().open<const Coordinate>("solo");
    chunk.write(2, Coordinate{7, -7});
    EXPECT_EQ(ro.read(2), (Coordinate{7, -7}));
    EXPECT_TRUE(ro.single_writer());
}

TEST_F(SingleWriterTest, LeasePassesWhenTheHolderLetsGo) {
    {
        auto chunk = client().create<Coordinate>("relay", 2, single_writer());
        chunk.write(0, Coordinate{1, 1});
    }  // destroying the creator's mapping frees the lease; the chunk stays
    EXPECT_EQ(client().info("relay").writer_pid, 0);

    auto holder = start_leaser("relay");
    ASSERT_EQ(holder.read_line(10s), "leased") << holder.out();
    EXPECT_EQ(client().info("relay").writer_pid, holder.pid());
    auto err = mmm::test::thrown([&] { (void)client().open<Coordinate>("relay"); });
    ASSERT_TRUE(err.has_value());
    EXPECT_EQ(err->code(), mmm::Errc::busy) << err->what();

    holder.write_stdin("write 1 5 6\n");
    ASSERT_EQ(holder.read_line(10s), "wrote") << holder.out();
    auto ro = client().open<const Coordinate>("relay");
    EXPECT_EQ(ro.read(1), (Coordinate{5, 6}));

    holder.write_stdin("release\n");
    ASSERT_EQ(holder.read_line(10s), "released") << holder.out();
    auto mine = client().open<Coordinate>("relay");  // at once: the holder cleared it itself
    EXPECT_EQ(client().info("relay").writer_pid, ::getpid());
    mine.write(1, Coordinate{8, 9});
    EXPECT_EQ(ro.read(1), (Coordinate{8, 9}));
    holder.close_stdin();
    EXPECT_TRUE(holder.wait_for_exit(10s).ok()) << holder.out();
}

// The holder's connection also has a read-only mapping of the chunk: closing
// that one must not end the lease of the writable one.
TEST_F(SingleWriterTest, ClosingTheHoldersReadOnlyMappingKeepsTheLease) {
    (void)client().create<Coordinate>("mixed", 2, single_writer());
    auto holder = start_leaser("mixed");
    ASSERT_EQ(holder.read_line(10s), "leased") << holder.out();
    holder.write_stdin("ro\n");
    ASSERT_EQ(holder.read_line(10s), "ro") << holder.out();
    holder.write_stdin("drop-ro\n");
    ASSERT_EQ(holder.read_line(10s), "dropped") << holder.out();
    auto attachments_of_holder = [&] {
        std::size_t n = 0;
        for (const auto& a : client().info("mixed").attachments) n += a.pid == holder.pid();
        return n;
    };
    eventually([&] { return attachments_of_holder() == 1; }, 5s);
    ASSERT_EQ(attachments_of_holder(), 1u) << "mmmd did not process the close";
    auto info = client().info("mixed");
    ASSERT_EQ(info.attachments.size(), 1u);
    EXPECT_TRUE(info.attachments[0].writable) << "mmmd dropped the writable mapping instead";
    EXPECT_EQ(info.writer_pid, holder.pid());
    auto err = mmm::test::thrown([&] { (void)client().open<Coordinate>("mixed"); });
    ASSERT_TRUE(err.has_value()) << "the lease ended with the holder's read-only mapping";
    EXPECT_EQ(err->code(), mmm::Errc::busy) << err->what();
    holder.close_stdin();
    EXPECT_TRUE(holder.wait_for_exit(10s).ok()) << holder.out();
}

// A mapping outlives its connection (a client reconnects after a timed-out
// request): mmmd must not free the lease of a holder that is alive.
TEST_F(SingleWriterTest, ALiveHolderKeepsTheLeaseWhenItsConnectionIsLost) {
    (void)client().create<Coordinate>("cut", 2, single_writer());
    auto holder = start_leaser("cut");
    ASSERT_EQ(holder.read_line(10s), "leased") << holder.out();
    holder.write_stdin("lose-connection\n");
    ASSERT_EQ(holder.read_line(10s), "lost") << holder.out();
    auto attached = [&] {
        for (const auto& a : client().info("cut").attachments)
            if (a.pid == holder.pid()) return true;
        return false;
    };
    eventually([&] { return !attached(); }, 5s);
    ASSERT_FALSE(attached()) << "mmmd did not notice the lost connection";

    auto err = mmm::test::thrown([&] { (void)client().open<Coordinate>("cut"); });
    ASSERT_TRUE(err.has_value()) << "mmmd handed out a second writer while the holder lives";
    EXPECT_EQ(err->code(), mmm::Errc::busy) << err->what();
    EXPECT_EQ(client().info("cut").writer_pid, holder.pid());
    holder.write_stdin("write 1 4 2\n");
    ASSERT_EQ(holder.read_line(10s), "wrote") << holder.out();
    EXPECT_EQ(client().open<const Coordinate>("cut").read(1), (Coordinate{4, 2}));
    holder.close_stdin();
    EXPECT_TRUE(holder.wait_for_exit(10s).ok()) << holder.out();
}

TEST_F(SingleWriterTest, ADeadHolderLosesTheLease) {
    (void)client().create<Coordinate>("orphaned", 2, single_writer());  // dropped: lease free
    auto holder = start_leaser("orphaned");
    ASSERT_EQ(holder.read_line(10s), "leased") << holder.out();
    holder.kill(SIGKILL);
    EXPECT_TRUE(holder.wait_for_exit(10s).signaled(SIGKILL));

    auto mine = open_writable_within("orphaned", 10s);
    ASSERT_TRUE(mine.has_value()) << "the lease of a killed holder was never released";
    EXPECT_EQ(client().info("orphaned").writer_pid, ::getpid());
}

// Killed but not yet reaped by its parent: the pid still answers kill(0), yet
// the process has unmapped everything and writes no more.
TEST_F(SingleWriterTest, AKilledHolderLosesTheLeaseBeforeItIsReaped) {
    (void)client().create<Coordinate>("unreaped", 2, single_writer());
    auto holder = start_leaser("unreaped");
    ASSERT_EQ(holder.read_line(10s), "leased") << holder.out();
    const auto pid = static_cast<std::uint32_t>(holder.pid());
    holder.kill(SIGKILL);
    ASSERT_TRUE(eventually([&] { return mmmd::process_state(pid) == 'Z'; }, 10s))
        << "state " << mmmd::process_state(pid);

    auto mine = open_writable_within("unreaped", 10s);
    ASSERT_TRUE(mine.has_value()) << "a zombie kept the write lease";
    EXPECT_EQ(client().info("unreaped").writer_pid, ::getpid());
    EXPECT_TRUE(holder.wait_for_exit(10s).signaled(SIGKILL));
}

TEST_F(SingleWriterTest, ARestartedDaemonStillRefusesASecondWriter) {
    (void)client().create<Coordinate>("durable", 2, single_writer());
    auto holder = start_leaser("durable");
    ASSERT_EQ(holder.read_line(10s), "leased") << holder.out();

    daemon().restart();
    mmm::Client fresh = new_client();
    EXPECT_EQ(fresh.info("durable").writer_pid, holder.pid()) << "the lease was not re-adopted";
    auto err = mmm::test::thrown([&] { (void)fresh.open<Coordinate>("durable"); });
    ASSERT_TRUE(err.has_value()) << "a restarted mmmd handed out a second writable mapping";
    EXPECT_EQ(err->code(), mmm::Errc::busy) << err->what();

    // The holder keeps writing through its mapping without the daemon.
    holder.write_stdin("write 0 3 4\n");
    ASSERT_EQ(holder.read_line(10s), "wrote") << holder.out();
    EXPECT_EQ(fresh.open<const Coordinate>("durable").read(0), (Coordinate{3, 4}));

    // Once the holder is gone, the restarted mmmd (which never saw it attach)
    // finds the recorded pid dead and passes the lease on.
    holder.kill(SIGKILL);
    EXPECT_TRUE(holder.wait_for_exit(10s).signaled(SIGKILL));
    auto mine = fresh.open<Coordinate>("durable");
    mine.write(0, Coordinate{5, 5});
    EXPECT_EQ(fresh.info("durable").writer_pid, ::getpid());
}

TEST_F(SingleWriterTest, ManyWriterChunksAreUnaffected) {
    auto a = client().create<Coordinate>("plural", 2);
    EXPECT_FALSE(a.single_writer());
    auto b = client().open<Coordinate>("plural");
    a.write(0, Coordinate{1, 2});
    b.write(1, Coordinate{3, 4});
    EXPECT_EQ(a.read(1), (Coordinate{3, 4}));
    auto info = client().info("plural");
    EXPECT_FALSE(info.single_writer);
    EXPECT_EQ(info.writer_pid, 0);
}

// mmmd grants the lease before it answers the open; when the opener then
// cannot map the segment (here: its address space is too small for it), the
// lease and the open count must go back at once, not when the opener
// disconnects or exits.
TEST_F(SingleWriterTest, AnOpenThatFailsAfterTheGrantGivesTheLeaseBack) {
    constexpr std::size_t kMiB = 32;
    { (void)client().create<std::uint8_t>("fickle", kMiB << 20, single_writer()); }
    EXPECT_EQ(client().info("fickle").writer_pid, 0);

    mmm::test::ChildOptions options;
    options.stdin_pipe = true;
    auto opener =
        start_helper("typed_helper", {"open-unmappable", "fickle", std::to_string(kMiB)}, options);
    auto line = opener.read_line(30s);
    ASSERT_TRUE(line.has_value()) << opener.out();
    if (*line == "mapped" || line->rfind("skip", 0) == 0) {
        opener.close_stdin();
        (void)opener.wait_for_exit(10s);
        GTEST_SKIP() << "RLIMIT_AS did not stop a 32 MiB mapping here: " << *line;
    }
    EXPECT_EQ(line->rfind("error io_error", 0), 0u) << *line;
    // The opener is still connected and alive: what it gave back came from
    // its failed open, through a one-way close message: wait for it.
    EXPECT_TRUE(eventually(
        [&] {
            auto info = client().info("fickle");
            return info.writer_pid == 0 && info.attachments.empty();
        },
        10s))
        << "writer_pid " << client().info("fickle").writer_pid << ", attachments "
        << client().info("fickle").attachments.size();
    // Free again: this process takes it.
    auto writer = client().open<std::uint8_t>("fickle");
    EXPECT_EQ(client().info("fickle").writer_pid, ::getpid());
    opener.close_stdin();
    EXPECT_TRUE(opener.wait_for_exit(10s).ok()) << opener.out();
}

}  // namespace
