// Without mmmd: a Client says daemon_unavailable and tells the user about
// mmmd, instead of hanging or failing obscurely.
#include "daemon_test.hpp"
#include "names.hpp"
#include "shm_segments.hpp"
#include "temp_dir.hpp"

#include <mmm/mmm.hpp>

#include <gtest/gtest.h>

#include <filesystem>
#include <string>

namespace {

mmm::Error connect_error(const std::string& runtime_dir) {
    try {
        mmm::Client client(mmm::ClientOptions{.runtime_dir = runtime_dir});
    } catch (const mmm::Error& e) {
        return e;
    }
    ADD_FAILURE() << "a Client connected to " << runtime_dir << " where no mmmd runs";
    return mmm::Error(mmm::Errc::ok, {}, "connected");
}

TEST(DaemonUnavailableTest, EmptyRuntimeDirectory) {
    mmm::test::TempDir dir("mmm-nodaemon");
    auto e = connect_error(dir.path());
    EXPECT_EQ(e.code(), mmm::Errc::daemon_unavailable) << e.what();
    EXPECT_NE(std::string(e.what()).find("mmmd"), std::string::npos) << e.what();
    EXPECT_FALSE(e.hint().empty()) << "the error should say what to do next";
}

TEST(DaemonUnavailableTest, MissingRuntimeDirectory) {
    mmm::test::TempDir dir("mmm-nodaemon");
    auto e = connect_error(dir.path() + "/does/not/exist");
    EXPECT_EQ(e.code(), mmm::Errc::daemon_unavailable) << e.what();
    EXPECT_NE(std::string(e.what()).find("mmmd"), std::string::npos) << e.what();
}

TEST(DaemonUnavailableTest, StaleSocketFileWithoutADaemon) {
    // A socket file left by a crashed daemon: nothing listens on it.
    mmm::test::TempDir dir("mmm-nodaemon");
    mmm::test::SegmentCleanup cleanup(mmm::detail::namespace_for(dir.path()));
    {
        mmm::test::DaemonProcess daemon(dir.path());
        daemon.start();
        daemon.kill9();
    }
    auto e = connect_error(dir.path());
    EXPECT_EQ(e.code(), mmm::Errc::daemon_unavailable) << e.what();
    EXPECT_NE(std::string(e.what()).find("mmmd"), std::string::npos) << e.what();
}

// Client() without options uses $MMM_RUNTIME_DIR: with a daemon there, it
// connects to that one (the daemon says so); without one, the error names it.
TEST(DaemonUnavailableTest, EnvironmentVariableSelectsTheRuntimeDirectory) {
    mmm::test::TempDir dir("mmm-envdir");
    mmm::test::SegmentCleanup cleanup(mmm::detail::namespace_for(dir.path()));
    const char* old = std::getenv("MMM_RUNTIME_DIR");
    const std::string saved = old ? old : "";
    ::setenv("MMM_RUNTIME_DIR", dir.path().c_str(), 1);
    std::string connected_to, daemon_says, error;
    {
        mmm::test::DaemonProcess daemon(dir.path());
        daemon.start();
        mmm::Client client;
        connected_to = client.runtime_dir();
        daemon_says = client.stats().runtime_dir;
    }
    try {
        mmm::Client client;  // the daemon is gone now
    } catch (const mmm::Error& e) {
        error = e.what();
    }
    if (old)
        ::setenv("MMM_RUNTIME_DIR", saved.c_str(), 1);
    else
        ::unsetenv("MMM_RUNTIME_DIR");
    EXPECT_EQ(connected_to, dir.path());
    EXPECT_EQ(std::filesystem::path(daemon_says), std::filesystem::canonical(dir.path()));
    EXPECT_NE(error.find(dir.path()), std::string::npos) << error;
}

class DaemonGoneTest : public mmm::test::DaemonTest {};

TEST_F(DaemonGoneTest, RequestsFailWithDaemonUnavailableAfterTheDaemonStops) {
    auto chunk = client().create<int>("kept", 1);
    chunk.write(0, 5);
    daemon().stop();
    try {
        client().list();
        ADD_FAILURE() << "list succeeded without a daemon";
    } catch (const mmm::Error& e) {
        EXPECT_EQ(e.code(), mmm::Errc::daemon_unavailable) << e.what();
        EXPECT_NE(std::string(e.what()).find("mmmd"), std::string::npos) << e.what();
    }
    // The data plane does not need the daemon.
    chunk.write(0, 6);
    EXPECT_EQ(chunk.read(0), 6);
}

}  // namespace
