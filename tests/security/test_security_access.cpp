// Issue #4: access control between local users. The test runs as root and
// forks children that drop to nobody/nogroup (65534) or other uids; a daemon
// started with --group <nogroup> --socket-mode 0660 lets them connect.
#include "daemon_process.hpp"
#include "forked.hpp"
#include "shm_segments.hpp"
#include "temp_dir.hpp"
#include "test_paths.hpp"

#include "names.hpp"

#include <mmm/mmm.hpp>

#include <grp.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace {

using mmm::Errc;
using mmm::test::Credentials;
using mmm::test::got;
using mmm::test::kNobody;
using mmm::test::run_forked;

constexpr Credentials kUser1000InNogroup{1000, 65534};
constexpr Credentials kStranger{1001, 1001};

std::optional<std::string> group_name_of(gid_t gid) {
    group gr{};
    group* found = nullptr;
    std::vector<char> buf(16384);
    if (::getgrgid_r(gid, &gr, buf.data(), buf.size(), &found) != 0 || found == nullptr)
        return std::nullopt;
    return std::string(gr.gr_name);
}

// A daemon whose socket group 65534 may use: the runtime directory is
// <tmp>/rt, with <tmp> made 0711 so other users can traverse it.
class SecurityAccess : public ::testing::Test {
  protected:
    void SetUp() override {
        if (::geteuid() != 0)
            GTEST_SKIP() << "needs root: the test forks children that drop "
                            "to uid/gid 65534 (nobody/nogroup)";
        auto group = group_name_of(kNobody.gid);
        if (!group) GTEST_SKIP() << "no group with gid 65534 on this system";
        parent_ = std::make_unique<mmm::test::TempDir>("mmm-sec");
        ASSERT_EQ(::chmod(parent_->path().c_str(), 0711), 0);
        dir_ = parent_->path() + "/rt";
        cleanup_.emplace(mmm::detail::namespace_for(dir_));
        daemon_ = std::make_unique<mmm::test::DaemonProcess>(
            dir_, std::vector<std::string>{"--group", *group, "--socket-mode", "0660"});
        daemon_->start();
        client_.emplace(options());
    }
    void TearDown() override {
        client_.reset();
        if (daemon_) daemon_->stop();
        daemon_.reset();
        if (cleanup_) {
            EXPECT_TRUE(mmm::test::segments_of(daemon_ns()).empty());
        }
        cleanup_.reset();
        parent_.reset();
    }

    std::string daemon_ns() const { return mmm::detail::namespace_for(dir_); }
    mmm::ClientOptions options() const { return {.runtime_dir = dir_}; }
    mmm::Client& root() { return *client_; }

    std::unique_ptr<mmm::test::TempDir> parent_;
    std::string dir_;
    std::optional<mmm::test::SegmentCleanup> cleanup_;
    std::unique_ptr<mmm::test::DaemonProcess> daemon_;
    std::optional<mmm::Client> client_;
};

