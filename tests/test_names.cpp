// Chunk names (DESIGN.md "Names and places"): 1 to 128 of [A-Za-z0-9._-], not
// starting with '.'; anything else is Errc::invalid_name on every operation,
// and never becomes a path or a segment. Bad counts are refused before any
// segment exists.
#include "daemon_test.hpp"
#include "raw_socket.hpp"
#include "shared_types.hpp"

#include <mmm/mmm.hpp>

#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

namespace {

using mmm::Errc;
using mmm_test::Coordinate;

// Runs `op` and returns the mmm::Errc it threw (Errc::ok when it did not throw).
Errc code_of(const std::function<void()>& op) {
    try {
        op();
    } catch (const mmm::Error& e) {
        return e.code();
    }
    return Errc::ok;
}

struct BadName {
    const char* label;
    std::string name;
};

std::vector<BadName> bad_names() {
    using namespace std::string_literals;
    return {
        {"empty", ""},
        {"too long (129)", std::string(129, 'a')},
        {"slash", "a/b"},
        {"leading slash", "/abc"},
        {"dot dot", ".."},
        {"dot dot slash", "../x"},
        {"single dot", "."},
        {"leading dot", ".hidden"},
        {"non-ASCII UTF-8", "caf\xc3\xa9"},
        {"NUL inside", "ab\0cd"s},
        {"space", "two words"},
        {"tab", "a\tb"},
        {"newline", "a\nb"},
        {"percent", "100%"},
        {"backslash", "a\\b"},
    };
}

class NamesTest : public mmm::test::DaemonTest {};

TEST_F(NamesTest, InvalidNamesAreRefusedByEveryOperation) {
    for (const auto& bad : bad_names()) {
        SCOPED_TRACE(bad.label);
        std::string_view name = bad.name;  // keeps an embedded NUL
        auto& c = client();
        EXPECT_EQ(code_of([&] { c.create<int>(name, 1); }), Errc::invalid_name);
        EXPECT_EQ(code_of([&] { c.create<Coordinate>(name, 4); }), Errc::invalid_name);
        EXPECT_EQ(code_of([&] { c.open<int>(name); }), Errc::invalid_name);
        EXPECT_EQ(code_of([&] { c.open<const int>(name); }), Errc::invalid_name);
        EXPECT_EQ(code_of([&] { c.remove(name); }), Errc::invalid_name);
        EXPECT_EQ(code_of([&] { c.info(name); }), Errc::invalid_name);
    }
    EXPECT_TRUE(client().list().empty());
    expect_no_segments();
}

TEST_F(NamesTest, InvalidNameErrorExplainsTheRule) {
    try {
        client().create<int>("../etc/passwd", 1);
        FAIL() << "create of '../etc/passwd' did not throw";
    } catch (const mmm::Error& e) {
        EXPECT_EQ(e.code(), Errc::invalid_name);
        EXPECT_FALSE(e.message().empty());
        EXPECT_NE(std::string(e.what()).find("invalid_name"), std::string::npos) << e.what();
    }
}

TEST_F(NamesTest, NulInsideNameIsNotTruncatedToAValidPrefix) {
    // "ok\0evil" must not act as "ok": create "ok" first, then the NUL name
    // must neither open it nor remove it.
    using namespace std::string_literals;
    auto chunk = client().create<int>("ok", 1);
    chunk.write(0, 42);
    std::string with_nul = "ok\0evil"s;
    EXPECT_EQ(code_of([&] { client().open<int>(std::string_view(with_nul)); }), Errc::invalid_name);
    EXPECT_EQ(code_of([&] { client().remove(std::string_view(with_nul)); }), Errc::invalid_name);
    EXPECT_EQ(client().open<int>("ok").read(0), 42);
    EXPECT_TRUE(segment_exists("ok"));
}

TEST_F(NamesTest, BoundaryNamesAreAccepted) {
    const std::vector<std::string> good = {
        std::string(128, 'n'), "a", "Z", "0", "a.b", "x..y", "under_score", "dash-ed", "a-._b",
        "UPPER.lower-123"};
    for (const auto& name : good) {
        SCOPED_TRACE(name);
        auto chunk = client().create<std::uint32_t>(name, 2);
        chunk.write(1, 7u);
        EXPECT_EQ(client().open<std::uint32_t>(name).read(1), 7u);
        EXPECT_EQ(client().info(name).name, name);
        EXPECT_TRUE(segment_exists(name)) << "no /dev/shm segment for " << name;
        client().remove(name);
        EXPECT_FALSE(segment_exists(name));
    }
    expect_no_segments();
}

TEST_F(NamesTest, ExactlyMaxLengthWorksAndOneMoreDoesNot) {
    std::string max(128, 'm');
    std::string over(129, 'm');
    auto chunk = client().create<int>(max, 1);
    EXPECT_EQ(chunk.name(), max);
    EXPECT_EQ(code_of([&] { client().create<int>(over, 1); }), Errc::invalid_name);
    auto listed = client().list();
    ASSERT_EQ(listed.size(), 1u);
    EXPECT_EQ(listed[0].name, max);
}

TEST_F(NamesTest, ZeroCountIsInvalidArgument) {
    EXPECT_EQ(code_of([&] { client().create<int>("zero", 0); }), Errc::invalid_argument);
    EXPECT_EQ(code_of([&] { client().create<Coordinate>("zero", 0); }), Errc::invalid_argument);
    EXPECT_EQ(code_of([&] { client().open<int>("zero"); }), Errc::not_found);
    expect_no_segments();
}

TEST_F(NamesTest, CountTimesSizeOverflowIsSizeOverflow) {
    constexpr auto max = std::numeric_limits<std::size_t>::max();
    EXPECT_EQ(code_of([&] { client().create<std::uint64_t>("big", max / 4); }),
              Errc::size_overflow);
    EXPECT_EQ(code_of([&] { client().create<std::uint64_t>("big", max); }), Errc::size_overflow);
    EXPECT_EQ(code_of([&] { client().create<char>("big", max); }), Errc::size_overflow);
    EXPECT_EQ(code_of([&] { client().create<Coordinate>("big", max / 8 + 1); }),
              Errc::size_overflow);
    EXPECT_EQ(code_of([&] { client().open<std::uint64_t>("big"); }), Errc::not_found);
    EXPECT_TRUE(client().list().empty());
    expect_no_segments();
}

// The daemon is the authority: a create that bypasses the library's own check
// (a raw request with a path-like name) is refused too, and nothing appears in
// /dev/shm or next to the runtime directory.
TEST_F(NamesTest, DaemonRefusesInvalidNamesOnTheWire) {
    const std::vector<std::string> names = {"../escape",           "a/b",   ".hidden", "",
                                            std::string(129, 'x'), "sp ace"};
    auto parent = std::filesystem::path(runtime_dir()).parent_path();
    std::uint32_t id = 1;
    for (const auto& name : names) {
        SCOPED_TRACE(name);
        mmm::test::RawSocket raw(daemon().socket_path());
        mmm::proto::CreateRequest request;
        request.name = name;
        request.type = mmm::detail::element_type_of<int>();
        request.count = 1;
        ASSERT_TRUE(raw.send(mmm::proto::encode_request(request, id)));
        auto reply = raw.receive();
        ASSERT_TRUE(reply.is_error_frame()) << reply.describe();
        EXPECT_EQ(reply.header.request_id, id);
        EXPECT_EQ(reply.error->code, Errc::invalid_name) << reply.describe();
        ++id;
    }
    EXPECT_FALSE(std::filesystem::exists(parent / "escape"));
    EXPECT_TRUE(client().list().empty());
    expect_no_segments();
}

}  // namespace
