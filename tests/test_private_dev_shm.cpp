// Containers (docs/DEPLOYMENT.md): a client in another mount namespace with a
// /dev/shm of its own shares chunks with processes outside through mmmd's
// socket alone, since every open is answered with a descriptor (SCM_RIGHTS)
// and a client never opens a segment by name. The client runs under
// `unshare -m` with a 1 MiB tmpfs on /dev/shm (container runtimes give 64 MB)
// and works with chunks larger than that tmpfs, which stays empty.
//
// Needs root (unshare -m, mount): skipped with the reason otherwise.
#include "daemon_test.hpp"
#include "shared_types.hpp"
#include "test_paths.hpp"

#include <unistd.h>

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace {

using namespace std::chrono_literals;
using mmm_test::Coordinate;

// Under 1 MiB: the private tmpfs could not hold a single one of these chunks.
constexpr std::size_t kOutsideCount = 256 * 1024;  // 2 MiB of Coordinate
constexpr std::size_t kInsideCount = 100'000;      // 0.8, 1.6 and 2.4 MB

std::string find_unshare() {
    for (const char* path : {"/usr/bin/unshare", "/bin/unshare"})
        if (::access(path, X_OK) == 0) return path;
    return {};
}

class PrivateDevShmTest : public mmm::test::DaemonTest {};

TEST_F(PrivateDevShmTest, ClientWithItsOwnDevShmSharesChunksThroughTheSocketAlone) {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root: unshare -m and mount a tmpfs";
    const std::string unshare = find_unshare();
    if (unshare.empty()) GTEST_SKIP() << "no unshare program (util-linux)";
    auto probe =
        mmm::test::run_program(unshare, {"-m", "--propagation", "private", "true"}, {}, 10s);
    if (!probe.status.ok())
        GTEST_SKIP() << "unshare -m is refused here (" << probe.status.describe()
                     << "): " << probe.err;

    auto outside = client().create<Coordinate>("outside", kOutsideCount);
    outside.write(7, Coordinate{1, 2});

    // In its own mount namespace: a fresh 1 MiB /dev/shm, then the helper
    // writes into the chunk created outside and creates three of its own.
    const std::string script = R"(
        mount -t tmpfs -o size=1m,mode=1777 mmm-private-shm /dev/shm || exit 90
        "$0" write-coord outside 7 11 22 || exit
        "$0" create-types inside )" +
                               std::to_string(kInsideCount) +
                               R"( || exit
        echo "private /dev/shm holds: [$(ls -A /dev/shm)]"
    )";
    mmm::test::ChildOptions options;
    options.capture_stderr = true;
    auto inside = start_program(unshare,
                                {"-m", "--propagation", "private", "--", "/bin/sh", "-c", script,
                                 mmm::test::helper_path("typed_helper")},
                                options);
    auto status = inside.wait_for_exit(60s);
    ASSERT_TRUE(status.ok()) << status.describe() << "\nstdout:\n"
                             << inside.out() << "\nstderr:\n"
                             << inside.err();
    EXPECT_NE(inside.out().find("wrote\n"), std::string::npos) << inside.out();
    EXPECT_NE(inside.out().find("created\n"), std::string::npos) << inside.out();
    EXPECT_NE(inside.out().find("private /dev/shm holds: []"), std::string::npos)
        << "the client put something in its own /dev/shm:\n"
        << inside.out();

    // What the client inside wrote is here, and what it created is complete.
    EXPECT_EQ(outside.read(7), (Coordinate{11, 22}));
    auto coords = client().open<const Coordinate>("inside.coord");
    auto samples = client().open<const mmm_test::Sample>("inside.sample");
    auto triples = client().open<const mmm_test::Triple>("inside.triple");
    ASSERT_EQ(coords.size(), kInsideCount);
    ASSERT_EQ(samples.size(), kInsideCount);
    ASSERT_EQ(triples.size(), kInsideCount);
    std::size_t mismatches = 0;
    for (std::size_t i = 0; i < kInsideCount; ++i) {
        mismatches += coords.read(i) == mmm_test::coordinate_at(i) ? 0 : 1;
        mismatches += samples.read(i) == mmm_test::sample_at(i) ? 0 : 1;
        mismatches += triples.read(i) == mmm_test::triple_at(i) ? 0 : 1;
    }
    EXPECT_EQ(mismatches, 0u);

    for (const char* name : {"outside", "inside.coord", "inside.sample", "inside.triple"})
        client().remove(name);
}

}  // namespace
