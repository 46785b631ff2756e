// Registry scale (issue #5, row 7): the registry grows 1k -> 10k -> 100k tiny
// chunks (one uint8_t each: a segment is the header page plus one data page).
// At each size (cumulative: each benchmark tops the registry up):
//   list_ms          Client::list() of every chunk
//   mmmctl_list_ms   `mmmctl list --json` (fork + exec + wait), output drained
//   rss_MB           mmmd VmRSS; hwm_MB its VmHWM
//   restart_ms       SIGTERM mmmd, start it again on the same runtime directory,
//                    until list() returns every chunk (stop_ms: the exit alone)
//   create_us        mean time of one create in the top-up
// BM_Registry/remove_all removes every chunk (remove_us: mean per remove).
// BM_ChunkMemory/elem:N: the pages a chunk of one N-byte element holds.
// Quick mode (MMM_BENCH_QUICK=1) divides the sizes by 1000; MMM_BENCH_SCALE=1
// adds 1,000,000 chunks.
#include "support/bench_support.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <thread>

#ifndef MMM_BENCH_MMMCTL
#define MMM_BENCH_MMMCTL ""
#endif

namespace {

using mmm_bench::Clock;
using mmm_bench::daemon;

std::size_t g_created = 0;  // chunks "reg-<i>" for i < g_created exist

std::string chunk_name(std::size_t i) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "reg-%07zu", i);
    return buf;
}

void remove_all(benchmark::State* state) {
    if (g_created == 0) return;
    auto& c = mmm_bench::client();
    const std::size_t n = g_created;
    auto t0 = Clock::now();
    for (std::size_t i = n; i-- > 0;) {
        c.remove(chunk_name(i));
        g_created = i;
    }
    auto t1 = Clock::now();
    if (state)
        state->counters["remove_us"] =
            mmm_bench::seconds_between(t0, t1) * 1e6 / static_cast<double>(n);
}

// Runs `mmmctl list --json`; returns (seconds, bytes of output).
std::pair<double, std::size_t> run_mmmctl_list() {
    int out[2];
    if (::pipe2(out, O_CLOEXEC) != 0) throw std::runtime_error("pipe failed");
    auto t0 = Clock::now();
    std::fflush(nullptr);
    pid_t pid = ::fork();
    if (pid < 0) throw std::runtime_error("fork failed");
    if (pid == 0) {
        ::dup2(out[1], STDOUT_FILENO);
        ::setenv("MMM_RUNTIME_DIR", daemon().runtime_dir().c_str(), 1);
        const char* argv[] = {MMM_BENCH_MMMCTL, "list", "--json", nullptr};
        ::execv(MMM_BENCH_MMMCTL, const_cast<char* const*>(argv));
        ::_exit(127);
    }
    ::close(out[1]);
    std::size_t bytes = 0;
    char buf[1 << 16];
    for (;;) {
        ssize_t r = ::read(out[0], buf, sizeof buf);
        if (r > 0)
            bytes += static_cast<std::size_t>(r);
        else if (r == 0 || errno != EINTR)
            break;
    }
    ::close(out[0]);
    int rc = mmm_bench::reap(pid, 120.0);
    auto t1 = Clock::now();
    if (rc != 0)
        throw std::runtime_error("mmmctl list --json failed (status " + std::to_string(rc) + ")");
    return {mmm_bench::seconds_between(t0, t1), bytes};
}