TEST_F(SecurityAccess, RuntimeDirAndSocketAreGroupOnly) {
    struct stat st {};
    ASSERT_EQ(::stat(dir_.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 07777, 0710u);
    EXPECT_EQ(st.st_gid, kNobody.gid);
    ASSERT_EQ(::stat((dir_ + "/mmmd.sock").c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0660u);
    EXPECT_EQ(st.st_gid, kNobody.gid);
    // Segments stay private to the daemon's user whatever the chunk's mode.
    auto mc = root().create<int>("wide-open", 4, {.mode = mmm::mode::all_read_write});
    ASSERT_EQ(::stat(mmm::test::segment_path(daemon_ns(), "wide-open").c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);
    EXPECT_EQ(st.st_uid, 0u);
    root().remove("wide-open");
}

TEST_F(SecurityAccess, OwnerOnlyChunkIsNotReadableByOthers) {
    auto mc = root().create<int>("secret", 4);  // mode::owner_only
    mc.write(0, 42);
    auto opts = options();
    auto s = run_forked(
        [&] {
            mmm::Client(opts).open<const int>("secret");
            return 0;
        },
        kNobody);
    EXPECT_TRUE(got(s, Errc::permission_denied)) << s.describe();
    s = run_forked(
        [&] {
            mmm::Client(opts).open<int>("secret");
            return 0;
        },
        kNobody);
    EXPECT_TRUE(got(s, Errc::permission_denied)) << s.describe();
    s = run_forked(
        [&] {
            mmm::Client(opts).info("secret");
            return 0;
        },
        kNobody);
    EXPECT_TRUE(got(s, Errc::permission_denied)) << s.describe();
    EXPECT_EQ(mc.read(0), 42);
    root().remove("secret");
}

TEST_F(SecurityAccess, DeletingAnotherUsersChunkIsDenied) {
    auto mc = root().create<int>("roots", 4, {.mode = mmm::mode::all_read_write});
    auto opts = options();
    auto s = run_forked(
        [&] {
            mmm::Client(opts).remove("roots");
            return 0;
        },
        kNobody);
    EXPECT_TRUE(got(s, Errc::permission_denied)) << s.describe();
    EXPECT_NO_THROW(root().info("roots"));

    // A chunk of nobody: another non-root user may not delete it, root may.
    s = run_forked(
        [&] {
            mmm::Client(opts).create<int>("nobodys", 4, {.mode = mmm::mode::all_read_write});
            return 0;
        },
        kNobody);
    ASSERT_TRUE(s.ok()) << s.describe();
    EXPECT_EQ(root().info("nobodys").owner_uid, kNobody.uid);
    s = run_forked(
        [&] {
            mmm::Client(opts).remove("nobodys");
            return 0;
        },
        kUser1000InNogroup);
    EXPECT_TRUE(got(s, Errc::permission_denied)) << s.describe();
    EXPECT_NO_THROW(root().remove("nobodys"));
    root().remove("roots");
}

// Resizing changes what every mapping sees and what the owner's quota pays
// for: the owner and root may, a writer who is neither may not (SECURITY.md).
TEST_F(SecurityAccess, OnlyTheOwnerOrRootMayResize) {
    auto opts = options();
    auto s = run_forked(
        [&] {
            mmm::Client(opts).create<int>("growing", 4,
                                          {.mode = mmm::mode::all_read_write, .max_count = 1024});
            return 0;
        },
        kNobody);
    ASSERT_TRUE(s.ok()) << s.describe();
    // Another user who may write every element may not resize.
    s = run_forked(
        [&] {
            mmm::Client c(opts);
            auto rw = c.open<int>("growing");
            rw.write(0, 1);
            rw.resize(8);
            return 0;
        },
        kUser1000InNogroup);
    EXPECT_TRUE(got(s, Errc::permission_denied)) << s.describe();
    s = run_forked(
        [&] {
            mmm::Client(opts).resize("growing", 8);
            return 0;
        },
        kUser1000InNogroup);
    EXPECT_TRUE(got(s, Errc::permission_denied)) << s.describe();
    EXPECT_EQ(root().info("growing").count, 4u);
    // The owner may, from any of its processes; so may root.
    s = run_forked(
        [&] {
            mmm::Client(opts).open<int>("growing").resize(16);
            return 0;
        },
        kNobody);
    EXPECT_TRUE(s.ok()) << s.describe();
    EXPECT_EQ(root().info("growing").count, 16u);
    EXPECT_EQ(root().resize("growing", 1024).count, 1024u);
    EXPECT_EQ(root().open<const int>("growing").read(0), 1);
    root().remove("growing");
}

TEST_F(SecurityAccess, OthersReadableChunkOpensReadOnlyButNotReadWrite) {
    auto mc = root().create<int>("public", 4, {.mode = mmm::mode::others_read});
    mc.write(2, 1234);
    auto opts = options();
    auto s = run_forked(
        [&] {
            mmm::Client c(opts);
            auto ro = c.open<const int>("public");
            return ro.read(2) == 1234 ? 0 : 1;
        },
        kNobody);
    EXPECT_TRUE(s.ok()) << s.describe();
    s = run_forked(
        [&] {
            mmm::Client(opts).open<int>("public");
            return 0;
        },
        kNobody);
    EXPECT_TRUE(got(s, Errc::permission_denied)) << s.describe();
    root().remove("public");
}

TEST_F(SecurityAccess, GroupReadableChunkFollowsGroupBits) {
    auto opts = options();
    // uid 1000 in group 65534 creates a 0640 chunk: owner_gid is its gid.
    auto s = run_forked(
        [&] {
            mmm::Client c(opts);
            auto mc = c.create<int>("grp", 4, {.mode = mmm::mode::group_read});
            mc.write(0, 7);
            return 0;
        },
        kUser1000InNogroup);
    ASSERT_TRUE(s.ok()) << s.describe();
    auto info = root().info("grp");
    EXPECT_EQ(info.owner_uid, 1000u);
    EXPECT_EQ(info.owner_gid, kNobody.gid);
    // A group member reads it, but may not write it.
    s = run_forked([&] { return mmm::Client(opts).open<const int>("grp").read(0) == 7 ? 0 : 1; },
                   kNobody);
    EXPECT_TRUE(s.ok()) << s.describe();
    s = run_forked(
        [&] {
            mmm::Client(opts).open<int>("grp");
            return 0;
        },
        kNobody);
    EXPECT_TRUE(got(s, Errc::permission_denied)) << s.describe();
    // Someone outside the group may not even connect: the socket is 0660 group 65534.
    s = run_forked(
        [&] {
            mmm::Client(opts).open<const int>("grp");
            return 0;
        },
        kStranger);
    EXPECT_TRUE(got(s, Errc::permission_denied)) << s.describe();
    root().remove("grp");
}

// Sanitizers install a SIGSEGV handler that turns the fault into an exit code;
// the test wants the kernel's verdict, so the child restores the default action.
void default_segv_action() {
    struct sigaction dfl {};
    dfl.sa_handler = SIG_DFL;
    ::sigaction(SIGSEGV, &dfl, nullptr);
}

TEST_F(SecurityAccess, ReadOnlyMappingFaultsOnWrite) {
    auto mc = root().create<int>("ro-map", 1024, {.mode = mmm::mode::others_read});
    auto opts = options();
    auto s = run_forked(
        [&] {
            mmm::Client c(opts);
            auto ro = c.open<const int>("ro-map");
            default_segv_action();
            // The kernel, not the type system, must stop this store.
            *const_cast<volatile int*>(ro.pointer(5)) = 99;
            return 0;
        },
        kNobody);
    EXPECT_TRUE(s.signaled(SIGSEGV)) << s.describe();
    EXPECT_EQ(mc.read(5), 0);
    // Root too gets a read-only mapping when it asks for one.
    s = run_forked([&] {
        mmm::Client c(opts);
        auto ro = c.open<const int>("ro-map");
        default_segv_action();
        *const_cast<volatile int*>(ro.pointer(6)) = 99;
        return 0;
    });
    EXPECT_TRUE(s.signaled(SIGSEGV)) << s.describe();
    EXPECT_EQ(mc.read(6), 0);
    root().remove("ro-map");
}

TEST_F(SecurityAccess, ListOmitsChunksTheUserCannotRead) {
    auto a = root().create<int>("a-private", 1);
    auto b = root().create<int>("b-public", 1, {.mode = mmm::mode::others_read});
    auto c = root().create<int>("c-group", 1, {.mode = mmm::mode::group_read});  // gid 0
    auto opts = options();
    auto s = run_forked(
        [&] {
            auto chunks = mmm::Client(opts).list();
            std::string names;
            for (const auto& ch : chunks) names += ch.name + " ";
            std::fprintf(stderr, "nobody sees: %s\n", names.c_str());
            return names == "b-public " ? 0 : 1;
        },
        kNobody);
    EXPECT_TRUE(s.ok()) << s.describe();
    EXPECT_EQ(root().list().size(), 3u);
    for (const char* n : {"a-private", "b-public", "c-group"}) root().remove(n);
}

// Default flags: runtime dir 0700, socket 0600 -> no other user gets in,
// whatever someone does to those modes.
TEST_F(SecurityAccess, PrivateDaemonRefusesOtherUsers) {
    auto parent = std::make_unique<mmm::test::TempDir>("mmm-sec-priv");
    ASSERT_EQ(::chmod(parent->path().c_str(), 0711), 0);
    const std::string dir = parent->path() + "/rt";
    mmm::test::SegmentCleanup cleanup(mmm::detail::namespace_for(dir));
    mmm::test::DaemonProcess priv(dir);
    priv.start();
    struct stat st {};
    ASSERT_EQ(::stat(dir.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 07777, 0700u);
    mmm::ClientOptions opts{.runtime_dir = dir};
    auto s = run_forked(
        [&] {
            mmm::Client(opts).list();
            return 0;
        },
        kNobody);
    EXPECT_TRUE(got(s, Errc::permission_denied)) << s.describe();
    // Even with the directory opened up by hand, the 0600 socket refuses.
    ASSERT_EQ(::chmod(dir.c_str(), 0711), 0);
    s = run_forked(
        [&] {
            mmm::Client(opts).list();
            return 0;
        },
        kNobody);
    EXPECT_TRUE(got(s, Errc::permission_denied)) << s.describe();
    // And with the socket opened up too, mmmd itself refuses the other uid.
    ASSERT_EQ(::chmod((dir + "/mmmd.sock").c_str(), 0666), 0);
    s = run_forked(
        [&] {
            mmm::Client(opts).list();
            return 0;
        },
        kNobody);
    EXPECT_TRUE(got(s, Errc::permission_denied)) << s.describe();
    EXPECT_NO_THROW(mmm::Client(opts).list());
    priv.stop();
}

TEST(SecurityRuntimeDir, DaemonRefusesRuntimeDirWritableByOthers) {
    mmm::test::TempDir parent("mmm-sec-dir");
    const std::string dir = parent.path() + "/rt";
    ASSERT_EQ(::mkdir(dir.c_str(), 0700), 0);
    ASSERT_EQ(::chmod(dir.c_str(), 0777), 0);
    mmm::test::ChildOptions opts;
    opts.capture_stderr = true;
    auto r =
        mmm::test::run_program(mmm::test::daemon_path(), {"--foreground", "--runtime-dir", dir},
                               opts, std::chrono::seconds(10));
    EXPECT_TRUE(r.status.exited && r.status.code != 0) << r.status.describe();
    EXPECT_NE(r.err.find("writable by group or others"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("0777"), std::string::npos) << r.err;
    EXPECT_FALSE(mmm::test::can_connect(dir + "/mmmd.sock"));
    // Group-writable is refused too.
    ASSERT_EQ(::chmod(dir.c_str(), 0770), 0);
    r = mmm::test::run_program(mmm::test::daemon_path(), {"--foreground", "--runtime-dir", dir},
                               opts, std::chrono::seconds(10));
    EXPECT_TRUE(r.status.exited && r.status.code != 0) << r.status.describe();
    EXPECT_NE(r.err.find("writable by group or others"), std::string::npos) << r.err;
}

}  // namespace
