// Growable chunks (CreateOptions::max_count): resized while other processes
// keep them mapped and read them. Who may resize is tested with the other
// access rules (tests/security/test_security_access.cpp), a restart in the
// middle of a resize with the other crash points (tests/reliability/).
#include "daemon_test.hpp"
#include "error_of.hpp"
#include "eventually.hpp"
#include "shared_types.hpp"

#include <gtest/gtest.h>

#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace {

using mmm::Errc;
using mmm::test::error_of;
using mmm::test::eventually;
using mmm::test::thrown;
using mmm_test::growth_value;
using namespace std::chrono_literals;

class GrowableTest : public mmm::test::DaemonTest {};

void fill(mmm::MemChunk<std::uint64_t>& c, std::size_t from, std::size_t to) {
    for (std::size_t i = from; i < to; ++i) c.write(i, growth_value(i));
}

// A reader process iterates with checked reads (and reads past the end) while
// this process grows the chunk 100 times and shrinks it back 100 times. Each
// size is acknowledged by the reader before the next resize, so the reader
// sees every one; its reads run on while the next resize happens.
TEST_F(GrowableTest, AReaderFollowsAHundredGrowsAndTheShrinksBack) {
    constexpr std::size_t kStart = 16, kStep = 64, kSteps = 100;
    auto grow =
        client().create<std::uint64_t>("grow", kStart, {.max_count = kStart + kSteps * kStep});
    auto ack = client().create<std::uint64_t>("grow-ack", 2);
    fill(grow, 0, kStart);
    auto reader = start_helper("typed_helper", {"follow-growth", "grow", "grow-ack"});
    ASSERT_EQ(reader.read_line(10s).value_or("(none)"), "following");
    ASSERT_TRUE(eventually([&] { return ack.read(0) == kStart; }, 10s));

    auto resize_and_wait = [&](std::size_t n) {
        grow.resize(n);
        return eventually([&] { return ack.read(0) == n; }, 10s);
    };
    for (std::size_t k = 1; k <= kSteps; ++k) {
        const std::size_t n = kStart + k * kStep;
        // Written after the resize, so the reader sees zeros, then the values.
        ASSERT_TRUE(resize_and_wait(n)) << "the reader never saw size " << n;
        ASSERT_EQ(grow.size(), n);
        fill(grow, n - kStep, n);
    }
    for (std::size_t k = kSteps; k-- > 0;) {
        const std::size_t n = kStart + k * kStep;
        ASSERT_TRUE(resize_and_wait(n)) << "the reader never saw size " << n;
    }
    ack.write(1, 1);
    const std::string last = reader.read_line(20s).value_or("(none)");
    auto status = reader.wait_for_exit(20s);
    EXPECT_TRUE(status.ok()) << status.describe() << ": " << last;
    // The first size, 100 grows, 100 shrinks.
    EXPECT_EQ(last.rfind("sizes 201 ", 0), 0u) << last;
    EXPECT_EQ(grow.size(), kStart);
    for (std::size_t i = 0; i < kStart; ++i) ASSERT_EQ(grow.read(i), growth_value(i));
    grow.remove();
    ack.remove();
}

