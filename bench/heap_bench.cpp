// Heap chunks (issue #18) against a plain Boost.Interprocess
// managed_shared_memory in the same process run. One operation of each row:
//
//   lock    mmm: Heap::lock() + release (which bumps version())
//           bip: interprocess_mutex lock + unlock (a mutex in the segment)
//   find    mmm: lock + find<Table>("table") + release
//           bip: find<Table>("table") (the segment takes its own mutex)
//   insert  mmm: lock + map insert of the next key + release
//           bip: interprocess_mutex lock + the same insert + unlock
//   lookup  mmm: lock + map find of a present key + release
//           bip: interprocess_mutex lock + the same find + unlock
//
// The map holds uint64_t -> uint64_t; the insert rows clear it every
// kClearEvery inserts, alike on both sides. Reported: items_per_second, and
// the report's ratio mmm / bip (target >= 0.9x: the robust lock is the only
// extra cost).
#include "support/bench_support.hpp"

#include <mmm/heap.hpp>

#include <boost/interprocess/managed_shared_memory.hpp>
#include <boost/interprocess/sync/interprocess_mutex.hpp>
#include <boost/interprocess/sync/scoped_lock.hpp>

#include <cstdint>
#include <mutex>
#include <optional>
#include <string>

namespace {

namespace bip = boost::interprocess;
using mmm_bench::guarded;

constexpr std::size_t kHeapBytes = 64 << 20;
constexpr std::uint64_t kClearEvery = 65536;

std::size_t keys() {
    return mmm_bench::pick(100000, 1000);
}

// --- mmm ---------------------------------------------------------------------

using MmmTable = mmm::heap::map<std::uint64_t, std::uint64_t>;

// The heap chunk every mmm row uses, made once per process, with the table
// holding keys() keys.
mmm::Heap& mmm_heap() {
    static std::optional<mmm::Heap> heap;
    if (!heap) {
        heap.emplace(mmm_bench::client().create_heap("heap-bench", kHeapBytes));
        auto h = heap->lock();
        auto* table = h->find_or_construct<MmmTable>("table")(h.allocator());
        for (std::uint64_t k = 0; k < keys(); ++k) table->emplace(k, k);
        mmm_bench::at_teardown([] {
            heap->remove();
            heap.reset();
        });
    }
    return *heap;
}

// --- Boost.Interprocess --------------------------------------------------------

using BipAllocator = bip::allocator<std::pair<const std::uint64_t, std::uint64_t>,
                                    bip::managed_shared_memory::segment_manager>;
using BipTable =
    boost::container::map<std::uint64_t, std::uint64_t, std::less<std::uint64_t>, BipAllocator>;

struct BipSegment {
    std::string name;
    bip::managed_shared_memory segment;
    bip::interprocess_mutex* mutex;
    BipTable* table;
};

BipSegment& bip_segment() {
    static std::optional<BipSegment> s;
    if (!s) {
        // Boost adds the leading slash of a POSIX shm name itself.
        std::string name = mmm_bench::raw_segment_name("heap").substr(1);
        bip::managed_shared_memory segment(bip::create_only, name.c_str(), kHeapBytes);
        auto* mutex = segment.construct<bip::interprocess_mutex>("mutex")();
        auto* table = segment.construct<BipTable>("table")(segment.get_segment_manager());
        for (std::uint64_t k = 0; k < keys(); ++k) table->emplace(k, k);
        s.emplace(BipSegment{name, std::move(segment), mutex, table});
        mmm_bench::at_teardown([] {
            const std::string gone = s->name;
            s.reset();
            bip::shared_memory_object::remove(gone.c_str());
        });
    }
    return *s;
}

// --- rows ----------------------------------------------------------------------

void BM_HeapLock_mmm(benchmark::State& state) {
    guarded(state, [&] {
        mmm::Heap& heap = mmm_heap();
        for (auto _ : state) {
            auto h = heap.lock();
            benchmark::DoNotOptimize(h.owns_lock());
        }
        state.SetItemsProcessed(state.iterations());
    });
}

void BM_HeapLock_bip(benchmark::State& state) {
    guarded(state, [&] {
        BipSegment& s = bip_segment();
        for (auto _ : state) {
            s.mutex->lock();
            benchmark::ClobberMemory();
            s.mutex->unlock();
        }
        state.SetItemsProcessed(state.iterations());
    });
}

void BM_HeapFind_mmm(benchmark::State& state) {
    guarded(state, [&] {
        mmm::Heap& heap = mmm_heap();
        for (auto _ : state) {
            auto h = heap.lock();
            benchmark::DoNotOptimize(h->find<MmmTable>("table").first);
        }
        state.SetItemsProcessed(state.iterations());
    });
}

void BM_HeapFind_bip(benchmark::State& state) {
    guarded(state, [&] {
        BipSegment& s = bip_segment();
        for (auto _ : state) benchmark::DoNotOptimize(s.segment.find<BipTable>("table").first);
        state.SetItemsProcessed(state.iterations());
    });
}

// The table of the mmm heap, found once: the insert and lookup rows measure
// the lock and the map, not the name lookup.
MmmTable* mmm_table() {
    auto h = mmm_heap().lock();
    return h->find<MmmTable>("table").first;
}

void BM_HeapInsert_mmm(benchmark::State& state) {
    guarded(state, [&] {
        mmm::Heap& heap = mmm_heap();
        MmmTable* table = mmm_table();
        std::uint64_t next = keys();
        for (auto _ : state) {
            auto h = heap.lock();
            table->emplace(next, next);
            if (++next % kClearEvery == 0) table->clear();
        }
        auto h = heap.lock();
        table->clear();
        for (std::uint64_t k = 0; k < keys(); ++k) table->emplace(k, k);
        state.SetItemsProcessed(state.iterations());
    });
}

void BM_HeapInsert_bip(benchmark::State& state) {
    guarded(state, [&] {
        BipSegment& s = bip_segment();
        std::uint64_t next = keys();
        for (auto _ : state) {
            bip::scoped_lock<bip::interprocess_mutex> lock(*s.mutex);
            s.table->emplace(next, next);
            if (++next % kClearEvery == 0) s.table->clear();
        }
        s.table->clear();
        for (std::uint64_t k = 0; k < keys(); ++k) s.table->emplace(k, k);
        state.SetItemsProcessed(state.iterations());
    });
}

void BM_HeapLookup_mmm(benchmark::State& state) {
    guarded(state, [&] {
        mmm::Heap& heap = mmm_heap();
        MmmTable* table = mmm_table();
        std::uint64_t k = 0;
        for (auto _ : state) {
            auto h = heap.lock();
            benchmark::DoNotOptimize(table->find(k));
            k = (k * 7 + 13) % keys();
        }
        state.SetItemsProcessed(state.iterations());
    });
}

void BM_HeapLookup_bip(benchmark::State& state) {
    guarded(state, [&] {
        BipSegment& s = bip_segment();
        std::uint64_t k = 0;
        for (auto _ : state) {
            bip::scoped_lock<bip::interprocess_mutex> lock(*s.mutex);
            benchmark::DoNotOptimize(s.table->find(k));
            k = (k * 7 + 13) % keys();
        }
        state.SetItemsProcessed(state.iterations());
    });
}

}  // namespace

BENCHMARK(BM_HeapLock_mmm)->Name("BM_Heap/lock/mmm");
BENCHMARK(BM_HeapLock_bip)->Name("BM_Heap/lock/bip");
BENCHMARK(BM_HeapFind_mmm)->Name("BM_Heap/find/mmm");
BENCHMARK(BM_HeapFind_bip)->Name("BM_Heap/find/bip");
BENCHMARK(BM_HeapInsert_mmm)->Name("BM_Heap/insert/mmm");
BENCHMARK(BM_HeapInsert_bip)->Name("BM_Heap/insert/bip");
BENCHMARK(BM_HeapLookup_mmm)->Name("BM_Heap/lookup/mmm");
BENCHMARK(BM_HeapLookup_bip)->Name("BM_Heap/lookup/bip");

MMM_BENCH_MAIN();
