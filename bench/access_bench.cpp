// Data-plane access in one process (issue #5, rows 1 and 2):
//  - sum over span() of a 256 MiB chunk of uint64_t vs the same loop over new[];
//  - checked read(i)/write(i, v) of 8- and 64-byte elements vs raw access,
//    with the parts of the cost shown separately:
//      Raw      operator[] (no check at all)
//      Pointer  *pointer(i): bounds check only (the baseline)
//      Checked  read(i) / write(i, v): bounds check + striped seqlock (+ version
//               bump and waiter check for writes)
//      CheckedSingle  the same on a single-writer chunk: the lease holder
//               writes with plain stores (no atomic read-modify-write)
//      WriteSeqlockOnly / WriteVersionOnly: the two halves of a checked write
//               of many writers (stripe CAS; version fetch_add + waiter check),
//               replayed on a private ChunkSync, to attribute its cost.
//               8-byte elements take no stripe (one atomic store), so only
//               the version half applies to them.
//    BM_Access/*/growable_interleaved: checked read/write of a fixed chunk and
//    of a growable one (CreateOptions::max_count = 4x its count), alternating
//    blocks; the ratio is what the live count costs the element path (#19).
//    BM_Access/*/interleaved runs pointer, checked and checked_single in
//    alternating blocks within one benchmark (the verdicts use these); the
//    write ones also run version_only: *pointer(i) = v plus the atomic add of
//    a shared version, the floor of any many-writer design with one counter.
#include "support/bench_support.hpp"

#include <mmm/detail/seqlock.hpp>

#include <cstdint>
#include <cstring>
#include <memory>
#include <new>
#include <span>

namespace {

using mmm_bench::client;
using mmm_bench::guarded;
using mmm_bench::pick;
using mmm_bench::unique_name;

// One loop for both sides, out of line, so both sum the same machine code.
__attribute__((noinline)) std::uint64_t sum_of(std::span<const std::uint64_t> s) {
    std::uint64_t sum = 0;
    for (std::uint64_t v : s) sum += v;
    return sum;
}

std::size_t sum_count() {
    return pick(std::size_t{256} << 20, std::size_t{1} << 20) / 8;
}

void fill(std::span<std::uint64_t> s) {
    for (std::size_t i = 0; i < s.size(); ++i) s[i] = i;
}

// The 256 MiB buffers are made together, once per process (Google Benchmark
// calls a benchmark function several times while it sizes the run, and random
// interleaving runs the sum benchmarks in any order); the timed loops only read.
//
// On this kind of VM memory a process touches early reads 5-10% slower than
// memory it touches later, whichever kind it is (new[], raw shm and an mmm
// chunk each read slowest when made first; docs/BENCHMARKS.md). So a scratch
// buffer takes the first slot and stays alive, and the buffers are made in
// the order chunk, array, array, chunk: the verdict sums both pairs, so an
// order effect that is left cancels instead of landing on one side.
struct SumBuffers {
    std::unique_ptr<unsigned char[]> scratch;
    mmm::MemChunk<std::uint64_t> chunks[2];
    std::unique_ptr<std::uint64_t[]> arrays[2];
};

SumBuffers& sum_buffers() {
    static SumBuffers b = [] {
        SumBuffers m;
        const std::size_t scratch_bytes = pick(std::size_t{512} << 20, std::size_t{1} << 20);
        m.scratch.reset(new unsigned char[scratch_bytes]);
        std::memset(m.scratch.get(), 1, scratch_bytes);
        benchmark::DoNotOptimize(m.scratch.get());
        auto make_chunk = [&](int k) {
            m.chunks[k] = client().create<std::uint64_t>(unique_name("sum"), sum_count());
            fill(m.chunks[k].span());
        };
        auto make_array = [&](int k) {
            m.arrays[k].reset(new std::uint64_t[sum_count()]);
            fill({m.arrays[k].get(), sum_count()});
        };
        make_chunk(0);
        make_array(0);
        make_array(1);
        make_chunk(1);
        mmm_bench::at_teardown([] {
            for (auto& c : sum_buffers().chunks) c.remove();
            sum_buffers() = {};
        });
        return m;
    }();
    return b;
}

std::span<const std::uint64_t> sum_chunk(int k = 0) {
    return sum_buffers().chunks[k].span();
}

std::span<const std::uint64_t> sum_array(int k = 0) {
    return {sum_buffers().arrays[k].get(), sum_count()};
}

void BM_SumSpan_mmm(benchmark::State& state) {
    guarded(state, [&] {
        auto c = sum_chunk();
        for (auto _ : state) benchmark::DoNotOptimize(sum_of(c));
        state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * c.size_bytes()));
    });
}

