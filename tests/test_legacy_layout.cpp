// Segments of layout 2 (mmm before the private segment directories) are
// adopted once: a valid one of mmmd's own user becomes a chunk of the current
// layout with the same name, type, owner, mode and data, and its old file is
// marked deleted and removed; an invalid one is left alone.
#include "daemon_test.hpp"
#include "error_of.hpp"

#include "fnv1a.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <string>
#include <vector>

namespace {

// The layout-2 header: 512 immutable bytes, then the sync words.
struct HeaderV2 {
    std::uint64_t magic;
    std::uint32_t layout_version;
    std::uint32_t header_bytes;
    std::uint64_t data_offset;
    std::uint64_t segment_bytes;
    std::uint64_t type_fingerprint;
    std::uint64_t element_size;
    std::uint64_t element_align;
    std::uint64_t count;
    std::uint64_t generation;
    std::int64_t created_ns;
    std::uint32_t owner_uid;
    std::uint32_t owner_gid;
    std::uint32_t creator_pid;
    std::uint32_t mode;
    std::uint32_t lifetime;
    std::uint32_t flags;
    std::uint64_t checksum;
    char name[136];
    char type_name[256];
    std::uint8_t padding[8];
};
static_assert(sizeof(HeaderV2) == 512);

// A ready layout-2 segment of `count` int32 holding i * 3 at i, as mmm 0.1 wrote it.
void write_v2_segment(const std::string& path, const std::string& name, std::uint64_t count,
                      bool break_checksum = false) {
    using namespace mmm::detail;
    HeaderV2 h{};
    h.magic = 0x314b4e48434d4d4dull;
    h.layout_version = 2;
    h.header_bytes = 640;
    h.data_offset = 4096;
    h.element_size = 4;
    h.element_align = 4;
    h.count = count;
    h.segment_bytes = h.data_offset + count * 4;
    h.generation = 0x5eed;
    h.created_ns = 1'700'000'000'000'000'000;
    h.owner_uid = ::geteuid();
    h.owner_gid = ::getegid();
    h.creator_pid = 1;
    h.mode = 0640;
    std::strcpy(h.name, name.c_str());
    std::strcpy(h.type_name, "int32");
    h.type_fingerprint = fnv1a_u64(fnv1a_u64(fnv1a(kFnvOffset, "int32"), 4), 4);
    h.checksum = fnv1a(kFnvOffset, &h, offsetof(HeaderV2, checksum));
    h.checksum = fnv1a(h.checksum, h.name, sizeof h.name);
    h.checksum = fnv1a(h.checksum, h.type_name, sizeof h.type_name);
    if (break_checksum) h.checksum ^= 1;
    std::vector<unsigned char> segment(h.segment_bytes);
    std::memcpy(segment.data(), &h, sizeof h);
    const std::uint32_t ready = 1;
    std::memcpy(segment.data() + 520, &ready, sizeof ready);
    for (std::uint64_t i = 0; i < count; ++i) {
        const auto v = static_cast<std::int32_t>(i * 3);
        std::memcpy(segment.data() + h.data_offset + i * 4, &v, sizeof v);
    }
    const int fd = ::open(path.c_str(), O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0600);
    ASSERT_GE(fd, 0) << path;
    ASSERT_EQ(::write(fd, segment.data(), segment.size()), static_cast<ssize_t>(segment.size()));
    ::close(fd);
}

class LegacyLayoutTest : public mmm::test::DaemonTest {
  protected:
    std::string legacy_path(const std::string& chunk) const {
        return "/dev/shm/mmm." + name_space() + "." + chunk;
    }
};

TEST_F(LegacyLayoutTest, ALayoutTwoSegmentIsMigratedOnce) {
    ASSERT_NO_FATAL_FAILURE(write_v2_segment(legacy_path("old"), "old", 1000));
    ASSERT_NO_FATAL_FAILURE(write_v2_segment(legacy_path("broken"), "broken", 10, true));
    daemon().restart();
    const auto info = client().info("old");
    EXPECT_EQ(info.state, mmm::ChunkState::ready);
    EXPECT_EQ(info.count, 1000u);
    EXPECT_EQ(info.mode, 0640u);
    EXPECT_EQ(info.type_name, "int32");
    EXPECT_EQ(info.generation, 0x5eedu);
    // The old type name still opens it (a chunk of layout 2 has no schema).
    auto chunk = client().open<const std::int32_t>("old");
    for (std::size_t i = 0; i < 1000; ++i) ASSERT_EQ(chunk.read(i), static_cast<int>(i * 3)) << i;
    struct stat st {};
    EXPECT_NE(::stat(legacy_path("old").c_str(), &st), 0) << "the old segment is still there";
    // An invalid one is left alone for a person to look at, and holds no name.
    EXPECT_EQ(::stat(legacy_path("broken").c_str(), &st), 0);
    EXPECT_EQ(mmm::test::error_of([&] { client().info("broken"); }), mmm::Errc::not_found);
    // Once: a second restart changes nothing.
    chunk = {};
    daemon().restart();
    EXPECT_EQ(client().open<const std::int32_t>("old").read(999), 2997);
    client().remove("old");
    ::unlink(legacy_path("broken").c_str());
}

}  // namespace
