// The fuzzers start from fuzz/corpus/: fuzz_request_decoder/ holds one
// well-formed frame per request type in the current protocol version,
// fuzz_chunk_header/ a valid segment in the current layout and a short one.
// Seeds of an old version or layout only reach the error paths, so these
// tests fail when the protocol or the layout changes until the seeds are
// rewritten:
//
//   MMM_UPDATE_FUZZ_SEEDS=1 build/tests/test_fuzz_seeds
//
// (it rewrites the seed-* files and removes seeds no request here produces).
#include "chunk_header.hpp"
#include "protocol.hpp"

#include <mmm/mmm.hpp>

#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace {

namespace fs = std::filesystem;
namespace proto = mmm::proto;

const fs::path kSeedDir = fs::path(MMM_FUZZ_CORPUS_DIR) / "fuzz_request_decoder";
const fs::path kHeaderSeedDir = fs::path(MMM_FUZZ_CORPUS_DIR) / "fuzz_chunk_header";

proto::TypeDescriptor coordinate_type() {
    proto::TypeDescriptor t;
    t.name = "Coordinate";
    t.size = 24;
    t.align = 8;
    t.fingerprint = mmm::detail::fingerprint(t.name, t.size, t.align);
    return t;
}

// Every request type once, and the optional trailing fields both ways.
std::map<std::string, proto::Request> seed_requests() {
    std::map<std::string, proto::Request> seeds;
    proto::CreateRequest create{.name = "coords", .type = coordinate_type(), .count = 1000};
    seeds["seed-create"] = create;
    create.lifetime = mmm::Lifetime::session;
    create.single_writer = true;
    create.mode = 0660;
    seeds["seed-create-single-writer"] = create;
    seeds["seed-open"] = proto::OpenRequest{.name = "coords", .type = coordinate_type()};
    seeds["seed-open-read-only-wait"] = proto::OpenRequest{
        .name = "coords", .type = coordinate_type(), .writable = false, .wait_ms = 250};
    seeds["seed-close"] =
        proto::CloseRequest{.name = "coords", .generation = 7, .writable = std::nullopt};
    seeds["seed-close-read-only"] =
        proto::CloseRequest{.name = "coords", .generation = 7, .writable = false};
    seeds["seed-close-release-lease"] = proto::CloseRequest{
        .name = "coords", .generation = 7, .writable = true, .release_lease = true};
    seeds["seed-remove"] = proto::RemoveRequest{.name = "coords", .generation = 7};
    seeds["seed-list"] = proto::ListRequest{.after = "a", .limit = 16};
    seeds["seed-info"] = proto::InfoRequest{.name = "coords"};
    seeds["seed-stats"] = proto::StatsRequest{};
    seeds["seed-ping"] = proto::PingRequest{};
    seeds["seed-watch"] = proto::WatchRequest{.name = "coords", .generation = 7};
    seeds["seed-unwatch"] = proto::UnwatchRequest{.name = "coords", .generation = 7};
    seeds["seed-commit"] =
        proto::CommitRequest{.name = "pending", .generation = 0x1234567890abcdefULL};
    return seeds;
}

// A whole ready segment of 1000 Coordinates, as mmmd writes it (fixed values
// where mmmd takes the clock, the peer or randomness), and its first 512 bytes.
std::map<std::string, std::vector<std::byte>> header_seeds() {
    using namespace mmm::detail;
    const auto type = coordinate_type();
    HeaderSnapshot h{};
    h.magic = kChunkMagic;
    h.layout_version = kLayoutVersion;
    h.header_bytes = header_bytes_for(type.size);
    h.data_offset = data_offset_for(type.size, type.align);
    h.segment_bytes = *segment_bytes_for(type.size, type.align, 1000);
    h.type_fingerprint = type.fingerprint;
    h.element_size = type.size;
    h.element_align = type.align;
    h.count = 1000;
    h.generation = 0x1234567890abcdefULL;
    h.created_ns = 1'700'000'000'000'000'000;
    h.owner_uid = 1000;
    h.owner_gid = 1000;
    h.creator_pid = 4242;
    h.mode = 0600;
    std::memcpy(h.name, "coords", 6);
    std::memcpy(h.type_name, type.name.data(), type.name.size());
    const InitialHeader initial = initial_header(h);
    std::vector<std::byte> segment(h.segment_bytes);
    std::memcpy(segment.data(), initial.bytes, sizeof initial.bytes);
    const auto ready = static_cast<std::uint32_t>(mmm::ChunkState::ready);
    std::memcpy(segment.data() + kStateOffset, &ready, sizeof ready);
    std::vector<std::byte> short_one(segment.begin(), segment.begin() + 512);
    return {{"valid-coords", segment}, {"short", short_one}};
}

std::vector<std::byte> read_file(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::vector<char> chars((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::vector<std::byte> bytes(chars.size());
    for (std::size_t i = 0; i < chars.size(); ++i) bytes[i] = static_cast<std::byte>(chars[i]);
    return bytes;
}

std::vector<std::byte> frame_for(const proto::Request& request) {
    return proto::encode_request(request, 5);
}

void rewrite(const fs::path& dir, const std::map<std::string, std::vector<std::byte>>& seeds) {
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
    std::map<std::string, std::vector<std::byte>> frames;
    for (const auto& [file, request] : seed_requests()) frames[file] = frame_for(request);
    rewrite(kSeedDir, frames);
    rewrite(kHeaderSeedDir, header_seeds());
}

TEST(FuzzSeeds, HeaderSeedsAreTheCurrentLayout) {
    for (const auto& [file, bytes] : header_seeds()) {
        const fs::path path = kHeaderSeedDir / file;
        ASSERT_TRUE(fs::exists(path)) << path << " is missing";
        EXPECT_EQ(read_file(path), bytes) << path << " is not the current layout";
    }
    // What the fuzzer does with them: the whole segment validates, the short one not.
    for (const auto& [file, valid] : {std::pair{"valid-coords", true}, {"short", false}}) {
        auto bytes = read_file(kHeaderSeedDir / file);
        std::vector<std::byte> segment(std::max(bytes.size(), sizeof(mmm::detail::ChunkHeader)));
        std::memcpy(segment.data(), bytes.data(), bytes.size());
        auto* header = reinterpret_cast<mmm::detail::ChunkHeader*>(segment.data());
        const std::string problem =
            mmm::detail::validate(mmm::detail::snapshot_of(header), bytes.size());
        EXPECT_EQ(problem.empty(), valid) << file << ": " << problem;
    }
}

TEST(FuzzSeeds, EachSeedIsTheCurrentEncodingOfItsRequest) {
    for (const auto& [file, request] : seed_requests()) {
        const fs::path path = kSeedDir / file;
        ASSERT_TRUE(fs::exists(path)) << path << " is missing";
        EXPECT_EQ(read_file(path), frame_for(request))
            << path << " is not the current encoding of its request";
    }
}

TEST(FuzzSeeds, EverySeedDecodesInTheCurrentProtocolVersion) {
    std::set<std::uint16_t> types;
    for (const auto& entry : fs::directory_iterator(kSeedDir)) {
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
         t <= static_cast<std::uint16_t>(proto::MessageType::commit); ++t)
        EXPECT_TRUE(types.contains(t)) << "no seed for request type " << t;
}

}  // namespace
