// Element types and workloads shared by the concurrency tests and their helper
// process (tests/concurrency/helpers/conc_helper.cpp), so that a torn-read
// check run in threads (TSan) and one run in processes are the same code.
//
// A checked element carries a seed, a payload derived from the seed and a
// checksum of both: a copy mixing two writes fails the check. Each writer owns
// the indices i with i % writers == writer_id and writes seeds that grow, so a
// reader can also tell when a read goes back in time.
//
// Thread-safety: the workload functions share nothing but the chunk.
#pragma once

#include <mmm/mmm.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <random>
#include <vector>

namespace mmm::conctest {

inline std::uint64_t mix64(std::uint64_t x) {  // splitmix64 finaliser
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

// 64 bytes: seed, 6 payload words, checksum.
struct Elem64 {
    std::uint64_t seed;
    std::uint64_t payload[6];
    std::uint64_t checksum;
};
static_assert(sizeof(Elem64) == 64);

// 4 KiB: seed, 510 payload words, checksum.
struct Elem4K {
    std::uint64_t seed;
    std::uint64_t payload[510];
    std::uint64_t checksum;
};
static_assert(sizeof(Elem4K) == 4096);

template <class E>
std::uint64_t checksum_of(const E& e) {
    std::uint64_t h = 0xcbf29ce484222325ull ^ e.seed;
    for (std::uint64_t w : e.payload) h = (h ^ w) * 0x100000001b3ull;
    return mix64(h);
}

template <class E>
E make_element(std::uint64_t seed) {
    E e{};
    e.seed = seed;
    std::uint64_t x = mix64(seed);
    for (auto& w : e.payload) w = x = mix64(x);
    e.checksum = checksum_of(e);
    return e;
}

// Intact: the checksum matches and the payload is the one its seed gives.
template <class E>
bool intact(const E& e) {
    if (checksum_of(e) != e.checksum) return false;
    std::uint64_t x = mix64(e.seed);
    for (std::uint64_t w : e.payload)
        if (w != (x = mix64(x))) return false;
    return true;
}

// Seeds: the owner in the top bits, then a counter that only grows (0 = the
// initial value the test writes before the run).
inline std::uint64_t seed_for(std::size_t writer_id, std::uint64_t counter) {
    return (std::uint64_t{writer_id} + 1) << 40 | counter;
}
inline std::size_t owner_of(std::size_t index, std::size_t writers) {
    return index % writers;
}

struct RunLimits {
    std::chrono::milliseconds duration{1500};
    std::uint64_t max_iterations = 1'000'000;
    std::uint64_t rng_seed = 1;
};

struct WriterResult {
    std::uint64_t writes = 0;
    std::uint64_t read_back_mismatches = 0;  // own element read back != last written
    std::vector<std::uint64_t> last_seed;    // per index; 0 for indices it does not own
};

struct ReaderResult {
    std::uint64_t reads = 0;
    std::uint64_t torn = 0;         // checksum or payload mismatch
    std::uint64_t regressions = 0;  // a seed older than one this reader already saw
    std::uint64_t changes = 0;      // reads that saw a newer seed than the last one
};

// The value every element starts from, before writers run.
template <class E>
void write_initial(MemChunk<E>& chunk, std::size_t writers) {
    for (std::size_t i = 0; i < chunk.size(); ++i)
        chunk.write(i, make_element<E>(seed_for(owner_of(i, writers), 0)));
}

template <class E>
WriterResult run_writer(MemChunk<E>& chunk, std::size_t writer_id, std::size_t writers,
                        const RunLimits& limits) {
    WriterResult r;
    r.last_seed.assign(chunk.size(), 0);
    std::vector<std::size_t> mine;
    for (std::size_t i = writer_id; i < chunk.size(); i += writers) {
        mine.push_back(i);
        r.last_seed[i] = seed_for(writer_id, 0);
    }
    if (mine.empty()) return r;
    std::mt19937_64 rng(limits.rng_seed);
    std::uniform_int_distribution<std::size_t> pick(0, mine.size() - 1);
    const auto deadline = std::chrono::steady_clock::now() + limits.duration;
    std::uint64_t counter = 0;
    for (std::uint64_t n = 0; n < limits.max_iterations; ++n) {
        if ((n & 7) == 0 && std::chrono::steady_clock::now() >= deadline) break;
        std::size_t i = mine[pick(rng)];
        std::uint64_t seed = seed_for(writer_id, ++counter);
        chunk.write(i, make_element<E>(seed));
        r.last_seed[i] = seed;
        ++r.writes;
        if ((n & 15) == 0) {  // nobody else writes i: a read must give back our last value
            std::size_t j = mine[pick(rng)];
            if (chunk.read(j).seed != r.last_seed[j]) ++r.read_back_mismatches;
        }
    }
    return r;
}

template <class T>
ReaderResult run_reader(const MemChunk<T>& chunk, const RunLimits& limits) {
    using E = std::remove_const_t<T>;
    ReaderResult r;
    std::vector<std::uint64_t> seen(chunk.size(), 0);
    std::mt19937_64 rng(limits.rng_seed);
    std::uniform_int_distribution<std::size_t> pick(0, chunk.size() - 1);
    const auto deadline = std::chrono::steady_clock::now() + limits.duration;
    for (std::uint64_t n = 0; n < limits.max_iterations; ++n) {
        if ((n & 7) == 0 && std::chrono::steady_clock::now() >= deadline) break;
        std::size_t i = pick(rng);
        E e = chunk.read(i);
        ++r.reads;
        if (!intact(e)) {
            ++r.torn;
            continue;
        }
        if (e.seed < seen[i]) ++r.regressions;
        if (e.seed > seen[i]) {
            if (seen[i] != 0) ++r.changes;
            seen[i] = e.seed;
        }
    }
    return r;
}

}  // namespace mmm::conctest
