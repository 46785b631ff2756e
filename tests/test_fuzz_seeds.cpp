// The fuzzers start from fuzz/corpus/: fuzz_request_decoder/ holds one
// well-formed frame per request type in the current protocol version,
// fuzz_registry_log/ a registry log as mmmd writes it, fuzz_schema/ stored
// schemas of a flat and a nested struct. Seeds of an old version or format
// only reach the error paths, so these tests fail when the protocol or a
// format changes until the seeds are rewritten:
//
//   MMM_UPDATE_FUZZ_SEEDS=1 build/tests/test_fuzz_seeds
//
// (it rewrites the seed files and removes seeds nothing here produces).
#include "chunk_record.hpp"
#include "protocol.hpp"
#include "registry_log.hpp"
#include "schema_codec.hpp"

#include <mmm/mmm.hpp>

#include <gtest/gtest.h>
#include <boost/describe.hpp>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <set>
#include <string>
#include <vector>

namespace fuzzseed {
struct Vec3 {
    float x, y, z;
};
BOOST_DESCRIBE_STRUCT(Vec3, (), (x, y, z))
struct Particle {
    Vec3 position;
    double mass;
    std::int32_t tags[4];
    bool alive;
};
BOOST_DESCRIBE_STRUCT(Particle, (), (position, mass, tags, alive))
}  // namespace fuzzseed