void BM_SumSpan_newarray(benchmark::State& state) {
    guarded(state, [&] {
        auto a = sum_array();
        for (auto _ : state) benchmark::DoNotOptimize(sum_of(a));
        state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * a.size_bytes()));
    });
}

// All four loops in one benchmark, each timed on its own, the order of the
// two kinds alternating every iteration: background load hits both sides
// alike, and both allocation orders count (the verdict uses this one).
void BM_SumSpan_interleaved(benchmark::State& state) {
    guarded(state, [&] {
        double mmm_s = 0, array_s = 0;
        bool mmm_first = true;
        for (auto _ : state) {
            for (int k = 0; k < 4; ++k) {
                const bool do_mmm = (k % 2 == 0) == mmm_first;
                auto buffer = do_mmm ? sum_chunk(k / 2) : sum_array(k / 2);
                auto t0 = mmm_bench::Clock::now();
                benchmark::DoNotOptimize(sum_of(buffer));
                double s = mmm_bench::seconds_between(t0, mmm_bench::Clock::now());
                (do_mmm ? mmm_s : array_s) += s;
            }
            mmm_first = !mmm_first;
        }
        const double bytes = 2.0 * static_cast<double>(state.iterations()) *
                             static_cast<double>(sum_count() * sizeof(std::uint64_t));
        state.counters["mmm_GBps"] = bytes / mmm_s / 1e9;
        state.counters["newarray_GBps"] = bytes / array_s / 1e9;
        state.counters["ratio"] = array_s / mmm_s;
    });
}

// --- element access ------------------------------------------------------------

struct Line {
    std::uint64_t v[8];
};
static_assert(sizeof(Line) == 64);

template <class E>
E make(std::uint64_t x) {
    if constexpr (sizeof(E) == 8) {
        return E{x};
    } else {
        E e;
        for (auto& w : e.v) w = x;
        return e;
    }
}

// Cache-resident: the elements plus the 16 KiB of stripes stay in L1/L2, so
// the loops measure the access path, not memory.
constexpr std::size_t kElements = 1024;

// checked_single: read/write of a single-writer chunk (CreateOptions::single_writer),
// whose lease holder writes with plain stores.
enum class How { raw, pointer, checked, checked_single };

template <class E>
mmm::MemChunk<E> create_for(const std::string& name, How how, bool growable) {
    mmm::CreateOptions options;
    options.single_writer = how == How::checked_single;
    if (growable) options.max_count = 4 * kElements;
    return client().create<E>(name, kElements, options);
}

template <class E>
struct Fixture {
    explicit Fixture(How how = How::checked, bool growable = false)
        : mc(create_for<E>(name, how, growable)) {}
    std::string name = unique_name("access");
    mmm::MemChunk<E> mc;
    ~Fixture() {
        try {
            mc.remove();
        } catch (...) {
        }
    }
};

// One pass over the chunk, the element access done as `how` says. Out of line
// per variant, so that each variant's loop is the same code wherever it runs.
template <class E, How how>
__attribute__((noinline)) void read_pass(const mmm::MemChunk<E>& mc) {
    for (std::size_t i = 0; i < kElements; ++i) {
        if constexpr (how == How::raw) {
            E v = mc[i];
            benchmark::DoNotOptimize(v);
        } else if constexpr (how == How::pointer) {
            E v = *mc.pointer(i);
            benchmark::DoNotOptimize(v);
        } else {
            E v = mc.read(i);
            benchmark::DoNotOptimize(v);
        }
    }
}

