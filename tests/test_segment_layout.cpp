// How big a chunk's segment is: the header (with a stripe table sized to the
// chunk, none for elements moved whole), page aligned, then the elements. A
// user pays for this in /dev/shm per chunk (docs/LAYOUT.md).
#include "daemon_test.hpp"
#include "shared_types.hpp"
#include "shm_segments.hpp"

#include <sys/stat.h>

#include <mmm/mmm.hpp>

#include <gtest/gtest.h>

#include <cstdint>
#include <string>

namespace {

using mmm_test::Coordinate;
using mmm_test::Sample;
using mmm_test::Triple;

constexpr std::uint64_t kPage = 4096;
// 256 bytes of prefix and sync words, 256 stripes of 64 bytes, the record
// copy: 5 pages.
constexpr std::uint64_t kFullStripeHeader = 5 * kPage;

template <std::size_t N>
struct Blob {
    unsigned char bytes[N];
};

class SegmentLayoutTest : public mmm::test::DaemonTest {
  protected:
    template <class T>
    void expect_segment(const std::string& name, std::uint64_t count, std::uint64_t header) {
        SCOPED_TRACE(name);
        auto mc = client().create<T>(name, count);
        const mmm::ChunkInfo info = client().info(name);
        EXPECT_EQ(info.segment_bytes, header + count * sizeof(T));
        EXPECT_EQ(info.bytes, count * sizeof(T));
        // The file is exactly the segment, and its last element is usable.
        struct stat st {};
        ASSERT_EQ(::stat(mmm::test::segment_path(name_space(), name).c_str(), &st), 0);
        EXPECT_EQ(static_cast<std::uint64_t>(st.st_size), info.segment_bytes);
        mc.write(0, mc.read(count - 1));
        EXPECT_EQ(mc.size(), count);
        client().remove(name);
    }
};

TEST_F(SegmentLayoutTest, WholeWordElementsHaveAOnePageHeader) {
    expect_segment<std::uint8_t>("u8", 3, kPage);
    expect_segment<std::uint16_t>("u16", 1000, kPage);
    expect_segment<int>("i32", 1, kPage);
    expect_segment<double>("f64", 512, kPage);
    expect_segment<Coordinate>("coordinate", 10, kPage);  // 8 bytes, aligned to 4
    expect_no_segments();
}

// A stripe per element up to 256: a chunk of few elements has a header of a page.
TEST_F(SegmentLayoutTest, StripeTablesAreSizedToTheChunk) {
    expect_segment<Sample>("sample", 10, kPage);                 // 16 bytes, 16 stripes
    expect_segment<Triple>("triple", 7, kPage);                  // 24 bytes, 8 stripes
    expect_segment<Sample>("samples", 1000, kFullStripeHeader);  // 256 stripes
    expect_no_segments();
}

// A chunk of one element of up to 256 bytes takes two pages of memory: its
// header and its element.
TEST_F(SegmentLayoutTest, OneSmallElementTakesTwoPages) {
    auto check = [&](auto tag, const std::string& name) {
        using T = decltype(tag);
        auto mc = client().create<T>(name, 1);
        mc.write(0, T{});
        struct stat st {};
        ASSERT_EQ(::stat(mmm::test::segment_path(name_space(), name).c_str(), &st), 0);
        EXPECT_LE(static_cast<std::uint64_t>(st.st_blocks) * 512, 2 * kPage) << name;
        EXPECT_LE(client().info(name).segment_bytes, 2 * kPage) << name;
        client().remove(name);
    };
    check(Blob<16>{}, "b16");
    check(Blob<64>{}, "b64");
    check(Blob<200>{}, "b200");
    check(Blob<256>{}, "b256");
    expect_no_segments();
}

// Stripeless and striped chunks side by side in one process, each read back
// whole by a second mapping (the header size decides where the data starts).
TEST_F(SegmentLayoutTest, DataStartsWhereTheHeaderSays) {
    auto words = client().create<std::uint64_t>("words", 100);
    auto samples = client().create<Sample>("samples", 100);
    for (std::size_t i = 0; i < 100; ++i) {
        words.write(i, 3 * i + 1);
        samples.write(i, mmm_test::sample_at(i));
    }
    auto words_again = client().open<const std::uint64_t>("words");
    auto samples_again = client().open<const Sample>("samples");
    for (std::size_t i = 0; i < 100; ++i) {
        ASSERT_EQ(words_again.read(i), 3 * i + 1);
        ASSERT_EQ(samples_again.read(i), mmm_test::sample_at(i));
    }
    client().remove("words");
    client().remove("samples");
    expect_no_segments();
}

}  // namespace
