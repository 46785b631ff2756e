// How big a chunk's segment is: the header (with the stripe table only for
// elements that take a stripe), page aligned, then the elements. A user pays
// for this in /dev/shm per chunk, and the file size is what mmm validates.
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
// 512 bytes of description, 128 of sync words, 256 stripes of 64 bytes: 5 pages.
constexpr std::uint64_t kStripedHeader = 5 * kPage;

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

TEST_F(SegmentLayoutTest, WiderElementsKeepTheStripeTable) {
    expect_segment<Sample>("sample", 10, kStripedHeader);  // 16 bytes
    expect_segment<Triple>("triple", 7, kStripedHeader);   // 24 bytes
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
