// A process with as many files open as RLIMIT_NOFILE allows cannot receive the
// descriptor mmmd sends with a create or an open (the kernel drops it and sets
// MSG_CTRUNC): it gets Errc::limit_exceeded saying so, and gives back what
// mmmd granted (the attachment, a single-writer chunk's write lease, a chunk it
// was creating), so that once it closes a file the same request succeeds.
#include "daemon_test.hpp"
#include "error_of.hpp"
#include "forked.hpp"

#include <mmm/mmm.hpp>

#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <string>
#include <vector>

namespace {

using mmm::Errc;
using mmm::test::error_of;

class DescriptorLimitTest : public mmm::test::DaemonTest {};

// Opens /dev/null until the process's open-file limit (lowered to `limit`) is
// reached; closes them when it goes.
class FilledDescriptorTable {
  public:
    explicit FilledDescriptorTable(rlim_t limit) {
        rlimit files{};
        ::getrlimit(RLIMIT_NOFILE, &files);
        files.rlim_cur = std::min(limit, files.rlim_max);
        ok_ = ::setrlimit(RLIMIT_NOFILE, &files) == 0;
        for (rlim_t i = 0; ok_ && i < limit; ++i) {
            int fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
            if (fd < 0) {
                // Full, and by these: close_one() makes room.
                ok_ = errno == EMFILE && !fds_.empty();
                return;
            }
            fds_.push_back(fd);
        }
        ok_ = false;  // never reached the limit
    }
    ~FilledDescriptorTable() {
        for (int fd : fds_) ::close(fd);
    }
    FilledDescriptorTable(const FilledDescriptorTable&) = delete;
    FilledDescriptorTable& operator=(const FilledDescriptorTable&) = delete;

    bool full() const { return ok_; }
    // Frees one slot: the next descriptor received fits.
    void close_one() {
        if (!fds_.empty()) {
            ::close(fds_.back());
            fds_.pop_back();
        }
    }

  private:
    bool ok_ = false;
    std::vector<int> fds_;
};

int report(const char* what, Errc got) {
    std::fprintf(stderr, "child: %s: got %s\n", what, std::string(mmm::to_string(got)).c_str());
    return 3;
}

TEST_F(DescriptorLimitTest, AnOpenAtTheLimitFailsClearlyAndGivesTheLeaseBack) {
    { client().create<int>("leased", 4, {.single_writer = true}).write(0, 7); }
    const std::string dir = runtime_dir();
    auto status = mmm::test::run_forked([&] {
        mmm::Client c(mmm::ClientOptions{.runtime_dir = dir});  // connected before the table fills
        FilledDescriptorTable table(64);
        if (!table.full()) return 2;
        auto e = mmm::test::thrown([&] { c.open<int>("leased"); });
        if (!e || e->code() != Errc::limit_exceeded)
            return report("open at the limit", e ? e->code() : Errc::ok);
        if (std::string(e->what()).find("RLIMIT_NOFILE") == std::string::npos) return 4;
        // Given back at once, not at exit: no attachment, no lease (info needs
        // no descriptor, and comes after the close notice on the connection).
        auto info = c.info("leased");
        const pid_t me = ::getpid();
        if (std::any_of(info.attachments.begin(), info.attachments.end(),
                        [&](const mmm::Attachment& a) { return a.pid == me; }))
            return 6;
        if (info.writer_pid != 0) return 7;
        table.close_one();
        // The first open's attachment and lease went back: this one gets both.
        auto chunk = c.open<int>("leased");
        chunk.write(1, 8);
        return chunk.read(0) == 7 ? 0 : 5;
    });
    EXPECT_TRUE(status.ok()) << status.describe()
                             << " (2: could not fill the descriptor table, 3: wrong error, 4: "
                                "message without the limit, 5: data, 6: still attached, 7: "
                                "lease still held)";
    auto info = client().info("leased");
    EXPECT_EQ(info.writer_pid, 0) << "the lease outlived the child";
    EXPECT_TRUE(info.attachments.empty());
    EXPECT_EQ(client().open<const int>("leased").read(1), 8);
    client().remove("leased");
    expect_no_segments();
}

TEST_F(DescriptorLimitTest, ACreateAtTheLimitFailsClearlyAndLeavesNoChunk) {
    const std::string dir = runtime_dir();
    auto status = mmm::test::run_forked([&] {
        mmm::Client c(mmm::ClientOptions{.runtime_dir = dir});
        FilledDescriptorTable table(64);
        if (!table.full()) return 2;
        // Small (mmmd reserves it) and large (the creator reserves it, then commits).
        for (std::size_t count : {std::size_t{4}, std::size_t{1} << 20}) {
            auto code = error_of([&] { c.create<int>("made-at-limit", count); });
            if (code != Errc::limit_exceeded) return report("create at the limit", code);
            if (error_of([&] { c.info("made-at-limit"); }) != Errc::not_found) return 4;
        }
        table.close_one();
        c.create<int>("made-at-limit", 4).remove();
        return 0;
    });
    EXPECT_TRUE(status.ok()) << status.describe()
                             << " (2: could not fill the descriptor table, 3: wrong error, 4: "
                                "the failed create left its chunk)";
    EXPECT_TRUE(client().list().empty());
    expect_no_segments();
}

}  // namespace
