// Issue #4: shared memory is untrusted. A process with write access to a
// segment scribbles on its header, field by field; then new opens fail with
// Errc::corrupt_header, mmmctl reports it, the daemon keeps serving, and a
// restarted daemon quarantines the segment instead of serving or deleting it.
#include "daemon_test.hpp"
#include "error_of.hpp"
#include "mmmctl_runner.hpp"
#include "shm_segments.hpp"

#include "chunk_header.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <functional>
#include <string>

namespace {

using mmm::Errc;
using mmm::detail::ChunkHeader;
using mmm::detail::HeaderSnapshot;

// A writable mapping of a segment's header, made straight through /dev/shm.
class HeaderMapping {
  public:
    explicit HeaderMapping(const std::string& path) {
        int fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
        if (fd < 0) throw std::runtime_error("open " + path + " failed");
        base_ = ::mmap(nullptr, sizeof(ChunkHeader), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        ::close(fd);
        if (base_ == MAP_FAILED) throw std::runtime_error("mmap " + path + " failed");
    }
    ~HeaderMapping() { ::munmap(base_, sizeof(ChunkHeader)); }
    HeaderMapping(const HeaderMapping&) = delete;
    HeaderMapping& operator=(const HeaderMapping&) = delete;
    ChunkHeader* header() const { return static_cast<ChunkHeader*>(base_); }

  private:
    void* base_ = nullptr;
};

struct Corruption {
    const char* name;
    std::function<void(HeaderSnapshot&)> apply;
    bool fix_checksum = true;  // so the field's own check is what fails
};

std::ostream& operator<<(std::ostream& os, const Corruption& c) {
    return os << c.name;
}

std::vector<Corruption> corruptions() {
    return {
        {"magic", [](HeaderSnapshot& h) { h.magic = 0x4141414141414141ull; }},
        {"layout_version",
         [](HeaderSnapshot& h) { h.layout_version = mmm::detail::kLayoutVersion + 1; }},
        {"header_bytes", [](HeaderSnapshot& h) { h.header_bytes = 16; }},
        // The victim holds ints, whose header has no stripes: claiming the
        // striped header's size must not pass either.
        {"header_bytes_striped",
         [](HeaderSnapshot& h) { h.header_bytes = sizeof(mmm::detail::ChunkHeader); }},
        {"data_offset", [](HeaderSnapshot& h) { h.data_offset = 8; }},
        {"segment_bytes", [](HeaderSnapshot& h) { h.segment_bytes = 1ull << 40; }},
        {"element_size_zero", [](HeaderSnapshot& h) { h.element_size = 0; }},
        {"element_size_huge", [](HeaderSnapshot& h) { h.element_size = ~0ull; }},
        {"element_align_3", [](HeaderSnapshot& h) { h.element_align = 3; }},
        {"count_zero", [](HeaderSnapshot& h) { h.count = 0; }},
        {"count_huge", [](HeaderSnapshot& h) { h.count = ~0ull / 2; }},
        {"mode_07777", [](HeaderSnapshot& h) { h.mode = 07777; }},
        {"lifetime_9", [](HeaderSnapshot& h) { h.lifetime = 9; }},
        {"name_unterminated", [](HeaderSnapshot& h) { std::memset(h.name, 'a', sizeof h.name); }},
        {"name_other_chunk", [](HeaderSnapshot& h) { std::strcpy(h.name, "../../etc"); }},
        {"type_name_unterminated",
         [](HeaderSnapshot& h) { std::memset(h.type_name, 'T', sizeof h.type_name); }},
        {"checksum", [](HeaderSnapshot& h) { h.checksum ^= 1; }, false},
        {"count_without_checksum", [](HeaderSnapshot& h) { h.count += 1; }, false},
    };
}

class SecurityCorruptHeader : public mmm::test::DaemonTest,
                              public ::testing::WithParamInterface<Corruption> {};

using mmm::test::error_of;

TEST_P(SecurityCorruptHeader, RefusedThenQuarantined) {
    const Corruption& c = GetParam();
    {
        auto mc = client().create<int>("victim", 64);
        mc.write(3, 333);
        auto healthy = client().create<int>("healthy", 8);
        healthy.write(0, 11);
    }
    {
        HeaderMapping map(mmm::test::segment_path(name_space(), "victim"));
        HeaderSnapshot h = mmm::detail::snapshot_of(map.header());
        c.apply(h);
        if (c.fix_checksum) h.checksum = mmm::detail::header_checksum(h);
        std::memcpy(&map.header()->fixed, &h, sizeof h);
    }
    // New opens refuse it, read-only or not, and without a crash or a hang.
    EXPECT_EQ(error_of([&] { client().open<int>("victim"); }), Errc::corrupt_header);
    EXPECT_EQ(error_of([&] { client().open<const int>("victim"); }), Errc::corrupt_header);
    EXPECT_EQ(error_of([&] { client().open_untyped("victim", false); }), Errc::corrupt_header);
    auto dump = mmm::test::run_mmmctl(runtime_dir(), {"dump", "victim"});
    EXPECT_TRUE(dump.status.exited && dump.status.code != 0) << dump.status.describe();
    EXPECT_NE((dump.err + dump.out).find("corrupt"), std::string::npos) << dump.err << dump.out;
    // info answers from the daemon's validated copy: no crash, whatever it says.
    auto info = mmm::test::run_mmmctl(runtime_dir(), {"info", "victim"});
    EXPECT_TRUE(info.status.exited) << info.status.describe();
    // The daemon still serves.
    EXPECT_EQ(client().list().size(), 2u);
    EXPECT_EQ(client().open<const int>("healthy").read(0), 11);

    // A restarted daemon quarantines it: listed, never served, not deleted.
    daemon().restart();
    auto chunks = client().list();
    ASSERT_EQ(chunks.size(), 2u);
    EXPECT_EQ(chunks[0].name, "healthy");
    EXPECT_EQ(chunks[0].state, mmm::ChunkState::ready);
    EXPECT_EQ(chunks[1].name, "victim");
    EXPECT_EQ(chunks[1].state, mmm::ChunkState::quarantined);
    EXPECT_FALSE(chunks[1].problem.empty());
    EXPECT_TRUE(segment_exists("victim"));
    EXPECT_EQ(client().stats().quarantined, 1u);
    EXPECT_EQ(error_of([&] { client().open<const int>("victim"); }), Errc::corrupt_header);
    EXPECT_EQ(error_of([&] { client().create<int>("victim", 1); }), Errc::already_exists);
    dump = mmm::test::run_mmmctl(runtime_dir(), {"dump", "victim"});
    EXPECT_TRUE(dump.status.exited && dump.status.code != 0) << dump.status.describe();
    info = mmm::test::run_mmmctl(runtime_dir(), {"info", "victim"});
    EXPECT_TRUE(info.status.exited) << info.status.describe();
    EXPECT_NE(info.out.find("quarantined"), std::string::npos) << info.out << info.err;
    EXPECT_EQ(client().open<const int>("healthy").read(0), 11);
    // Its owner (the daemon's user) or root may clear it.
    EXPECT_NO_THROW(client().remove("victim"));
    client().remove("healthy");
    expect_no_segments();
}

INSTANTIATE_TEST_SUITE_P(Fields, SecurityCorruptHeader, ::testing::ValuesIn(corruptions()),
                         [](const auto& param_info) { return std::string(param_info.param.name); });

class SecurityStateWord : public mmm::test::DaemonTest {};

TEST_F(SecurityStateWord, ScribbledStateIsNotDeletedAndGetsQuarantined) {
    auto mc = client().create<int>("stateful", 16);
    mc.write(1, 7);
    {
        HeaderMapping map(mmm::test::segment_path(name_space(), "stateful"));
        map.header()->sync.state.store(77);
    }
    EXPECT_FALSE(mc.deleted());
    EXPECT_NO_THROW((void)mc.read(1));
    // The daemon's copy of the header is still valid: an open may succeed or
    // be refused, but must not crash or hang.
    Errc e = error_of([&] {
        auto again = client().open<const int>("stateful");
        (void)again.deleted();
    });
    EXPECT_TRUE(e == Errc::ok || e == Errc::corrupt_header) << mmm::to_string(e);
    EXPECT_NO_THROW(client().list());
    daemon().restart();
    auto info = client().info("stateful");
    EXPECT_EQ(info.state, mmm::ChunkState::quarantined);
    EXPECT_NE(info.problem.find("77"), std::string::npos) << info.problem;
    EXPECT_EQ(mc.read(1), 7);  // the old mapping still works
    client().remove("stateful");
    expect_no_segments();
}

}  // namespace