namespace {

namespace fs = std::filesystem;
namespace proto = mmm::proto;
using Seeds = std::map<std::string, std::vector<std::byte>>;

const fs::path kCorpus = fs::path(MMM_FUZZ_CORPUS_DIR);

struct Coordinate {
    int x, y;
};

// Every request type once, and the optional fields both ways.
std::map<std::string, proto::Request> seed_requests() {
    std::map<std::string, proto::Request> seeds;
    proto::CreateRequest create;
    create.name = "coords";
    create.type = mmm::detail::element_type_of<Coordinate>();
    create.count = 1000;
    seeds["seed-create"] = create;
    create.lifetime = mmm::Lifetime::session;
    create.single_writer = true;
    create.mode = 0660;
    create.max_count = 4000;
    create.huge_pages = mmm::HugePages::always;
    create.type = mmm::detail::element_type_of<fuzzseed::Particle>();
    seeds["seed-create-growable-nested"] = create;
    proto::OpenRequest open;
    open.name = "coords";
    open.type = mmm::detail::element_type_of<Coordinate>();
    seeds["seed-open"] = open;
    open.type.reset();
    open.writable = false;
    open.wait_ms = 250;
    seeds["seed-open-any-read-only-wait"] = open;
    seeds["seed-close"] = proto::CloseRequest{"coords", 7, false, false};
    seeds["seed-close-release-lease"] = proto::CloseRequest{"coords", 7, true, true};
    seeds["seed-remove"] = proto::RemoveRequest{"coords", 7};
    seeds["seed-list"] = proto::ListRequest{"a", 16};
    seeds["seed-info"] = proto::InfoRequest{"coords"};
    seeds["seed-stats"] = proto::StatsRequest{};
    seeds["seed-ping"] = proto::PingRequest{};
    seeds["seed-watch"] = proto::WatchRequest{"coords", 7};
    seeds["seed-unwatch"] = proto::UnwatchRequest{"coords", 7};
    seeds["seed-commit"] = proto::CommitRequest{"pending", 0x1234567890abcdefULL};
    seeds["seed-resize"] = proto::ResizeRequest{"coords", 7, 2000};
    return seeds;
}

mmm::detail::ChunkRecord record_of(const std::string& name, mmm::detail::ElementType type) {
    mmm::detail::ChunkRecord r;
    r.name = name;
    r.type = std::move(type);
    r.count = 1000;
    r.max_count = 4000;
    r.generation = 0x1234567890abcdefULL;
    r.created_ns = 1'700'000'000'000'000'000;
    r.owner_uid = 1000;
    r.owner_gid = 1000;
    r.creator_pid = 4242;
    r.state = mmm::ChunkState::ready;
    return r;
}

// A log as mmmd writes it: two puts, a resize, an erase.
Seeds log_seeds() {
    std::vector<std::byte> log(sizeof mmmd::kLogMagic);
    std::memcpy(log.data(), mmmd::kLogMagic, sizeof mmmd::kLogMagic);
    auto add = [&](const mmmd::LogEntry& e) {
        auto bytes = mmmd::encode_log_entry(e);
        log.insert(log.end(), bytes.begin(), bytes.end());
    };
    auto coords = record_of("coords", mmm::detail::element_type_of<Coordinate>());
    add({true, coords, {}, 0});
    auto particles = record_of("particles", mmm::detail::element_type_of<fuzzseed::Particle>());
    particles.single_writer = true;
    add({true, particles, {}, 0});
    coords.count = 2000;
    coords.resizing = true;
    add({true, coords, {}, 0});
    add({false, {}, "particles", particles.generation});
    return {{"log", log}};
}

Seeds schema_seeds() {
    return {{"coordinate", mmm::detail::schema_bytes(mmm::schema_of<Coordinate>())},
            {"particle", mmm::detail::schema_bytes(mmm::schema_of<fuzzseed::Particle>())}};
}

std::map<std::string, Seeds> all_seeds() {
    Seeds frames;
    for (const auto& [file, request] : seed_requests())
        frames[file] = proto::encode_request(request, 5);
    return {{"fuzz_request_decoder", frames},
            {"fuzz_registry_log", log_seeds()},
            {"fuzz_schema", schema_seeds()}};
}

std::vector<std::byte> read_file(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::vector<char> chars((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::vector<std::byte> bytes(chars.size());
    std::memcpy(bytes.data(), chars.data(), chars.size());
    return bytes;
}

void rewrite(const fs::path& dir, const Seeds& seeds) {
    fs::create_directories(dir);
    for (const auto& entry : fs::directory_iterator(dir))
        if (!seeds.contains(entry.path().filename().string())) fs::remove(entry.path());
    for (const auto& [file, bytes] : seeds) {
        std::ofstream out(dir / file, std::ios::binary | std::ios::trunc);
        out.write(reinterpret_cast<const char*>(bytes.data()),
                  static_cast<std::streamsize>(bytes.size()));
        ASSERT_TRUE(out.good()) << "writing " << dir / file;
    }
}

TEST(FuzzSeeds, UpdateWhenAsked) {
    if (std::getenv("MMM_UPDATE_FUZZ_SEEDS") == nullptr)
        GTEST_SKIP() << "set MMM_UPDATE_FUZZ_SEEDS=1 to rewrite the seeds in "
                     << MMM_FUZZ_CORPUS_DIR;
    for (const auto& [fuzzer, seeds] : all_seeds())
        ASSERT_NO_FATAL_FAILURE(rewrite(kCorpus / fuzzer, seeds));
}

TEST(FuzzSeeds, EachSeedIsTheCurrentEncoding) {
    for (const auto& [fuzzer, seeds] : all_seeds()) {
        for (const auto& [file, bytes] : seeds) {
            const fs::path path = kCorpus / fuzzer / file;
            ASSERT_TRUE(fs::exists(path)) << path << " is missing";
            EXPECT_EQ(read_file(path), bytes) << path << " is not the current encoding";
        }
    }
}

TEST(FuzzSeeds, LogAndSchemaSeedsDecode) {
    std::uint64_t valid = 0;
    std::vector<std::string> problems;
    const auto log = read_file(kCorpus / "fuzz_registry_log" / "log");
    EXPECT_EQ(mmmd::decode_log(log, valid, problems).size(), 4u);
    EXPECT_TRUE(problems.empty()) << problems.front();
    EXPECT_EQ(valid, log.size());
    for (const char* file : {"coordinate", "particle"}) {
        const auto bytes = read_file(kCorpus / "fuzz_schema" / file);
        mmm::detail::Reader r(bytes);
        EXPECT_NO_THROW((void)mmm::detail::decode_schema(r)) << file;
    }
}

TEST(FuzzSeeds, EverySeedDecodesInTheCurrentProtocolVersion) {
    std::set<std::uint16_t> types;
    for (const auto& entry : fs::directory_iterator(kCorpus / "fuzz_request_decoder")) {
        SCOPED_TRACE(entry.path().string());
        const auto bytes = read_file(entry.path());
        ASSERT_GE(bytes.size(), proto::kFrameHeaderBytes);
        const auto header =
            proto::decode_frame_header(std::span(bytes).first<proto::kFrameHeaderBytes>());
        EXPECT_EQ(proto::check_request_header(header), "");
        EXPECT_EQ(header.body_bytes, bytes.size() - proto::kFrameHeaderBytes);
        EXPECT_NO_THROW(
            (void)proto::decode_request(static_cast<proto::MessageType>(header.type),
                                        std::span(bytes).subspan(proto::kFrameHeaderBytes)));
        types.insert(header.type);
    }
    // Every request type the daemon accepts has a seed.
    for (auto t = static_cast<std::uint16_t>(proto::MessageType::create);
         t <= static_cast<std::uint16_t>(proto::kLastRequestType); ++t)
        EXPECT_TRUE(types.contains(t)) << "no seed for request type " << t;
}

}  // namespace
