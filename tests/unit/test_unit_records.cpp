// Chunk records, segment geometry and the registry log's format: round trips,
// validation, and a log cut short or damaged. Starts no daemon.
#include "chunk_layout.hpp"
#include "chunk_record.hpp"
#include "registry_log.hpp"

#include <mmm/mmm.hpp>

#include <gtest/gtest.h>

#include <cstring>

namespace {

namespace detail = mmm::detail;

detail::ChunkRecord sample(const std::string& name = "coords") {
    detail::ChunkRecord r;
    r.name = name;
    r.type = detail::element_type_of<std::array<double, 3>>();
    r.count = 10;
    r.max_count = 100;
    r.generation = 77;
    r.created_ns = 123;
    r.owner_uid = 1000;
    r.owner_gid = 100;
    r.creator_pid = 42;
    r.mode = 0640;
    r.lifetime = mmm::Lifetime::session;
    r.single_writer = true;
    r.state = mmm::ChunkState::ready;
    return r;
}

detail::ChunkRecord decode(const std::vector<std::byte>& bytes) {
    detail::Reader r(bytes, mmm::Errc::corrupt_header);
    return detail::decode_record(r);
}

TEST(Records, RoundTripAndValidation) {
    const auto r = sample();
    const auto bytes = detail::record_bytes(r);
    EXPECT_EQ(detail::record_bytes(decode(bytes)), bytes);
    auto bad = [&](auto&& change) {
        auto copy = sample();
        change(copy);
        return !detail::record_problem(copy).empty();
    };
    EXPECT_TRUE(bad([](auto& c) { c.name = "../x"; }));
    EXPECT_TRUE(bad([](auto& c) { c.count = 0; }));
    EXPECT_TRUE(bad([](auto& c) { c.max_count = 5; }));  // below count
    EXPECT_TRUE(bad([](auto& c) { c.mode = 0400; }));    // the owner must read and write
    EXPECT_TRUE(bad([](auto& c) { c.generation = 0; }));
    EXPECT_TRUE(bad([](auto& c) { c.type.name = "A\nB"; }));
    EXPECT_TRUE(bad([](auto& c) { c.type.size = 16; }));  // not what the schema says
    EXPECT_TRUE(bad([](auto& c) { c.state = mmm::ChunkState::deleted; }));
    EXPECT_TRUE(bad([](auto& c) { c.state = mmm::ChunkState::quarantined; }));  // without why
    EXPECT_FALSE(bad([](auto& c) {
        c.state = mmm::ChunkState::quarantined;
        c.problem = "a writer cut it";
    }));
    // Every byte cut off: an error with the reader's code, never a crash.
    for (std::size_t cut = 0; cut < bytes.size(); ++cut) {
        std::vector<std::byte> part(bytes.begin(), bytes.begin() + static_cast<long>(cut));
        try {
            (void)decode(part);
            ADD_FAILURE() << "a record cut at " << cut << " decoded";
        } catch (const mmm::Error& e) {
            EXPECT_EQ(e.code(), mmm::Errc::corrupt_header);
        }
    }
}

TEST(Geometry, StripesAndOffsets) {
    using detail::geometry_for;
    using detail::stripe_count_for;
    EXPECT_EQ(stripe_count_for(8, 1000), 0u);  // whole words take none
    EXPECT_EQ(stripe_count_for(24, 1), 1u);
    EXPECT_EQ(stripe_count_for(24, 7), 8u);
    EXPECT_EQ(stripe_count_for(24, 1'000'000), 256u);
    auto g = geometry_for(24, 8, 7, 300);
    ASSERT_TRUE(g);
    EXPECT_EQ(g->header_bytes, 256u + 8 * 64 + 300);
    EXPECT_EQ(g->data_offset, 4096u);
    EXPECT_EQ(g->segment_bytes, 4096u + 7 * 24);
    EXPECT_EQ(geometry_for(8, 4096, 1, 0)->data_offset, 4096u);
    EXPECT_EQ(geometry_for(16, 8192, 1, 0)->data_offset, 8192u);         // aligned to the element
    EXPECT_FALSE(geometry_for(1u << 30, 8, std::uint64_t{1} << 40, 0));  // overflows
}

TEST(RegistryLog, ReplaysPutsAndErasesAndStopsAtDamage) {
    std::vector<std::byte> log(sizeof mmmd::kLogMagic);
    std::memcpy(log.data(), mmmd::kLogMagic, sizeof mmmd::kLogMagic);
    auto add = [&](const mmmd::LogEntry& e) {
        auto bytes = mmmd::encode_log_entry(e);
        log.insert(log.end(), bytes.begin(), bytes.end());
    };
    add({true, sample("a"), {}, 0});
    add({true, sample("b"), {}, 0});
    add({false, {}, "a", 77});
    std::uint64_t valid = 0;
    std::vector<std::string> problems;
    auto entries = mmmd::decode_log(log, valid, problems);
    EXPECT_EQ(entries.size(), 3u);
    EXPECT_TRUE(problems.empty());
    EXPECT_EQ(valid, log.size());
    // Cut anywhere in the last entry: the entries before it, and where they end.
    const std::uint64_t before_last =
        log.size() - mmmd::encode_log_entry({false, {}, "a", 77}).size();
    for (std::size_t cut = before_last + 1; cut < log.size(); ++cut) {
        std::vector<std::string> p;
        std::span<const std::byte> part(log.data(), cut);
        EXPECT_EQ(mmmd::decode_log(part, valid, p).size(), 2u);
        EXPECT_EQ(valid, before_last);
        EXPECT_FALSE(p.empty());
    }
    // A flipped byte fails the checksum.
    auto damaged = log;
    damaged[before_last + 12] ^= std::byte{0x40};
    problems.clear();
    EXPECT_EQ(mmmd::decode_log(damaged, valid, problems).size(), 2u);
    ASSERT_FALSE(problems.empty());
    EXPECT_NE(problems.front().find("checksum"), std::string::npos) << problems.front();
    // Not a log at all.
    problems.clear();
    std::vector<std::byte> junk(64, std::byte{0x41});
    EXPECT_TRUE(mmmd::decode_log(junk, valid, problems).empty());
    EXPECT_FALSE(problems.empty());
}

}  // namespace