template <class E, How how>
__attribute__((noinline)) void write_pass(mmm::MemChunk<E>& mc, std::uint64_t x) {
    for (std::size_t i = 0; i < kElements; ++i) {
        const E v = make<E>(x + i);
        if constexpr (how == How::raw) {
            mc[i] = v;
        } else if constexpr (how == How::pointer) {
            *mc.pointer(i) = v;
        } else {
            mc.write(i, v);
        }
        benchmark::ClobberMemory();
    }
}

// A ChunkSync and a full stripe table in private memory, laid out as in a segment.
struct PrivateSync {
    PrivateSync()
        : sync(new (std::align_val_t{64}) mmm::detail::ChunkSync{}),
          stripes(new (std::align_val_t{64}) mmm::detail::StripeLine[mmm::detail::kMaxStripes]{}) {}
    ~PrivateSync() {
        ::operator delete (sync, std::align_val_t{64});
        ::operator delete[](stripes, std::align_val_t{64});
    }
    mmm::detail::ChunkSync* sync;
    mmm::detail::StripeLine* stripes;
};

using mmm::detail::bump_version;  // the version half of seq_write

// The floor of any design in which every write of many writers bumps one
// shared counter: *pointer(i) = v plus bump_version, on a private ChunkSync
// (so the chunk's own version is left alone).
template <class E>
__attribute__((noinline)) void version_floor_pass(mmm::MemChunk<E>& mc,
                                                  mmm::detail::ChunkSync* sync, std::uint64_t x) {
    for (std::size_t i = 0; i < kElements; ++i) {
        *mc.pointer(i) = make<E>(x + i);
        bump_version(sync);
        benchmark::ClobberMemory();
    }
}

template <class E>
void fill_chunk(mmm::MemChunk<E>& mc) {
    for (std::size_t i = 0; i < kElements; ++i) mc.write(i, make<E>(i));
}

template <class E, How how>
void BM_Read(benchmark::State& state) {
    guarded(state, [&] {
        Fixture<E> f(how);
        fill_chunk(f.mc);
        for (auto _ : state) read_pass<E, how>(f.mc);
        state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * kElements));
    });
}

template <class E, How how>
void BM_Write(benchmark::State& state) {
    guarded(state, [&] {
        Fixture<E> f(how);
        std::uint64_t x = 0;
        for (auto _ : state) write_pass<E, how>(f.mc, ++x);
        state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * kElements));
    });
}

// pointer, checked and checked_single in one benchmark, in blocks of kBlock
// passes timed on their own, the order rotating every iteration: on a VM whose
// speed moves by tens of percent within seconds, the separate benchmarks
// above drift apart; these share every slow and fast moment (the verdicts use
// these). Counters: ns per element of each variant.
constexpr int kBlock = 64;

template <class E, bool kWrite>
void BM_AccessInterleaved(benchmark::State& state) {
    guarded(state, [&] {
        Fixture<E> many(How::checked);
        Fixture<E> single(How::checked_single);
        PrivateSync floor;
        fill_chunk(many.mc);
        fill_chunk(single.mc);
        constexpr int kVariants = kWrite ? 4 : 3;
        double ns[4] = {0, 0, 0, 0};  // pointer, checked, checked_single, version_only
        std::uint64_t x = 0;
        int first = 0;
        for (auto _ : state) {
            for (int k = 0; k < kVariants; ++k) {
                const int variant = (first + k) % kVariants;
                auto t0 = mmm_bench::Clock::now();
                for (int b = 0; b < kBlock; ++b) {
                    ++x;
                    if constexpr (kWrite) {
                        if (variant == 0) write_pass<E, How::pointer>(many.mc, x);
                        if (variant == 1) write_pass<E, How::checked>(many.mc, x);
                        if (variant == 2) write_pass<E, How::checked_single>(single.mc, x);
                        if (variant == 3) version_floor_pass<E>(many.mc, floor.sync, x);
                    } else {
                        if (variant == 0) read_pass<E, How::pointer>(many.mc);
                        if (variant == 1) read_pass<E, How::checked>(many.mc);
                        if (variant == 2) read_pass<E, How::checked_single>(single.mc);
                    }
                }
                ns[variant] += mmm_bench::ns_between(t0, mmm_bench::Clock::now());
            }
            first = (first + 1) % kVariants;
        }
        const double elements =
            static_cast<double>(state.iterations()) * static_cast<double>(kBlock * kElements);
        state.counters["pointer_ns"] = ns[0] / elements;
        state.counters["checked_ns"] = ns[1] / elements;
        state.counters["checked_single_ns"] = ns[2] / elements;
        if (kWrite) state.counters["version_only_ns"] = ns[3] / elements;
    });
}

