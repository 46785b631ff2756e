// mmmctl against a real mmmd (docs/MMMCTL.md): list, info, dump, delete and
// stats, as text and as --json (parsed back), and its exit codes.
#include "daemon_test.hpp"
#include "mmmctl_runner.hpp"
#include "shared_types.hpp"
#include "shm_segments.hpp"
#include "temp_dir.hpp"
#include "test_paths.hpp"

#include <mmm/mmm.hpp>

#include <nlohmann/json.hpp>

#include <unistd.h>

#include <gtest/gtest.h>

#include <cstdint>
#include <cstdio>
#include <ctime>
#include <string>
#include <vector>

namespace {

using Json = nlohmann::json;
using mmm::test::RunResult;
using mmm_test::Coordinate;

// Parses stdout as the one JSON document mmmctl --json promises.
Json parse(const RunResult& r) {
    try {
        return Json::parse(r.out);
    } catch (const std::exception& e) {
        ADD_FAILURE() << "stdout is not JSON (" << e.what() << "):\n"
                      << r.out << "\nstderr:\n"
                      << r.err;
        return Json();
    }
}

std::string show(const RunResult& r) {
    return r.status.describe() + "\nstdout:\n" + r.out + "\nstderr:\n" + r.err;
}

class MmmctlTest : public mmm::test::DaemonTest {
  protected:
    RunResult ctl(const std::vector<std::string>& args) {
        return mmm::test::run_mmmctl(runtime_dir(), args);
    }
};

TEST_F(MmmctlTest, ListJsonDescribesEveryChunk) {
    auto coords = client().create<Coordinate>("coords", 3);
    auto counters = client().create<std::int32_t>("counters", 1000);
    auto r = ctl({"list", "--json"});
    ASSERT_EQ(r.status.code, 0) << show(r);
    Json j = parse(r);
    ASSERT_TRUE(j.is_array()) << r.out;
    ASSERT_EQ(j.size(), 2u) << r.out;
    // Sorted by name.
    EXPECT_EQ(j[0]["name"], "coords");
    EXPECT_EQ(j[1]["name"], "counters");

    EXPECT_EQ(j[0]["type_name"], mmm::type_name<Coordinate>());
    EXPECT_EQ(j[0]["count"], 3);
    EXPECT_EQ(j[0]["element_size"], sizeof(Coordinate));
    EXPECT_EQ(j[0]["element_align"], alignof(Coordinate));
    EXPECT_EQ(j[0]["bytes"], 3 * sizeof(Coordinate));
    EXPECT_EQ(j[0]["mode"], "0600");
    EXPECT_EQ(j[0]["mode_numeric"], 0600);
    EXPECT_EQ(j[0]["state"], "ready");
    EXPECT_EQ(j[0]["lifetime"], "persistent");
    EXPECT_EQ(j[0]["creator_pid"], ::getpid());
    EXPECT_EQ(j[0]["owner_uid"], ::geteuid());
    EXPECT_EQ(j[0]["segment"], mmm::test::segment_path(name_space(), "coords"));
    EXPECT_EQ(j[0]["schema"], "{f0: int32, f1: int32}");
    EXPECT_EQ(j[0]["max_count"], 3);
    EXPECT_EQ(j[0]["kind"], "array");
    EXPECT_EQ(j[0]["type_fingerprint"].get<std::uint64_t>(),
              client().info("coords").type_fingerprint);
    EXPECT_EQ(j[0]["generation"].get<std::uint64_t>(), client().info("coords").generation);

    EXPECT_EQ(j[1]["type_name"], mmm::type_name<std::int32_t>());
    EXPECT_EQ(j[1]["count"], 1000);
    EXPECT_EQ(j[1]["bytes"], 4000);
    EXPECT_GE(j[1]["segment_bytes"].get<std::uint64_t>(), 4000u);

    // This process has both mapped.
    bool attached = false;
    for (const auto& a : j[0]["attachments"]) attached = attached || a["pid"] == ::getpid();
    EXPECT_TRUE(attached) << j[0]["attachments"].dump();
}

// "created" is created_ns as UTC to the millisecond, for every row: mmmctl
// keeps the date of the last second it formatted, and rows of one second reuse it.
TEST_F(MmmctlTest, ListJsonCreatedIsCreatedNsInUtc) {
    for (int i = 0; i < 3; ++i) client().create<std::uint8_t>("when-" + std::to_string(i), 1);
    auto r = ctl({"list", "--json"});
    ASSERT_EQ(r.status.code, 0) << show(r);
    const Json j = parse(r);
    ASSERT_EQ(j.size(), 3u) << r.out;
    for (const auto& row : j) {
        const auto ns = row["created_ns"].get<std::int64_t>();
        const std::time_t secs = static_cast<std::time_t>(ns / 1'000'000'000);
        std::tm tm{};
        ASSERT_NE(::gmtime_r(&secs, &tm), nullptr);
        char expected[48];
        const std::size_t n = std::strftime(expected, sizeof expected, "%Y-%m-%dT%H:%M:%S", &tm);
        std::snprintf(expected + n, sizeof expected - n, ".%03dZ",
                      static_cast<int>(ns / 1'000'000 % 1000));
        EXPECT_EQ(row["created"], expected) << row.dump();
    }
    for (int i = 0; i < 3; ++i) client().remove("when-" + std::to_string(i));
}

TEST_F(MmmctlTest, ListTextShowsATable) {
    auto coords = client().create<Coordinate>("coords", 3);
    auto r = ctl({"list"});
    ASSERT_EQ(r.status.code, 0) << show(r);
    EXPECT_NE(r.out.find("NAME"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("coords"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find(mmm::type_name<Coordinate>()), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("ready"), std::string::npos) << r.out;
}

TEST_F(MmmctlTest, ListWithoutChunks) {
    auto r = ctl({"list"});
    ASSERT_EQ(r.status.code, 0) << show(r);
    EXPECT_NE(r.out.find("no chunks"), std::string::npos) << r.out;
    auto rj = ctl({"--json", "list"});  // --json before the command works too
    ASSERT_EQ(rj.status.code, 0) << show(rj);
    EXPECT_EQ(parse(rj), Json::array());
}

// mmmd answers a list in pages of at most 4096 chunks; the client and mmmctl
// put the pages together: every chunk once, in name order.
TEST_F(MmmctlTest, ListOfMoreChunksThanOnePage) {
    constexpr int kChunks = 2 * 4096 + 7;
    auto name_of = [](int i) {
        std::string digits = std::to_string(i);
        return "many-" + std::string(5 - digits.size(), '0') + digits;
    };
    for (int i = 0; i < kChunks; ++i) client().create<std::uint8_t>(name_of(i), 1);
    const auto all = client().list();
    ASSERT_EQ(all.size(), static_cast<std::size_t>(kChunks));
    for (int i = 0; i < kChunks; ++i)
        ASSERT_EQ(all[static_cast<std::size_t>(i)].name, name_of(i)) << "at " << i;
    EXPECT_EQ(all.back().count, 1u);
    auto r = ctl({"list", "--json"});
    ASSERT_EQ(r.status.code, 0) << show(r);
    const Json j = parse(r);
    ASSERT_EQ(j.size(), static_cast<std::size_t>(kChunks));
    EXPECT_EQ(j[4096]["name"], name_of(4096));
    EXPECT_EQ(j[kChunks - 1]["name"], name_of(kChunks - 1));
    for (int i = 0; i < kChunks; ++i) client().remove(name_of(i));
    EXPECT_TRUE(client().list().empty());
    expect_no_segments();
}

TEST_F(MmmctlTest, InfoMatchesTheLibrary) {
    auto chunk = client().create<mmm_test::Sample>("samples", 7);
    auto expected = client().info("samples");
    auto r = ctl({"info", "samples", "--json"});
    ASSERT_EQ(r.status.code, 0) << show(r);
    Json j = parse(r);
    EXPECT_EQ(j["name"], "samples");
    EXPECT_EQ(j["type_name"], expected.type_name);
    EXPECT_EQ(j["count"], 7);
    EXPECT_EQ(j["element_size"], sizeof(mmm_test::Sample));
    EXPECT_EQ(j["segment_bytes"], expected.segment_bytes);
    EXPECT_EQ(j["generation"].get<std::uint64_t>(), expected.generation);

    auto text = ctl({"info", "samples"});
    ASSERT_EQ(text.status.code, 0) << show(text);
    EXPECT_NE(text.out.find("samples"), std::string::npos) << text.out;
    EXPECT_NE(text.out.find(expected.type_name), std::string::npos) << text.out;
    EXPECT_NE(text.out.find("ready"), std::string::npos) << text.out;
}

TEST_F(MmmctlTest, InfoShowsTheWriteLeaseOfASingleWriterChunk) {
    mmm::CreateOptions options;
    options.single_writer = true;
    auto chunk = client().create<mmm_test::Sample>("leased", 2, options);
    auto r = ctl({"info", "leased", "--json"});
    ASSERT_EQ(r.status.code, 0) << show(r);
    Json j = parse(r);
    EXPECT_EQ(j["single_writer"], true);
    EXPECT_EQ(j["writer_pid"], ::getpid());
    auto text = ctl({"info", "leased"});
    ASSERT_EQ(text.status.code, 0) << show(text);
    EXPECT_NE(text.out.find("single (lease held by pid " + std::to_string(::getpid()) + ")"),
              std::string::npos)
        << text.out;

    chunk = {};  // hands the lease back
    Json freed = parse(ctl({"info", "leased", "--json"}));
    EXPECT_EQ(freed["writer_pid"], 0) << "mmmctl shows a lease that was handed back";
}

TEST_F(MmmctlTest, DumpShowsHexAndValues) {
    auto chunk = client().create<std::int32_t>("counters", 3);
    chunk.write(0, 42);
    chunk.write(2, -1);
    auto before = chunk.version();
    auto r = ctl({"dump", "counters", "--raw", "--json"});
    ASSERT_EQ(r.status.code, 0) << show(r);
    Json j = parse(r);
    EXPECT_EQ(j["name"], "counters");
    EXPECT_EQ(j["type_name"], mmm::type_name<std::int32_t>());
    EXPECT_EQ(j["element_size"], 4);
    EXPECT_EQ(j["total_count"], 3);
    EXPECT_EQ(j["offset"], 0);
    EXPECT_EQ(j["count"], 3);
    EXPECT_EQ(j["truncated"], false);
    ASSERT_EQ(j["elements"].size(), 3u) << r.out;
    EXPECT_EQ(j["elements"][0]["index"], 0);
    EXPECT_EQ(j["elements"][0]["hex"], "2a000000");
    EXPECT_EQ(j["elements"][0]["value"], 42);
    EXPECT_EQ(j["elements"][0]["consistent"], true);
    EXPECT_EQ(j["elements"][1]["value"], 0);
    EXPECT_EQ(j["elements"][2]["hex"], "ffffffff");
    EXPECT_EQ(j["elements"][2]["value"], -1);

    auto text = ctl({"dump", "counters", "--raw"});
    ASSERT_EQ(text.status.code, 0) << show(text);
    EXPECT_NE(text.out.find("2a00 0000"), std::string::npos) << text.out;
    EXPECT_NE(text.out.find("= 42"), std::string::npos) << text.out;
    EXPECT_NE(text.out.find("= -1"), std::string::npos) << text.out;
    auto fields = ctl({"dump", "counters"});
    ASSERT_EQ(fields.status.code, 0) << show(fields);
    EXPECT_NE(fields.out.find("[0] 42\n"), std::string::npos) << fields.out;
    EXPECT_NE(fields.out.find("[2] -1\n"), std::string::npos) << fields.out;

    // A dump maps read-only: the chunk is unchanged.
    EXPECT_EQ(chunk.read(0), 42);
    EXPECT_EQ(chunk.read(2), -1);
    EXPECT_EQ(chunk.version(), before);
}

// An aggregate without a description: its fields by position (f0, f1).
TEST_F(MmmctlTest, DumpOfAnAggregateShowsItsFields) {
    auto chunk = client().create<Coordinate>("coords", 2);
    chunk.write(0, Coordinate{3, 9});
    auto r = ctl({"dump", "coords", "--json"});
    ASSERT_EQ(r.status.code, 0) << show(r);
    Json j = parse(r);
    ASSERT_EQ(j["elements"].size(), 2u) << r.out;
    EXPECT_EQ(j["elements"][0]["value"], (Json{{"f0", 3}, {"f1", 9}})) << r.out;
    EXPECT_FALSE(j["elements"][0].contains("hex")) << r.out;
    EXPECT_EQ(j["elements"][1]["value"], (Json{{"f0", 0}, {"f1", 0}}));
    Json raw = parse(ctl({"dump", "coords", "--raw", "--json"}));
    EXPECT_EQ(raw["elements"][0]["hex"], "0300000009000000");
    auto text = ctl({"dump", "coords"});
    EXPECT_NE(text.out.find("[0] {f0: 3, f1: 9}"), std::string::npos) << text.out;
}

// A described struct (nested record, array, enum, char, bool, padding) in
// every output, value by value; and the CSV of a scalar and of an aggregate.
TEST_F(MmmctlTest, DumpOfADescribedStructShowsEveryFieldInEveryFormat) {
    auto chunk = client().create<mmm_test::Reading>("readings", 3);
    for (std::size_t i = 1; i < 3; ++i) chunk.write(i, mmm_test::reading_at(i));

    auto text = ctl({"dump", "readings", "--offset", "1"});
    ASSERT_EQ(text.status.code, 0) << show(text);
    EXPECT_EQ(text.out,
              "readings: 3 x mmm_test::Reading (32 bytes each), elements 1..2\n"
              "[1] {id: 1001, kind: 1, at: {x: 0.5, y: -1.25}, tags: [1, -1, 7], unit: 98 'b', "
              "ok: false, value: 1.125}\n"
              "[2] {id: 1002, kind: 2, at: {x: 1, y: -2.5}, tags: [2, -2, 7], unit: 99 'c', "
              "ok: true, value: 2.125}\n");

    Json j = parse(ctl({"dump", "readings", "--json"}));
    ASSERT_EQ(j["elements"].size(), 3u);
    EXPECT_EQ(j["schema"],
              "{id: uint32, kind: uint8, at: {x: float32, y: float32}, tags: "
              "int16[3], unit: char, ok: bool, value: float64}");
    EXPECT_EQ(j["elements"][0]["value"],
              Json::parse(R"({"id": 0, "kind": 0, "at": {"x": 0.0, "y": 0.0}, "tags": [0, 0, 0],
                              "unit": 0, "ok": false, "value": 0.0})"));
    EXPECT_EQ(j["elements"][2]["value"],
              Json::parse(R"({"id": 1002, "kind": 2, "at": {"x": 1.0, "y": -2.5},
                              "tags": [2, -2, 7], "unit": 99, "ok": true, "value": 2.125})"));

    auto csv = ctl({"dump", "readings", "--format", "csv"});
    ASSERT_EQ(csv.status.code, 0) << show(csv);
    EXPECT_EQ(csv.out,
              "index,id,kind,at.x,at.y,tags[0],tags[1],tags[2],unit,ok,value,consistent\n"
              "0,0,0,0,0,0,0,0,0,0,0,true\n"
              "1,1001,1,0.5,-1.25,1,-1,7,98,0,1.125,true\n"
              "2,1002,2,1,-2.5,2,-2,7,99,1,2.125,true\n");

    auto ints = client().create<std::int32_t>("ints", 2);
    ints.write(1, -7);
    EXPECT_EQ(ctl({"dump", "ints", "--format", "csv"}).out,
              "index,value,consistent\n0,0,true\n1,-7,true\n");
    auto coords = client().create<Coordinate>("pairs", 1);
    coords.write(0, Coordinate{3, -9});
    EXPECT_EQ(ctl({"dump", "pairs", "--format", "csv"}).out,
              "index,f0,f1,consistent\n0,3,-9,true\n");
    EXPECT_EQ(ctl({"dump", "pairs", "--format", "csv", "--raw"}).status.code, 2);
}

TEST_F(MmmctlTest, DumpRangeAndDefaultCap) {
    auto chunk = client().create<std::uint8_t>("bytes", 100);
    for (std::size_t i = 0; i < 100; ++i) chunk.write(i, static_cast<std::uint8_t>(i));

    Json capped = parse(ctl({"dump", "bytes", "--json"}));
    EXPECT_EQ(capped["count"], 64);
    EXPECT_EQ(capped["truncated"], true);

    auto some = ctl({"dump", "bytes", "--offset", "90", "--count", "10", "--json"});
    ASSERT_EQ(some.status.code, 0) << show(some);
    Json j = parse(some);
    ASSERT_EQ(j["elements"].size(), 10u);
    EXPECT_EQ(j["elements"][0]["index"], 90);
    EXPECT_EQ(j["elements"][0]["value"], 90);
    EXPECT_EQ(j["elements"][9]["value"], 99);

    EXPECT_EQ(ctl({"dump", "bytes", "--offset", "100"}).status.code, 2);
    EXPECT_EQ(ctl({"dump", "bytes", "--offset", "95", "--count", "6"}).status.code, 2);
    EXPECT_EQ(ctl({"dump", "bytes", "--count", "0"}).status.code, 2);
}

TEST_F(MmmctlTest, DeleteRemovesTheChunk) {
    auto chunk = client().create<int>("victim", 1);
    auto keep = client().create<int>("bystander", 1);
    ASSERT_TRUE(segment_exists("victim"));
    auto r = ctl({"delete", "victim"});
    ASSERT_EQ(r.status.code, 0) << show(r);
    EXPECT_NE(r.out.find("victim"), std::string::npos) << r.out;
    EXPECT_FALSE(segment_exists("victim"));
    EXPECT_TRUE(chunk.deleted());
    EXPECT_THROW(client().open<int>("victim"), mmm::Error);
    EXPECT_TRUE(segment_exists("bystander"));

    auto rj = ctl({"delete", "bystander", "--json"});
    ASSERT_EQ(rj.status.code, 0) << show(rj);
    EXPECT_EQ(parse(rj), Json({{"deleted", "bystander"}}));
    EXPECT_TRUE(client().list().empty());
    expect_no_segments();
}

TEST_F(MmmctlTest, StatsJsonMatchesTheDaemon) {
    auto a = client().create<std::uint64_t>("a", 10);
    auto b = client().create<Coordinate>("b", 10);
    auto r = ctl({"stats", "--json"});
    ASSERT_EQ(r.status.code, 0) << show(r);
    Json j = parse(r);
    EXPECT_EQ(j["daemon_pid"], daemon().pid());
    EXPECT_EQ(j["name_space"], name_space());
    EXPECT_EQ(j["chunks"], 2);
    EXPECT_EQ(j["quarantined"], 0);
    EXPECT_EQ(j["runtime_dir"], client().stats().runtime_dir);
    auto expected_bytes = client().info("a").segment_bytes + client().info("b").segment_bytes;
    EXPECT_EQ(j["bytes"], expected_bytes);
    EXPECT_GE(j["connections"].get<std::uint64_t>(), 1u);
    EXPECT_GE(j["requests"].get<std::uint64_t>(), 2u);

    auto text = ctl({"stats"});
    ASSERT_EQ(text.status.code, 0) << show(text);
    EXPECT_NE(text.out.find(name_space()), std::string::npos) << text.out;
    EXPECT_NE(text.out.find(std::to_string(daemon().pid())), std::string::npos) << text.out;
}

TEST_F(MmmctlTest, MissingChunkExitsWith4) {
    for (const std::vector<std::string>& args : {std::vector<std::string>{"info", "missing"},
                                                 {"dump", "missing"},
                                                 {"delete", "missing"}}) {
        SCOPED_TRACE(args[0]);
        auto r = ctl(args);
        EXPECT_EQ(r.status.code, 4) << show(r);
        EXPECT_NE(r.err.find("missing"), std::string::npos) << r.err;
        EXPECT_NE(r.err.find("not_found"), std::string::npos) << r.err;

        auto rargs = args;
        rargs.push_back("--json");
        auto rj = ctl(rargs);
        EXPECT_EQ(rj.status.code, 4) << show(rj);
        Json j = parse(rj);
        EXPECT_EQ(j["error"], "not_found") << rj.out;
        EXPECT_EQ(j["chunk"], "missing") << rj.out;
    }
}

TEST_F(MmmctlTest, InvalidNameIsAUsageError) {
    auto r = ctl({"info", "../etc"});
    EXPECT_EQ(r.status.code, 2) << show(r);
    EXPECT_NE(r.err.find("invalid_name"), std::string::npos) << r.err;
    EXPECT_EQ(ctl({"frobnicate"}).status.code, 2);
    EXPECT_EQ(ctl({}).status.code, 2);
}

TEST_F(MmmctlTest, RuntimeDirOptionOverridesTheEnvironment) {
    auto chunk = client().create<int>("here", 1);
    mmm::test::TempDir elsewhere("mmm-nodaemon");
    mmm::test::ChildOptions options;
    options.env["MMM_RUNTIME_DIR"] = elsewhere.path();
    auto r = mmm::test::run_program(mmm::test::mmmctl_path(),
                                    {"list", "--runtime-dir", runtime_dir(), "--json"}, options);
    ASSERT_EQ(r.status.code, 0) << show(r);
    Json j = parse(r);
    ASSERT_EQ(j.size(), 1u) << r.out;
    EXPECT_EQ(j[0]["name"], "here");
}

TEST(MmmctlNoDaemonTest, ExitsWith3AndSaysSo) {
    mmm::test::TempDir dir("mmm-nodaemon");
    for (const std::vector<std::string>& args :
         {std::vector<std::string>{"list"}, {"stats"}, {"info", "x"}, {"delete", "x"}}) {
        SCOPED_TRACE(args[0]);
        auto r = mmm::test::run_mmmctl(dir.path(), args);
        EXPECT_EQ(r.status.code, 3) << show(r);
        EXPECT_NE(r.err.find("mmmd"), std::string::npos) << r.err;
        EXPECT_NE(r.err.find("daemon_unavailable"), std::string::npos) << r.err;
    }
    auto rj = mmm::test::run_mmmctl(dir.path(), {"list", "--json"});
    EXPECT_EQ(rj.status.code, 3) << show(rj);
    EXPECT_EQ(parse(rj)["error"], "daemon_unavailable") << rj.out;
}

}  // namespace
