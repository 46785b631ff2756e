// Issue #6: mmmd killed (SIGKILL) at each step of a create and of a remove,
// through its MMMD_CRASH_POINT test hook (docs/RELIABILITY.md). A restarted
// mmmd then shows the chunk complete (the create had published it) or not at
// all, and leaves no segment of a half-made chunk in /dev/shm.
#include "daemon_process.hpp"
#include "error_of.hpp"
#include "shm_segments.hpp"
#include "temp_dir.hpp"

#include "names.hpp"

#include <mmm/mmm.hpp>

#include <gtest/gtest.h>

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <thread>

namespace {

using mmm::Errc;
using namespace std::chrono_literals;

using mmm::test::error_of;

// mmmd inherits the test's environment: set the hook only while it starts.
void start_with_crash_point(mmm::test::DaemonProcess& d, const std::string& point) {
    ::setenv("MMMD_CRASH_POINT", point.c_str(), 1);
    try {
        d.start();
    } catch (...) {
        ::unsetenv("MMMD_CRASH_POINT");
        throw;
    }
    ::unsetenv("MMMD_CRASH_POINT");
}

struct CrashCase {
    const char* point;
    bool chunk_survives;  // the create had published the chunk
};

// A daemon (not started) on a fresh runtime directory; segments cleaned up.
class CrashFixture : public ::testing::Test {
  protected:
    void SetUp() override {
        dir_ = std::make_unique<mmm::test::TempDir>("mmm-crash");
        ns_ = mmm::detail::namespace_for(dir_->path());
        cleanup_.emplace(ns_);
        mmm::test::remove_segments_of(ns_);
        daemon_ = std::make_unique<mmm::test::DaemonProcess>(dir_->path());
    }
    void TearDown() override {
        daemon_.reset();
        cleanup_.reset();
        dir_.reset();
    }
    mmm::ClientOptions options() const { return {.runtime_dir = dir_->path()}; }

    // Waits (bounded) for the hooked daemon to be gone, then reaps it.
    void expect_daemon_died() {
        auto deadline = std::chrono::steady_clock::now() + 10s;
        while (mmm::test::can_connect(daemon_->socket_path()) &&
               std::chrono::steady_clock::now() < deadline)
            std::this_thread::sleep_for(5ms);
        // A killed mmmd leaves its socket file, which now refuses connections.
        EXPECT_FALSE(mmm::test::can_connect(daemon_->socket_path()))
            << "mmmd did not die at its crash point";
        auto status = daemon_->kill9();
        ASSERT_TRUE(status.has_value());
        EXPECT_TRUE(status->signaled(SIGKILL)) << status->describe();
    }

