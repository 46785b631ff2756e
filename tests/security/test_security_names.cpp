// Issue #4: chunk names never become paths. Every hostile name is refused with
// Errc::invalid_name, by the library and by the daemon (raw requests), and
// nothing appears in /dev/shm or the runtime directory because of it.
#include "daemon_test.hpp"
#include "raw_socket.hpp"
#include "shm_segments.hpp"

#include "protocol.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <set>
#include <string>
#include <vector>

namespace {

using mmm::Errc;
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
