// Shared helpers of the mmm benchmarks: a private mmmd per benchmark process,
// forked peer processes, percentile counters and the quick (ctest) mode.
//
// Every benchmark binary uses MMM_BENCH_MAIN(), which runs the registered
// benchmarks, then stops the daemon it started and unlinks every segment the
// run created (mmm.<namespace>.* and the raw baselines' mmmbench-* names).
#pragma once

#include "cpu_relax.hpp"
#include "daemon_process.hpp"
#include "futex.hpp"

#include <benchmark/benchmark.h>
#include <mmm/mmm.hpp>

#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace mmm_bench {

using Clock = std::chrono::steady_clock;

// MMM_BENCH_QUICK=1 (set by the ctests): tiny sizes, so a run takes seconds.
bool quick();
// MMM_BENCH_NO_POLL=1: mmmd --busy-poll-us 0 and ClientOptions::reply_spin 0,
// so that the control-plane costs can be shown without polling too.
bool no_poll();
// `full` normally, `small` in quick mode.
std::size_t pick(std::size_t full, std::size_t small);

inline double ns_between(Clock::time_point a, Clock::time_point b) {
    return std::chrono::duration<double, std::nano>(b - a).count();
}
inline double seconds_between(Clock::time_point a, Clock::time_point b) {
    return std::chrono::duration<double>(b - a).count();
}

// A private mmmd (tests/support's DaemonProcess, the tests' launcher) on a
// runtime directory of its own (mkdtemp).
class Daemon {
  public:
    // Starts it if not running; throws std::runtime_error when it does not come up.
    void start();
    // SIGTERM by pid, waits for the exit (SIGKILL after a deadline). Keeps the
    // runtime directory and the segments, so start() again re-adopts them.
    void stop();
    // stop(), then unlink leftover segments of its namespace and the directory.
    void shutdown();
    bool running() const;
    pid_t pid() const;
    const std::string& runtime_dir() const { return dir_; }
    const std::string& name_space() const { return name_space_; }
    mmm::ClientOptions client_options() const;
    // VmRSS / VmHWM of the daemon in bytes (0 when unreadable).
    std::uint64_t rss_bytes() const;
    std::uint64_t hwm_bytes() const;

  private:
    std::string dir_;
    std::string name_space_;
    std::optional<mmm::test::DaemonProcess> process_;
};

// A tmpfs mounted with huge=within_size (at most `bytes`) on a temporary
// directory, in a mount namespace of this process (needs root; nothing of it
// is visible outside), given to mmmd as --huge-dir. Call it before the daemon
// starts (from a static initializer of the benchmark binary). Returns "" when
// the directory is ready, otherwise why there is none. run_main unmounts it.
std::string enable_huge_dir(std::size_t bytes);
// The directory, or "" when enable_huge_dir did not make one.
const std::string& huge_dir();

// The process-wide daemon, started on first use.
Daemon& daemon();
// A Client of daemon(), connected once per process (the benchmarks' own client).
mmm::Client& client();

// Runs `body` in a forked child that exits with its return value (1 on an
// exception) without running the parent's destructors. The child dies with
// the parent (PR_SET_PDEATHSIG).
pid_t fork_child(const std::function<int()>& body);
// Waits for the child; kills it after `deadline_s` seconds. Returns its exit
// status (0 ok), or -1 when it was killed or died of a signal.
int reap(pid_t pid, double deadline_s = 30.0);

// Blocking stream-socket I/O of exactly n bytes, retried on EINTR; false when
// the peer went away. The baselines that echo frames over Unix sockets use them.
bool recv_exact(int fd, char* p, std::size_t n);
bool send_exact(int fd, const char* p, std::size_t n);
// Bytes of mmmd's reply frame carrying `info` (an info or open reply).
std::size_t info_reply_bytes(const mmm::ChunkInfo& info);

// Zero-filled MAP_SHARED|MAP_ANONYMOUS memory: shared with forked children.
class SharedPage {
  public:
    explicit SharedPage(std::size_t bytes = 4096);
    ~SharedPage();
    SharedPage(const SharedPage&) = delete;
    SharedPage& operator=(const SharedPage&) = delete;
    template <class T>
    T* as(std::size_t offset = 0) const {
        return reinterpret_cast<T*>(static_cast<char*>(base_) + offset);
    }

  private:
    void* base_;
    std::size_t bytes_;
};

// The library's own futex calls and spin pause, so the baselines pay exactly
// what libmmm pays.
using mmm::detail::cpu_relax;
using mmm::detail::futex_wait;
using mmm::detail::futex_wake_all;

// A raw baseline segment name ("/mmmbench-<pid>-<tag>"), unlinked at exit
// if still present.
std::string raw_segment_name(const std::string& tag);

// Per-operation samples (nanoseconds), reported as p50/p99/mean counters.
class Samples {
  public:
    void reserve(std::size_t n) { ns_.reserve(n); }
    void add(double ns) { ns_.push_back(ns); }
    std::size_t size() const { return ns_.size(); }
    // q in [0, 1]; 0 when empty.
    double quantile(double q);
    double mean() const;
    // Sets <prefix>p50_ns, <prefix>p99_ns, <prefix>mean_ns.
    void report(benchmark::State& state, const std::string& prefix = "");

  private:
    std::vector<double> ns_;
    bool sorted_ = false;
};

// Unique chunk names within this process run.
std::string unique_name(const std::string& stem);

// A start barrier for forked workers: each child calls arrive_and_wait() when
// set up; the parent calls wait_ready(n) then release(n).
class StartGate {
  public:
    StartGate();
    ~StartGate();
    StartGate(const StartGate&) = delete;
    StartGate& operator=(const StartGate&) = delete;
    void arrive_and_wait();  // in a child
    void wait_ready(int n);  // in the parent: n children have arrived
    void release(int n);     // in the parent: lets n children go

  private:
    int ready_[2];
    int go_[2];
};

// Runs `body`; an exception becomes SkipWithError and a non-zero exit status
// of the binary (so the ctests catch a benchmark that stopped working).
void guarded(benchmark::State& state, const std::function<void()>& body);
// Marks the run failed (exit status 1) with a message on stderr.
void fail(benchmark::State& state, const std::string& message);
// Runs at exit, before the daemon is stopped (for example: remove chunks).
void at_teardown(std::function<void()> hook);

int run_main(int argc, char** argv);

}  // namespace mmm_bench

#define MMM_BENCH_MAIN()                        \
    int main(int argc, char** argv) {           \
        return mmm_bench::run_main(argc, argv); \
    }
