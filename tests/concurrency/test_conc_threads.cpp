// Issue #3, thread level: the torn-read, wait_for_change and lock checks of
// test_conc_process.cpp run in threads of ONE process, on ONE mapping, so that
// ThreadSanitizer (ctest label "tsan") sees every access: a missing
// happens-before edge in the seqlock or the chunk lock is then a TSan report.
// (Two mappings of one segment sit at two addresses, where TSan could not
// relate them, hence one MemChunk shared by all threads.)
#include "conc_fixture.hpp"
#include "conc_workloads.hpp"

#include <mmm/mmm.hpp>

#include <mmm/detail/chunk_sync.hpp>
#include <mmm/detail/mapped_chunk.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <cstring>
#include <new>
#include <optional>
#include <thread>
#include <vector>

namespace mmm::conctest {
namespace {

class ThreadTest : public ConcTest {
  protected:
    static constexpr std::size_t kWriters = 3;
    static constexpr std::size_t kReaders = 3;

    // kWriters writer threads and kReaders reader threads (the last one on a
    // read-only mapping) on one chunk for a bounded time.
    template <class E>
    void torn_read_run(const std::string& name, std::size_t count) {
        auto chunk = client().create<E>(name, count);
        auto ro = client().open<const E>(name);
        write_initial(chunk, kWriters);

        RunLimits limits;
        limits.duration = 1000ms;
        std::vector<WriterResult> writers(kWriters);
        std::vector<ReaderResult> readers(kReaders);
        std::atomic<std::size_t> arrived{0};
        auto gate = [&] {  // every thread starts together (bounded wait)
            arrived.fetch_add(1);
            wait_until([&] { return arrived.load() == kWriters + kReaders; }, 10s);
        };
        std::vector<std::thread> threads;
        for (std::size_t w = 0; w < kWriters; ++w)
            threads.emplace_back([&, w] {
                RunLimits l = limits;
                l.max_iterations = 3'000'000;
                l.rng_seed = 11 + w;
                gate();
                writers[w] = run_writer(chunk, w, kWriters, l);
            });
        for (std::size_t r = 0; r < kReaders; ++r)
            threads.emplace_back([&, r] {
                RunLimits l = limits;
                l.max_iterations = 5'000'000;
                l.rng_seed = 101 + r;
                gate();
                readers[r] = r + 1 == kReaders ? run_reader(ro, l) : run_reader(chunk, l);
            });
        for (auto& t : threads) t.join();

        std::uint64_t changes = 0;
        for (std::size_t r = 0; r < kReaders; ++r) {
            SCOPED_TRACE("reader " + std::to_string(r));
            EXPECT_GE(readers[r].reads, kMinReads)
                << "too few reads for the check to mean anything";
            EXPECT_EQ(readers[r].torn, 0u) << "read(i) returned a torn element";
            EXPECT_EQ(readers[r].regressions, 0u) << "read(i) went back to an older value";
            changes += readers[r].changes;
        }
        EXPECT_GT(changes, 0u) << "readers never saw a write: they did not overlap the writers";
        for (std::size_t w = 0; w < kWriters; ++w) {
            SCOPED_TRACE("writer " + std::to_string(w));
            EXPECT_GT(writers[w].writes, 0u);
            EXPECT_EQ(writers[w].read_back_mismatches, 0u);
        }
        std::size_t wrong = 0;
        for (std::size_t i = 0; i < count && wrong < 5; ++i) {
            std::uint64_t seed = writers[owner_of(i, kWriters)].last_seed[i];
            E expected = make_element<E>(seed);
            E got = chunk.read(i);
            if (std::memcmp(&expected, &got, sizeof(E)) != 0) ++wrong;
            EXPECT_EQ(got.seed, seed) << "element " << i;
        }
        EXPECT_EQ(wrong, 0u);

        ro = {};
        chunk = {};
        remove_all_chunks();
    }
};

TEST_F(ThreadTest, ThreeWritersThreeReadersNeverTear64ByteElements) {
    torn_read_run<Elem64>("torn-64", 512);
}

TEST_F(ThreadTest, ThreeWritersThreeReadersNeverTear4KiBElements) {
    torn_read_run<Elem4K>("torn-4k", 16);
}

TEST_F(ThreadTest, WaitForChangeWakesOnAWriteFromAnotherThread) {
    auto chunk = client().create<std::uint64_t>("wfc", 4);
    auto ro = client().open<const std::uint64_t>("wfc");
    auto raw = words_of("wfc");
    std::uint64_t value = 100;
    for (bool read_only : {false, true}) {
        for (auto spin : {std::chrono::nanoseconds(0), mmm::default_wait_spin}) {
            SCOPED_TRACE(std::string(read_only ? "read-only" : "writable") + " spin " +
                         std::to_string(spin.count()) + " ns");
            const std::uint32_t v0 = chunk.version();
            std::atomic<bool> started{false}, done{false};
            std::optional<std::uint32_t> result;
            std::thread waiter([&] {
                started = true;
                result = read_only ? ro.wait_for_change(v0, 10s, spin)
                                   : chunk.wait_for_change(v0, 10s, spin);
                done = true;
            });
            JoinOnExit join_waiter(waiter);
            EXPECT_TRUE(wait_until([&] { return started.load(); }, 5s));
            if (!read_only) {
                EXPECT_TRUE(wait_until([&] { return raw->sync()->waiters.load() != 0; }, 5s));
            }
            EXPECT_FALSE(done.load()) << "returned before anything changed";
            std::thread writer([&] { chunk.write(2, ++value); });
            writer.join();
            EXPECT_TRUE(wait_until([&] { return done.load(); }, 5s)) << "no wake within 5 s";
            waiter.join();  // bounded by the 10 s timeout
            ASSERT_TRUE(result.has_value());
            EXPECT_NE(*result, v0);
            EXPECT_EQ(*result, chunk.version());
            EXPECT_EQ(ro.read(2), value);
            EXPECT_EQ(raw->sync()->waiters.load(), 0u);
        }
    }
    // And times out when nothing changes.
    const std::uint32_t v = chunk.version();
    auto start = Clock::now();
    EXPECT_FALSE(chunk.wait_for_change(v, 100ms, std::chrono::nanoseconds(0)).has_value());
    EXPECT_GE(Clock::now() - start, 100ms);

    raw.reset();
    ro = {};
    chunk = {};
    remove_all_chunks();
}

// Single-writer chunks bump version() with a plain store and no fence; a
// registered waiter relies on the asymmetric fence (membarrier) instead. Two
// threads ping-pong on two such chunks with spin 0, so every hand-over goes
// through the sleep path: a lost wake-up shows as a wait that times out.
TEST_F(ThreadTest, SingleWriterPingPongNeverLosesAWakeUp) {
    mmm::CreateOptions options;
    options.single_writer = true;
    auto ping = client().create<std::uint64_t>("ping", 1, options);
    auto pong = client().create<std::uint64_t>("pong", 1, options);
    constexpr std::uint64_t kRounds = 2000;
    const auto limit = Clock::now() + 60s;
    std::atomic<std::uint64_t> timeouts{0}, rounds_done{0};
    auto ping_raw = words_of("ping");
    auto pong_raw = words_of("pong");
    // Taken before either thread starts, or the returner could miss the first serve.
    const std::uint32_t ping0 = ping.version(), pong0 = pong.version();
    // On even rounds a player writes only once its peer is registered as a
    // waiter (so the wake path is taken every time); on odd rounds at once
    // (so the store races the peer's registration).
    auto write_when = [&](mmm::MemChunk<std::uint64_t>& mine, mmm::detail::ChunkSync* sync,
                          std::uint64_t r) {
        if (r % 2 == 0) wait_until([&] { return sync->waiters.load() != 0; }, 5s);
        mine.write(0, r);
    };
    auto player = [&](mmm::MemChunk<std::uint64_t>& mine, mmm::MemChunk<std::uint64_t>& theirs,
                      std::uint32_t seen, bool serves) {
        auto* sync = (&mine == &ping ? ping_raw : pong_raw)->sync();
        for (std::uint64_t r = 1; r <= kRounds && Clock::now() < limit && timeouts.load() == 0;
             ++r) {
            if (serves) write_when(mine, sync, r);
            auto changed = theirs.wait_for_change(seen, 5s, std::chrono::nanoseconds(0));
            if (!changed) {
                ++timeouts;
                return;
            }
            seen = *changed;
            if (!serves) write_when(mine, sync, r);
            if (serves) rounds_done = r;
        }
    };
    std::thread server([&] { player(ping, pong, pong0, true); });
    JoinOnExit join_server(server);
    std::thread returner([&] { player(pong, ping, ping0, false); });
    JoinOnExit join_returner(returner);
    server.join();
    returner.join();
    EXPECT_EQ(timeouts.load(), 0u) << "a single-writer write did not wake a registered waiter";
    EXPECT_EQ(rounds_done.load(), kRounds) << "ran out of time after " << rounds_done.load();
    EXPECT_EQ(pong.read(0), ping.read(0));

    ping_raw.reset();
    pong_raw.reset();
    ping = {};
    pong = {};
    remove_all_chunks();
}

TEST_F(ThreadTest, LockSerialisesReadModifyWriteAcrossThreads) {
    constexpr int kThreads = 4;
    constexpr int kAdds = 5000;
    auto chunk = client().create<std::uint64_t>("lock-counter", 2);
    const std::uint32_t v0 = chunk.version();
    std::uint64_t local = 0;  // a plain variable: TSan reports it if the lock does not order
    std::vector<std::thread> threads;
    {
        Watchdog watchdog(60s, "the lock() loop");  // lock() has no timeout: bound the whole run
        for (int t = 0; t < kThreads; ++t)
            threads.emplace_back([&] {
                for (int k = 0; k < kAdds; ++k) {
                    // lock(), not try_lock_for: TSan intercepts only the former (conc_fixture.hpp).
                    auto guard = chunk.lock();
                    chunk[1] = chunk[1] + 1;
                    ++local;
                }
            });
        for (auto& t : threads) t.join();
    }
    EXPECT_EQ(chunk[1], std::uint64_t{kThreads} * kAdds);
    EXPECT_EQ(local, std::uint64_t{kThreads} * kAdds);
    EXPECT_EQ(static_cast<std::uint32_t>(chunk.version() - v0),
              static_cast<std::uint32_t>(kThreads * kAdds));
    chunk = {};
    remove_all_chunks();
}

TEST_F(ThreadTest, LockOfAThreadThatExitedHoldingItPassesOnWithOwnerDied) {
    // A robust mutex held by a thread that exits is handed on with EOWNERDEAD,
    // like one held by a process that dies. The guard is built in storage that
    // is never destroyed, so nothing unlocks it.
    auto chunk = client().create<std::uint64_t>("robust", 1);
    auto raw = words_of("robust");
    const std::uint32_t recoveries = raw->sync()->lock_recoveries.load();
    alignas(ChunkLock) unsigned char storage[sizeof(ChunkLock)];
    bool held = false;
    std::thread holder([&] {
        auto* guard = new (storage) ChunkLock(chunk.lock());
        held = guard->owns_lock();
    });
    holder.join();
    ASSERT_TRUE(held);
    const std::uint32_t before = chunk.version();

    auto start = Clock::now();
    auto guard = lock_with_deadline(chunk, 1s);
    ASSERT_TRUE(guard.owns_lock()) << "the lock of an exited thread was not handed on";
    EXPECT_LT(Clock::now() - start, 1s);
    EXPECT_TRUE(guard.previous_owner_died());
    EXPECT_NE(chunk.version(), before);
    EXPECT_EQ(raw->sync()->lock_recoveries.load(), recoveries + 1);
    guard.unlock();

    std::thread next([&] {
        auto again = lock_with_deadline(chunk, 1s);
        EXPECT_TRUE(again.owns_lock());
        EXPECT_FALSE(again.previous_owner_died());
    });
    next.join();

    raw.reset();
    chunk = {};
    remove_all_chunks();
}

}  // namespace
}  // namespace mmm::conctest
