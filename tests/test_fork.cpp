// A Client and MemChunks inherited over fork() without exec (docs/CONCURRENCY.md
// "fork()"): the child's requests go on a connection of its own, so mmmd counts
// what the child does as the child's, the two processes' replies never mix, and
// the parent's attachments and session chunks stay the parent's alone.
#include "daemon_test.hpp"
#include "eventually.hpp"
#include "forked.hpp"
#include "signal_pipe.hpp"

#include <mmm/mmm.hpp>

#include <gtest/gtest.h>

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <optional>
#include <string>

namespace {

using namespace std::chrono_literals;
using mmm::test::SignalPipe;

class ForkTest : public mmm::test::DaemonTest {};

bool attached(const mmm::ChunkInfo& info, pid_t pid) {
    return std::any_of(info.attachments.begin(), info.attachments.end(),
                       [&](const mmm::Attachment& a) { return a.pid == pid; });
}

bool listed(mmm::Client& c, const std::string& name) {
    auto all = c.list();
    return std::any_of(all.begin(), all.end(),
                       [&](const mmm::ChunkInfo& i) { return i.name == name; });
}

// Both processes make requests through what was one Client at the same time:
// on a shared connection they would read each other's replies.
constexpr int kRequestsEach = 300;

TEST_F(ForkTest, TheChildsRequestsAreItsOwnAndNeverMixWithTheParents) {
    auto parents = client().create<int>("from-parent", 4);
    SignalPipe ready, go;
    auto child = mmm::test::start_forked([&] {
        mmm::Client& inherited = client();
        const pid_t me = ::getpid();
        auto mine = inherited.create<int>("from-child", 4);
        auto theirs = inherited.open<int>("from-parent");
        int rc = 0;
        if (inherited.info("from-child").creator_pid != me) rc = 2;
        if (rc == 0 && !attached(inherited.info("from-parent"), me)) rc = 3;
        ready.send(static_cast<char>('0' + rc));
        if (go.receive(20s) != '!') return 4;
        for (int i = 0; i < kRequestsEach && rc == 0; ++i)
            if (inherited.info("from-child").name != "from-child") rc = 5;
        return rc;
    });
    const char checks = ready.receive(20s);
    ASSERT_TRUE(go.send());
    ASSERT_EQ(checks, '0') << "the child's checks failed ('2': mmmd did not see the child as "
                              "the creator of its chunk, '3': nor its open as its own): "
                           << child.wait().describe();
    int wrong = 0;
    for (int i = 0; i < kRequestsEach; ++i)
        if (client().info("from-parent").name != "from-parent") ++wrong;
    EXPECT_EQ(wrong, 0) << "the parent got replies meant for the child";
    const pid_t child_pid = child.pid();
    auto status = child.wait(20s);
    EXPECT_TRUE(status.ok()) << status.describe();

    // mmmd saw the child as the creator, and its attachments left with it;
    // the parent's own attachment and connection are untouched.
    auto info = client().info("from-child");
    EXPECT_EQ(info.creator_pid, child_pid);
    EXPECT_TRUE(mmm::test::eventually(
        [&] { return !attached(client().info("from-parent"), child_pid); }, 5s));
    EXPECT_TRUE(attached(client().info("from-parent"), ::getpid()));
    EXPECT_EQ(parents.read(0), 0);
    client().remove("from-child");
    parents.remove();
    expect_no_segments();
}

// Param: whether the child has used the inherited Client (so has a connection of
// its own, with its own attachment to the chunk) before it drops the inherited
// MemChunk.
class ForkDropTest : public ForkTest, public ::testing::WithParamInterface<bool> {};

TEST_P(ForkDropTest, AChildDroppingAnInheritedChunkLeavesTheParentsAttachment) {
    const bool child_opens_too = GetParam();
    std::optional<mmm::MemChunk<int>> chunk = client().create<int>("shared", 4);
    auto status = mmm::test::run_forked([&] {
        const pid_t me = ::getpid();
        std::optional<mmm::MemChunk<int>> own;
        if (child_opens_too) own = client().open<int>("shared");
        chunk.reset();  // the parent's mapping, inherited: unmapped here only
        if (child_opens_too && !attached(client().info("shared"), me)) return 2;
        return 0;
    });
    ASSERT_TRUE(status.ok()) << status.describe()
                             << " (2: mmmd does not count the child's own open as the child's,"
                                " or it went with the inherited mapping)";
    auto info = client().info("shared");
    EXPECT_TRUE(attached(info, ::getpid()))
        << "the child's unmap of its inherited copy closed the parent's attachment";
    chunk->remove();
    expect_no_segments();
}

INSTANTIATE_TEST_SUITE_P(Fork, ForkDropTest, ::testing::Bool(),
                         [](const auto& p) { return p.param ? "ChildOpenedItToo" : "ChildOnly"; });

TEST_F(ForkTest, ASessionChunkGoesWithTheParentsClientWhileAChildLives) {
    std::optional<mmm::Client> creator = new_client();
    creator->create<int>("session", 4, {.lifetime = mmm::Lifetime::session});
    SignalPipe go;
    // The child only holds whatever it inherited, until told to go.
    auto child = mmm::test::start_forked([&] { return go.receive(20s) == '!' ? 0 : 1; });
    creator.reset();  // the parent closes its Client: the session ends
    bool gone = mmm::test::eventually([&] { return !listed(client(), "session"); }, 5s);
    go.send();
    auto status = child.wait();
    EXPECT_TRUE(gone) << "the child's inherited descriptor kept the parent's session open";
    EXPECT_TRUE(status.ok()) << status.describe();
    expect_no_segments();
}

}  // namespace
