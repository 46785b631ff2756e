// Creating a large chunk and writing all of it (issue #5, row 6): 1 GiB.
// Each iteration: create + write every byte (first touch: reservation, page
// faults, stores), then write every byte again (warm: stores only). Both are
// timed separately and reported as bandwidth counters (bytes/s):
//   BM_Fill/mmm     Client::create<uint8_t> + memset(span), memset again
//   BM_Fill/shm_raw shm_open + posix_fallocate + mmap + memset, memset again
//   BM_Fill/malloc  malloc + memset, memset again (private anonymous memory)
//   BM_Fill/interleaved  mmm and shm_raw alternating in one benchmark (verdict)
// The release (remove / unlink / free) is outside both timings.
#include "support/bench_support.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <stdexcept>

namespace {

using mmm_bench::Clock;

std::size_t fill_bytes() {
    return mmm_bench::pick(std::size_t{1} << 30, std::size_t{4} << 20);
}

// Both passes write the same way; the byte value changes so no pass is a no-op.
__attribute__((noinline)) void write_all(void* p, std::size_t n, int value) {
    std::memset(p, value, n);
    benchmark::ClobberMemory();
}

struct Times {
    double first_s = 0;
    double warm_s = 0;
};

void report(benchmark::State& state, const Times& total, std::size_t bytes) {
    const double n = static_cast<double>(state.iterations());
    state.counters["first_GBps"] = static_cast<double>(bytes) * n / total.first_s / 1e9;
    state.counters["warm_GBps"] = static_cast<double>(bytes) * n / total.warm_s / 1e9;
    state.counters["first_ms"] = total.first_s / n * 1e3;
    state.counters["warm_ms"] = total.warm_s / n * 1e3;
}

// One way of getting `bytes` of writable memory and giving it back.
struct Filler {
    std::function<void*(std::size_t)> setup;
    std::function<void(void*, std::size_t)> release;
};

// One create + first write + second write + release; returns the two times.
Times fill_once(const Filler& f, std::size_t bytes) {
    auto t0 = Clock::now();
    void* p = f.setup(bytes);
    write_all(p, bytes, 1);
    auto t1 = Clock::now();
    write_all(p, bytes, 2);
    auto t2 = Clock::now();
    f.release(p, bytes);
    return {mmm_bench::seconds_between(t0, t1), mmm_bench::seconds_between(t1, t2)};
}

void run_fill(benchmark::State& state, const Filler& f) {
    const std::size_t bytes = fill_bytes();
    Times total;
    for (auto _ : state) {
        Times t = fill_once(f, bytes);
        total.first_s += t.first_s;
        total.warm_s += t.warm_s;
        state.SetIterationTime(t.first_s);
    }
    report(state, total, bytes);
}

Filler mmm_filler(mmm::MemChunk<std::uint8_t>& mc) {
    return {[&mc](std::size_t bytes) {
                mc =
                    mmm_bench::client().create<std::uint8_t>(mmm_bench::unique_name("fill"), bytes);
                return static_cast<void*>(mc.span().data());
            },
            [&mc](void*, std::size_t) {
                mc.remove();
                mc = {};
            }};
}

Filler raw_filler(const std::string& seg) {
    return {[seg](std::size_t bytes) {
                int fd = ::shm_open(seg.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
                if (fd < 0) throw std::runtime_error("shm_open: " + std::string(strerror(errno)));
                if (int err = ::posix_fallocate(fd, 0, static_cast<off_t>(bytes)); err != 0) {
                    ::close(fd);
                    throw std::runtime_error("posix_fallocate: " + std::string(strerror(err)));
                }
                void* p = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
                ::close(fd);
                if (p == MAP_FAILED) throw std::runtime_error("mmap failed");
                return p;
            },
            [seg](void* p, std::size_t bytes) {
                ::munmap(p, bytes);
                ::shm_unlink(seg.c_str());
            }};
}

void BM_Fill_mmm(benchmark::State& state) {
    mmm_bench::guarded(state, [&] {
        mmm::MemChunk<std::uint8_t> mc;
        run_fill(state, mmm_filler(mc));
    });
}

void BM_Fill_shm_raw(benchmark::State& state) {
    mmm_bench::guarded(state,
                       [&] { run_fill(state, raw_filler(mmm_bench::raw_segment_name("fill"))); });
}

void BM_Fill_malloc(benchmark::State& state) {
    run_fill(state, {[](std::size_t bytes) {
                         void* p = std::malloc(bytes);
                         if (!p) throw std::bad_alloc();
                         return p;
                     },
                     [](void* p, std::size_t) { std::free(p); }});
}

// mmm and raw shm alternating within one benchmark, the order swapped every
// iteration, each timed on its own: a first touch costs over a second of page
// allocation and faults, and a noisy neighbour or the host's memory state
// then hits both sides alike (the verdict uses this one).
void BM_Fill_interleaved(benchmark::State& state) {
    mmm_bench::guarded(state, [&] {
        const std::size_t bytes = fill_bytes();
        mmm::MemChunk<std::uint8_t> mc;
        const Filler fillers[2] = {mmm_filler(mc),
                                   raw_filler(mmm_bench::raw_segment_name("fill-i"))};
        Times total[2];
        bool mmm_first = true;
        for (auto _ : state) {
            double iteration = 0;
            for (int k = 0; k < 2; ++k) {
                const int which = (k == 0) == mmm_first ? 0 : 1;
                Times t = fill_once(fillers[which], bytes);
                total[which].first_s += t.first_s;
                total[which].warm_s += t.warm_s;
                iteration += t.first_s;
            }
            state.SetIterationTime(iteration);
            mmm_first = !mmm_first;
        }
        const double n = static_cast<double>(state.iterations()) * static_cast<double>(bytes);
        state.counters["mmm_first_GBps"] = n / total[0].first_s / 1e9;
        state.counters["raw_first_GBps"] = n / total[1].first_s / 1e9;
        state.counters["mmm_warm_GBps"] = n / total[0].warm_s / 1e9;
        state.counters["raw_warm_GBps"] = n / total[1].warm_s / 1e9;
    });
}

}  // namespace

BENCHMARK(BM_Fill_mmm)
    ->Name("BM_Fill/mmm")
    ->Iterations(2)
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Fill_shm_raw)
    ->Name("BM_Fill/shm_raw")
    ->Iterations(2)
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Fill_malloc)
    ->Name("BM_Fill/malloc")
    ->Iterations(2)
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Fill_interleaved)
    ->Name("BM_Fill/interleaved")
    ->Iterations(4)
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond);

MMM_BENCH_MAIN();
