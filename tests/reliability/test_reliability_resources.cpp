// Running out of room for real: a full /dev/shm is Errc::no_space at create
// time, never a SIGBUS later (quotas are tested in tests/test_limits.cpp).
#include "daemon_test.hpp"
#include "error_of.hpp"
#include "test_paths.hpp"

#include <gtest/gtest.h>

#include <unistd.h>

#include <optional>
#include <string>

namespace {

using mmm::Errc;

TEST(ReliabilityFullShm, CreateInFullDevShmIsNoSpace) {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root to mount a small tmpfs on /dev/shm";
    auto r = mmm::test::run_program(MMM_REL_FULL_SHM_HELPER, {mmm::test::daemon_path()}, {},
                                    std::chrono::seconds(30));
    if (r.status.exited && r.status.code == 77) GTEST_SKIP() << r.out;
    EXPECT_TRUE(r.status.ok()) << r.status.describe() << "\n" << r.out;
    EXPECT_NE(r.out.find("no_space:"), std::string::npos) << r.out;
}

}  // namespace
