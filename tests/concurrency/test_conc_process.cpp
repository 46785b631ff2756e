// Issue #3: the concurrency model (docs/CONCURRENCY.md) checked across real
// processes. Every test runs its own mmmd (DaemonTest), starts conc_helper
// processes with fork + exec, synchronises with them through pipes, waits on
// conditions with deadlines (never sleeps), and removes its chunks at the end.
#include "conc_fixture.hpp"
#include "conc_workloads.hpp"

#include <mmm/mmm.hpp>

#include <mmm/detail/chunk_sync.hpp>
#include <mmm/detail/mapped_chunk.hpp>

#include <gtest/gtest.h>

#include <sys/types.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <thread>

namespace mmm::conctest {
namespace {

using mmm::test::ChildProcess;

constexpr std::size_t kWriters = 3;
constexpr std::size_t kReaders = 3;

class ProcessTest : public ConcTest {
  protected:
    // 1. Torn reads: kWriters writer processes and kReaders reader processes
    // (the last one on a read-only mapping) on one chunk for a bounded time.
    // A single-writer chunk has one writer (its lease holder, whose writes are
    // plain stores) and read-only readers only.
    template <class E>
    void torn_read_run(const std::string& kind, std::size_t count, bool single_writer = false) {
        const std::string name = "torn-" + kind + (single_writer ? "-single" : "");
        const std::size_t writers_n = single_writer ? 1 : kWriters;
        mmm::CreateOptions options;
        options.single_writer = single_writer;
        auto mine = client().create<E>(name, count, options);
        write_initial(mine, writers_n);
        if (single_writer) mine = {};  // hands the write lease back for the writer process
        auto chunk = client().open<const E>(name);

        const std::string ms = "1500";
        std::vector<ChildProcess> procs;
        for (std::size_t w = 0; w < writers_n; ++w)
            procs.push_back(
                helper({"torn-writer", name, kind, std::to_string(w), std::to_string(writers_n), ms,
                        "3000000", std::to_string(11 + w)}));
        for (std::size_t r = 0; r < kReaders; ++r)
            procs.push_back(
                helper({"torn-reader", name, kind, single_writer || r + 1 == kReaders ? "1" : "0",
                        ms, "5000000", std::to_string(101 + r)}));
        for (auto& p : procs) ASSERT_NO_FATAL_FAILURE(expect_line(p, "ready"));
        if (single_writer) {
            EXPECT_EQ(client().info(name).writer_pid, procs[0].pid())
                << "the writer process does not hold the write lease";
        }
        for (auto& p : procs) p.write_stdin("go\n");
        for (auto& p : procs) expect_clean_exit(p);

        std::vector<HelperReport> writers, readers;
        for (std::size_t k = 0; k < procs.size(); ++k)
            (k < writers_n ? writers : readers).push_back(parse_report(procs[k].out()));

        std::uint64_t changes = 0;
        for (std::size_t r = 0; r < readers.size(); ++r) {
            SCOPED_TRACE("reader " + std::to_string(r) +
                         (single_writer || r + 1 == kReaders ? " (read-only)" : ""));
            const auto& rep = readers[r];
            ASSERT_TRUE(rep.complete) << procs[writers_n + r].out();
            EXPECT_GE(rep.at("reads"), kMinReads) << "too few reads for the check to mean anything";
            EXPECT_EQ(rep.at("torn"), 0u) << "read(i) returned a torn element";
            EXPECT_EQ(rep.at("regressions"), 0u) << "read(i) went back to an older value";
            changes += rep.at("changes");
        }
        EXPECT_GT(changes, 0u) << "readers never saw a write: they did not overlap the writers";

        for (std::size_t w = 0; w < writers.size(); ++w) {
            SCOPED_TRACE("writer " + std::to_string(w));
            const auto& rep = writers[w];
            ASSERT_TRUE(rep.complete) << procs[w].out();
            EXPECT_GT(rep.at("writes"), 0u);
            EXPECT_EQ(rep.at("mismatches"), 0u) << "a writer did not read back its own last write";
            EXPECT_EQ(rep.last.size(), (count - w + writers_n - 1) / writers_n);
        }

        // Every element holds exactly the last value its owner wrote.
        std::size_t wrong = 0;
        for (std::size_t i = 0; i < count && wrong < 5; ++i) {
            const auto& last = writers[owner_of(i, writers_n)].last;
            auto it = last.find(i);
            ASSERT_NE(it, last.end()) << "owner of " << i << " did not report it";
            E expected = make_element<E>(it->second);
            E got = chunk.read(i);
            if (std::memcmp(&expected, &got, sizeof(E)) != 0) ++wrong;
            EXPECT_EQ(got.seed, it->second) << "element " << i;
        }
        EXPECT_EQ(wrong, 0u);

        procs.clear();
        chunk = {};
        mine = {};
        remove_all_chunks();
    }
};

// --- 1. torn reads -------------------------------------------------------------------------

TEST_F(ProcessTest, ThreeWritersThreeReadersNeverTear64ByteElements) {
    // 512 elements: two elements share each stripe, owned by different writers.
    torn_read_run<Elem64>("64", 512);
}

TEST_F(ProcessTest, ThreeWritersThreeReadersNeverTear4KiBElements) {
    torn_read_run<Elem4K>("4k", 16);
}

TEST_F(ProcessTest, SingleWriterThreeReadOnlyReadersNeverTear64ByteElements) {
    torn_read_run<Elem64>("64", 512, true);
}

TEST_F(ProcessTest, SingleWriterThreeReadOnlyReadersNeverTear4KiBElements) {
    torn_read_run<Elem4K>("4k", 16, true);
}

// --- 2. robust lock ------------------------------------------------------------------------

TEST_F(ProcessTest, LockOfKilledHolderPassesToNextLockerWithOwnerDied) {
    auto chunk = client().create<std::uint64_t>("robust", 4);
    auto holder = helper({"lock-hold", "robust"});
    ASSERT_NO_FATAL_FAILURE(expect_line(holder, "locked"));
    EXPECT_EQ(std::atomic_ref<std::uint64_t>(chunk[0]).load(),
              static_cast<std::uint64_t>(holder.pid()));
    {
        auto busy = chunk.try_lock_for(50ms);  // held by a live process: must not be ours
        EXPECT_FALSE(busy.owns_lock());
    }
    const std::uint32_t before = chunk.version();
    auto raw = words_of("robust");
    const std::uint32_t recoveries = raw->sync()->lock_recoveries.load();

    holder.kill(SIGKILL);
    auto status = holder.wait_for_exit(5s);
    ASSERT_TRUE(status.signaled(SIGKILL)) << status.describe();

    auto start = Clock::now();
    auto guard = lock_with_deadline(chunk, 1s);
    auto took = elapsed_since(start);
    ASSERT_TRUE(guard.owns_lock()) << "the lock of a dead holder was not handed on within 1 s";
    EXPECT_LT(took, 1s);
    EXPECT_TRUE(guard.previous_owner_died());
    EXPECT_NE(chunk.version(), before) << "recovering the lock must move the version on";
    EXPECT_EQ(raw->sync()->lock_recoveries.load(), recoveries + 1);
    guard.unlock();

    auto again = lock_with_deadline(chunk, 1s);
    ASSERT_TRUE(again.owns_lock());
    EXPECT_FALSE(again.previous_owner_died()) << "only the first locker after a death is told";
    again.unlock();

    // The recovered lock still works across processes.
    auto other = helper({"lock-add", "robust", "1", "1"});
    ASSERT_NO_FATAL_FAILURE(expect_line(other, "ready"));
    other.write_stdin("go\n");
    ASSERT_NO_FATAL_FAILURE(expect_line(other, "done"));
    expect_clean_exit(other);
    EXPECT_EQ(chunk.read(1), 1u);
    EXPECT_EQ(raw->sync()->lock_recoveries.load(), recoveries + 1);

    raw.reset();
    chunk = {};
    remove_all_chunks();
}

TEST_F(ProcessTest, BlockedLockerWakesWhenHolderIsKilled) {
    auto chunk = client().create<std::uint64_t>("robust-wait", 1);
    auto holder = helper({"lock-hold", "robust-wait"});
    ASSERT_NO_FATAL_FAILURE(expect_line(holder, "locked"));

    std::atomic<bool> started{false}, done{false};
    bool owns = false, died = false;
    Clock::time_point acquired_at{};
    std::thread locker([&] {
        started = true;
        auto guard = lock_with_deadline(chunk, 10s);  // bounded: never a hang
        acquired_at = Clock::now();
        owns = guard.owns_lock();
        died = guard.previous_owner_died();
        done = true;
    });
    JoinOnExit join_locker(locker);
    ASSERT_TRUE(wait_until([&] { return started.load(); }, 5s));
    EXPECT_FALSE(wait_until([&] { return done.load(); }, 100ms))
        << "lock() returned while another process held the lock";

    auto killed_at = Clock::now();
    holder.kill(SIGKILL);
    EXPECT_TRUE(wait_until([&] { return done.load(); }, 5s));
    locker.join();
    EXPECT_TRUE(holder.wait_for_exit(5s).signaled(SIGKILL));
    ASSERT_TRUE(owns) << "the blocked locker did not get the lock of the dead holder";
    EXPECT_TRUE(died);
    EXPECT_LT(acquired_at - killed_at, 1s);

    chunk = {};
    remove_all_chunks();
}

TEST_F(ProcessTest, LockSerialisesReadModifyWriteAcrossProcesses) {
    constexpr int kProcs = 4;
    constexpr int kAdds = 2000;
    auto chunk = client().create<std::uint64_t>("lock-counter", 2);
    const std::uint32_t v0 = chunk.version();
    std::vector<ChildProcess> procs;
    for (int p = 0; p < kProcs; ++p)
        procs.push_back(helper({"lock-add", "lock-counter", "1", std::to_string(kAdds)}));
    for (auto& p : procs) ASSERT_NO_FATAL_FAILURE(expect_line(p, "ready"));
    for (auto& p : procs) p.write_stdin("go\n");
    for (auto& p : procs) expect_clean_exit(p);
    EXPECT_EQ(chunk.read(1), std::uint64_t{kProcs} * kAdds) << "lost updates under lock()";
    EXPECT_EQ(chunk.read(0), 0u);
    // Every release bumps the version; nothing else touched this chunk.
    EXPECT_EQ(static_cast<std::uint32_t>(chunk.version() - v0),
              static_cast<std::uint32_t>(kProcs * kAdds));
    procs.clear();
    chunk = {};
    remove_all_chunks();
}

// --- 3. a writer dies mid-write ----------------------------------------------------------

constexpr std::uint64_t kSeqMask = 0xffffffffu;

struct Outcome {
    bool finished = false;
    std::optional<std::uint64_t> value;
    std::optional<mmm::Errc> error;
    std::string what;
};

// Runs `op` in a thread and waits for it up to `limit`. If it is stuck, the
// test fails and `unstick` (which repairs the stripes) lets it finish, so the
// test never hangs.
template <class Op, class Unstick>
Outcome run_bounded(Op op, std::chrono::milliseconds limit, Unstick unstick) {
    Outcome out;
    std::atomic<bool> done{false};
    std::thread worker([&] {
        try {
            out.value = op();
        } catch (const mmm::Error& e) {
            out.error = e.code();
            out.what = e.what();
        }
        done = true;
    });
    out.finished = wait_until([&] { return done.load(); }, limit);
    if (!out.finished) {
        unstick();
        if (!wait_until([&] { return done.load(); }, 10s)) {
            std::fprintf(stderr, "run_bounded: the operation is stuck even after repair\n");
            std::abort();
        }
    }
    worker.join();
    return out;
}

// 16 bytes: elements of 1, 2, 4 or 8 bytes are written whole by one atomic
// store and never touch a stripe, so the stripe tests need a wider element.
struct Wide {
    std::uint64_t value = 0;
    std::uint64_t pad = 0;
    Wide() = default;
    Wide(std::uint64_t v) : value(v) {}  // NOLINT: implicit on purpose, reads like a u64
    operator std::uint64_t() const { return value; }
};

class StripeTest : public ConcTest {
  protected:
    // The pid of a helper that has exited and been reaped, or -1.
    pid_t reaped_pid() const {
        ChildProcess child = helper({"noop"});
        auto status = child.wait_for_exit(10s);
        if (!status.ok()) return -1;
        pid_t pid = child.pid();
        if (::kill(pid, 0) == 0 || errno != ESRCH) return -1;  // reused already
        return pid;
    }
    // Makes stripe `s` look like `pid` is in the middle of a write.
    static void poison(mmm::test::SegmentWords& words, std::size_t s, pid_t pid) {
        auto& word = words.stripe(s).word;
        std::uint64_t w = word.load();
        ASSERT_EQ(w & 1u, 0u) << "stripe " << s << " is already odd";
        word.store((static_cast<std::uint64_t>(pid) << 32) | ((w + 1) & kSeqMask));
    }
    static bool odd(mmm::test::SegmentWords& words, std::size_t s) {
        return (words.stripe(s).word.load() & 1u) != 0;
    }
    static void repair(mmm::test::SegmentWords& words, std::initializer_list<std::size_t> stripes) {
        for (std::size_t s : stripes) {
            std::uint64_t w = words.stripe(s).word.load();
            if (w & 1u) words.stripe(s).word.store((w + 1) & kSeqMask);
        }
    }
};

TEST_F(StripeTest, DeadWriterReadOnlyReaderGetsOwnerDiedWritableAccessRecovers) {
    auto chunk = client().create<Wide>("stripes", 600);
    chunk.write(5, 55);
    chunk.write(261, 2610);  // 261 % 256 == 5: same stripe
    chunk.write(6, 66);
    chunk.write(7, 77);
    pid_t dead = reaped_pid();
    if (dead < 0) GTEST_SKIP() << "could not get the pid of a reaped child (pid reused at once)";

    auto raw = words_of("stripes");
    auto* sync = raw->sync();
    ASSERT_NO_FATAL_FAILURE(poison(*raw, 5, dead));
    ASSERT_NO_FATAL_FAILURE(poison(*raw, 6, dead));
    const std::uint32_t recoveries = sync->stripe_recoveries.load();
    const std::uint32_t v0 = chunk.version();
    auto unstick = [&] { repair(*raw, {5, 6}); };

    // A read-only mapping cannot repair the stripe: owner_died, not a hang.
    auto ro = client().open<const Wide>("stripes");
    for (std::size_t i : {std::size_t{5}, std::size_t{261}}) {
        SCOPED_TRACE("read-only read(" + std::to_string(i) + ")");
        auto out = run_bounded([&] { return ro.read(i); }, 5s, unstick);
        ASSERT_TRUE(out.finished) << "read-only read of a dead writer's stripe hung";
        ASSERT_TRUE(out.error.has_value()) << "returned " << out.value.value_or(0);
        EXPECT_EQ(*out.error, mmm::Errc::owner_died) << out.what;
    }
    EXPECT_TRUE(odd(*raw, 5)) << "a read-only reader must not (cannot) repair the stripe";
    EXPECT_EQ(ro.read(7), 77u) << "other stripes are unaffected";
    EXPECT_EQ(sync->stripe_recoveries.load(), recoveries);

    // The error names the chunk, as every mmm::Error does (DESIGN.md).
    try {
        (void)ro.read(5);
        ADD_FAILURE() << "read-only read of a dead writer's stripe did not throw";
    } catch (const mmm::Error& e) {
        EXPECT_EQ(e.code(), mmm::Errc::owner_died);
        EXPECT_EQ(e.chunk(), "stripes")
            << "owner_died error without the chunk's name: " << e.what();
    }

    // A writable read finds the writer dead and moves the stripe on.
    auto read_out = run_bounded([&] { return chunk.read(5); }, 5s, unstick);
    ASSERT_TRUE(read_out.finished) << "writable read of a dead writer's stripe hung";
    ASSERT_FALSE(read_out.error.has_value()) << read_out.what;
    EXPECT_EQ(read_out.value, 55u);
    EXPECT_FALSE(odd(*raw, 5));
    EXPECT_EQ(sync->stripe_recoveries.load(), recoveries + 1);
    EXPECT_NE(chunk.version(), v0) << "a recovery moves the version on";

    // A write does too.
    auto write_out = run_bounded(
        [&] {
            chunk.write(6, 606);
            return std::uint64_t{0};
        },
        5s, unstick);
    ASSERT_TRUE(write_out.finished) << "write to a dead writer's stripe hung";
    ASSERT_FALSE(write_out.error.has_value()) << write_out.what;
    EXPECT_FALSE(odd(*raw, 6));
    EXPECT_EQ(sync->stripe_recoveries.load(), recoveries + 2);
    EXPECT_EQ(chunk.read(6), 606u);

    // After the recovery the read-only mapping reads normally.
    EXPECT_EQ(ro.read(5), 55u);
    EXPECT_EQ(ro.read(261), 2610u);
    EXPECT_EQ(ro.read(6), 606u);

    raw.reset();
    ro = {};
    chunk = {};
    remove_all_chunks();
}

TEST_F(StripeTest, ReadersWaitForALiveWriterAndNoticeWhenItDies) {
    auto chunk = client().create<Wide>("stripes-live", 16);
    chunk.write(9, 99);
    chunk.write(10, 1010);
    auto writer = helper({"block"});
    ASSERT_NO_FATAL_FAILURE(expect_line(writer, "ready"));

    auto raw = words_of("stripes-live");
    ASSERT_NO_FATAL_FAILURE(poison(*raw, 9, writer.pid()));
    ASSERT_NO_FATAL_FAILURE(poison(*raw, 10, writer.pid()));
    auto ro = client().open<const Wide>("stripes-live");

    Outcome ro_out, rw_out;
    std::atomic<bool> ro_done{false}, rw_done{false};
    std::thread ro_reader([&] {
        try {
            ro_out.value = ro.read(9);
        } catch (const mmm::Error& e) {
            ro_out.error = e.code();
            ro_out.what = e.what();
        }
        ro_done = true;
    });
    std::thread rw_reader([&] {
        try {
            rw_out.value = chunk.read(10);
        } catch (const mmm::Error& e) {
            rw_out.error = e.code();
            rw_out.what = e.what();
        }
        rw_done = true;
    });
    // While the writer lives, both wait (a live writer is never robbed).
    EXPECT_FALSE(wait_until([&] { return ro_done.load() || rw_done.load(); }, 200ms))
        << "a reader gave up on a stripe whose writer is alive";
    EXPECT_TRUE(odd(*raw, 9));
    EXPECT_TRUE(odd(*raw, 10));

    writer.kill(SIGKILL);
    EXPECT_TRUE(writer.wait_for_exit(5s).signaled(SIGKILL));
    bool finished = wait_until([&] { return ro_done.load() && rw_done.load(); }, 5s);
    EXPECT_TRUE(finished) << "readers did not notice the writer's death";
    if (!finished) repair(*raw, {9, 10});
    if (!wait_until([&] { return ro_done.load() && rw_done.load(); }, 10s)) {
        std::fprintf(stderr, "readers are stuck even after the stripes were repaired\n");
        std::abort();  // joining would hang: end the test binary instead
    }
    ro_reader.join();
    rw_reader.join();

    ASSERT_TRUE(ro_out.error.has_value()) << "read-only read returned " << *ro_out.value;
    EXPECT_EQ(*ro_out.error, mmm::Errc::owner_died) << ro_out.what;
    ASSERT_FALSE(rw_out.error.has_value()) << rw_out.what;
    EXPECT_EQ(rw_out.value, 1010u);
    EXPECT_FALSE(odd(*raw, 10));
    EXPECT_EQ(chunk.read(9), 99u);  // the writable mapping recovers 9 as well
    EXPECT_FALSE(odd(*raw, 9));
    EXPECT_EQ(ro.read(9), 99u);

    raw.reset();
    ro = {};
    chunk = {};
    remove_all_chunks();
}

// --- 4. wait_for_change --------------------------------------------------------------------

struct WaitCase {
    const char* label;
    bool read_only;
    std::chrono::nanoseconds spin;
};

class WaitForChangeTest : public ConcTest, public ::testing::WithParamInterface<WaitCase> {};

TEST_P(WaitForChangeTest, WakesOnAWriteFromAnotherProcess) {
    const WaitCase c = GetParam();
    auto chunk = client().create<std::uint64_t>("wfc", 4);
    auto ro = client().open<const std::uint64_t>("wfc");
    auto raw = words_of("wfc");
    auto writer = helper({"write-on-go", "wfc", "1", "4242"});
    ASSERT_NO_FATAL_FAILURE(expect_line(writer, "ready"));

    const std::uint32_t v0 = chunk.version();
    std::atomic<bool> started{false}, done{false};
    std::optional<std::uint32_t> result;
    Clock::time_point returned_at{};
    std::thread waiter([&] {
        started = true;
        result = c.read_only ? ro.wait_for_change(v0, 10s, c.spin)
                             : chunk.wait_for_change(v0, 10s, c.spin);
        returned_at = Clock::now();
        done = true;
    });
    JoinOnExit join_waiter(waiter);
    ASSERT_TRUE(wait_until([&] { return started.load(); }, 5s));
    // A waiter is counted before it sleeps (a writable one in `waiters`, a
    // read-only one by mmmd in `watchers`): write only once it is.
    auto counted = [&] {
        return (c.read_only ? raw->sync()->watchers : raw->sync()->waiters).load() != 0;
    };
    EXPECT_TRUE(wait_until(counted, 5s)) << "the waiter was never counted";
    EXPECT_FALSE(done.load()) << "wait_for_change returned before anything changed";

    auto sent_at = Clock::now();
    writer.write_stdin("go\n");
    ASSERT_NO_FATAL_FAILURE(expect_line(writer, "written"));
    EXPECT_TRUE(wait_until([&] { return done.load(); }, 5s))
        << "the waiter did not wake within 5 s of the write";
    waiter.join();  // wait_for_change is bounded by its 10 s timeout
    expect_clean_exit(writer);

    ASSERT_TRUE(result.has_value()) << "wait_for_change timed out although a write happened";
    EXPECT_NE(*result, v0);
    EXPECT_EQ(*result, chunk.version());
    // Woken, not found by a periodic recheck (a counted sleep rechecks each second).
    EXPECT_LT(returned_at - sent_at, 900ms);
    EXPECT_EQ(chunk.read(1), 4242u);
    EXPECT_EQ(raw->sync()->waiters.load(), 0u) << "the waiter did not deregister";
    EXPECT_TRUE(wait_until([&] { return raw->sync()->watchers.load() == 0; }, 5s))
        << "mmmd still counts the read-only waiter after it woke";

    raw.reset();
    ro = {};
    chunk = {};
    remove_all_chunks();
}

INSTANTIATE_TEST_SUITE_P(
    Modes, WaitForChangeTest,
    ::testing::Values(WaitCase{"WritableFutexOnly", false, std::chrono::nanoseconds(0)},
                      WaitCase{"WritableDefaultSpin", false, mmm::default_wait_spin},
                      WaitCase{"ReadOnlyFutexOnly", true, std::chrono::nanoseconds(0)},
                      WaitCase{"ReadOnlyDefaultSpin", true, mmm::default_wait_spin}),
    [](const ::testing::TestParamInfo<WaitCase>& p) { return std::string(p.param.label); });

// A single-writer chunk's holder bumps version() with a plain store; a
// read-only waiter in another process is counted by mmmd and woken all the same.
TEST_F(ProcessTest, ReadOnlyWaiterWakesOnASingleWriterWrite) {
    mmm::CreateOptions options;
    options.single_writer = true;
    (void)client().create<std::uint64_t>("wfc-single", 2, options);  // lease free again
    auto ro = client().open<const std::uint64_t>("wfc-single");
    auto raw = words_of("wfc-single");
    auto writer = helper({"write-on-go", "wfc-single", "1", "77"});
    ASSERT_NO_FATAL_FAILURE(expect_line(writer, "ready"));
    ASSERT_EQ(client().info("wfc-single").writer_pid, writer.pid());

    const std::uint32_t v0 = ro.version();
    std::atomic<bool> done{false};
    std::optional<std::uint32_t> result;
    Clock::time_point returned_at{};
    std::thread waiter([&] {
        result = ro.wait_for_change(v0, 10s, std::chrono::nanoseconds(0));
        returned_at = Clock::now();
        done = true;
    });
    JoinOnExit join_waiter(waiter);
    EXPECT_TRUE(wait_until([&] { return raw->sync()->watchers.load() != 0; }, 5s))
        << "the read-only waiter was never counted";
    auto sent_at = Clock::now();
    writer.write_stdin("go\n");
    ASSERT_NO_FATAL_FAILURE(expect_line(writer, "written"));
    EXPECT_TRUE(wait_until([&] { return done.load(); }, 5s));
    waiter.join();
    ASSERT_TRUE(result.has_value());
    EXPECT_LT(returned_at - sent_at, 900ms) << "not woken: found by the periodic recheck";
    EXPECT_EQ(ro.read(1), 77u);
    expect_clean_exit(writer);
    raw.reset();
    ro = {};
    remove_all_chunks();
}

// mmmd counts read-only waiters on their connection: a waiter killed in its
// sleep is uncounted when its connection closes, so writers stop waking for it.
TEST_F(ProcessTest, KilledReadOnlyWaiterIsUncounted) {
    auto chunk = client().create<std::uint64_t>("wfc-killed", 2);
    auto raw = words_of("wfc-killed");
    auto waiter = helper({"wait-ro", "wfc-killed"});
    ASSERT_NO_FATAL_FAILURE(expect_line(waiter, "ready"));
    ASSERT_TRUE(wait_until([&] { return raw->sync()->watchers.load() == 1; }, 5s))
        << "the read-only waiter was never counted";
    waiter.kill(SIGKILL);
    EXPECT_TRUE(waiter.wait_for_exit(5s).signaled(SIGKILL));
    EXPECT_TRUE(wait_until([&] { return raw->sync()->watchers.load() == 0; }, 5s))
        << "mmmd still counts a waiter that was killed";
    raw.reset();
    chunk = {};
    remove_all_chunks();
}

// A restarted mmmd keeps the count of waiters the previous one counted: the
// sleeping waiter is still woken, and uncounted when it says it woke.
TEST_F(ProcessTest, ReadOnlyWaiterCountedBeforeARestartIsStillWoken) {
    auto chunk = client().create<std::uint64_t>("wfc-restart", 2);
    auto raw = words_of("wfc-restart");
    auto waiter = helper({"wait-ro", "wfc-restart"});
    ASSERT_NO_FATAL_FAILURE(expect_line(waiter, "ready"));
    ASSERT_TRUE(wait_until([&] { return raw->sync()->watchers.load() == 1; }, 5s));
    daemon().restart();
    EXPECT_EQ(raw->sync()->watchers.load(), 1u) << "the restart dropped the sleeping waiter";
    chunk.write(0, 1);
    ASSERT_NO_FATAL_FAILURE(expect_line(waiter, "changed"));
    expect_clean_exit(waiter);
    EXPECT_TRUE(wait_until([&] { return raw->sync()->watchers.load() == 0; }, 5s))
        << "the new mmmd did not uncount the earlier waiter";
    raw.reset();
    chunk = {};
    remove_all_chunks();
}

TEST_F(ProcessTest, WaitForChangeTimesOutWhenNothingChanges) {
    auto chunk = client().create<std::uint64_t>("wfc-quiet", 2);
    auto ro = client().open<const std::uint64_t>("wfc-quiet");
    auto raw = words_of("wfc-quiet");
    for (bool read_only : {false, true}) {
        for (auto spin : {std::chrono::nanoseconds(0), mmm::default_wait_spin}) {
            SCOPED_TRACE(std::string(read_only ? "read-only" : "writable") + " spin " +
                         std::to_string(spin.count()) + " ns");
            const std::uint32_t v = chunk.version();
            auto start = Clock::now();
            auto r = read_only ? ro.wait_for_change(v, 100ms, spin)
                               : chunk.wait_for_change(v, 100ms, spin);
            auto took = Clock::now() - start;
            EXPECT_FALSE(r.has_value()) << "returned version " << r.value_or(0);
            EXPECT_GE(took, 100ms);
            EXPECT_LT(took, 5s);
            EXPECT_EQ(chunk.version(), v);
            EXPECT_EQ(raw->sync()->waiters.load(), 0u);
        }
    }
    raw.reset();
    ro = {};
    chunk = {};
    remove_all_chunks();
}

// --- 5. open(name, timeout) ----------------------------------------------------------------

TEST_F(ProcessTest, OpenWithTimeoutReturnsWhenAnotherProcessCreatesTheChunk) {
    auto creator = helper({"create-on-go", "late", "8", "777"});
    ASSERT_NO_FATAL_FAILURE(expect_line(creator, "ready"));
    mmm::Client opener = new_client();
    const std::uint64_t requests = client().stats().requests;

    std::atomic<bool> done{false};
    std::optional<MemChunk<std::uint64_t>> opened;
    std::optional<mmm::Errc> error;
    Clock::time_point returned_at{};
    std::thread waiter([&] {
        try {
            opened.emplace(opener.open<std::uint64_t>("late", 10s));
        } catch (const mmm::Error& e) {
            error = e.code();
        }
        returned_at = Clock::now();
        done = true;
    });
    JoinOnExit join_waiter(waiter);
    // The daemon has the open (parked) once it counted it: the k-th stats call
    // after the first reports requests + k, plus 1 once the open arrived.
    std::uint64_t polls = 0;
    EXPECT_TRUE(wait_until([&] { return client().stats().requests >= requests + ++polls + 1; }, 5s))
        << "mmmd never received the waiting open";
    EXPECT_FALSE(done.load()) << "open(name, 10s) returned before the chunk existed";

    auto sent_at = Clock::now();
    creator.write_stdin("go\n");
    ASSERT_NO_FATAL_FAILURE(expect_line(creator, "created"));
    EXPECT_TRUE(wait_until([&] { return done.load(); }, 5s))
        << "open did not return within 5 s of the create";
    waiter.join();  // bounded by the open's own 10 s
    expect_clean_exit(creator);

    ASSERT_FALSE(error.has_value()) << "open failed with " << mmm::to_string(*error);
    ASSERT_TRUE(opened.has_value());
    EXPECT_LT(returned_at - sent_at, 5s);
    EXPECT_EQ(opened->size(), 8u);
    EXPECT_EQ(opened->read(0), 777u) << "the opener does not see the creator's memory";

    opened.reset();
    remove_all_chunks();
}

TEST_F(ProcessTest, OpenWithTimeoutThrowsTimeoutWhenNobodyCreates) {
    auto start = Clock::now();
    try {
        auto chunk = client().open<std::uint64_t>("never", 200ms);
        ADD_FAILURE() << "open of a chunk nobody creates returned";
    } catch (const mmm::Error& e) {
        EXPECT_EQ(e.code(), mmm::Errc::timeout) << e.what();
        EXPECT_EQ(e.chunk(), "never");
    }
    auto took = Clock::now() - start;
    EXPECT_GE(took, 200ms);
    EXPECT_LT(took, 5s);
    // The client still works after a timed-out open.
    EXPECT_TRUE(client().list().empty());
    remove_all_chunks();
}

// --- 6. std::atomic_ref across processes -------------------------------------------------

TEST_F(ProcessTest, AtomicRefCounterIsExactAcrossProcesses) {
    constexpr int kProcs = 4;
    constexpr int kAdds = 10000;
    static_assert(std::atomic_ref<std::uint64_t>::required_alignment <= alignof(std::uint64_t));
    auto chunk = client().create<std::uint64_t>("counter", 8);
    std::vector<ChildProcess> procs;
    for (int p = 0; p < kProcs; ++p)
        procs.push_back(helper({"atomic-add", "counter", "3", std::to_string(kAdds)}));
    for (auto& p : procs) ASSERT_NO_FATAL_FAILURE(expect_line(p, "ready"));
    for (auto& p : procs) p.write_stdin("go\n");
    for (auto& p : procs) expect_clean_exit(p);
    EXPECT_EQ(std::atomic_ref<std::uint64_t>(chunk[3]).load(), std::uint64_t{kProcs} * kAdds);
    for (std::size_t i = 0; i < chunk.size(); ++i) {
        if (i == 3) continue;
        EXPECT_EQ(chunk[i], 0u) << "element " << i;
    }
    procs.clear();
    chunk = {};
    remove_all_chunks();
}

}  // namespace
}  // namespace mmm::conctest