void BM_Registry(benchmark::State& state) {
    mmm_bench::guarded(state, [&] {
        const std::size_t target = mmm_bench::quick()
                                       ? static_cast<std::size_t>(state.range(0)) / 1000
                                       : static_cast<std::size_t>(state.range(0));
        static const bool hooked = [] {
            mmm_bench::at_teardown([] { remove_all(nullptr); });
            return true;
        }();
        static_cast<void>(hooked);
        for (auto _ : state) {
            auto& c = mmm_bench::client();
            const std::size_t from = g_created;
            auto t0 = Clock::now();
            for (std::size_t i = from; i < target; ++i) {
                { auto mc = c.create<std::uint8_t>(chunk_name(i), 1); }
                g_created = i + 1;
            }
            auto t1 = Clock::now();
            if (target > from)
                state.counters["create_us"] =
                    mmm_bench::seconds_between(t0, t1) * 1e6 / static_cast<double>(target - from);

            auto l0 = Clock::now();
            const std::size_t listed = c.list().size();
            auto l1 = Clock::now();
            if (listed < target)
                throw std::runtime_error("list returned " + std::to_string(listed) + " of " +
                                         std::to_string(target));
            state.counters["list_ms"] = mmm_bench::seconds_between(l0, l1) * 1e3;
            state.counters["rss_MB"] = static_cast<double>(daemon().rss_bytes()) / 1e6;
            state.counters["hwm_MB"] = static_cast<double>(daemon().hwm_bytes()) / 1e6;

            if (std::strlen(MMM_BENCH_MMMCTL) > 0) {
                auto [secs, bytes] = run_mmmctl_list();
                state.counters["mmmctl_list_ms"] = secs * 1e3;
                state.counters["mmmctl_bytes"] = static_cast<double>(bytes);
            }

            // Restart: stop by pid, start on the same directory, wait for all.
            auto r0 = Clock::now();
            daemon().stop();
            auto r1 = Clock::now();
            daemon().start();
            std::size_t relisted = 0;
            {
                mmm::Client fresh(daemon().client_options());
                const auto deadline = Clock::now() + std::chrono::seconds(60);
                while ((relisted = fresh.list().size()) < target && Clock::now() < deadline)
                    std::this_thread::sleep_for(std::chrono::milliseconds(1));
            }
            auto r2 = Clock::now();
            if (relisted < target)
                throw std::runtime_error("after restart, list returned " +
                                         std::to_string(relisted) + " of " +
                                         std::to_string(target));
            state.counters["stop_ms"] = mmm_bench::seconds_between(r0, r1) * 1e3;
            state.counters["restart_ms"] = mmm_bench::seconds_between(r1, r2) * 1e3;
            state.counters["rss_after_restart_MB"] =
                static_cast<double>(daemon().rss_bytes()) / 1e6;
            state.counters["chunks"] = static_cast<double>(target);
            state.SetIterationTime(mmm_bench::seconds_between(l0, l1));
        }
    });
}

void BM_Registry_remove_all(benchmark::State& state) {
    mmm_bench::guarded(state, [&] {
        for (auto _ : state) {
            const std::size_t n = g_created;
            remove_all(&state);
            state.counters["chunks"] = static_cast<double>(n);
        }
    });
}

// Memory of a chunk of one element (issue #20): the bytes its segment holds
// (st_blocks of the segment file, after mmmd's reservation) in 4 KiB pages,
// for elements of 1 to 256 bytes. Counters: pages, bytes.
template <std::size_t N>
struct alignas(N < 8 ? N : 8) Element {
    std::byte bytes[N];
};

template <std::size_t N>
void BM_ChunkMemory(benchmark::State& state) {
    mmm_bench::guarded(state, [&] {
        for (auto _ : state) {
            auto chunk = mmm_bench::client().create<Element<N>>(mmm_bench::unique_name("one"), 1);
            struct stat st {};
            const std::string segment = chunk.info().segment;
            if (::stat(segment.c_str(), &st) != 0)
                throw std::runtime_error(
                    std::string("stat ").append(segment).append(": ").append(std::strerror(errno)));
            chunk.remove();
            const double bytes = static_cast<double>(st.st_blocks) * 512.0;
            state.counters["bytes"] = bytes;
            state.counters["pages"] = bytes / 4096.0;
        }
    });
}

}  // namespace

BENCHMARK(BM_ChunkMemory<1>)->Name("BM_ChunkMemory/elem:1")->Iterations(1);
BENCHMARK(BM_ChunkMemory<8>)->Name("BM_ChunkMemory/elem:8")->Iterations(1);
BENCHMARK(BM_ChunkMemory<16>)->Name("BM_ChunkMemory/elem:16")->Iterations(1);
BENCHMARK(BM_ChunkMemory<64>)->Name("BM_ChunkMemory/elem:64")->Iterations(1);
BENCHMARK(BM_ChunkMemory<100>)->Name("BM_ChunkMemory/elem:100")->Iterations(1);
BENCHMARK(BM_ChunkMemory<256>)->Name("BM_ChunkMemory/elem:256")->Iterations(1);

// scripts/bench.sh --scale (MMM_BENCH_SCALE=1) goes on to 1,000,000 chunks
// (issue #20): about 8 GB of /dev/shm and a few minutes.
[[maybe_unused]] const bool g_registered = [] {
    auto* b = benchmark::RegisterBenchmark("BM_Registry", BM_Registry);
    b->ArgName("chunks")->Arg(1000)->Arg(10000)->Arg(100000);
    const char* scale = std::getenv("MMM_BENCH_SCALE");
    if (scale != nullptr && std::strcmp(scale, "1") == 0) b->Arg(1000000);
    b->Iterations(1)->UseManualTime()->Unit(benchmark::kMillisecond);
    return true;
}();

BENCHMARK(BM_Registry_remove_all)
    ->Name("BM_Registry/remove_all")
    ->Iterations(1)
    ->Unit(benchmark::kMillisecond);

MMM_BENCH_MAIN();