TEST_F(GrowableTest, PointersAndSpansTakenBeforeAGrowStayValid) {
    auto c = client().create<std::uint64_t>("stable", 8, {.max_count = 1 << 20});
    // A second mapping, as another process has it (its own connection and mmap).
    auto other_client = new_client();
    auto other = other_client.open<const std::uint64_t>("stable");
    std::uint64_t* const p = c.pointer(3);
    const std::uint64_t* const q = other.span().data();
    const auto span = c.span();
    *p = 42;
    for (std::size_t n : {std::size_t{1000}, std::size_t{100'000}, std::size_t{1} << 20}) {
        c.resize(n);
        EXPECT_EQ(c.pointer(3), p);
        EXPECT_EQ(other.span().data(), q);
        EXPECT_EQ(other.size(), n);  // no reopen: the count is in the segment
        EXPECT_EQ(*p, 42u);
        EXPECT_EQ(span[3], 42u);
        c.write(n - 1, n);                // the new end is there for writes...
        EXPECT_EQ(other.read(n - 1), n);  // ...and for the other mapping's reads
    }
    EXPECT_EQ(c.max_size(), std::size_t{1} << 20);
    c.remove();
}

// Memory past the live count is given back; what a stale pointer wrote there
// does not come back when the chunk grows again.
TEST_F(GrowableTest, ElementsAddedByAGrowReadZeroWhateverWasThereBefore) {
    constexpr std::size_t kMax = 4096;  // 32 KiB of elements: tails that span pages
    auto c = client().create<std::uint64_t>("tail", kMax, {.max_count = kMax});
    std::uint64_t* const base = c.span().data();
    for (std::size_t i = 0; i < kMax; ++i) base[i] = growth_value(i);
    c.resize(10);
    EXPECT_EQ(c.size(), 10u);
    EXPECT_EQ(error_of([&] { (void)c.read(10); }), Errc::out_of_range);
    EXPECT_EQ(error_of([&] { c.write(kMax - 1, 1); }), Errc::out_of_range);
    // A stale pointer into the tail: it neither faults nor brings data back.
    for (std::size_t i = 10; i < kMax; i += 97) {
        EXPECT_TRUE(base[i] == 0 || base[i] == growth_value(i)) << i;
        base[i] = 7;
    }
    c.resize(kMax);
    for (std::size_t i = 0; i < 10; ++i) ASSERT_EQ(c.read(i), growth_value(i)) << i;
    for (std::size_t i = 10; i < kMax; ++i) ASSERT_EQ(c.read(i), 0u) << i;
    c.remove();
}

TEST_F(GrowableTest, AResizeMovesTheVersionAndWakesAWaiter) {
    auto c = client().create<std::uint64_t>("wake", 4, {.max_count = 64});
    const auto v0 = c.version();
    std::thread waiter_thread;
    std::optional<std::uint32_t> seen;
    {
        auto other_client = new_client();
        auto other = other_client.open<const std::uint64_t>("wake");
        waiter_thread = std::thread([&] { seen = other.wait_for_change(v0, 10s); });
        c.resize(32);
        waiter_thread.join();
    }
    ASSERT_TRUE(seen) << "the waiter was not woken within 10 s";
    EXPECT_NE(*seen, v0);
    EXPECT_NE(c.version(), v0);
    const auto v1 = c.version();
    c.resize(8);
    EXPECT_NE(c.version(), v1);
    c.remove();
}

TEST_F(GrowableTest, ResizesOutsideTheLimitsAreRefusedAndChangeNothing) {
    auto c = client().create<std::uint64_t>("limits", 4, {.max_count = 100});
    fill(c, 0, 4);
    auto e = thrown([&] { c.resize(101); });
    ASSERT_TRUE(e);
    EXPECT_EQ(e->code(), Errc::out_of_range);
    EXPECT_NE(std::string(e->what()).find("at most 100"), std::string::npos) << e->what();
    EXPECT_EQ(error_of([&] { c.resize(0); }), Errc::invalid_argument);
    EXPECT_EQ(c.size(), 4u);
    for (std::size_t i = 0; i < 4; ++i) EXPECT_EQ(c.read(i), growth_value(i));

    // A chunk created without max_count has a fixed size.
    auto fixed = client().create<std::uint64_t>("fixed", 4);
    EXPECT_EQ(fixed.max_size(), 4u);
    EXPECT_EQ(error_of([&] { fixed.resize(5); }), Errc::out_of_range);
    EXPECT_NO_THROW(fixed.resize(4));  // no change: allowed
    EXPECT_EQ(error_of([&] { client().resize("missing", 4); }), Errc::not_found);

    // max_count below count makes no sense.
    EXPECT_EQ(error_of([&] { client().create<std::uint64_t>("bad", 8, {.max_count = 4}); }),
              Errc::invalid_argument);
    c.remove();
    fixed.remove();
}

TEST_F(GrowableTest, ClientResizeWorksFromAnyProcessOfTheOwner) {
    auto c = client().create<std::uint64_t>("by-name", 4, {.max_count = 1000});
    auto info = new_client().resize("by-name", 500);
    EXPECT_EQ(info.count, 500u);
    EXPECT_EQ(info.max_count, 1000u);
    EXPECT_EQ(info.bytes, 500u * sizeof(std::uint64_t));
    EXPECT_EQ(c.size(), 500u);
    EXPECT_EQ(client().info("by-name").count, 500u);
    c.remove();
}

// Quotas count the live elements, not max_count.
class GrowableQuotaTest : public GrowableTest {
  protected:
    std::vector<std::string> daemon_args() const override {
        return {"--max-bytes", std::to_string(kMaxBytes), "--max-chunk-bytes",
                std::to_string(kMaxChunkBytes)};
    }
    static constexpr std::uint64_t kMiB = 1 << 20, kMaxBytes = 4 * kMiB, kMaxChunkBytes = 3 * kMiB;
};

TEST_F(GrowableQuotaTest, AGrowPastAQuotaIsRefusedAndLeavesTheChunkIntact) {
    // 64 MiB of address space, a page of elements: fits both quotas.
    auto c = client().create<std::uint64_t>("q", 64, {.max_count = 8 * kMiB});
    fill(c, 0, 64);
    // Past --max-chunk-bytes.
    auto e = thrown([&] { c.resize(kMaxChunkBytes / 8 + 1); });
    ASSERT_TRUE(e);
    EXPECT_EQ(e->code(), Errc::quota_exceeded) << e->what();
    EXPECT_EQ(c.size(), 64u);
    // Within it, but past --max-bytes beside another chunk of 2.5 MiB.
    auto other = client().create<std::uint8_t>("q-other", 5 * kMiB / 2, {.max_count = 3 * kMiB});
    EXPECT_EQ(error_of([&] { c.resize(2 * kMiB / 8); }), Errc::quota_exceeded);
    EXPECT_EQ(c.size(), 64u);
    EXPECT_EQ(client().info("q").count, 64u);
    for (std::size_t i = 0; i < 64; ++i) EXPECT_EQ(c.read(i), growth_value(i));
    // Shrinking the other gives its bytes back to the quota.
    other.resize(1);
    EXPECT_NO_THROW(c.resize(2 * kMiB / 8));
    EXPECT_EQ(c.size(), 2 * kMiB / 8);
    c.remove();
    other.remove();
}

// mmmd in a mount namespace of its own with a 4 MiB tmpfs on /dev/shm: a real
// full /dev/shm. The test process reaches the segments through the
// descriptors mmmd passes, as a container client does.
class GrowableSmallShmTest : public GrowableTest {
  protected:
    void SetUp() override {
        if (::geteuid() != 0) GTEST_SKIP() << "needs root to mount a small tmpfs on /dev/shm";
        auto probe = mmm::test::run_program("/usr/bin/unshare", {"-m", "true"}, {}, 10s);
        if (!probe.status.ok())
            GTEST_SKIP() << "unshare -m is refused here: " << probe.status.describe() << " "
                         << probe.out;
        GrowableTest::SetUp();
    }
    std::vector<std::string> daemon_prefix() const override {
        return {"/usr/bin/unshare",
                "-m",
                "--propagation",
                "private",
                "/bin/sh",
                "-c",
                "mount -t tmpfs -o size=4m,mode=1777 tmpfs /dev/shm && exec \"$@\"",
                "sh"};
    }
};

TEST_F(GrowableSmallShmTest, AGrowPastTheSpaceOfDevShmIsNoSpaceAndLeavesTheChunkIntact) {
    auto c = client().create<std::uint64_t>("full", 1000, {.max_count = 4 << 20});  // 32 MiB max
    fill(c, 0, 1000);
    auto e = thrown([&] { c.resize(1 << 20); });  // 8 MiB in a 4 MiB tmpfs
    EXPECT_EQ(e->code(), Errc::no_space) << e->what();
    EXPECT_EQ(c.size(), 1000u);
    EXPECT_EQ(client().info("full").count, 1000u);
    for (std::size_t i = 0; i < 1000; ++i) ASSERT_EQ(c.read(i), growth_value(i)) << i;
    // What fits still grows, and every new element is backed: writing all of
    // them cannot SIGBUS.
    c.resize(256 << 10);  // 2 MiB
    fill(c, 1000, c.size());
    EXPECT_EQ(c.read(c.size() - 1), growth_value(c.size() - 1));
    c.remove();
}

}  // namespace