// Checked access to a fixed and a growable chunk, alternating blocks as above.
template <class E, bool kWrite>
void BM_GrowableInterleaved(benchmark::State& state) {
    guarded(state, [&] {
        Fixture<E> fixed(How::checked, false);
        Fixture<E> growable(How::checked, true);
        fill_chunk(fixed.mc);
        fill_chunk(growable.mc);
        double ns[2] = {0, 0};  // fixed, growable
        std::uint64_t x = 0;
        int first = 0;
        for (auto _ : state) {
            for (int k = 0; k < 2; ++k) {
                const int variant = (first + k) % 2;
                auto& mc = variant == 0 ? fixed.mc : growable.mc;
                auto t0 = mmm_bench::Clock::now();
                for (int b = 0; b < kBlock; ++b) {
                    ++x;
                    if constexpr (kWrite)
                        write_pass<E, How::checked>(mc, x);
                    else
                        read_pass<E, How::checked>(mc);
                }
                ns[variant] += mmm_bench::ns_between(t0, mmm_bench::Clock::now());
            }
            first = 1 - first;
        }
        const double elements =
            static_cast<double>(state.iterations()) * static_cast<double>(kBlock * kElements);
        state.counters["fixed_ns"] = ns[0] / elements;
        state.counters["growable_ns"] = ns[1] / elements;
        state.counters["ratio"] = ns[1] / ns[0];  // <= 1.1 is the target
    });
}

// The halves of seq_write (include/mmm/detail/seqlock.hpp), replayed on a
// private ChunkSync with the same layout, to show where a checked write's time goes.

template <class E>
void BM_WriteSeqlockOnly(benchmark::State& state) {
    PrivateSync ps;
    auto* sync = ps.sync;
    mmm::detail::ElementAccess a;
    a.sync = sync;
    a.stripes = ps.stripes;
    a.stripe_mask = mmm::detail::kMaxStripes - 1;
    std::unique_ptr<E[]> data(new E[kElements]);
    std::uint64_t x = 0;
    for (auto _ : state) {
        ++x;
        for (std::size_t i = 0; i < kElements; ++i) {
            const E v = make<E>(x + i);
            auto& stripe = a.stripe_for(i);
            const std::uint64_t even = mmm::detail::stripe_take(sync, stripe);
            std::atomic_thread_fence(std::memory_order_release);
            mmm::detail::racy_store(&data[i], &v, sizeof(E));
            stripe.word.store((even + 2) & 0xffffffffu, std::memory_order_release);
            benchmark::ClobberMemory();
        }
    }
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * kElements));
}

template <class E>
void BM_WriteVersionOnly(benchmark::State& state) {
    PrivateSync ps;
    auto* sync = ps.sync;
    std::unique_ptr<E[]> data(new E[kElements]);
    std::uint64_t x = 0;
    for (auto _ : state) {
        ++x;
        for (std::size_t i = 0; i < kElements; ++i) {
            const E v = make<E>(x + i);
            data[i] = v;
            bump_version(sync);
            benchmark::ClobberMemory();
        }
    }
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * kElements));
}

}  // namespace

