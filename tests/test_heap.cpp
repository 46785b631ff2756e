// Heap chunks (mmm::Heap, issue #18): a Boost.Interprocess managed segment in
// a chunk, used by real processes (tests/helpers/heap_helper.cpp) under the
// chunk's robust lock; a holder SIGKILLed mid-update; a full heap; the wrong
// kind at open; read-only opens.
#include "daemon_test.hpp"
#include "error_of.hpp"
#include "heap_types.hpp"
#include "mmmctl_runner.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <signal.h>

#include <chrono>
#include <cstdint>
#include <iostream>
#include <optional>
#include <random>
#include <string>
#include <vector>

namespace {

using mmm::Errc;
using mmm::test::error_of;
using mmm::test::run_mmmctl;
using mmm::test::thrown;
using mmm_test::HeapMap;
using mmm_test::HeapVector;
using mmm_test::key_of;
using mmm_test::tag_value;
using namespace std::chrono_literals;

class HeapTest : public mmm::test::DaemonTest {};

constexpr std::size_t kHeapBytes = 4 << 20;

TEST_F(HeapTest, CreateLockConstructAndOpenFromAnotherClient) {
    auto heap = client().create_heap("symbols", kHeapBytes);
    EXPECT_EQ(heap.name(), "symbols");
    EXPECT_EQ(heap.size(), kHeapBytes);
    EXPECT_FALSE(heap.read_only());
    EXPECT_FALSE(heap.deleted());
    const std::uint32_t v0 = heap.version();
    {
        auto h = heap.lock();
        ASSERT_TRUE(h.owns_lock());
        EXPECT_FALSE(h.previous_owner_died());
        auto* table = h->find_or_construct<HeapMap>("table")(h.allocator());
        table->emplace(mmm::heap::string("AAPL", h.allocator()), 42);
        auto* names =
            h->construct<mmm::heap::unordered_map<mmm::heap::string, int>>("names")(h.allocator());
        names->emplace(mmm::heap::string("x", h.allocator()), 1);
        h->construct<mmm::heap::deque<int>>("queue")(h.allocator())->push_back(5);
    }
    EXPECT_NE(heap.version(), v0);  // the release bumped it

    auto other_client = new_client();
    auto other = other_client.open_heap("symbols");
    auto h = other.lock();
    auto* table = h->find<HeapMap>("table").first;
    ASSERT_NE(table, nullptr);
    EXPECT_EQ(table->at(mmm::heap::string("AAPL", h.allocator())), 42u);
    EXPECT_EQ(h->find<mmm::heap::deque<int>>("queue").first->front(), 5);
    EXPECT_TRUE(h->check_sanity());
    h.unlock();

    const mmm::ChunkInfo info = heap.info();
    EXPECT_EQ(info.kind, mmm::ChunkKind::heap);
    EXPECT_EQ(info.bytes, kHeapBytes);
    heap.remove();
    EXPECT_TRUE(other.deleted());
}

TEST_F(HeapTest, TwoProcessesBuildOneMapAndVectorUnderTheLock) {
    constexpr std::uint64_t kEach = 400;
    auto heap = client().create_heap("shared", kHeapBytes);
    auto a = start_helper("heap_helper", {"insert", "shared", "A", std::to_string(kEach)});
    auto b = start_helper("heap_helper", {"insert", "shared", "B", std::to_string(kEach)});
    const auto sa = a.wait_for_exit(60s);
    const auto sb = b.wait_for_exit(60s);
    ASSERT_TRUE(sa.ok()) << sa.describe() << " " << a.out();
    ASSERT_TRUE(sb.ok()) << sb.describe() << " " << b.out();

    auto h = heap.lock();
    EXPECT_TRUE(h->check_sanity());
    auto* map = h->find<HeapMap>("map").first;
    auto* vec = h->find<HeapVector>("vec").first;
    ASSERT_NE(map, nullptr);
    ASSERT_NE(vec, nullptr);
    ASSERT_EQ(map->size(), 2 * kEach);
    ASSERT_EQ(vec->size(), 2 * kEach);
    for (const std::string tag : {"A", "B"}) {
        for (std::uint64_t i = 0; i < kEach; ++i) {
            auto it = map->find(
                mmm::heap::string((tag + "-" + std::to_string(i)).c_str(), h.allocator()));
            ASSERT_NE(it, map->end()) << tag << "-" << i;
            EXPECT_EQ(it->second, i);
        }
        // Each process's values appear in the order it pushed them.
        std::uint64_t next = 0;
        for (std::uint64_t v : *vec)
            if (v >> 32 == static_cast<std::uint64_t>(tag[0])) {
                EXPECT_EQ(v, tag_value(tag, next));
                ++next;
            }
        EXPECT_EQ(next, kEach);
    }
}

// The heap after a holder died: the allocator works (many allocations and
// frees), the named objects are there, the vector (reserved up front, so its
// push_back never reallocated) holds what was pushed. The map is walked only
// when nobody died holding the lock: a holder killed mid-insertion may leave
// it half-rebalanced (docs/CONCURRENCY.md, "Heap chunks").
void check_after_kill(mmm::HeapLock& h) {
    ASSERT_TRUE(h->check_sanity());
    auto* vec = h->find<HeapVector>("vec").first;
    auto* map = h->find<HeapMap>("map").first;
    ASSERT_NE(vec, nullptr);
    ASSERT_NE(map, nullptr);
    ASSERT_LE(vec->size(), mmm_test::kChurnMax);
    for (std::uint64_t i = 0; i < vec->size(); ++i) ASSERT_EQ((*vec)[i], i);
    if (!h.previous_owner_died()) {
        std::uint64_t seen = 0;
        for (auto it = map->begin(); it != map->end() && seen <= mmm_test::kChurnMax; ++it, ++seen)
            ASSERT_EQ(std::string(it->first.c_str()), key_of(it->second));
        EXPECT_EQ(seen, vec->size());
    }
    std::vector<void*> blocks;
    for (std::size_t i = 0; i < 200; ++i) blocks.push_back(h->allocate(16 + 64 * (i % 7)));
    for (std::size_t i = 0; i < blocks.size(); i += 2) h->deallocate(blocks[i]);
    for (std::size_t i = 1; i < blocks.size(); i += 2) h->deallocate(blocks[i]);
    auto* probe = h->construct<std::uint64_t>("probe")(7u);
    ASSERT_NE(probe, nullptr);
    EXPECT_TRUE(h->destroy<std::uint64_t>("probe"));
    EXPECT_TRUE(h->check_sanity());
}

// A holder SIGKILLed in the middle of many insertions, 20 times (a fresh heap
// each round): the next locker always gets the lock within the time limit;
// the heap is then consistent, or marked corrupt (open_heap refuses it, it can
// still be removed). Never a hang.
TEST_F(HeapTest, AHolderKilledMidInsertionIsRecoveredEveryTime) {
    // 100 rounds as the issue asks (about 8 s here); sanitizer builds, several
    // times slower, stop at the time limit with fewer.
    constexpr int kRounds = 100;
    const auto limit = std::chrono::steady_clock::now() + 60s;
    std::mt19937 random(20261202);
    int died = 0, corrupt = 0, rounds = 0;
    std::string first_cause;  // of the heaps marked corrupt
    for (int round = 0; round < kRounds && std::chrono::steady_clock::now() < limit;
         ++round, ++rounds) {
        SCOPED_TRACE("round " + std::to_string(round));
        const std::string name = "kill." + std::to_string(round);
        auto heap = client().create_heap(name, kHeapBytes);
        auto churn = start_helper("heap_helper", {"churn", name});
        ASSERT_EQ(churn.read_line(10s).value_or("(none)"), "ready") << churn.out();
        // Let it release the lock 1 to 8 times, then kill it (most likely holding it).
        const std::uint32_t from = heap.version();
        const std::uint32_t releases = 1 + random() % 8;
        for (int i = 0; i < 1000 && heap.version() - from < releases; ++i)
            ASSERT_TRUE(heap.wait_for_change(heap.version(), 10s).has_value());
        churn.kill(SIGKILL);
        ASSERT_TRUE(churn.wait_for_exit(10s).signaled(SIGKILL));

        std::optional<mmm::Error> error;
        try {
            auto h = heap.try_lock_for(30s);
            ASSERT_TRUE(h.owns_lock()) << "the next locker did not get the lock in 30 s";
            if (h.previous_owner_died()) ++died;
            check_after_kill(h);
        } catch (const mmm::Error& e) {
            error = e;
        }
        if (error) {
            ASSERT_EQ(error->code(), Errc::corrupt_header) << error->what();
            if (first_cause.empty()) first_cause = error->what();
            ++corrupt;
            EXPECT_EQ(error_of([&] { (void)client().open_heap(name); }), Errc::corrupt_header);
            EXPECT_EQ(error_of([&] { (void)heap.lock(); }), Errc::corrupt_header);
        }
        client().remove(name);
    }
    RecordProperty("rounds", rounds);
    RecordProperty("owner_died", died);
    RecordProperty("corrupt", corrupt);
    std::cout << "[   NOTE   ] " << rounds << " rounds: " << died << " recovered after a death, "
              << corrupt << " marked corrupt\n";
    if (!first_cause.empty()) std::cout << "[   NOTE   ] the first: " << first_cause << '\n';
    // The churn holds the lock nearly all the time: most kills land inside it.
    EXPECT_GT(died + corrupt, 0);
}

// A holder that damaged the allocator's header and died: the next lock() runs
// the check, marks the heap corrupt and throws; so does every later lock()
// and open_heap; the chunk can still be removed.
TEST_F(HeapTest, ADamagedHeapIsMarkedCorruptAndCanBeRemoved) {
    auto heap = client().create_heap("damaged", kHeapBytes);
    auto killer = start_helper("heap_helper", {"scribble-and-die", "damaged"});
    ASSERT_TRUE(killer.wait_for_exit(20s).signaled(SIGKILL)) << killer.out();
    const auto error = thrown([&] { (void)heap.try_lock_for(30s); });
    ASSERT_TRUE(error.has_value());
    EXPECT_EQ(error->code(), Errc::corrupt_header);
    EXPECT_NE(std::string(error->what()).find("consistency check"), std::string::npos)
        << error->what();
    EXPECT_EQ(error_of([&] { (void)heap.lock(); }), Errc::corrupt_header);
    EXPECT_EQ(error_of([&] { (void)new_client().open_heap("damaged"); }), Errc::corrupt_header);
    const auto info = run_mmmctl(runtime_dir(), {"info", "damaged"});
    EXPECT_NE(info.out.find("heap_state:       corrupt: "), std::string::npos) << info.out;
    client().remove("damaged");
    EXPECT_EQ(error_of([&] { (void)client().open_heap("damaged"); }), Errc::not_found);
}

TEST_F(HeapTest, AFullHeapThrowsBadAllocAndStaysUsable) {
    auto heap = client().create_heap("full", 64 * 1024);
    std::size_t pushed = 0;
    {
        auto h = heap.lock();
        auto* vec = h->construct<HeapVector>("vec")(h.allocator());
        bool full = false;
        for (int i = 0; i < 1'000'000 && !full; ++i) {
            try {
                vec->push_back(static_cast<std::uint64_t>(i));
            } catch (const boost::interprocess::bad_alloc&) {
                full = true;
            }
        }
        ASSERT_TRUE(full);
        pushed = vec->size();
        EXPECT_GT(pushed, 0u);
        EXPECT_TRUE(h->check_sanity());
    }
    // Thrown out of the lock's scope: the lock is released on the way.
    const std::uint32_t before = heap.version();
    EXPECT_THROW(
        {
            auto h = heap.lock();
            h->allocate(1 << 20);
        },
        boost::interprocess::bad_alloc);
    EXPECT_NE(heap.version(), before);
    auto h = heap.try_lock_for(5s);
    ASSERT_TRUE(h.owns_lock());
    EXPECT_TRUE(h->check_sanity());
    auto* vec = h->find<HeapVector>("vec").first;
    ASSERT_NE(vec, nullptr);
    ASSERT_EQ(vec->size(), pushed);
    for (std::size_t i = 0; i < pushed; ++i) ASSERT_EQ((*vec)[i], i);
    vec->clear();
    vec->shrink_to_fit();
    EXPECT_NE(h->construct<std::uint64_t>("after")(1u), nullptr);
}

TEST_F(HeapTest, WrongKindAtOpenIsATypeMismatchThatSaysWhichKind) {
    auto array = client().create<int>("array", 4);
    auto heap = client().create_heap("heap", 64 * 1024);
    const auto heap_as_array = thrown([&] { (void)client().open<int>("heap"); });
    ASSERT_TRUE(heap_as_array.has_value());
    EXPECT_EQ(heap_as_array->code(), Errc::type_mismatch);
    EXPECT_NE(std::string(heap_as_array->what()).find("heap"), std::string::npos);
    EXPECT_EQ(error_of([&] { (void)client().open_any("heap"); }), Errc::type_mismatch);
    const auto array_as_heap = thrown([&] { (void)client().open_heap("array"); });
    ASSERT_TRUE(array_as_heap.has_value());
    EXPECT_EQ(array_as_heap->code(), Errc::type_mismatch);
    EXPECT_NE(std::string(array_as_heap->what()).find("array"), std::string::npos);
    // A heap records the Boost layout it was built with.
    EXPECT_NE(heap.info().type_name.find("boost"), std::string::npos);
    EXPECT_EQ(heap.info().type_name, mmm::detail::heap_type_name());
}

TEST_F(HeapTest, BadSizesAreInvalidArguments) {
    const auto tiny = thrown([&] { (void)client().create_heap("tiny", 100); });
    ASSERT_TRUE(tiny.has_value());
    EXPECT_EQ(tiny->code(), Errc::invalid_argument);
    EXPECT_NE(std::string(tiny->what()).find("too small"), std::string::npos) << tiny->what();
    EXPECT_EQ(error_of([&] { (void)client().create_heap("grow", 8192, {.max_count = 16384}); }),
              Errc::invalid_argument);
    EXPECT_EQ(error_of([&] { (void)client().create_heap("minimal", mmm::heap::min_bytes); }),
              Errc::ok);
}

TEST_F(HeapTest, AReadOnlyHeapCannotLock) {
    auto heap = client().create_heap("ro", 64 * 1024);
    auto reader = new_client().open_heap("ro", mmm::Access::read_only);
    EXPECT_TRUE(reader.read_only());
    const auto error = thrown([&] { (void)reader.lock(); });
    ASSERT_TRUE(error.has_value());
    EXPECT_EQ(error->code(), Errc::permission_denied);
    EXPECT_NE(std::string(error->what()).find("read-only"), std::string::npos) << error->what();
    EXPECT_EQ(error_of([&] { (void)reader.try_lock_for(1ms); }), Errc::permission_denied);
    // What a reader can do: follow the version, learn that it changed.
    const std::uint32_t v = reader.version();
    heap.lock().unlock();
    EXPECT_TRUE(reader.wait_for_change(v, 10s).has_value());
}

TEST_F(HeapTest, AnEmptyHeapThrowsInvalidArgument) {
    mmm::Heap empty;
    EXPECT_FALSE(empty);
    EXPECT_EQ(empty.size(), 0u);
    EXPECT_EQ(empty.version(), 0u);
    EXPECT_EQ(error_of([&] { (void)empty.lock(); }), Errc::invalid_argument);
    mmm::HeapLock none;
    EXPECT_FALSE(none.owns_lock());
    EXPECT_EQ(error_of([&] { (void)none->get_size(); }), Errc::invalid_argument);
}

TEST_F(HeapTest, MmmctlShowsHeaps) {
    auto heap = client().create_heap("symbols", 64 * 1024);
    {
        auto h = heap.lock();
        h->construct<HeapMap>("table")(h.allocator());
        h->construct<std::uint64_t>("count")[3](7u);
    }
    const auto list = run_mmmctl(runtime_dir(), {"list"});
    ASSERT_TRUE(list.status.ok()) << list.err;
    EXPECT_NE(list.out.find("heap"), std::string::npos) << list.out;
    const auto info = run_mmmctl(runtime_dir(), {"info", "symbols"});
    ASSERT_TRUE(info.status.ok()) << info.err;
    EXPECT_NE(info.out.find("kind:             heap"), std::string::npos) << info.out;
    EXPECT_NE(info.out.find("heap_bytes:       65536 (64.0 KiB)"), std::string::npos) << info.out;
    EXPECT_NE(info.out.find("heap_state:       ok"), std::string::npos) << info.out;
    EXPECT_NE(info.out.find("heap_objects:     2\n"), std::string::npos) << info.out;
    EXPECT_NE(info.out.find("heap_object:      count: uint64 x 3, 24 B"), std::string::npos)
        << info.out;
    EXPECT_NE(
        info.out.find("heap_object:      table: boost::container::map<mmm::heap::string,uint64,"),
        std::string::npos)
        << info.out;
    EXPECT_EQ(info.out.find("mmm.type:"), std::string::npos) << info.out;
    EXPECT_NE(info.out.find("heap_free:        "), std::string::npos) << info.out;
    const auto json = run_mmmctl(runtime_dir(), {"info", "symbols", "--json"});
    ASSERT_TRUE(json.status.ok()) << json.err;
    const auto j = nlohmann::json::parse(json.out);
    EXPECT_EQ(j.at("kind"), "heap");
    EXPECT_EQ(j.at("heap_bytes"), 65536);
    EXPECT_EQ(j.at("heap_state"), "ok");
    const auto& objects = j.at("heap_objects");
    ASSERT_EQ(objects.size(), 2u) << objects;
    EXPECT_EQ(objects[0].at("name"), "count");
    EXPECT_EQ(objects[0].at("type"), "uint64");
    EXPECT_EQ(objects[0].at("count"), 3);
    EXPECT_EQ(objects[0].at("bytes"), 24);
    EXPECT_EQ(objects[1].at("name"), "table");
    EXPECT_EQ(objects[1].at("type"),
              "boost::container::map<mmm::heap::string,uint64,std::less<mmm::heap::string>,"
              "mmm::heap::allocator<std::pair<const mmm::heap::string,uint64>>,void>");
    EXPECT_EQ(objects[1].at("count"), 1);
    EXPECT_EQ(objects[1].at("bytes"), sizeof(HeapMap));
    ASSERT_TRUE(j.at("heap_free_bytes").is_number());
    EXPECT_GT(j.at("heap_free_bytes").get<std::uint64_t>(), 0u);
    EXPECT_LT(j.at("heap_free_bytes").get<std::uint64_t>(), 65536u);
}

TEST_F(HeapTest, ObjectsSayWhatWasConstructedUnderEachName) {
    auto heap = client().create_heap("typed", 64 * 1024);
    auto h = heap.lock();
    h->find_or_construct<HeapVector>("vec")(h.allocator());
    h->find_or_construct<HeapVector>("vec")(h.allocator());  // found: one record still
    h->construct<double>("samples")[5](1.5);
    const int values[3] = {1, 2, 3};
    const int* first = values;
    h->construct_it<int>("ints")[3](first);
    h->construct<std::uint32_t>(boost::interprocess::unique_instance)(1u);  // not named
    // Made through the segment manager directly: listed, type not recorded.
    h.segment_manager()->construct<std::uint16_t>("raw")[2](0);
    auto objects = h.objects();
    ASSERT_EQ(objects.size(), 4u);
    EXPECT_EQ(objects[0].name, "ints");
    EXPECT_EQ(objects[0].type_name, "int32");
    EXPECT_EQ(objects[0].count, 3u);
    EXPECT_EQ(objects[1].name, "raw");
    EXPECT_EQ(objects[1].type_name, "");
    EXPECT_FALSE(objects[1].count.has_value());
    EXPECT_EQ(objects[1].bytes, 4u);
    EXPECT_EQ(objects[2].name, "samples");
    EXPECT_EQ(objects[2].type_name, "double");
    EXPECT_EQ(objects[2].count, 5u);
    EXPECT_EQ(objects[2].bytes, 5 * sizeof(double));
    EXPECT_EQ(objects[3].name, "vec");
    EXPECT_EQ(objects[3].type_name,
              "boost::container::vector<uint64,mmm::heap::allocator<uint64>,void>");
    EXPECT_EQ(objects[3].count, 1u);
    EXPECT_EQ(h.objects(2).size(), 2u);
    // One record per typed name, and destroy drops it with the object.
    EXPECT_EQ(h->get_num_named_objects(), 4u + 3u);
    EXPECT_TRUE(h->destroy<double>("samples"));
    h->destroy_ptr(h->find<int>("ints").first);
    EXPECT_EQ(h->get_num_named_objects(), 2u + 1u);
    // A name made again with another type is listed with the new type.
    h->construct<double>("ints")(2.0);
    objects = h.objects();
    ASSERT_EQ(objects.size(), 3u);
    EXPECT_EQ(objects[0].name, "ints");
    EXPECT_EQ(objects[0].type_name, "double");
    EXPECT_EQ(objects[0].count, 1u);
}

}  // namespace
