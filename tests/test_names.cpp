// Chunk names (DESIGN.md "Names and places"): 1 to 128 of [A-Za-z0-9._-], not
// starting with '.'; anything else is Errc::invalid_name on every operation,
// and never becomes a path or a segment. Bad counts are refused before any
// segment exists.
#include "daemon_test.hpp"
#include "raw_socket.hpp"
#include "shm_segments.hpp"

#include "protocol.hpp"
#include "shared_types.hpp"

#include <mmm/mmm.hpp>

#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <limits>
#include <set>
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

// --- hostile names, and nothing they create (security) ------------------------

namespace fs = std::filesystem;

std::vector<std::string> hostile_names() {
    return {"../x",
            "/x",
            "a/b",
            "..",
            ".",
            ".hidden",
            std::string("a\0b", 3),
            std::string(129, 'a'),
            "caf\xc3\xa9",
            "x y",
            "a\\b",
            "",
            "../../../../etc/passwd",
            "a\nb"};
}

std::set<std::string> listing(const fs::path& dir) {
    std::set<std::string> out;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(dir, ec)) out.insert(e.path().filename().string());
    return out;
}

class SecurityNames : public mmm::test::DaemonTest {};

// Other tests may run in parallel and create files in /tmp and /dev/shm: only
// entries a hostile name could have produced count as an escape.
void expect_no_escape(const std::set<std::string>& before, const std::set<std::string>& after,
                      const std::string& where) {
    for (const auto& entry : after) {
        if (before.count(entry) != 0) continue;
        for (const char* bad : {"x", "b", "passwd", "hidden", "caf", "..", "a\\b", "x y"})
            EXPECT_FALSE(entry == bad || entry.ends_with(std::string(".") + bad) ||
                         entry.find("passwd") != std::string::npos)
                << "new entry in " << where << ": " << entry;
    }
}

template <class F>
void expect_invalid_name(const std::string& name, F&& f) {
    try {
        f();
        ADD_FAILURE() << "accepted the name '" << name << "'";
    } catch (const mmm::Error& e) {
        EXPECT_EQ(e.code(), Errc::invalid_name) << "name '" << name << "': " << e.what();
    }
}

TEST_F(SecurityNames, HostileNamesAreRefusedAndCreateNothing) {
    const fs::path dir = runtime_dir();
    const auto dir_before = listing(dir);
    const auto parent_before = listing(dir.parent_path());
    const auto shm_before = listing("/dev/shm");
    for (const std::string& name : hostile_names()) {
        expect_invalid_name(name, [&] { client().create<int>(name, 1); });
        expect_invalid_name(name, [&] { client().open<int>(name); });
        expect_invalid_name(name, [&] { client().remove(name); });
        expect_invalid_name(name, [&] { client().info(name); });
    }
    // The longest valid name is fine.
    const std::string longest(128, 'n');
    EXPECT_NO_THROW(client().create<int>(longest, 1));
    client().remove(longest);

    EXPECT_EQ(listing(dir), dir_before);
    expect_no_escape(parent_before, listing(dir.parent_path()), dir.parent_path().string());
    expect_no_escape(shm_before, listing("/dev/shm"), "/dev/shm");
    expect_no_segments();
    EXPECT_FALSE(fs::exists("/dev/shm/x"));
    EXPECT_FALSE(fs::exists("/dev/x"));
}

// The daemon checks names itself: a raw request bypasses the library's checks.
TEST_F(SecurityNames, DaemonRefusesHostileNamesInRawRequests) {
    const fs::path dir = runtime_dir();
    const auto dir_before = listing(dir);
    const auto shm_before = listing("/dev/shm");
    const auto parent_before = listing(dir.parent_path());
    mmm::test::RawSocket raw(daemon().socket_path());
    std::uint32_t id = 1;
    const auto type = mmm::detail::element_type_of<int>();
    for (const std::string& name : hostile_names()) {
        mmm::proto::CreateRequest create;
        create.name = name;
        create.type = type;
        create.count = 1;
        mmm::proto::OpenRequest open;
        open.name = name;
        open.type = type;
        std::vector<mmm::proto::Request> requests{
            create,
            open,
            mmm::proto::RemoveRequest{name},
            mmm::proto::InfoRequest{name},
        };
        for (const auto& request : requests) {
            ASSERT_TRUE(raw.send(mmm::proto::encode_request(request, id)));
            auto got = raw.receive(std::chrono::seconds(5));
            ASSERT_TRUE(got.is_error_frame()) << got.describe();
            EXPECT_EQ(got.header.request_id, id);
            EXPECT_EQ(got.error->code, Errc::invalid_name)
                << "name '" << name << "': " << got.error->message;
            ++id;
        }
    }
    EXPECT_EQ(listing(dir), dir_before);
    expect_no_segments();
    expect_no_escape(shm_before, listing("/dev/shm"), "/dev/shm");
    expect_no_escape(parent_before, listing(dir.parent_path()), dir.parent_path().string());
    EXPECT_NO_THROW(client().list());
}

}  // namespace