BENCHMARK(BM_SumSpan_newarray)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_SumSpan_mmm)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_SumSpan_interleaved)->Unit(benchmark::kMillisecond);

BENCHMARK_TEMPLATE(BM_AccessInterleaved, std::uint64_t, false)
    ->Name("BM_Access/read/u64/interleaved");
BENCHMARK_TEMPLATE(BM_AccessInterleaved, Line, false)->Name("BM_Access/read/line64/interleaved");
BENCHMARK_TEMPLATE(BM_AccessInterleaved, std::uint64_t, true)
    ->Name("BM_Access/write/u64/interleaved");
BENCHMARK_TEMPLATE(BM_AccessInterleaved, Line, true)->Name("BM_Access/write/line64/interleaved");

BENCHMARK_TEMPLATE(BM_GrowableInterleaved, std::uint64_t, false)
    ->Name("BM_Access/read/u64/growable_interleaved");
BENCHMARK_TEMPLATE(BM_GrowableInterleaved, Line, false)
    ->Name("BM_Access/read/line64/growable_interleaved");
BENCHMARK_TEMPLATE(BM_GrowableInterleaved, std::uint64_t, true)
    ->Name("BM_Access/write/u64/growable_interleaved");
BENCHMARK_TEMPLATE(BM_GrowableInterleaved, Line, true)
    ->Name("BM_Access/write/line64/growable_interleaved");

BENCHMARK_TEMPLATE(BM_Read, std::uint64_t, How::raw)->Name("BM_Read/u64/raw");
BENCHMARK_TEMPLATE(BM_Read, std::uint64_t, How::pointer)->Name("BM_Read/u64/pointer");
BENCHMARK_TEMPLATE(BM_Read, std::uint64_t, How::checked)->Name("BM_Read/u64/checked");
BENCHMARK_TEMPLATE(BM_Read, std::uint64_t, How::checked_single)->Name("BM_Read/u64/checked_single");
BENCHMARK_TEMPLATE(BM_Read, Line, How::raw)->Name("BM_Read/line64/raw");
BENCHMARK_TEMPLATE(BM_Read, Line, How::pointer)->Name("BM_Read/line64/pointer");
BENCHMARK_TEMPLATE(BM_Read, Line, How::checked)->Name("BM_Read/line64/checked");
BENCHMARK_TEMPLATE(BM_Read, Line, How::checked_single)->Name("BM_Read/line64/checked_single");

BENCHMARK_TEMPLATE(BM_Write, std::uint64_t, How::raw)->Name("BM_Write/u64/raw");
BENCHMARK_TEMPLATE(BM_Write, std::uint64_t, How::pointer)->Name("BM_Write/u64/pointer");
BENCHMARK_TEMPLATE(BM_Write, std::uint64_t, How::checked)->Name("BM_Write/u64/checked");
BENCHMARK_TEMPLATE(BM_Write, std::uint64_t, How::checked_single)
    ->Name("BM_Write/u64/checked_single");
BENCHMARK_TEMPLATE(BM_WriteVersionOnly, std::uint64_t)->Name("BM_Write/u64/version_only");
BENCHMARK_TEMPLATE(BM_Write, Line, How::raw)->Name("BM_Write/line64/raw");
BENCHMARK_TEMPLATE(BM_Write, Line, How::pointer)->Name("BM_Write/line64/pointer");
BENCHMARK_TEMPLATE(BM_Write, Line, How::checked)->Name("BM_Write/line64/checked");
BENCHMARK_TEMPLATE(BM_Write, Line, How::checked_single)->Name("BM_Write/line64/checked_single");
BENCHMARK_TEMPLATE(BM_WriteSeqlockOnly, Line)->Name("BM_Write/line64/seqlock_only");
BENCHMARK_TEMPLATE(BM_WriteVersionOnly, Line)->Name("BM_Write/line64/version_only");

MMM_BENCH_MAIN();
