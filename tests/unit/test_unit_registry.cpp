// mmmd's registry in the product's own terms (specs in, grants and ChunkInfo
// out), without a socket: a SegmentStore and a RegistryLog on a scratch
// directory, peers made up. Starts no daemon.
#include "registry.hpp"
#include "temp_dir.hpp"

#include <mmm/mmm.hpp>

#include <gtest/gtest.h>

#include <memory>

namespace unitregistry {
struct Coordinate {
    int x, y;
};
struct Sloppy {
    int x;
    float y;
};
}  // namespace unitregistry

namespace {

using mmm::Errc;
using unitregistry::Coordinate;
namespace detail = mmm::detail;

Errc code_of(const std::function<void()>& f) {
    try {
        f();
    } catch (const mmm::Error& e) {
        return e.code();
    }
    return Errc::ok;
}

mmmd::Peer peer(uid_t uid, gid_t gid = 100, pid_t pid = 4242) {
    mmmd::Peer p;
    p.pid = pid;
    p.uid = uid;
    p.gid = gid;
    p.groups = std::vector<gid_t>{gid};
    return p;
}

template <class T>
mmmd::CreateSpec spec(const std::string& name, std::uint64_t count) {
    mmmd::CreateSpec s;
    s.name = name;
    s.type = detail::element_type_of<T>();
    s.count = count;
    return s;
}

template <class T>
mmmd::OpenSpec open_spec(const std::string& name, bool writable = false) {
    return mmmd::OpenSpec{name, detail::element_type_of<T>(), mmm::ChunkKind::array, writable};
}

class RegistryTest : public ::testing::Test {
  protected:
    void SetUp() override { start(); }
    void start(mmmd::Limits limits = {}) {
        registry_.reset();
        log_.reset();
        store_.reset();
        store_ = std::make_unique<mmmd::SegmentStore>("unit0000test", root_.path(), "");
        log_ = std::make_unique<mmmd::RegistryLog>(store_->log_dir_fd());
        registry_ = std::make_unique<mmmd::Registry>(*store_, *log_, limits, 0);
        (void)registry_->adopt();
    }
    mmmd::Registry& reg() { return *registry_; }

