// Creating a large chunk and writing all of it (issue #5, row 6): 1 GiB.
// Each iteration: create + write every byte (first touch: reservation, page
// faults, stores), then write every byte again (warm: stores only). Both are
// timed separately and reported as bandwidth counters (bytes/s):
//   BM_Fill/mmm     Client::create<uint8_t> + memset(span), memset again
//   BM_Fill/shm_raw shm_open + posix_fallocate + mmap + memset, memset again
//   BM_Fill/malloc  malloc + memset, memset again (private anonymous memory)
// The release (remove / unlink / free) is outside both timings.
#include "support/bench_support.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
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

template <class Setup, class Release>
void run_fill(benchmark::State& state, Setup&& setup, Release&& release) {
    const std::size_t bytes = fill_bytes();
    Times total;
    for (auto _ : state) {
        auto t0 = Clock::now();
        void* p = setup(bytes);
        write_all(p, bytes, 1);
        auto t1 = Clock::now();
        write_all(p, bytes, 2);
        auto t2 = Clock::now();
        release(p, bytes);
        const double first = mmm_bench::seconds_between(t0, t1);
        total.first_s += first;
        total.warm_s += mmm_bench::seconds_between(t1, t2);
        state.SetIterationTime(first);
    }
    report(state, total, bytes);
}

void BM_Fill_mmm(benchmark::State& state) {
    mmm_bench::guarded(state, [&] {
        mmm::MemChunk<std::uint8_t> mc;
        run_fill(
            state,
            [&](std::size_t bytes) {
                mc =
                    mmm_bench::client().create<std::uint8_t>(mmm_bench::unique_name("fill"), bytes);
                return static_cast<void*>(mc.span().data());
            },
            [&](void*, std::size_t) {
                mc.remove();
                mc = {};
            });
    });
}

void BM_Fill_shm_raw(benchmark::State& state) {
    mmm_bench::guarded(state, [&] {
        const std::string seg = mmm_bench::raw_segment_name("fill");
        run_fill(
            state,
            [&](std::size_t bytes) {
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
            [&](void* p, std::size_t bytes) {
                ::munmap(p, bytes);
                ::shm_unlink(seg.c_str());
            });
    });
}

void BM_Fill_malloc(benchmark::State& state) {
    run_fill(
        state,
        [](std::size_t bytes) {
            void* p = std::malloc(bytes);
            if (!p) throw std::bad_alloc();
            return p;
        },
        [](void* p, std::size_t) { std::free(p); });
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

MMM_BENCH_MAIN();
