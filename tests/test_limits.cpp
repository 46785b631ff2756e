// Every limit mmmd enforces, in one place: sizes a create may ask for,
// quotas (--max-bytes, --max-chunks, --max-chunk-bytes) and the per-uid and
// per-connection caps (docs/SECURITY.md, "Limits").
#include "daemon_test.hpp"
#include "error_of.hpp"
#include "eventually.hpp"
#include "shared_types.hpp"

#include <mmm/mmm.hpp>

#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <limits>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace {

using mmm::Errc;
using mmm::test::error_of;
using mmm_test::Coordinate;

// --- sizes ------------------------------------------------------------------------

class SizesTest : public mmm::test::DaemonTest {};

TEST_F(SizesTest, ZeroCountIsInvalidArgument) {
    EXPECT_EQ(error_of([&] { client().create<int>("zero", 0); }), Errc::invalid_argument);
    EXPECT_EQ(error_of([&] { client().create<Coordinate>("zero", 0); }), Errc::invalid_argument);
    EXPECT_EQ(error_of([&] { client().open<int>("zero"); }), Errc::not_found);
    expect_no_segments();
}

TEST_F(SizesTest, CountTimesSizeOverflowIsSizeOverflow) {
    constexpr auto max = std::numeric_limits<std::size_t>::max();
    EXPECT_EQ(error_of([&] { client().create<std::uint64_t>("big", max / 4); }),
              Errc::size_overflow);
    EXPECT_EQ(error_of([&] { client().create<std::uint64_t>("big", max); }), Errc::size_overflow);
    EXPECT_EQ(error_of([&] { client().create<char>("big", max); }), Errc::size_overflow);
    EXPECT_EQ(error_of([&] { client().create<Coordinate>("big", max / 8 + 1); }),
              Errc::size_overflow);
    EXPECT_EQ(error_of([&] { client().open<std::uint64_t>("big"); }), Errc::not_found);
    EXPECT_TRUE(client().list().empty());
    expect_no_segments();
}

// --- quotas -------------------------------------------------------------------------

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
    ASSERT_NO_FATAL_FAILURE(
        expect_quota(mmm::test::thrown([&] { client().create<int>("too-big", 100'000); }),
                     {"100000", std::to_string(segment_of_ints(100'000)), "--max-chunk-bytes"}));
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
    ASSERT_NO_FATAL_FAILURE(expect_quota(
        mmm::test::thrown([&] { client().create<int>("three", 4); }), {"2", "--max-chunks"}));
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
    ASSERT_NO_FATAL_FAILURE(expect_quota(
        mmm::test::thrown([&] { client().create<int>("c", 20'000); }),
        {"100000", std::to_string(used), std::to_string(segment_of_ints(20'000)), "--max-bytes"}));
    EXPECT_FALSE(segment_exists("c"));
    EXPECT_EQ(client().stats().bytes, used);
    EXPECT_EQ(client().open<int>("b").read(5), 5);
    client().remove("a");
    client().remove("b");
    expect_no_segments();
}

// --- connections and open chunks --------------------------------------------------

using namespace std::chrono_literals;

// Waits (bounded) until the daemon counts `n` connections: the fixture's
// readiness probes may not be accounted as closed yet. The caller asserts.
testing::AssertionResult connections_are(mmm::Client& c, std::uint64_t n) {
    if (mmm::test::eventually([&] { return c.stats().connections == n; }, 5s))
        return testing::AssertionSuccess();
    return testing::AssertionFailure()
           << "mmmd still counts " << c.stats().connections << " connections, expected " << n;
}

class SecurityConnectionLimit : public mmm::test::DaemonTest {
  protected:
    std::vector<std::string> daemon_args() const override {
        return {"--max-connections-per-uid", "2"};
    }
};

TEST_F(SecurityConnectionLimit, ThirdConnectionOfAUidIsRefused) {
    ASSERT_TRUE(connections_are(client(), 1));
    auto second = new_client();
    EXPECT_NO_THROW(second.list());
    EXPECT_EQ(error_of([&] {
                  auto third = new_client();
                  third.list();
              }),
              Errc::limit_exceeded);
    // The first two are unharmed.
    EXPECT_NO_THROW(client().create<int>("still-works", 1));
    EXPECT_EQ(second.list().size(), 1u);
    client().remove("still-works");
    // Once one goes, a new one is let in again.
    { auto gone = std::move(second); }
    ASSERT_TRUE(connections_are(client(), 1));
    auto again = new_client();
    EXPECT_NO_THROW(again.list());
}

class SecurityOpenLimit : public mmm::test::DaemonTest {
  protected:
    std::vector<std::string> daemon_args() const override {
        return {"--max-open-per-connection", "2"};
    }
};

TEST_F(SecurityOpenLimit, ThirdOpenOnOneConnectionIsRefused) {
    auto a = client().create<int>("a", 1);
    auto b = client().create<int>("b", 1);
    EXPECT_EQ(error_of([&] { client().create<int>("c", 1); }), Errc::limit_exceeded);
    EXPECT_FALSE(segment_exists("c"));
    EXPECT_EQ(error_of([&] { client().open<int>("a"); }), Errc::limit_exceeded);
    // Another connection has its own budget.
    auto other = new_client();
    auto a2 = other.open<int>("a");
    auto b2 = other.open<const int>("b");
    a2.write(0, 5);
    EXPECT_EQ(a.read(0), 5);
    EXPECT_EQ(error_of([&] { other.open<int>("a"); }), Errc::limit_exceeded);
    client().remove("a");
    client().remove("b");
}

}  // namespace
