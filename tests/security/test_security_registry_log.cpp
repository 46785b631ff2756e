// mmmd's registry log is the truth about its chunks; only mmmd's user (and
// root) can write it. A record in it that does not decode or validate (here:
// each field of a chunk's stored schema broken in turn) must cost that chunk
// only: the next mmmd quarantines its segment (listed, never served, never
// deleted behind anyone's back), clients get corrupt_header, mmmctl says why,
// and every other chunk is served as before.
#include "daemon_test.hpp"
#include "error_of.hpp"
#include "mmmctl_runner.hpp"
#include "shm_segments.hpp"

#include "chunk_record.hpp"
#include "codec.hpp"
#include "registry_log.hpp"
#include "schema_codec.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <functional>
#include <iterator>
#include <string>

namespace {

using mmm::Errc;
namespace detail = mmm::detail;

struct Coordinate {
    int x, y;
};

// The stored schema of Coordinate ({int32 x @0, int32 y @4}), written by hand
// with one thing broken.
struct BrokenSchema {
    const char* name;
    std::function<void(detail::Writer&)> write;
};

std::ostream& operator<<(std::ostream& os, const BrokenSchema& b) {
    return os << b.name;
}

// type: kind, size, align [, element, extent | name, fields]
void scalar(detail::Writer& w, mmm::FieldKind kind, std::uint64_t size) {
    w.u8(static_cast<std::uint8_t>(kind));
    w.u64(size);
    w.u64(size);
}

struct Field {
    std::string name;
    std::uint64_t offset;
    std::uint32_t type;
};

void record(detail::Writer& w, std::uint64_t size, std::uint64_t align, const std::string& name,
            const std::vector<Field>& fields) {
    w.u8(static_cast<std::uint8_t>(mmm::FieldKind::record));
    w.u64(size);
    w.u64(align);
    w.str(name);
    w.u16(static_cast<std::uint16_t>(fields.size()));
    for (const Field& f : fields) {
        w.str(f.name);
        w.u64(f.offset);
        w.u32(f.type);
    }
}

std::vector<BrokenSchema> broken_schemas() {
    using K = mmm::FieldKind;
    auto two_ints = [](std::vector<Field> fields, std::uint64_t size = 8, std::uint64_t align = 4,
                       std::string name = "Coordinate") {
        return [=](detail::Writer& w) {
            w.u16(2);
            scalar(w, K::int32, 4);
            record(w, size, align, name, fields);
        };
    };
    const std::vector<Field> good = {{"x", 0, 0}, {"y", 4, 0}};
    return {
        {"no_types", [](detail::Writer& w) { w.u16(0); }},
        {"too_many_types", [](detail::Writer& w) { w.u16(5000); }},
        {"unknown_kind",
         [](detail::Writer& w) {
             w.u16(1);
             w.u8(99);
             w.u64(8);
             w.u64(4);
         }},
        {"scalar_size",
         [](detail::Writer& w) {
             w.u16(2);
             scalar(w, K::int32, 8);
             record(w, 8, 4, "Coordinate", {{"x", 0, 0}});
         }},
        {"opaque_align",
         [](detail::Writer& w) {
             w.u16(1);
             w.u8(0);
             w.u64(8);
             w.u64(3);
         }},
        {"array_forward_element",
         [](detail::Writer& w) {
             w.u16(2);
             w.u8(static_cast<std::uint8_t>(K::array));
             w.u64(8);
             w.u64(4);
             w.u32(1);
             w.u64(2);
             scalar(w, K::int32, 4);
         }},
        {"array_extent_zero",
         [](detail::Writer& w) {
             w.u16(2);
             scalar(w, K::int32, 4);
             w.u8(static_cast<std::uint8_t>(K::array));
             w.u64(8);
             w.u64(4);
             w.u32(0);
             w.u64(0);
         }},
        {"array_size",
         [](detail::Writer& w) {
             w.u16(2);
             scalar(w, K::int32, 4);
             w.u8(static_cast<std::uint8_t>(K::array));
             w.u64(8);
             w.u64(4);
             w.u32(0);
             w.u64(3);
         }},
        {"field_past_end", two_ints({{"x", 0, 0}, {"y", 8, 0}})},
        {"fields_overlap", two_ints({{"x", 0, 0}, {"y", 2, 0}})},
        {"field_misaligned", two_ints({{"x", 0, 0}, {"y", 5, 0}}, 12)},
        {"field_name_twice", two_ints({{"x", 0, 0}, {"x", 4, 0}})},
        {"field_name_escape", two_ints({{"x", 0, 0}, {"\x1b[2J", 4, 0}})},
        {"field_name_long", two_ints({{"x", 0, 0}, {std::string(65, 'y'), 4, 0}})},
        {"field_type_index", two_ints({{"x", 0, 0}, {"y", 4, 7}})},
        {"record_underaligned", two_ints(good, 8, 1)},
        {"record_size_zero", two_ints({}, 0)},
        {"record_name_escape", two_ints(good, 8, 4, "Coord\x1b]0;pwned\x07")},
        {"schema_not_the_element", two_ints({{"x", 0, 0}, {"y", 4, 0}, {"z", 8, 0}}, 12)},
    };
}

class SecurityRegistryLog : public mmm::test::DaemonTest,
                            public ::testing::WithParamInterface<BrokenSchema> {
  protected:
    std::string log_path() const { return mmm::test::segment_dir(name_space()) + "/.registry"; }

    std::vector<std::byte> read_log() const {
        std::ifstream in(log_path(), std::ios::binary);
        std::vector<char> chars{std::istreambuf_iterator<char>(in), {}};
        std::vector<std::byte> out(chars.size());
        std::memcpy(out.data(), chars.data(), chars.size());
        return out;
    }
    void write_log(const std::vector<std::byte>& bytes) const {
        std::ofstream out(log_path(), std::ios::binary | std::ios::trunc);
        out.write(reinterpret_cast<const char*>(bytes.data()),
                  static_cast<std::streamsize>(bytes.size()));
    }
};

using mmm::test::error_of;

TEST_P(SecurityRegistryLog, BrokenSchemaQuarantinesItsChunkOnly) {
    {
        auto healthy = client().create<int>("healthy", 8);
        healthy.write(0, 11);
        auto victim = client().create<Coordinate>("victim", 4);
        victim.write(1, Coordinate{1, 2});
    }
    daemon().stop();
    // The log again, with the victim's record's schema broken (the rest of
    // the record, and the entry's checksum, as they should be).
    std::uint64_t valid = 0;
    std::vector<std::string> problems;
    const auto log = read_log();
    std::vector<mmm::detail::ChunkRecord> records;
    for (auto& e : mmmd::decode_log(log, valid, problems))
        if (e.put) records.push_back(e.record);
    ASSERT_TRUE(problems.empty()) << problems.front();
    auto victim = std::find_if(records.begin(), records.end(),
                               [](const auto& r) { return r.name == "victim"; });
    ASSERT_NE(victim, records.end());
    std::vector<std::byte> payload{std::byte{1}};  // a put
    const auto good_record = detail::record_bytes(*victim);
    const auto good_schema = detail::schema_bytes(victim->type.schema);
    auto at =
        std::search(good_record.begin(), good_record.end(), good_schema.begin(), good_schema.end());
    ASSERT_NE(at, good_record.end());
    payload.insert(payload.end(), good_record.begin(), at);
    std::vector<std::byte> broken;
    detail::Writer w(broken);
    GetParam().write(w);
    payload.insert(payload.end(), broken.begin(), broken.end());
    payload.insert(payload.end(), at + static_cast<std::ptrdiff_t>(good_schema.size()),
                   good_record.end());
    std::vector<std::byte> rewritten(sizeof mmmd::kLogMagic);
    std::memcpy(rewritten.data(), mmmd::kLogMagic, sizeof mmmd::kLogMagic);
    for (const auto& r : records) {
        const auto entry = &r == &*victim ? mmmd::frame_log_payload(payload)
                                          : mmmd::encode_log_entry(mmmd::LogEntry{true, r, {}, 0});
        rewritten.insert(rewritten.end(), entry.begin(), entry.end());
    }
    write_log(rewritten);

    daemon().start();
    auto chunks = client().list();
    ASSERT_EQ(chunks.size(), 2u);
    EXPECT_EQ(chunks[0].name, "healthy");
    EXPECT_EQ(chunks[0].state, mmm::ChunkState::ready);
    EXPECT_EQ(chunks[1].name, "victim");
    EXPECT_EQ(chunks[1].state, mmm::ChunkState::quarantined);
    EXPECT_FALSE(chunks[1].problem.empty());
    EXPECT_TRUE(segment_exists("victim"));
    EXPECT_EQ(client().stats().quarantined, 1u);
    EXPECT_EQ(error_of([&] { client().open<const Coordinate>("victim"); }), Errc::corrupt_header);
    EXPECT_EQ(error_of([&] { client().open_any("victim"); }), Errc::corrupt_header);
    EXPECT_EQ(error_of([&] { client().create<int>("victim", 1); }), Errc::already_exists);
    auto dump = mmm::test::run_mmmctl(runtime_dir(), {"dump", "victim"});
    EXPECT_TRUE(dump.status.exited && dump.status.code != 0) << dump.status.describe();
    EXPECT_NE(dump.err.find("quarantined"), std::string::npos) << dump.err;
    auto info = mmm::test::run_mmmctl(runtime_dir(), {"info", "victim"});
    EXPECT_TRUE(info.status.ok()) << info.status.describe() << info.err;
    EXPECT_NE(info.out.find("quarantined"), std::string::npos) << info.out;
    // Nothing from the broken bytes reaches a terminal raw.
    EXPECT_EQ(info.out.find('\x1b'), std::string::npos);
    EXPECT_EQ(client().open<const int>("healthy").read(0), 11);
    // mmmd's user (or root) clears it.
    EXPECT_NO_THROW(client().remove("victim"));
    client().remove("healthy");
    expect_no_segments();
}

INSTANTIATE_TEST_SUITE_P(Fields, SecurityRegistryLog, ::testing::ValuesIn(broken_schemas()),
                         [](const auto& param_info) { return std::string(param_info.param.name); });

}  // namespace
