// heap_helper: the "other process" of the heap tests (tests/test_heap.cpp).
// MMM_RUNTIME_DIR selects the daemon.
//
//   insert NAME TAG N      open_heap NAME; N times, each under its own lock:
//                          find_or_construct the map "map" (string -> u64) and
//                          the vector "vec" (u64), emplace "TAG-i" -> i and
//                          push_back tag_value(TAG, i); prints "done N"
//   churn NAME             open_heap NAME; builds "vec" (capacity reserved
//                          up front, so it never reallocates) and "map" and
//                          prints "ready"; then, until killed or 60 s, holds
//                          the lock for 20 insertions at a time: vec gets
//                          i = vec.size(), map gets key_of(i) -> i (stops
//                          growing at kChurnMax entries, then only reads)
//   scribble-and-die NAME  open_heap NAME, locks, overwrites the managed
//                          segment's header with garbage and SIGKILLs itself
//                          holding the lock
//
// Exit codes: 0 ok, 1 a check failed, 2 usage, 64 + Errc on an mmm::Error
// (printed as "error <code>: <what>").
#include "heap_types.hpp"

#include <mmm/mmm.hpp>

#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <iostream>
#include <string>

namespace {

using namespace mmm_test;

void say(const std::string& line) {
    std::cout << line << '\n' << std::flush;
}

int insert(const std::string& name, const std::string& tag, std::uint64_t n) {
    mmm::Client client;
    auto heap = client.open_heap(name);
    for (std::uint64_t i = 0; i < n; ++i) {
        auto h = heap.lock();
        auto* map = h->find_or_construct<HeapMap>("map")(h.allocator());
        auto* vec = h->find_or_construct<HeapVector>("vec")(h.allocator());
        map->emplace(mmm::heap::string((tag + "-" + std::to_string(i)).c_str(), h.allocator()), i);
        vec->push_back(tag_value(tag, i));
    }
    say("done " + std::to_string(n));
    return 0;
}

int churn(const std::string& name) {
    mmm::Client client;
    auto heap = client.open_heap(name);
    {
        auto h = heap.lock();
        auto* vec = h->find_or_construct<HeapVector>("vec")(h.allocator());
        vec->reserve(kChurnMax);
        h->find_or_construct<HeapMap>("map")(h.allocator());
    }
    say("ready");
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (std::chrono::steady_clock::now() < deadline) {
        auto h = heap.lock();
        auto* vec = h->find<HeapVector>("vec").first;
        auto* map = h->find<HeapMap>("map").first;
        if (!vec || !map) return 1;
        for (int k = 0; k < 20; ++k) {
            const std::uint64_t i = vec->size();
            if (i >= kChurnMax) {
                if (map->find(mmm::heap::string(key_of(i / 2).c_str(), h.allocator())) ==
                    map->end())
                    return 1;
                continue;
            }
            vec->push_back(i);
            map->emplace(mmm::heap::string(key_of(i).c_str(), h.allocator()), i);
        }
    }
    return 0;
}

int scribble_and_die(const std::string& name) {
    mmm::Client client;
    auto heap = client.open_heap(name);
    auto h = heap.lock();
    std::memset(h->get_address(), 0xA5, 256);
    ::kill(::getpid(), SIGKILL);
    return 1;
}

int run(int argc, char** argv) {
    const std::string cmd = argc > 1 ? argv[1] : "";
    if (cmd == "insert" && argc == 5)
        return insert(argv[2], argv[3], std::strtoull(argv[4], nullptr, 10));
    if (cmd == "churn" && argc == 3) return churn(argv[2]);
    if (cmd == "scribble-and-die" && argc == 3) return scribble_and_die(argv[2]);
    std::cerr << "usage: heap_helper insert NAME TAG N | churn NAME | scribble-and-die NAME\n";
    return 2;
}

}  // namespace

int main(int argc, char** argv) {
    try {
        return run(argc, argv);
    } catch (const mmm::Error& e) {
        say("error " + std::string(mmm::to_string(e.code())) + ": " + e.what());
        return 64 + static_cast<int>(e.code());
    } catch (const std::exception& e) {
        say(std::string("exception: ") + e.what());
        return 1;
    }
}
