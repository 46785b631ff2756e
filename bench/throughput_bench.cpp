// Many client processes at once (issue #20): request throughput and open+close
// throughput, ops/s over all processes in a fixed window, with p50/p99 of one
// operation (ns) from a sample of every process's operations.
//   BM_Throughput/info/procs:N        Client::info(name) of one chunk, N processes
//   BM_Throughput/redis_get/clients:N redis-benchmark -t set,get -d 16 -c N against
//                                     a redis-server started here on a Unix socket
//                                     (the GET row); skipped, saying why, when
//                                     redis-server or redis-benchmark is missing
//   BM_Throughput/open_close/procs:N  open<uint64_t>(name) + destroy of one chunk
//   BM_Throughput/raw_open_close/procs:N  shm_open + fstat + mmap + munmap + close
//                                     of one raw segment of the same size
//   BM_Throughput/ping/procs:N        a ping to the same mmmd (its loop, no work)
//   BM_Throughput/echo/procs:N        the floor of any one-thread server: a forked
//                                     epoll echo process answering N processes
//                                     with frames of an info request's and
//                                     reply's sizes over Unix stream sockets
// Every process is forked, waits at a start gate, runs until the window's
// common end and writes its count and samples to shared memory; the parent
// reaps each by pid.
#include "support/bench_support.hpp"

#include "client_core.hpp"
#include "protocol.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <functional>
#include <initializer_list>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace {

using mmm_bench::Clock;

constexpr std::size_t kSamplesPerProcess = 2048;
constexpr std::size_t kChunkElements = 512;  // uint64_t: 4 KiB, as BM_Open
constexpr std::size_t kMaxOpsPerProcess = 50'000'000;

double window_s() {
    return mmm_bench::quick() ? 0.05 : 1.0;
}

// What one process reports: its operation count and a reservoir sample of
// its operations' durations.
struct WorkerReport {
    std::uint64_t ops;
    std::uint64_t sampled;
    double ns[kSamplesPerProcess];
};

// One operation of a worker, made in the worker (after the fork).
using Operation = std::function<void()>;
using MakeOperation = std::function<Operation()>;

// One window for all: the parent writes its end before it opens the gate, so
// that a process the scheduler starts late counts only what it did inside it.
struct Window {
    alignas(64) Clock::rep end;
};

void run_worker(WorkerReport& report, const Window& window, mmm_bench::StartGate& gate,
                const MakeOperation& make) {
    const Operation op = make();
    op();  // once before the gate: connections made, pages mapped
    gate.arrive_and_wait();
    const Clock::time_point end{Clock::duration(window.end)};
    std::uint64_t ops = 0;
    std::uint64_t rng = 0x9e3779b97f4a7c15ull ^ static_cast<std::uint64_t>(::getpid());
    for (auto t0 = Clock::now(); t0 < end && ops < kMaxOpsPerProcess; ++ops) {
        op();
        const auto t1 = Clock::now();
        const double ns = mmm_bench::ns_between(t0, t1);
        if (ops < kSamplesPerProcess) {
            report.ns[ops] = ns;
        } else {
            rng = rng * 6364136223846793005ull + 1442695040888963407ull;
            const std::uint64_t slot = (rng >> 33) % (ops + 1);
            if (slot < kSamplesPerProcess) report.ns[slot] = ns;
        }
        t0 = t1;
    }
    report.ops = ops;
    report.sampled = std::min<std::uint64_t>(ops, kSamplesPerProcess);
}

// Forks `procs` workers, releases them together, reaps each by pid, and
// reports ops/s over the window and the pooled p50/p99.
void run_processes(benchmark::State& state, int procs, const MakeOperation& make) {
    for (auto _ : state) {
        mmm_bench::SharedPage shared(sizeof(Window) +
                                     sizeof(WorkerReport) * static_cast<std::size_t>(procs));
        auto* window = shared.as<Window>();
        auto* reports = shared.as<WorkerReport>(sizeof(Window));
        mmm_bench::StartGate gate;
        std::vector<pid_t> kids;
        for (int p = 0; p < procs; ++p)
            kids.push_back(mmm_bench::fork_child([&, p] {
                run_worker(reports[p], *window, gate, make);
                return 0;
            }));
        gate.wait_ready(procs);
        window->end = (Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                          std::chrono::duration<double>(window_s())))
                          .time_since_epoch()
                          .count();
        gate.release(procs);
        int failed = 0;
        for (pid_t k : kids) failed += mmm_bench::reap(k, 120.0) != 0;
        if (failed) throw std::runtime_error(std::to_string(failed) + " worker(s) failed");
        std::uint64_t ops = 0;
        mmm_bench::Samples samples;
        for (int p = 0; p < procs; ++p) {
            ops += reports[p].ops;
            for (std::uint64_t i = 0; i < reports[p].sampled; ++i) samples.add(reports[p].ns[i]);
        }
        state.SetIterationTime(window_s());
        state.counters["ops_per_s"] = static_cast<double>(ops) / window_s();
        state.counters["ops"] = static_cast<double>(ops);
        samples.report(state);
    }
}

