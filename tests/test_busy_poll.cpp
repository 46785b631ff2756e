// mmmd's and the client's short polling before they sleep (mmmd --busy-poll-us,
// ClientOptions::reply_spin): it must end when requests stop, a daemon that does
// not answer must still time out, and turning polling off must change nothing
// but speed.
#include "daemon_test.hpp"
#include "error_of.hpp"
#include "pid_alive.hpp"
#include "process_state.hpp"
#include "temp_dir.hpp"
#include "test_paths.hpp"

#include <mmm/mmm.hpp>

#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <string>
#include <thread>

namespace {

using namespace std::chrono_literals;
using mmm::Errc;
using mmmd::process_state;

// True once `pid` is seen asleep in `checks` consecutive looks, before the
// deadline. A daemon that kept polling would be running (R) at every look.
bool falls_asleep(pid_t pid, int checks = 20, std::chrono::seconds patience = 5s) {
    const auto deadline = std::chrono::steady_clock::now() + patience;
    int asleep = 0;
    while (std::chrono::steady_clock::now() < deadline) {
        asleep = process_state(pid) == 'S' ? asleep + 1 : 0;
        if (asleep >= checks) return true;
        std::this_thread::sleep_for(1ms);  // pacing the looks, not synchronising
    }
    return false;
}

// Every kind of request once, from two connections.
void exercise(mmm::Client& a, mmm::Client& b) {
    {
        auto mc = a.create<std::uint64_t>("polled", 16);
        mc.write(3, 33);
        auto seen = b.open<const std::uint64_t>("polled");
        EXPECT_EQ(seen.read(3), 33u);
        EXPECT_EQ(b.list().size(), 1u);
        EXPECT_EQ(b.info("polled").count, 16u);
    }
    a.remove("polled");
    EXPECT_EQ(a.stats().chunks, 0u);
}

class BusyPollTest : public mmm::test::DaemonTest {};

TEST_F(BusyPollTest, DaemonSleepsOnceRequestsStop) {
    auto other = new_client();
    for (int round = 0; round < 50; ++round) exercise(client(), other);
    EXPECT_TRUE(falls_asleep(daemon().pid()))
        << "mmmd (pid " << daemon().pid() << ") still runs with no requests: state "
        << process_state(daemon().pid());
    expect_no_segments();
}

// A daemon that has stopped answering (SIGSTOP) must not keep a spinning client
// spinning: the request times out at request_timeout, with and without reply_spin.
TEST_F(BusyPollTest, UnansweredRequestTimesOutWhateverTheSpin) {
    for (auto spin : {0us, 50us, 5000us}) {
        SCOPED_TRACE("reply_spin " + std::to_string(spin.count()) + " us");
        mmm::ClientOptions options;
        options.runtime_dir = runtime_dir();
        options.request_timeout = 300ms;
        options.reply_spin = spin;
        mmm::Client c(options);
        c.list();  // connected and answered while mmmd runs
        ASSERT_EQ(::kill(daemon().pid(), SIGSTOP), 0);
        const auto t0 = std::chrono::steady_clock::now();
        auto e = mmm::test::thrown([&] { c.list(); });
        const auto took = std::chrono::steady_clock::now() - t0;
        ASSERT_EQ(::kill(daemon().pid(), SIGCONT), 0);
        ASSERT_TRUE(e.has_value());
        EXPECT_EQ(e->code(), Errc::timeout) << e->what();
        EXPECT_GE(took, 300ms);
        EXPECT_LT(took, 5s);
        EXPECT_NO_THROW(c.list());  // reconnects to the running daemon
    }
}

class NoPollTest : public mmm::test::DaemonTest {
  protected:
    std::vector<std::string> daemon_args() const override { return {"--busy-poll-us", "0"}; }
};

TEST_F(NoPollTest, RequestsWorkWithPollingOff) {
    mmm::ClientOptions options;
    options.runtime_dir = runtime_dir();
    options.reply_spin = 0us;
    mmm::Client a(options), b(options);
    for (int round = 0; round < 5; ++round) exercise(a, b);
    EXPECT_TRUE(falls_asleep(daemon().pid()));
    expect_no_segments();
}

TEST(BusyPollOption, OutOfRangeValuesAreRefused) {
    for (const char* bad : {"-1", "1000001", "fast"}) {
        SCOPED_TRACE(bad);
        mmm::test::TempDir dir("mmm-busy-poll");
        mmm::test::ChildOptions opts;
        opts.capture_stderr = true;
        auto r = mmm::test::run_program(
            mmm::test::daemon_path(),
            {"--foreground", "--runtime-dir", dir.path() + "/rt", "--busy-poll-us", bad}, opts,
            std::chrono::seconds(10));
        EXPECT_TRUE(r.status.exited && r.status.code != 0) << r.status.describe();
        EXPECT_NE(r.err.find("--busy-poll-us"), std::string::npos) << r.err;
    }
}

}  // namespace
