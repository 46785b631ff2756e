// Chunks on huge pages (mmmd --huge-dir, CreateOptions::huge_pages). The test
// process moves into a mount namespace of its own and mounts a tmpfs with
// huge=within_size on a temporary directory there; mmmd, its child, shares
// that namespace, and nothing of it is visible outside the test process.
// A client's mapping is checked in /proc/self/smaps: its big chunk must be
// mapped with 2 MiB pages (ShmemPmdMapped / FilePmdMapped).
#include "daemon_test.hpp"
#include "error_of.hpp"
#include "mmmctl_runner.hpp"
#include "temp_dir.hpp"

#include <gtest/gtest.h>

#include <sched.h>
#include <sys/mount.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

namespace {

using mmm::Errc;
using mmm::HugePages;
using mmm::test::error_of;

constexpr std::size_t kMiB = 1 << 20;

// Kilobytes of a mapping mapped with PMD (2 MiB) entries, from
// /proc/self/smaps: the mapping that holds `address`.
std::uint64_t pmd_mapped_kib(const void* address) {
    std::ifstream smaps("/proc/self/smaps");
    const auto a = reinterpret_cast<std::uintptr_t>(address);
    std::string line;
    bool inside = false;
    std::uint64_t kib = 0;
    for (int n = 0; n < 1'000'000 && std::getline(smaps, line); ++n) {
        std::uintptr_t lo = 0, hi = 0;
        char dash = 0;
        std::istringstream head(line);
        if (head >> std::hex >> lo >> dash >> hi && dash == '-') {
            if (inside) break;  // past the mapping
            inside = lo <= a && a < hi;
            continue;
        }
        if (!inside) continue;
        for (const char* key : {"ShmemPmdMapped:", "FilePmdMapped:"}) {
            if (line.rfind(key, 0) == 0) kib += std::stoull(line.substr(std::strlen(key)));
        }
    }
    return kib;
}

class HugePagesTest : public mmm::test::DaemonTest {
  protected:
    void SetUp() override {
        if (::geteuid() != 0) GTEST_SKIP() << "needs root to mount a tmpfs with huge pages";
        if (::unshare(CLONE_NEWNS) != 0)
            GTEST_SKIP() << "unshare(CLONE_NEWNS) is refused here: " << std::strerror(errno);
        // Mounts made from here on stay in this process's namespace.
        ASSERT_EQ(::mount("none", "/", nullptr, MS_REC | MS_PRIVATE, nullptr), 0)
            << std::strerror(errno);
        huge_ = std::make_unique<mmm::test::TempDir>("mmm-huge");
        if (::mount("tmpfs", huge_->path().c_str(), "tmpfs", MS_NOSUID | MS_NODEV,
                    "huge=within_size,size=256m,mode=1777") != 0)
            GTEST_SKIP() << "mounting a tmpfs with huge=within_size failed: "
                         << std::strerror(errno);
        mounted_ = true;
        DaemonTest::SetUp();
    }
    void TearDown() override {
        DaemonTest::TearDown();
        if (mounted_) ::umount2(huge_->path().c_str(), MNT_DETACH);
        huge_.reset();
    }
    std::vector<std::string> daemon_args() const override { return {"--huge-dir", huge_->path()}; }
    const std::string& huge_dir() const { return huge_->path(); }

  private:
    std::unique_ptr<mmm::test::TempDir> huge_;
    bool mounted_ = false;
};

TEST_F(HugePagesTest, ABigChunkIsMappedWithHugePages) {
    auto big = client().create<std::uint8_t>("big", 8 * kMiB);  // HugePages::automatic
    const auto info = client().info("big");
    EXPECT_TRUE(info.huge_pages);
    EXPECT_EQ(info.segment.rfind(huge_dir() + "/mmm.", 0), 0u) << info.segment;
    EXPECT_EQ(client().stats().huge_dir.rfind(huge_dir() + "/mmm.", 0), 0u);
    for (auto& b : big.span()) b = 1;  // first touch
    EXPECT_GE(pmd_mapped_kib(big.span().data()), 4096u)
        << "the chunk's 8 MiB of elements are not mapped with 2 MiB pages";
    big.remove();
}

TEST_F(HugePagesTest, SmallChunksAndNeverStayOnDevShmAndAlwaysMovesThere) {
    auto small = client().create<std::uint8_t>("small", 64 << 10);
    EXPECT_FALSE(client().info("small").huge_pages);
    EXPECT_EQ(client().info("small").segment.rfind("/dev/shm/mmm.", 0), 0u);
    auto never = client().create<std::uint8_t>("never", 8 * kMiB, {.huge_pages = HugePages::never});
    EXPECT_FALSE(client().info("never").huge_pages);
    for (auto& b : never.span()) b = 1;
    EXPECT_EQ(pmd_mapped_kib(never.span().data()), 0u);
    auto always = client().create<std::uint64_t>("always", 16, {.huge_pages = HugePages::always});
    EXPECT_TRUE(client().info("always").huge_pages);
    small.remove();
    never.remove();
    always.remove();
}

TEST_F(HugePagesTest, ChunksOnHugePagesAreSharedCountedAndAdoptedLikeTheOthers) {
    {
        auto big = client().create<std::uint64_t>("shared", kMiB, {.max_count = 4 * kMiB});
        big.write(kMiB - 1, 42);
        // Another client (its own mapping) sees it; mmmctl shows where it lives.
        EXPECT_EQ(new_client().open<const std::uint64_t>("shared").read(kMiB - 1), 42u);
        auto ctl = mmm::test::run_mmmctl(runtime_dir(), {"info", "shared"});
        EXPECT_TRUE(ctl.status.ok()) << ctl.status.describe() << ctl.err;
        EXPECT_NE(ctl.out.find("huge_pages:       yes"), std::string::npos) << ctl.out;
        // Counted against the quotas like any chunk: its live bytes.
        const auto stats = client().stats();
        EXPECT_EQ(stats.chunks, 1u);
        EXPECT_GE(stats.bytes, 8 * kMiB);
        EXPECT_LT(stats.bytes, 8 * kMiB + kMiB);
        // Grows and shrinks there.
        big.resize(3 * kMiB);
        big.write(3 * kMiB - 1, 7);
        big.resize(kMiB);
    }
    // A restart adopts it from the huge directory.
    daemon().restart();
    auto again = client().open<const std::uint64_t>("shared");
    EXPECT_TRUE(client().info("shared").huge_pages);
    EXPECT_EQ(again.read(kMiB - 1), 42u);
    EXPECT_EQ(again.size(), kMiB);
    client().remove("shared");
}

// Without --huge-dir, asking for huge pages is a clear error, automatic is not.
class NoHugeDirTest : public mmm::test::DaemonTest {};

TEST_F(NoHugeDirTest, AlwaysIsRefusedAndAutomaticStaysOnDevShm) {
    EXPECT_EQ(error_of([&] {
                  client().create<std::uint8_t>("h", 4 * kMiB, {.huge_pages = HugePages::always});
              }),
              Errc::invalid_argument);
    auto c = client().create<std::uint8_t>("h", 4 * kMiB);
    EXPECT_FALSE(client().info("h").huge_pages);
    EXPECT_TRUE(client().stats().huge_dir.empty());
    c.remove();
}

}  // namespace