std::string shared_chunk() {
    static const std::string name = [] {
        const std::string n = mmm_bench::unique_name("tp");
        auto mc = mmm_bench::client().create<std::uint64_t>(n, kChunkElements);
        mmm_bench::at_teardown([n] { mmm_bench::client().remove(n); });
        return n;
    }();
    return name;
}

void BM_Throughput_info(benchmark::State& state) {
    mmm_bench::guarded(state, [&] {
        const std::string name = shared_chunk();
        const auto options = mmm_bench::daemon().client_options();
        run_processes(state, static_cast<int>(state.range(0)), [&] {
            auto client = std::make_shared<mmm::Client>(options);
            return [client, name] { benchmark::DoNotOptimize(client->info(name)); };
        });
    });
}

void BM_Throughput_open_close(benchmark::State& state) {
    mmm_bench::guarded(state, [&] {
        const std::string name = shared_chunk();
        const auto options = mmm_bench::daemon().client_options();
        run_processes(state, static_cast<int>(state.range(0)), [&] {
            auto client = std::make_shared<mmm::Client>(options);
            return [client, name] {
                auto mc = client->open<std::uint64_t>(name);
                benchmark::DoNotOptimize(mc.span().data());
            };
        });
    });
}

void BM_Throughput_raw_open_close(benchmark::State& state) {
    mmm_bench::guarded(state, [&] {
        const std::string seg = mmm_bench::raw_segment_name("tp");
        const std::size_t bytes = 4096 + kChunkElements * sizeof(std::uint64_t);
        const int fd = ::shm_open(seg.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
        if (fd < 0 || ::posix_fallocate(fd, 0, static_cast<off_t>(bytes)) != 0)
            throw std::runtime_error("raw segment " + seg + ": " + std::strerror(errno));
        ::close(fd);
        run_processes(state, static_cast<int>(state.range(0)), [&] {
            return [seg] {
                const int f = ::shm_open(seg.c_str(), O_RDWR | O_CLOEXEC, 0);
                struct stat st {};
                if (f < 0 || ::fstat(f, &st) != 0) throw std::runtime_error("shm_open failed");
                const auto size = static_cast<std::size_t>(st.st_size);
                void* p = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, f, 0);
                if (p == MAP_FAILED) throw std::runtime_error("mmap failed");
                benchmark::DoNotOptimize(p);
                ::munmap(p, size);
                ::close(f);
            };
        });
        ::shm_unlink(seg.c_str());
    });
}

void BM_Throughput_ping(benchmark::State& state) {
    mmm_bench::guarded(state, [&] {
        const auto options = mmm_bench::daemon().client_options();
        run_processes(state, static_cast<int>(state.range(0)), [&] {
            auto core = std::make_shared<mmm::detail::ClientCore>(options);
            return [core] { core->call(mmm::proto::PingRequest{}); };
        });
    });
}

// Sizes of a real info request and its reply frame.
std::pair<std::size_t, std::size_t> info_message_sizes() {
    const std::string name = shared_chunk();
    const auto request = mmm::proto::encode_request(mmm::proto::InfoRequest{name}, 1);
    return {request.size(), mmm_bench::info_reply_bytes(mmm_bench::client().info(name))};
}

