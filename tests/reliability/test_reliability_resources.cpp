// Issue #6: running out of room. Quotas refuse a create with a message that
// gives the numbers; a really full /dev/shm is Errc::no_space at create time.
#include "daemon_test.hpp"
#include "error_of.hpp"
#include "test_paths.hpp"

#include <gtest/gtest.h>

#include <unistd.h>

#include <optional>
#include <string>

namespace {

using mmm::Errc;

// A chunk of `count` ints reserves one page of header (ints take no stripe, so
// the header ends before the stripe table) + 4 * count bytes.
constexpr std::uint64_t segment_of_ints(std::uint64_t count) {
    return 4096 + 4 * count;
}

void expect_quota(const std::optional<mmm::Error>& e, const std::vector<std::string>& numbers) {
    ASSERT_TRUE(e.has_value()) << "the create succeeded";
    EXPECT_EQ(e->code(), Errc::quota_exceeded) << e->what();
    for (const auto& n : numbers)
        EXPECT_NE(e->message().find(n), std::string::npos)
            << "'" << n << "' not in: " << e->message();
}

class ReliabilityMaxChunkBytes : public mmm::test::DaemonTest {
  protected:
    std::vector<std::string> daemon_args() const override {
        return {"--max-chunk-bytes", "100000"};
    }
};

TEST_F(ReliabilityMaxChunkBytes, OversizeChunkIsRefused) {
    auto ok = client().create<int>("fits", 1000);
    ok.write(999, 9);
    expect_quota(mmm::test::thrown([&] { client().create<int>("too-big", 100'000); }),
                 {"100000", std::to_string(segment_of_ints(100'000)), "--max-chunk-bytes"});
    EXPECT_FALSE(segment_exists("too-big"));
    EXPECT_EQ(client().open<int>("fits").read(999), 9);
    client().remove("fits");
    expect_no_segments();
}

class ReliabilityMaxChunks : public mmm::test::DaemonTest {
  protected:
    std::vector<std::string> daemon_args() const override { return {"--max-chunks", "2"}; }
};

TEST_F(ReliabilityMaxChunks, ThirdChunkIsRefusedUntilOneGoes) {
    auto a = client().create<int>("one", 4);
    auto b = client().create<int>("two", 4);
    a.write(0, 1);
    expect_quota(mmm::test::thrown([&] { client().create<int>("three", 4); }),
                 {"2", "--max-chunks"});
    EXPECT_FALSE(segment_exists("three"));
    EXPECT_EQ(client().open<int>("one").read(0), 1);
    client().remove("two");
    EXPECT_NO_THROW(client().create<int>("three", 4));
    client().remove("one");
    client().remove("three");
    expect_no_segments();
}

class ReliabilityMaxBytes : public mmm::test::DaemonTest {
  protected:
    std::vector<std::string> daemon_args() const override { return {"--max-bytes", "100000"}; }
};

TEST_F(ReliabilityMaxBytes, TotalBytesAreCapped) {
    auto a = client().create<int>("a", 1000);
    auto b = client().create<int>("b", 1000);
    b.write(5, 5);
    const std::uint64_t used = 2 * segment_of_ints(1000);
    EXPECT_EQ(client().stats().bytes, used);
    expect_quota(
        mmm::test::thrown([&] { client().create<int>("c", 20'000); }),
        {"100000", std::to_string(used), std::to_string(segment_of_ints(20'000)), "--max-bytes"});
    EXPECT_FALSE(segment_exists("c"));
    EXPECT_EQ(client().stats().bytes, used);
    EXPECT_EQ(client().open<int>("b").read(5), 5);
    client().remove("a");
    client().remove("b");
    expect_no_segments();
}

TEST(ReliabilityFullShm, CreateInFullDevShmIsNoSpace) {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root to mount a small tmpfs on /dev/shm";
    auto r = mmm::test::run_program(MMM_REL_FULL_SHM_HELPER, {mmm::test::daemon_path()}, {},
                                    std::chrono::seconds(30));
    if (r.status.exited && r.status.code == 77) GTEST_SKIP() << r.out;
    EXPECT_TRUE(r.status.ok()) << r.status.describe() << "\n" << r.out;
    EXPECT_NE(r.out.find("no_space:"), std::string::npos) << r.out;
}

}  // namespace
