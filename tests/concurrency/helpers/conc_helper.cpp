// The other processes of the concurrency tests. One binary, one command per
// role; the test starts it with fork + exec (tests/support ChildProcess) and
// MMM_RUNTIME_DIR set to its fixture's daemon, and talks to it by lines:
//
//   stdout: "ready" once set up, then results ("key value" lines)
//   stdin:  "go" to start (so that every process of a run starts together)
//
// Every wait has a deadline; on any error the helper prints it to stderr and
// exits with 1.
//
//   noop                                    exit at once (a pid that is then dead)
//   block                                   "ready", then wait for stdin to close (≤ 30 s)
//   torn-writer NAME 64|4k ID WRITERS MS MAX SEED
//   torn-reader NAME 64|4k RO MS MAX SEED   RO=1: a read-only mapping
//   lock-hold NAME                          lock(), "locked", then block (≤ 30 s)
//   lock-add NAME INDEX N                   N times: lock, non-atomic ++element
//   atomic-add NAME INDEX N                 N times: atomic_ref fetch_add(1)
//   write-on-go NAME INDEX VALUE            "ready", "go", write(INDEX, VALUE), "written"
//   create-on-go NAME COUNT VALUE           "ready", "go", create, write(0, VALUE), "created"
//   wait-ro NAME                            read-only wait_for_change (spin 0, ≤ 30 s):
//                                           "ready", then "changed" or "timeout"
#include "../conc_workloads.hpp"

#include <mmm/mmm.hpp>

#include <poll.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>
#include <vector>

namespace {

using namespace std::chrono_literals;
using mmm::conctest::Elem4K;
using mmm::conctest::Elem64;

void say(const std::string& line) {
    std::fputs((line + "\n").c_str(), stdout);
    std::fflush(stdout);
}

// The next line on stdin, or "" at end of file or when the deadline passes.
std::string read_stdin_line(std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    std::string line;
    for (int rounds = 0; rounds < 10'000; ++rounds) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) break;
        pollfd p{0, POLLIN, 0};
        if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
        char c;
        ssize_t n = ::read(0, &c, 1);
        if (n == 0) break;
        if (n < 0) continue;
        if (c == '\n') return line;
        line += c;
    }
    return line;
}

void wait_for_go() {
    std::string line = read_stdin_line(20s);
    if (line != "go") throw std::runtime_error("expected 'go' on stdin, got '" + line + "'");
}

std::uint64_t num(const std::string& s) {
    return std::stoull(s);
}

mmm::conctest::RunLimits limits_from(const std::vector<std::string>& a, std::size_t at) {
    mmm::conctest::RunLimits l;
    l.duration = std::chrono::milliseconds(num(a.at(at)));
    l.max_iterations = num(a.at(at + 1));
    l.rng_seed = num(a.at(at + 2));
    return l;
}

template <class E>
int torn_writer(mmm::Client& client, const std::vector<std::string>& a) {
    auto chunk = client.open<E>(a.at(0));
    std::size_t id = num(a.at(2)), writers = num(a.at(3));
    auto limits = limits_from(a, 4);
    say("ready");
    wait_for_go();
    auto r = mmm::conctest::run_writer(chunk, id, writers, limits);
    say("writes " + std::to_string(r.writes));
    say("mismatches " + std::to_string(r.read_back_mismatches));
    for (std::size_t i = id; i < chunk.size(); i += writers)
        say("last " + std::to_string(i) + " " + std::to_string(r.last_seed[i]));
    say("end");
    return 0;
}

template <class T>
int torn_reader(mmm::Client& client, const std::vector<std::string>& a) {
    auto chunk = client.open<T>(a.at(0));
    auto limits = limits_from(a, 3);
    say("ready");
    wait_for_go();
    auto r = mmm::conctest::run_reader(chunk, limits);
    say("reads " + std::to_string(r.reads));
    say("torn " + std::to_string(r.torn));
    say("regressions " + std::to_string(r.regressions));
    say("changes " + std::to_string(r.changes));
    say("end");
    return 0;
}

int torn(mmm::Client& client, bool writer, const std::vector<std::string>& a) {
    const std::string& kind = a.at(1);
    bool ro = !writer && num(a.at(2)) != 0;
    if (kind == "64") {
        if (writer) return torn_writer<Elem64>(client, a);
        return ro ? torn_reader<const Elem64>(client, a) : torn_reader<Elem64>(client, a);
    }
    if (kind == "4k") {
        if (writer) return torn_writer<Elem4K>(client, a);
        return ro ? torn_reader<const Elem4K>(client, a) : torn_reader<Elem4K>(client, a);
    }
    throw std::runtime_error("element kind must be 64 or 4k, not " + kind);
}

int run(const std::string& cmd, const std::vector<std::string>& a) {
    if (cmd == "noop") return 0;
    if (cmd == "block") {
        say("ready");
        read_stdin_line(30s);
        return 0;
    }
    mmm::Client client;
    if (cmd == "torn-writer") return torn(client, true, a);
    if (cmd == "torn-reader") return torn(client, false, a);
    if (cmd == "lock-hold") {
        auto chunk = client.open<std::uint64_t>(a.at(0));
        auto guard = chunk.lock();
        chunk[0] = static_cast<std::uint64_t>(::getpid());  // raw write under the lock
        say("locked");
        read_stdin_line(30s);  // the test SIGKILLs us here
        return 3;
    }
    if (cmd == "lock-add") {
        auto chunk = client.open<std::uint64_t>(a.at(0));
        std::size_t index = num(a.at(1));
        std::uint64_t n = num(a.at(2));
        say("ready");
        wait_for_go();
        for (std::uint64_t k = 0; k < n; ++k) {
            auto guard = chunk.lock();
            // A deliberately non-atomic read-modify-write: only the lock keeps it exact.
            std::uint64_t v = chunk[index];
            std::atomic_signal_fence(std::memory_order_seq_cst);
            chunk[index] = v + 1;
        }
        say("done");
        return 0;
    }
    if (cmd == "atomic-add") {
        auto chunk = client.open<std::uint64_t>(a.at(0));
        std::size_t index = num(a.at(1));
        std::uint64_t n = num(a.at(2));
        say("ready");
        wait_for_go();
        std::atomic_ref<std::uint64_t> counter(*chunk.pointer(index));
        for (std::uint64_t k = 0; k < n; ++k) counter.fetch_add(1, std::memory_order_relaxed);
        say("done");
        return 0;
    }
    if (cmd == "wait-ro") {
        auto chunk = client.open<const std::uint64_t>(a.at(0));
        const std::uint32_t since = chunk.version();
        say("ready");
        auto r = chunk.wait_for_change(since, 30s, std::chrono::nanoseconds(0));
        say(r ? "changed" : "timeout");
        return 0;
    }
    if (cmd == "write-on-go") {
        auto chunk = client.open<std::uint64_t>(a.at(0));
        say("ready");
        wait_for_go();
        chunk.write(num(a.at(1)), num(a.at(2)));
        say("written");
        return 0;
    }
    if (cmd == "create-on-go") {
        say("ready");
        wait_for_go();
        auto chunk = client.create<std::uint64_t>(a.at(0), num(a.at(1)));
        chunk.write(0, num(a.at(2)));
        say("created");
        return 0;
    }
    throw std::runtime_error("unknown command " + cmd);
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2) {
        std::fprintf(stderr, "usage: %s COMMAND [ARGS...]\n", argv[0]);
        return 2;
    }
    std::vector<std::string> args(argv + 2, argv + argc);
    try {
        return run(argv[1], args);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "conc_helper %s: %s\n", argv[1], e.what());
        return 1;
    }
}