// One thread, one epoll set, every client on its own socket: reads a whole
// request (blocking on the rest, as frames are small) and sends the reply.
// Returns when every client has hung up.
int echo_server(int listener, std::size_t req_bytes, std::size_t reply_bytes, int clients) {
    const int ep = ::epoll_create1(EPOLL_CLOEXEC);
    std::vector<int> fds;
    for (int i = 0; i < clients; ++i) {
        const int fd = ::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
        if (fd < 0) return 2;
        epoll_event ev{};
        ev.events = EPOLLIN;
        ev.data.fd = fd;
        ::epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
        fds.push_back(fd);
    }
    std::vector<char> in(req_bytes), out(reply_bytes, 'r');
    epoll_event events[64];
    for (int open = clients; open > 0;) {
        const int n = ::epoll_wait(ep, events, 64, 120'000);
        if (n <= 0) return n == 0 ? 3 : (errno == EINTR ? 0 : 4);
        for (int i = 0; i < n; ++i) {
            const int fd = events[i].data.fd;
            if (!mmm_bench::recv_exact(fd, in.data(), in.size()) ||
                !mmm_bench::send_exact(fd, out.data(), out.size())) {
                ::epoll_ctl(ep, EPOLL_CTL_DEL, fd, nullptr);
                ::close(fd);
                --open;
            }
        }
    }
    ::close(ep);
    return 0;
}

void BM_Throughput_echo(benchmark::State& state) {
    mmm_bench::guarded(state, [&] {
        const int procs = static_cast<int>(state.range(0));
        const auto [req_bytes, reply_bytes] = info_message_sizes();
        char tmpl[] = "/tmp/mmm-bench-echo-XXXXXX";
        if (!::mkdtemp(tmpl)) throw std::runtime_error("mkdtemp failed");
        const std::string dir = tmpl;
        // On the way out, also when a worker failed: the server stopped by pid,
        // its directory gone.
        struct StopServer {
            pid_t pid;
            std::string dir;
            ~StopServer() {
                if (pid > 0) {
                    ::kill(pid, SIGKILL);
                    mmm_bench::reap(pid, 10.0);
                }
                std::error_code ec;
                std::filesystem::remove_all(dir, ec);
            }
        } stop{-1, dir};
        sockaddr_un addr{};
        addr.sun_family = AF_UNIX;
        std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s/echo.sock", dir.c_str());
        const int listener = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (listener < 0 ||
            ::bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
            ::listen(listener, 128) != 0)
            throw std::runtime_error(std::string("echo socket: ") + std::strerror(errno));
        // One server per iteration: it serves exactly `procs` connections.
        const pid_t server = mmm_bench::fork_child(
            [&] { return echo_server(listener, req_bytes, reply_bytes, procs); });
        stop.pid = server;
        ::close(listener);
        run_processes(state, procs, [&] {
            const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
            if (fd < 0 || ::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0)
                throw std::runtime_error("echo connect failed");
            auto buffers =
                std::make_shared<std::vector<char>>(std::max(req_bytes, reply_bytes), 'q');
            // The descriptor closes at the worker's exit, which ends the server's loop.
            return [fd, buffers, req = req_bytes, reply = reply_bytes] {
                if (!mmm_bench::send_exact(fd, buffers->data(), req) ||
                    !mmm_bench::recv_exact(fd, buffers->data(), reply))
                    throw std::runtime_error("echo server went away");
            };
        });
        const int status = mmm_bench::reap(server, 30.0);
        stop.pid = -1;
        if (status != 0) throw std::runtime_error("echo server failed");
        state.counters["request_bytes"] = static_cast<double>(req_bytes);
        state.counters["reply_bytes"] = static_cast<double>(reply_bytes);
    });
}

// --- Redis ------------------------------------------------------------------------

std::string find_program(const char* name) {
    for (const char* dir : {"/usr/bin", "/usr/local/bin", "/usr/sbin"}) {
        std::string path = std::string(dir) + "/" + name;
        if (::access(path.c_str(), X_OK) == 0) return path;
    }
    return {};
}

// fork + exec of argv with stdin from /dev/null and stdout into `out_fd`
// (or /dev/null when negative); stderr stays.
pid_t spawn(const std::vector<std::string>& argv, int out_fd) {
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    const pid_t pid = ::fork();
    if (pid < 0) throw std::runtime_error(std::string("fork: ") + std::strerror(errno));
    if (pid == 0) {
        const int null = ::open("/dev/null", O_RDWR);
        ::dup2(null, 0);
        ::dup2(out_fd >= 0 ? out_fd : null, 1);
        ::execv(args[0], args.data());
        ::_exit(127);
    }
    return pid;
}

// A redis-server of its own on a Unix socket in a temporary directory, no
// persistence; stopped by pid.
class RedisServer {
  public:
    explicit RedisServer(const std::string& exe) {
        char tmpl[] = "/tmp/mmm-bench-redis-XXXXXX";
        if (!::mkdtemp(tmpl)) throw std::runtime_error("mkdtemp failed");
        dir_ = tmpl;
        socket_ = dir_ + "/redis.sock";
        pid_ = spawn(
            {exe, "--port", "0", "--unixsocket", socket_, "--unixsocketperm", "700", "--save", "",
             "--appendonly", "no", "--dir", dir_, "--loglevel", "warning", "--daemonize", "no"},
            -1);
        const auto deadline = Clock::now() + std::chrono::seconds(20);
        while (!connectable()) {
            int status = 0;
            if (::waitpid(pid_, &status, WNOHANG) == pid_) {
                pid_ = -1;
                throw std::runtime_error("redis-server exited at start");
            }
            if (Clock::now() > deadline) throw std::runtime_error("redis-server did not start");
            std::this_thread::sleep_for(std::chrono::milliseconds(5));  // poll interval
        }
    }
    ~RedisServer() {
        if (pid_ > 0) {
            ::kill(pid_, SIGTERM);
            if (mmm_bench::reap(pid_, 10.0) != 0)
                std::fprintf(stderr, "redis-server: unclean exit\n");
        }
        std::error_code ec;
        std::filesystem::remove_all(dir_, ec);
    }
    RedisServer(const RedisServer&) = delete;
    RedisServer& operator=(const RedisServer&) = delete;
    const std::string& socket() const { return socket_; }

  private:
    bool connectable() const {
        const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_un addr{};
        addr.sun_family = AF_UNIX;
        std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", socket_.c_str());
        const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
        ::close(fd);
        return ok;
    }

    std::string dir_;
    std::string socket_;
    pid_t pid_ = -1;
};

// Runs a program, returns its standard output; throws when it fails.
std::string capture(const std::vector<std::string>& argv) {
    int out[2];
    if (::pipe2(out, O_CLOEXEC) != 0) throw std::runtime_error("pipe failed");
    const pid_t pid = spawn(argv, out[1]);
    ::close(out[1]);
    std::string text;
    char buf[4096];
    for (;;) {
        const ssize_t n = ::read(out[0], buf, sizeof buf);
        if (n > 0) {
            text.append(buf, static_cast<std::size_t>(n));
        } else if (n == 0 || errno != EINTR) {
            break;
        }
    }
    ::close(out[0]);
    if (mmm_bench::reap(pid, 300.0) != 0) throw std::runtime_error(argv[0] + " failed");
    return text;
}

// The "GET" row of redis-benchmark --csv: "test","rps","avg_latency_ms",
// "min_latency_ms","p50_latency_ms","p95_latency_ms","p99_latency_ms",...
std::vector<double> get_row(const std::string& csv) {
    std::istringstream lines(csv);
    std::string line;
    while (std::getline(lines, line)) {
        if (line.rfind("\"GET\"", 0) != 0) continue;
        std::vector<double> values;
        std::istringstream fields(line);
        std::string field;
        std::getline(fields, field, ',');  // "GET"
        while (std::getline(fields, field, ','))
            values.push_back(std::strtod(field.substr(1, field.size() - 2).c_str(), nullptr));
        if (values.size() >= 6) return values;
    }
    throw std::runtime_error("no GET row in redis-benchmark's output: " + csv);
}

void BM_Throughput_redis_get(benchmark::State& state) {
    const std::string server = find_program("redis-server");
    const std::string tool = find_program("redis-benchmark");
    if (server.empty() || tool.empty()) {
        state.SkipWithError(
            "redis-server or redis-benchmark not installed (Debian: redis-server, redis-tools; "
            "scripts/install-deps.sh --bench installs them)");
        return;
    }
    mmm_bench::guarded(state, [&] {
        const int clients = static_cast<int>(state.range(0));
        const std::size_t requests = mmm_bench::pick(200'000, 2'000);
        RedisServer redis(server);
        for (auto _ : state) {
            const auto t0 = Clock::now();
            const std::string csv =
                capture({tool, "-s", redis.socket(), "-t", "set,get", "-d", "16", "-c",
                         std::to_string(clients), "-n", std::to_string(requests), "--csv"});
            state.SetIterationTime(mmm_bench::seconds_between(t0, Clock::now()));
            const auto row = get_row(csv);
            state.counters["ops_per_s"] = row[0];
            state.counters["p50_ns"] = row[3] * 1e6;
            state.counters["p99_ns"] = row[5] * 1e6;
            state.counters["ops"] = static_cast<double>(requests);
        }
    });
}

// One window per run (Iterations(1)): the window is the measurement.
void at_counts(benchmark::internal::Benchmark* b, const char* arg_name,
               std::initializer_list<int> counts) {
    b->ArgName(arg_name)->Iterations(1)->UseManualTime();
    for (int n : counts) b->Arg(n);
}
void procs_1_8_64(benchmark::internal::Benchmark* b) {
    at_counts(b, "procs", {1, 8, 64});
}
void procs_8_64(benchmark::internal::Benchmark* b) {
    at_counts(b, "procs", {8, 64});
}
void clients_1_8_64(benchmark::internal::Benchmark* b) {
    at_counts(b, "clients", {1, 8, 64});
}

}  // namespace

BENCHMARK(BM_Throughput_info)->Name("BM_Throughput/info")->Apply(procs_1_8_64);
BENCHMARK(BM_Throughput_redis_get)->Name("BM_Throughput/redis_get")->Apply(clients_1_8_64);
BENCHMARK(BM_Throughput_open_close)->Name("BM_Throughput/open_close")->Apply(procs_8_64);
BENCHMARK(BM_Throughput_raw_open_close)->Name("BM_Throughput/raw_open_close")->Apply(procs_8_64);
BENCHMARK(BM_Throughput_ping)->Name("BM_Throughput/ping")->Apply(procs_1_8_64);
BENCHMARK(BM_Throughput_echo)->Name("BM_Throughput/echo")->Apply(procs_1_8_64);

MMM_BENCH_MAIN();