    mmm::test::TempDir root_{"mmm-unit-registry"};
    std::unique_ptr<mmmd::SegmentStore> store_;
    std::unique_ptr<mmmd::RegistryLog> log_;
    std::unique_ptr<mmmd::Registry> registry_;
};

TEST_F(RegistryTest, CreateOpenAndInfoInDomainTerms) {
    auto grant = reg().create(1, peer(1000), spec<Coordinate>("coords", 10));
    EXPECT_TRUE(grant.fd);
    EXPECT_EQ(grant.info.count, 10u);
    EXPECT_EQ(grant.info.state, mmm::ChunkState::ready);
    EXPECT_EQ(grant.info.owner_uid, 1000u);
    EXPECT_EQ(grant.geometry.segment_bytes, grant.info.segment_bytes);
    auto opened = reg().open(2, peer(1000), open_spec<Coordinate>("coords", true));
    ASSERT_TRUE(opened.has_value());
    EXPECT_EQ(reg().info(peer(1000), "coords").attachments.size(), 2u);
    // Another layout of the same size: the field that differs is named.
    try {
        (void)reg().open(2, peer(1000), open_spec<unitregistry::Sloppy>("coords"));
        ADD_FAILURE() << "a mismatched type was granted";
    } catch (const mmm::Error& e) {
        EXPECT_EQ(e.code(), Errc::type_mismatch);
        EXPECT_NE(e.message().find("field 'f1' is int32 at offset 4 in the chunk, float32"),
                  std::string::npos)
            << e.message();
    }
    auto heap = open_spec<Coordinate>("coords");
    heap.kind = mmm::ChunkKind::heap;
    EXPECT_EQ(code_of([&] { (void)reg().open(2, peer(1000), heap); }), Errc::type_mismatch);
    EXPECT_FALSE(reg().open(2, peer(1000), open_spec<Coordinate>("missing")).has_value());
    EXPECT_EQ(code_of([&] { (void)reg().create(1, peer(1000), spec<int>("coords", 1)); }),
              Errc::already_exists);
}

TEST_F(RegistryTest, ModesOwnersAndRoot) {
    auto s = spec<int>("shared", 4);
    s.mode = 0640;
    (void)reg().create(1, peer(1000, 100), s);
    EXPECT_TRUE(reg().open(2, peer(2000, 100), open_spec<int>("shared")).has_value());
    EXPECT_EQ(
        code_of([&] { (void)reg().open(2, peer(2000, 100), open_spec<int>("shared", true)); }),
        Errc::permission_denied);
    EXPECT_EQ(code_of([&] { (void)reg().info(peer(3000, 300), "shared"); }),
              Errc::permission_denied);
    EXPECT_EQ(code_of([&] { reg().remove(peer(2000, 100), "shared"); }), Errc::permission_denied);
    EXPECT_EQ(code_of([&] { (void)reg().resize(peer(2000, 100), "shared", 0, 2); }),
              Errc::permission_denied);
    EXPECT_NO_THROW(reg().remove(peer(0), "shared"));
    EXPECT_EQ(reg().chunk_count(), 0u);
}

TEST_F(RegistryTest, QuotasCountLiveBytes) {
    start({.max_bytes = 64 * 1024, .max_chunks = 2});
    auto growable = spec<std::uint64_t>("grows", 16);
    growable.max_count = 1'000'000;  // reserved address space, not quota
    EXPECT_NO_THROW((void)reg().create(1, peer(1000), growable));
    EXPECT_LT(reg().bytes_in_use(), 64u * 1024);
    EXPECT_EQ(code_of([&] { (void)reg().resize(peer(1000), "grows", 0, 100'000); }),
              Errc::quota_exceeded);
    EXPECT_EQ(reg().info(peer(1000), "grows").count, 16u);  // unchanged
    EXPECT_NO_THROW((void)reg().create(1, peer(1000), spec<int>("two", 1)));
    EXPECT_EQ(code_of([&] { (void)reg().create(1, peer(1000), spec<int>("three", 1)); }),
              Errc::quota_exceeded);
}

TEST_F(RegistryTest, ResizeWithinMaxCount) {
    auto s = spec<std::uint64_t>("log", 10);
    s.max_count = 1000;
    (void)reg().create(1, peer(1000), s);
    EXPECT_EQ(reg().resize(peer(1000), "log", 0, 500).count, 500u);
    EXPECT_EQ(reg().resize(peer(1000), "log", 0, 3).count, 3u);
    EXPECT_EQ(code_of([&] { (void)reg().resize(peer(1000), "log", 0, 1001); }), Errc::out_of_range);
    EXPECT_EQ(code_of([&] { (void)reg().resize(peer(1000), "log", 0, 0); }),
              Errc::invalid_argument);
    EXPECT_EQ(code_of([&] { (void)reg().resize(peer(1000), "log", 12345, 5); }), Errc::not_found);
}

TEST_F(RegistryTest, VisitPagesInNameOrder) {
    for (const char* n : {"c", "a", "e", "b", "d"})
        (void)reg().create(1, peer(1000), spec<int>(n, 1));
    std::string seen;
    reg().visit(peer(1000), "b", [&](const std::string&, const mmm::ChunkInfo& info) {
        seen += info.name;
        return seen.size() < 2;
    });
    EXPECT_EQ(seen, "cd");
    seen.clear();
    reg().visit(peer(5000, 500), "", [&](const std::string&, const mmm::ChunkInfo& info) {
        seen += info.name;  // 0600: another user sees none
        return true;
    });
    EXPECT_EQ(seen, "");
}

// The periodic check goes round the chunks once, not over and over: with
// fewer chunks than its budget it checks each one once per call.
TEST_F(RegistryTest, SegmentChecksVisitEachChunkOncePerCall) {
    EXPECT_EQ(reg().check_segments(256), 0u);
    for (const char* n : {"c", "a", "b"}) (void)reg().create(1, peer(1000), spec<int>(n, 1));
    EXPECT_EQ(reg().check_segments(256), 3u);
    EXPECT_EQ(reg().check_segments(2), 2u);
    EXPECT_EQ(reg().check_segments(2), 2u);  // c, then round to a
}

// `freed` is for a deferred free only: a small chunk is freed in place and
// remove() says so by returning false, without calling it (the daemon
// answers the remove then; a call as well answered it twice).
TEST_F(RegistryTest, RemoveOfASmallChunkFreesInPlaceWithoutTheCallback) {
    (void)reg().create(1, peer(1000), spec<int>("small", 1));
    int calls = 0;
    EXPECT_FALSE(reg().remove(peer(1000), "small", 0, [&] { ++calls; }));
    EXPECT_EQ(calls, 0);
    EXPECT_EQ(reg().bytes_in_use(), 0u);
}

TEST_F(RegistryTest, SessionsEndWithTheirConnectionAndChunksOutliveARestart) {
    auto session = spec<int>("scratch", 4);
    session.lifetime = mmm::Lifetime::session;
    (void)reg().create(7, peer(1000), session);
    (void)reg().create(7, peer(1000), spec<int>("kept", 4));
    reg().connection_closed(7);
    EXPECT_EQ(code_of([&] { (void)reg().info(peer(1000), "scratch"); }), Errc::not_found);
    const auto before = reg().info(peer(1000), "kept");
    start();  // a new registry over the same log and files: a restart
    const auto after = reg().info(peer(1000), "kept");
    EXPECT_EQ(after.generation, before.generation);
    EXPECT_EQ(after.owner_uid, 1000u);
    EXPECT_EQ(after.schema, before.schema);
    EXPECT_EQ(reg().chunk_count(), 1u);
}

}  // namespace
