// Cross-process change notification (issue #5, row 3): two processes
// ping-pong a version; one round trip = two hand-overs. Each iteration is one
// round trip, timed on its own; p50/p99/mean are reported as counters.
//
//   spin_raw     both sides busy-spin (pause) on a word of a shared mapping
//   futex_raw    store + FUTEX_WAKE / FUTEX_WAIT on a word of a shared mapping
//   mmm_spin0    MemChunk::write + wait_for_change(spin = 0): sleeps at once
//   mmm_default  MemChunk::write + wait_for_change(spin = mmm::default_wait_spin)
//   futex_vs_mmm_spin0  futex_raw and mmm_spin0 in one pair of processes,
//                switching every kBlock round trips: both see the same load
//                and the same CPU placement (the verdict uses this one)
#include "support/bench_support.hpp"

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <climits>
#include <cstdint>
#include <stdexcept>

namespace {

using namespace std::chrono_literals;
using mmm_bench::Clock;
using mmm_bench::cpu_relax;
using mmm_bench::guarded;

// Layout of the shared control page.
struct Shared {
    alignas(64) std::atomic<std::uint32_t> word;
    alignas(64) std::atomic<std::uint32_t> stop;
};

constexpr auto kStall = 10s;  // a peer this late is broken, not slow

// FUTEX_WAIT with a timeout, as libmmm passes one (the kernel arms a timer).
void futex_wait_for(std::atomic<std::uint32_t>* word, std::uint32_t expected) {
    mmm_bench::futex_wait(word, expected, 1s);
}

// Waits until *word != seen, spinning; throws when the peer stalls.
std::uint32_t spin_until_changed(std::atomic<std::uint32_t>& word, std::uint32_t seen,
                                 const std::atomic<std::uint32_t>* stop = nullptr) {
    for (unsigned n = 1;; ++n) {
        std::uint32_t w = word.load(std::memory_order_acquire);
        if (w != seen) return w;
        if (stop && stop->load(std::memory_order_relaxed)) return w;
        cpu_relax();
        if ((n & 0xfffff) == 0 && stop == nullptr) {
            static thread_local Clock::time_point since;
            if (n == 0x100000)
                since = Clock::now();
            else if (Clock::now() - since > kStall)
                throw std::runtime_error("ping-pong peer stalled");
        }
    }
}

std::uint32_t futex_until_changed(std::atomic<std::uint32_t>& word, std::uint32_t seen) {
    const auto deadline = Clock::now() + kStall;
    for (;;) {
        std::uint32_t w = word.load(std::memory_order_acquire);
        if (w != seen) return w;
        futex_wait_for(&word, seen);
        if (Clock::now() > deadline) throw std::runtime_error("ping-pong peer stalled");
    }
}

template <class Body>
void run_rounds(benchmark::State& state, Body&& round_trip) {
    mmm_bench::Samples samples;
    auto prev = Clock::now();
    for (auto _ : state) {
        round_trip();
        auto now = Clock::now();
        samples.add(mmm_bench::ns_between(prev, now));
        prev = now;
    }
    samples.report(state);
}

void check_child(benchmark::State& state, pid_t child) {
    int rc = mmm_bench::reap(child, 15.0);
    if (rc != 0)
        mmm_bench::fail(state, "ping-pong child failed (status " + std::to_string(rc) + ")");
}

void BM_PingPong_spin_raw(benchmark::State& state) {
    guarded(state, [&] {
        mmm_bench::SharedPage page;
        auto* sh = new (page.as<void>()) Shared{};
        pid_t child = mmm_bench::fork_child([sh] {
            std::uint32_t seen = 0;
            for (;;) {
                seen = spin_until_changed(sh->word, seen, &sh->stop);
                if (sh->stop.load(std::memory_order_relaxed)) return 0;
                sh->word.store(++seen, std::memory_order_release);
            }
        });
        std::uint32_t v = 0;
        run_rounds(state, [&] {
            sh->word.store(++v, std::memory_order_release);
            v = spin_until_changed(sh->word, v);
        });
        sh->stop.store(1);
        check_child(state, child);
    });
}

void BM_PingPong_futex_raw(benchmark::State& state) {
    guarded(state, [&] {
        mmm_bench::SharedPage page;
        auto* sh = new (page.as<void>()) Shared{};
        pid_t child = mmm_bench::fork_child([sh] {
            std::uint32_t seen = 0;
            for (;;) {
                seen = futex_until_changed(sh->word, seen);
                if (sh->stop.load(std::memory_order_acquire)) return 0;
                sh->word.store(++seen, std::memory_order_release);
                mmm_bench::futex_wake_all(&sh->word);
            }
        });
        std::uint32_t v = 0;
        run_rounds(state, [&] {
            sh->word.store(++v, std::memory_order_release);
            mmm_bench::futex_wake_all(&sh->word);
            v = futex_until_changed(sh->word, v);
        });
        sh->stop.store(1, std::memory_order_release);
        sh->word.store(++v, std::memory_order_release);
        mmm_bench::futex_wake_all(&sh->word);
        check_child(state, child);
    });
}

// With `with_raw`, round trip i goes through the raw futex word when
// raw_turn(i), else through the chunk; the child follows the same schedule.
constexpr std::uint64_t kBlock = 32;
bool raw_turn(std::uint64_t i) {
    return (i / kBlock) % 2 == 0;
}

// Two processes ping-pong through a chunk (MemChunk::write + wait_for_change
// with `spin`) and, when `with_raw`, also through a raw futex word, switching
// every kBlock round trips. Counters: p50_ns... of the chunk alone, or
// mmm_p50_ns... and raw_p50_ns... of both.
void ping_pong(benchmark::State& state, std::chrono::nanoseconds spin, bool with_raw) {
    guarded(state, [&] {
        const std::string name = mmm_bench::unique_name("pingpong");
        auto mc = mmm_bench::client().create<std::uint64_t>(name, 1);
        mmm_bench::SharedPage page;
        auto* sh = new (page.as<void>()) Shared{};
        mmm_bench::StartGate gate;
        const auto options = mmm_bench::daemon().client_options();
        pid_t child = mmm_bench::fork_child([&] {
            mmm::Client c(options);
            auto peer = c.open<std::uint64_t>(name);
            std::uint32_t chunk_seen = peer.version();
            std::uint32_t word_seen = 0;
            gate.arrive_and_wait();
            for (std::uint64_t i = 0;; ++i) {
                if (with_raw && raw_turn(i)) {
                    word_seen = futex_until_changed(sh->word, word_seen);
                    if (sh->stop.load(std::memory_order_acquire)) return 0;
                    sh->word.store(++word_seen, std::memory_order_release);
                    mmm_bench::futex_wake_all(&sh->word);
                } else {
                    auto v = peer.wait_for_change(chunk_seen, kStall, spin);
                    if (!v) throw std::runtime_error("wait_for_change timed out in the child");
                    if (sh->stop.load(std::memory_order_acquire)) return 0;
                    peer.write(0, i);
                    chunk_seen = *v + 1;  // strictly alternating: our write made it *v + 1
                }
            }
        });
        gate.wait_ready(1);
        std::uint32_t chunk_seen = mc.version();
        std::uint32_t word = 0;
        gate.release(1);
        mmm_bench::Samples raw, mmm;
        std::uint64_t i = 0;
        auto prev = Clock::now();
        for (auto _ : state) {
            const bool use_raw = with_raw && raw_turn(i);
            if (use_raw) {
                sh->word.store(++word, std::memory_order_release);
                mmm_bench::futex_wake_all(&sh->word);
                word = futex_until_changed(sh->word, word);
            } else {
                mc.write(0, i);
                auto v = mc.wait_for_change(chunk_seen + 1, kStall, spin);
                if (!v) throw std::runtime_error("wait_for_change timed out in the parent");
                chunk_seen = *v;
            }
            auto now = Clock::now();  // as run_rounds: one iteration, loop included
            (use_raw ? raw : mmm).add(mmm_bench::ns_between(prev, now));
            prev = now;
            ++i;
        }
        // Release the child from whichever wait round trip i put it in.
        sh->stop.store(1, std::memory_order_release);
        if (with_raw && raw_turn(i)) {
            sh->word.store(++word, std::memory_order_release);
            mmm_bench::futex_wake_all(&sh->word);
        } else {
            mc.write(0, i);
        }
        check_child(state, child);
        mc.remove();
        if (with_raw) {
            raw.report(state, "raw_");
            mmm.report(state, "mmm_");
        } else {
            mmm.report(state);
        }
    });
}

void BM_PingPong_mmm_spin0(benchmark::State& state) {
    ping_pong(state, 0ns, false);
}
void BM_PingPong_mmm_default(benchmark::State& state) {
    ping_pong(state, mmm::default_wait_spin, false);
}
void BM_PingPong_futex_vs_mmm_spin0(benchmark::State& state) {
    ping_pong(state, 0ns, true);
}

}  // namespace

BENCHMARK(BM_PingPong_spin_raw)->Name("BM_PingPong/spin_raw")->UseRealTime();
BENCHMARK(BM_PingPong_futex_raw)->Name("BM_PingPong/futex_raw")->UseRealTime();
BENCHMARK(BM_PingPong_mmm_spin0)->Name("BM_PingPong/mmm_spin0")->UseRealTime();
BENCHMARK(BM_PingPong_mmm_default)->Name("BM_PingPong/mmm_default")->UseRealTime();
BENCHMARK(BM_PingPong_futex_vs_mmm_spin0)->Name("BM_PingPong/futex_vs_mmm_spin0")->UseRealTime();

MMM_BENCH_MAIN();
