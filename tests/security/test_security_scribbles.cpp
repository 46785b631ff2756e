// A process with write access to a chunk can scribble on every byte of its
// segment, header included. Nothing it writes there decides the chunk's fate
// (mmmd keeps that in its registry log) or makes anyone touch memory outside
// the mapping: new opens map with the geometry mmmd sends, mmmctl dumps it,
// and a restarted mmmd adopts it as it was created (issue #14, case 7).
#include "daemon_test.hpp"
#include "error_of.hpp"
#include "mmmctl_runner.hpp"
#include "shm_segments.hpp"

#include "chunk_layout.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstring>
#include <functional>
#include <string>

namespace {

using mmm::Errc;
namespace detail = mmm::detail;

// A writable mapping of a segment's first page, made straight through its file
// (root may; a writer of the chunk has the same bytes through its descriptor).
class HeaderPage {
  public:
    explicit HeaderPage(const std::string& path) {
        int fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
        if (fd < 0) throw std::runtime_error("open " + path + " failed");
        base_ = ::mmap(nullptr, detail::kPageSize, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        ::close(fd);
        if (base_ == MAP_FAILED) throw std::runtime_error("mmap " + path + " failed");
    }
    ~HeaderPage() { ::munmap(base_, detail::kPageSize); }
    HeaderPage(const HeaderPage&) = delete;
    HeaderPage& operator=(const HeaderPage&) = delete;
    unsigned char* bytes() const { return static_cast<unsigned char*>(base_); }
    detail::ChunkSync* sync() const {
        return reinterpret_cast<detail::ChunkSync*>(bytes() + detail::kSyncOffset);
    }

  private:
    void* base_ = nullptr;
};

struct Scribble {
    const char* name;
    std::function<void(HeaderPage&)> apply;
};

std::ostream& operator<<(std::ostream& os, const Scribble& s) {
    return os << s.name;
}

std::vector<Scribble> scribbles() {
    auto fill = [](std::size_t from, std::size_t to, unsigned char with) {
        return [=](HeaderPage& p) { std::memset(p.bytes() + from, with, to - from); };
    };
    auto state = [](std::uint32_t v) { return [=](HeaderPage& p) { p.sync()->state.store(v); }; };
    return {
        // The prefix: magic, version, geometry, generation.
        {"prefix_zero", fill(0, detail::kSyncOffset, 0)},
        {"prefix_ff", fill(0, detail::kSyncOffset, 0xff)},
        // The record copy after the sync words (this chunk has no stripes):
        // name, type, schema, owner, mode, lifetime, state.
        {"record_copy", fill(detail::kStripesOffset, detail::kPageSize, 0x5a)},
        // The state word that used to decide a chunk's fate at a restart.
        {"state_creating", state(0)},
        {"state_deleted", state(2)},
        {"state_77", state(77)},
        // The live count: readers never go past what their mapping holds.
        {"count_huge", [](HeaderPage& p) { p.sync()->count.store(~0ull); }},
    };
}

class SecurityScribble : public mmm::test::DaemonTest,
                         public ::testing::WithParamInterface<Scribble> {};

using mmm::test::error_of;

TEST_P(SecurityScribble, ChangesNothingThatMatters) {
    auto victim = client().create<int>("victim", 64);
    for (int i = 0; i < 64; ++i) victim.write(i, 100 + i);
    const auto before = client().info("victim");
    {
        HeaderPage page(mmm::test::segment_path(name_space(), "victim"));
        GetParam().apply(page);
    }
    // The old mapping and new ones read the elements, never past them.
    EXPECT_EQ(victim.read(3), 103);
    EXPECT_LE(victim.size(), 64u);
    {
        auto again = client().open<const int>("victim");
        EXPECT_EQ(again.max_size(), 64u);
        EXPECT_EQ(again.read(5), 105);
        EXPECT_EQ(error_of([&] { (void)again.read(64); }), Errc::out_of_range);
        auto any = client().open_any("victim", mmm::Access::read_only);
        EXPECT_EQ(any.element_size(), sizeof(int));
    }
    auto dump = mmm::test::run_mmmctl(runtime_dir(), {"dump", "victim", "--count", "4"});
    EXPECT_TRUE(dump.status.ok()) << dump.status.describe() << dump.err;
    EXPECT_NE(dump.out.find("[3] 103"), std::string::npos) << dump.out;
    // A restart adopts it as it was made: not deleted, not a session chunk,
    // its owner, mode and type as created.
    daemon().restart();
    const auto after = client().info("victim");
    EXPECT_EQ(after.state, mmm::ChunkState::ready);
    EXPECT_EQ(after.lifetime, before.lifetime);
    EXPECT_EQ(after.owner_uid, before.owner_uid);
    EXPECT_EQ(after.mode, before.mode);
    EXPECT_EQ(after.generation, before.generation);
    EXPECT_EQ(after.type_name, before.type_name);
    EXPECT_EQ(after.schema, before.schema);
    EXPECT_EQ(client().open<const int>("victim").read(63), 163);
    client().remove("victim");
    expect_no_segments();
}

INSTANTIATE_TEST_SUITE_P(Regions, SecurityScribble, ::testing::ValuesIn(scribbles()),
                         [](const auto& param_info) { return std::string(param_info.param.name); });

}  // namespace
