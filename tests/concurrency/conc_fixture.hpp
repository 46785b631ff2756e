// The fixture of the concurrency tests: tests/support's DaemonTest (a real
// mmmd on its own runtime directory, a connected client) plus what these tests
// do over and over: start the helper process, wait for a condition with a
// deadline, collect a helper's "key value" result lines, and remove every
// chunk at the end so that no segment is left in /dev/shm.
#pragma once

#include "daemon_test.hpp"

#include <mmm/mmm.hpp>

#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#ifndef MMM_CONC_HELPER
#error "MMM_CONC_HELPER (path of the conc_helper binary) must be defined by CMake"
#endif

#if defined(__SANITIZE_THREAD__)
#define MMM_CONC_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define MMM_CONC_TSAN 1
#endif
#endif

namespace mmm::conctest {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// Polls `condition` (yielding between polls) until it holds or `timeout`
// passes; bounded in polls as well as in time. Returns the last result.
template <class F>
bool wait_until(F&& condition, std::chrono::milliseconds timeout) {
    const auto deadline = Clock::now() + timeout;
    for (long polls = 0; polls < 50'000'000; ++polls) {
        if (condition()) return true;
        if (Clock::now() >= deadline) break;
        std::this_thread::yield();
    }
    return condition();
}

// Joins a thread when the scope ends, also when an ASSERT returns early. Only
// for threads whose work is bounded in time (every wait they do has a timeout).
class JoinOnExit {
  public:
    explicit JoinOnExit(std::thread& t) : t_(t) {}
    ~JoinOnExit() {
        if (t_.joinable()) t_.join();
    }
    JoinOnExit(const JoinOnExit&) = delete;
    JoinOnExit& operator=(const JoinOnExit&) = delete;

  private:
    std::thread& t_;
};

// Ends the test binary (abort, with a message) if it is still armed after
// `limit`: for the few waits that have no timeout of their own, so that a
// deadlock fails the test instead of hanging it. Disarmed by its destructor.
class Watchdog {
  public:
    Watchdog(std::chrono::milliseconds limit, std::string what)
        : what_(std::move(what)), thread_([this, limit] {
              std::unique_lock lock(mutex_);
              if (!cv_.wait_for(lock, limit, [this] { return disarmed_; })) {
                  std::fprintf(stderr, "watchdog: %s did not finish within %lld ms\n",
                               what_.c_str(), static_cast<long long>(limit.count()));
                  std::abort();
              }
          }) {}
    ~Watchdog() {
        {
            std::lock_guard lock(mutex_);
            disarmed_ = true;
        }
        cv_.notify_all();
        thread_.join();
    }
    Watchdog(const Watchdog&) = delete;
    Watchdog& operator=(const Watchdog&) = delete;

  private:
    std::string what_;
    std::mutex mutex_;
    std::condition_variable cv_;
    bool disarmed_ = false;
    std::thread thread_;  // last: starts once the members above exist
};

// The chunk lock with a deadline, as the tests need it. Normally that is
// try_lock_for. Under ThreadSanitizer it is lock() under a Watchdog instead:
// try_lock_for is pthread_mutex_clocklock, which GCC 12's TSan runtime does not
// intercept, so TSan would miss the acquisition, report the release as "unlock
// of an unlocked mutex" and the data the lock protects as racy.
template <class T>
ChunkLock lock_with_deadline(MemChunk<T>& chunk, std::chrono::milliseconds timeout) {
#if defined(MMM_CONC_TSAN)
    Watchdog watchdog(timeout + std::chrono::seconds(10), "lock() of " + chunk.name());
    return chunk.lock();
#else
    return chunk.try_lock_for(timeout);
#endif
}

// How many reads a torn-read run must reach to mean anything. Under TSan a
// checked read copies byte by byte with instrumented atomics (seqlock.hpp
// racy_copy), so a 4 KiB element takes milliseconds while writers keep it busy.
#if defined(MMM_CONC_TSAN)
inline constexpr std::uint64_t kMinReads = 100;
#else
inline constexpr std::uint64_t kMinReads = 1000;
#endif

inline std::chrono::milliseconds elapsed_since(Clock::time_point start) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start);
}

// The "key value" lines of a helper's output; "last INDEX SEED" lines go to `last`.
struct HelperReport {
    std::map<std::string, std::uint64_t> values;
    std::map<std::size_t, std::uint64_t> last;
    bool complete = false;  // saw "end"

    std::uint64_t at(const std::string& key) const {
        auto it = values.find(key);
        return it == values.end() ? ~std::uint64_t{0} : it->second;
    }
};

inline HelperReport parse_report(const std::string& out) {
    HelperReport r;
    std::istringstream in(out);
    std::string line;
    while (std::getline(in, line)) {
        std::istringstream words(line);
        std::string key;
        words >> key;
        if (key == "end") r.complete = true;
        if (key == "last") {
            std::size_t index;
            std::uint64_t seed;
            if (words >> index >> seed) r.last[index] = seed;
            continue;
        }
        std::uint64_t value;
        if (words >> value) r.values[key] = value;
    }
    return r;
}

class ConcTest : public mmm::test::DaemonTest {
  protected:
    // Starts conc_helper COMMAND ARGS... with a stdin pipe for "go".
    mmm::test::ChildProcess helper(const std::vector<std::string>& args) const {
        mmm::test::ChildOptions options;
        options.stdin_pipe = true;
        options.capture_stderr = true;
        return start_program(MMM_CONC_HELPER, args, std::move(options));
    }

    // Reads the helper's first line; it must be `expected`.
    static void expect_line(mmm::test::ChildProcess& child, const std::string& expected) {
        auto line = child.read_line(20s);
        ASSERT_TRUE(line.has_value())
            << "helper " << child.pid() << " said nothing; stderr: " << child.err();
        ASSERT_EQ(*line, expected) << "stderr: " << child.err();
    }

    static void expect_clean_exit(mmm::test::ChildProcess& child) {
        auto status = child.wait_for_exit(20s);
        EXPECT_TRUE(status.ok()) << "helper " << child.pid() << ": " << status.describe()
                                 << "\nstdout: " << child.out() << "\nstderr: " << child.err();
    }

    // Removes every chunk of this daemon and checks that no segment is left.
    void remove_all_chunks() {
        for (const auto& info : client().list()) client().remove(info.name);
        EXPECT_TRUE(client().list().empty());
        expect_no_segments();
    }
};

}  // namespace mmm::conctest