    std::unique_ptr<mmm::test::TempDir> dir_;
    std::string ns_;
    std::optional<mmm::test::SegmentCleanup> cleanup_;
    std::unique_ptr<mmm::test::DaemonProcess> daemon_;
};

void PrintTo(const CrashCase& c, std::ostream* os) {
    *os << c.point;
}

class ReliabilityCrashPoint : public CrashFixture,
                              public ::testing::WithParamInterface<CrashCase> {};

TEST_P(ReliabilityCrashPoint, CreateIsAllOrNothing) {
    const CrashCase& c = GetParam();
    start_with_crash_point(*daemon_, c.point);
    {
        mmm::Client client(options());
        EXPECT_EQ(error_of([&] { client.create<int>("doomed", 10'000); }),
                  Errc::daemon_unavailable);
        ASSERT_NO_FATAL_FAILURE(expect_daemon_died());
    }
    daemon_->start();  // without the hook: adopts or reclaims
    mmm::Client client(options());
    auto chunks = client.list();
    if (c.chunk_survives) {
        ASSERT_EQ(chunks.size(), 1u);
        EXPECT_EQ(chunks[0].name, "doomed");
        EXPECT_EQ(chunks[0].state, mmm::ChunkState::ready);
        EXPECT_EQ(chunks[0].count, 10'000u);
        auto mc = client.open<int>("doomed");
        EXPECT_EQ(mc.read(9'999), 0);
        mc.write(0, 1);
        client.remove("doomed");
    } else {
        EXPECT_TRUE(chunks.empty()) << chunks.size() << " chunks, first " << chunks[0].name;
        EXPECT_EQ(error_of([&] { client.open<int>("doomed"); }), Errc::not_found);
        EXPECT_FALSE(mmm::test::segment_exists(ns_, "doomed"));
        // The name is free again.
        EXPECT_NO_THROW(client.create<int>("doomed", 1));
        client.remove("doomed");
    }
    EXPECT_TRUE(mmm::test::segments_of(ns_).empty());
    EXPECT_EQ(client.stats().quarantined, 0u);
}

INSTANTIATE_TEST_SUITE_P(Points, ReliabilityCrashPoint,
                         ::testing::Values(CrashCase{"create:after_open", false},
                                           CrashCase{"create:after_reserve", false},
                                           CrashCase{"create:after_header", false},
                                           CrashCase{"create:after_record", true},
                                           CrashCase{"create:after_ready", true}),
                         [](const auto& param_info) {
                             std::string n = param_info.param.point;
                             for (char& ch : n)
                                 if (ch == ':') ch = '_';
                             return n;
                         });

class ReliabilityCrashRemove : public CrashFixture {};

TEST_F(ReliabilityCrashRemove, RemoveAfterMarkIsFinishedOnRestart) {
    start_with_crash_point(*daemon_, "remove:after_mark");
    {
        mmm::Client client(options());
        auto mc = client.create<int>("marked", 16);
        auto keep = client.create<int>("kept", 16);
        keep.write(3, 3);
        EXPECT_EQ(error_of([&] { client.remove("marked"); }), Errc::daemon_unavailable);
        ASSERT_NO_FATAL_FAILURE(expect_daemon_died());
        EXPECT_TRUE(mc.deleted());  // the mark reached the header
        EXPECT_FALSE(keep.deleted());
    }
    daemon_->start();
    mmm::Client client(options());
    auto chunks = client.list();
    ASSERT_EQ(chunks.size(), 1u);
    EXPECT_EQ(chunks[0].name, "kept");
    EXPECT_FALSE(mmm::test::segment_exists(ns_, "marked"));
    EXPECT_EQ(client.open<int>("kept").read(3), 3);
    client.remove("kept");
    EXPECT_TRUE(mmm::test::segments_of(ns_).empty());
}

// A resize cut short by a crash comes back as the old or the new size, never
// in between: the count the segment publishes is the one mmmd's log says, the
// elements of the old size are intact, and new ones read zero.
struct ResizeCrash {
    const char* point;
    std::uint64_t to;
    bool new_size;  // the crash came after the resize was recorded
};

void PrintTo(const ResizeCrash& c, std::ostream* os) {
    *os << c.point << " to " << c.to;
}

class ReliabilityCrashResize : public CrashFixture,
                               public ::testing::WithParamInterface<ResizeCrash> {};

TEST_P(ReliabilityCrashResize, ComesBackOldOrNewNeverInBetween) {
    const ResizeCrash& c = GetParam();
    constexpr std::uint64_t kFrom = 1000;
    start_with_crash_point(*daemon_, c.point);
    {
        mmm::Client client(options());
        auto mc = client.create<int>("growing", kFrom, {.max_count = 4000});
        for (std::size_t i = 0; i < kFrom; ++i) mc.write(i, static_cast<int>(i) + 1);
        EXPECT_EQ(error_of([&] { client.resize("growing", c.to); }), Errc::daemon_unavailable);
        ASSERT_NO_FATAL_FAILURE(expect_daemon_died());
    }
    daemon_->start();
    mmm::Client client(options());
    const std::uint64_t expected = c.new_size ? c.to : kFrom;
    EXPECT_EQ(client.info("growing").count, expected);
    auto mc = client.open<const int>("growing");
    EXPECT_EQ(mc.size(), expected) << "the segment publishes another count than the log";
    for (std::size_t i = 0; i < std::min(expected, kFrom); ++i)
        ASSERT_EQ(mc.read(i), static_cast<int>(i) + 1) << i;
    for (std::size_t i = kFrom; i < expected; ++i) ASSERT_EQ(mc.read(i), 0) << i;
    mc = {};
    client.remove("growing");
    EXPECT_TRUE(mmm::test::segments_of(ns_).empty());
}

INSTANTIATE_TEST_SUITE_P(Points, ReliabilityCrashResize,
                         ::testing::Values(ResizeCrash{"resize:after_reserve", 3000, false},
                                           ResizeCrash{"resize:after_log", 3000, true},
                                           ResizeCrash{"resize:after_publish", 3000, true},
                                           ResizeCrash{"resize:after_log", 100, true},
                                           ResizeCrash{"resize:after_publish", 100, true}),
                         [](const auto& param_info) {
                             std::string n = param_info.param.point;
                             for (char& ch : n)
                                 if (ch == ':') ch = '_';
                             return n + "_to_" + std::to_string(param_info.param.to);
                         });

// A list is pipelined: the client asks for the next page before it reads
// this one. mmmd dying with that request outstanding is a clean
// daemon_unavailable (the retry finds no daemon), never a hang; the same
// Client then lists everything from a new mmmd.
class ReliabilityCrashList : public CrashFixture {};

TEST_F(ReliabilityCrashList, DaemonDyingBetweenPagesIsACleanError) {
    constexpr int kChunks = 4096 + 10;  // two pages
    start_with_crash_point(*daemon_, "list:next_page");
    mmm::Client client(options());
    for (int i = 0; i < kChunks; ++i) client.create<std::uint8_t>("l-" + std::to_string(i), 1);
    EXPECT_EQ(error_of([&] { (void)client.list(); }), Errc::daemon_unavailable);
    ASSERT_NO_FATAL_FAILURE(expect_daemon_died());
    daemon_->start();
    const auto all = client.list();
    EXPECT_EQ(all.size(), static_cast<std::size_t>(kChunks));
    for (int i = 0; i < kChunks; ++i) client.remove("l-" + std::to_string(i));
    EXPECT_TRUE(mmm::test::segments_of(ns_).empty());
}

}  // namespace
