#include "bench_support.hpp"

#include "protocol.hpp"
#include "shm_segments.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <stdexcept>
#include <thread>

namespace mmm_bench {
namespace {

pid_t g_run_pid = 0;  // the benchmark process: tags its raw segment names
int g_errors = 0;
std::vector<std::function<void()>> g_teardown;
std::optional<mmm::Client> g_client;
pid_t g_client_pid = 0;
Daemon g_daemon;

std::string& huge_dir_path() {
    static std::string path;
    return path;
}

pid_t run_pid() {
    return g_run_pid != 0 ? g_run_pid : ::getpid();
}

std::string raw_prefix() {
    return "mmmbench-" + std::to_string(run_pid()) + "-";
}

// Unlinks /dev/shm entries starting with `prefix`; returns how many.
int unlink_segments(const std::string& prefix) {
    int n = 0;
    DIR* d = ::opendir("/dev/shm");
    if (!d) return 0;
    std::vector<std::string> names;
    while (dirent* e = ::readdir(d)) {
        std::string name = e->d_name;
        if (name.compare(0, prefix.size(), prefix) == 0) names.push_back(name);
    }
    ::closedir(d);
    for (const auto& name : names)
        if (::shm_unlink(("/" + name).c_str()) == 0) ++n;
    return n;
}

std::uint64_t status_field(pid_t pid, const char* field) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/status");
    std::string line;
    const std::size_t len = std::strlen(field);
    while (std::getline(in, line)) {
        if (line.compare(0, len, field) == 0 && line.size() > len && line[len] == ':')
            return std::strtoull(line.c_str() + len + 1, nullptr, 10) * 1024;  // kB
    }
    return 0;
}

}  // namespace

bool quick() {
    static const bool q = [] {
        const char* v = std::getenv("MMM_BENCH_QUICK");
        return v != nullptr && *v != '\0' && std::strcmp(v, "0") != 0;
    }();
    return q;
}

bool no_poll() {
    static const bool n = [] {
        const char* v = std::getenv("MMM_BENCH_NO_POLL");
        return v != nullptr && *v != '\0' && std::strcmp(v, "0") != 0;
    }();
    return n;
}

std::size_t pick(std::size_t full, std::size_t small) {
    return quick() ? small : full;
}

// --- Daemon ------------------------------------------------------------------

mmm::ClientOptions Daemon::client_options() const {
    mmm::ClientOptions o;
    o.runtime_dir = dir_;
    o.request_timeout = std::chrono::milliseconds(60000);
    if (no_poll()) o.reply_spin = std::chrono::microseconds(0);
    return o;
}

void Daemon::start() {
    if (running()) return;
    if (dir_.empty()) {
        char tmpl[] = "/tmp/mmm-bench-XXXXXX";
        if (!::mkdtemp(tmpl)) throw std::runtime_error("mkdtemp failed");
        dir_ = tmpl;
    }
    // Up to 64 worker processes plus the benchmark's own client: more than
    // mmmd's default of 64 connections per uid.
    std::vector<std::string> args = {"--max-connections-per-uid", "256"};
    if (no_poll()) {
        args.push_back("--busy-poll-us");
        args.push_back("0");
    }
    if (!huge_dir().empty()) {
        args.push_back("--huge-dir");
        args.push_back(huge_dir());
    }
    process_.emplace(dir_, std::move(args));
    // Re-adopting many segments may delay the socket.
    process_->start(std::chrono::seconds(60));
    name_space_ = process_->name_space();
}

void Daemon::stop() {
    if (!process_) return;
    const auto status = process_->stop(std::chrono::seconds(20));
    if (status && !status->ok())
        std::fprintf(stderr, "mmm-bench: mmmd did not exit cleanly: %s\n",
                     status->describe().c_str());
    process_.reset();
}

void Daemon::shutdown() {
    stop();
    if (!name_space_.empty()) {
        const auto left = mmm::test::remove_segments_of(name_space_);
        if (!left.empty())
            std::fprintf(stderr, "mmm-bench: removed %zu segment(s) left after the run\n",
                         left.size());
    }
    if (!dir_.empty()) {
        std::error_code ec;
        std::filesystem::remove_all(dir_, ec);
        dir_.clear();
    }
}

pid_t Daemon::pid() const {
    return running() ? process_->pid() : -1;
}

bool Daemon::running() const {
    return process_ && process_->running();
}

std::uint64_t Daemon::rss_bytes() const {
    return running() ? status_field(pid(), "VmRSS") : 0;
}
std::uint64_t Daemon::hwm_bytes() const {
    return running() ? status_field(pid(), "VmHWM") : 0;
}

std::string enable_huge_dir(std::size_t bytes) {
    if (!huge_dir().empty()) return "";
    if (::geteuid() != 0) return "mounting a tmpfs needs root";
    if (::unshare(CLONE_NEWNS) != 0)
        return std::string("unshare(CLONE_NEWNS): ") + std::strerror(errno);
    // Mounts made from here on stay in this process's namespace (and its children's).
    if (::mount("none", "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0)
        return std::string("making / private: ") + std::strerror(errno);
    char tmpl[] = "/tmp/mmm-bench-huge-XXXXXX";
    if (!::mkdtemp(tmpl)) return std::string("mkdtemp: ") + std::strerror(errno);
    const std::string options =
        "huge=within_size,mode=1777,size=" + std::to_string((bytes >> 20) + 1) + "m";
    if (::mount("tmpfs", tmpl, "tmpfs", MS_NOSUID | MS_NODEV, options.c_str()) != 0) {
        const std::string why =
            std::string("mount -t tmpfs -o ") + options + ": " + std::strerror(errno);
        ::rmdir(tmpl);
        return why;
    }
    huge_dir_path() = tmpl;
    return "";
}

const std::string& huge_dir() {
    return huge_dir_path();
}

Daemon& daemon() {
    if (!g_daemon.running()) g_daemon.start();
    return g_daemon;
}

mmm::Client& client() {
    if (!g_client || g_client_pid != ::getpid()) {
        g_client.reset();
        g_client.emplace(daemon().client_options());
        g_client_pid = ::getpid();
    }
    return *g_client;
}

// --- processes ---------------------------------------------------------------

pid_t fork_child(const std::function<int()>& body) {
    std::fflush(nullptr);
    const pid_t parent = ::getpid();
    pid_t pid = ::fork();
    if (pid < 0) throw std::runtime_error(std::string("fork: ") + std::strerror(errno));
    if (pid > 0) return pid;
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(125);
    int rc = 1;
    try {
        rc = body();
    } catch (const std::exception& e) {
        std::fprintf(stderr, "mmm-bench child %d: %s\n", ::getpid(), e.what());
    }
    std::fflush(nullptr);
    ::_exit(rc);
}

int reap(pid_t pid, double deadline_s) {
    // Block in poll on a pidfd: no periodic wake-ups that would steal a core
    // from the processes being measured.
    const auto deadline = Clock::now() + std::chrono::duration<double>(deadline_s);
    int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
    int status = 0;
    for (;;) {
        pid_t r = ::waitpid(pid, &status, WNOHANG);
        if (r == pid) break;
        if (r < 0 && errno != EINTR) {
            if (pidfd >= 0) ::close(pidfd);
            return -1;
        }
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
        if (left.count() <= 0) {
            ::kill(pid, SIGKILL);
            ::waitpid(pid, &status, 0);
            if (pidfd >= 0) ::close(pidfd);
            return -1;
        }
        if (pidfd >= 0) {
            pollfd p{pidfd, POLLIN, 0};
            ::poll(&p, 1, static_cast<int>(std::min<long long>(left.count() + 1, 1000)));
        } else {
            std::this_thread::sleep_for(std::chrono::microseconds(200));
        }
    }
    if (pidfd >= 0) ::close(pidfd);
    if (WIFEXITED(status)) return WEXITSTATUS(status);
    return -1;
}

bool recv_exact(int fd, char* p, std::size_t n) {
    while (n > 0) {
        const ssize_t r = ::recv(fd, p, n, 0);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) return false;
        p += r;
        n -= static_cast<std::size_t>(r);
    }
    return true;
}

bool send_exact(int fd, const char* p, std::size_t n) {
    while (n > 0) {
        const ssize_t r = ::send(fd, p, n, MSG_NOSIGNAL);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) return false;
        p += r;
        n -= static_cast<std::size_t>(r);
    }
    return true;
}

std::size_t info_reply_bytes(const mmm::ChunkInfo& info) {
    return mmm::proto::make_frame(mmm::proto::MessageType::reply_ok, 1,
                                  [&](mmm::proto::Writer& w) { mmm::proto::encode_info(w, info); })
        .size();
}

SharedPage::SharedPage(std::size_t bytes) : bytes_(bytes) {
    base_ = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (base_ == MAP_FAILED) throw std::runtime_error("mmap of a shared page failed");
}
SharedPage::~SharedPage() {
    ::munmap(base_, bytes_);
}

std::string raw_segment_name(const std::string& tag) {
    std::string name = "/";  // built by appends: GCC 12 warns (-Wrestrict) on "/" + string
    name += raw_prefix();
    name += tag;
    return name;
}

StartGate::StartGate() {
    if (::pipe(ready_) != 0 || ::pipe(go_) != 0) throw std::runtime_error("pipe failed");
}
StartGate::~StartGate() {
    for (int fd : {ready_[0], ready_[1], go_[0], go_[1]}) ::close(fd);
}
void StartGate::arrive_and_wait() {
    char c = 'r';
    if (::write(ready_[1], &c, 1) != 1) ::_exit(3);
    while (::read(go_[0], &c, 1) != 1) {
        if (errno != EINTR) ::_exit(3);
    }
}
void StartGate::wait_ready(int n) {
    // Bounded: a worker that dies before it arrives never writes (and the
    // other workers keep the pipe open, so there is no end of file either).
    const auto deadline = Clock::now() + std::chrono::seconds(60);
    for (int i = 0; i < n;) {
        const auto left =
            std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
        pollfd p{ready_[0], POLLIN, 0};
        const int ready = left.count() > 0 ? ::poll(&p, 1, static_cast<int>(left.count())) : 0;
        if (ready == 0)
            throw std::runtime_error(std::to_string(n - i) + " of " + std::to_string(n) +
                                     " worker(s) did not arrive at the start in 60 s");
        if (ready < 0) {
            if (errno == EINTR) continue;
            throw std::runtime_error(std::string("poll: ") + std::strerror(errno));
        }
        char c;
        ssize_t r = ::read(ready_[0], &c, 1);
        if (r == 1)
            ++i;
        else if (r == 0 || errno != EINTR)
            throw std::runtime_error("a worker died before start");
    }
}
void StartGate::release(int n) {
    std::string go(static_cast<std::size_t>(n), 'g');
    if (::write(go_[1], go.data(), go.size()) != static_cast<ssize_t>(go.size()))
        throw std::runtime_error("start gate write failed");
}

// --- samples -----------------------------------------------------------------

double Samples::quantile(double q) {
    if (ns_.empty()) return 0;
    if (!sorted_) {
        std::sort(ns_.begin(), ns_.end());
        sorted_ = true;
    }
    // Nearest rank.
    auto rank = static_cast<std::size_t>(std::ceil(q * static_cast<double>(ns_.size())));
    rank = std::clamp<std::size_t>(rank, 1, ns_.size());
    return ns_[rank - 1];
}

double Samples::mean() const {
    if (ns_.empty()) return 0;
    double s = 0;
    for (double v : ns_) s += v;
    return s / static_cast<double>(ns_.size());
}

void Samples::report(benchmark::State& state, const std::string& prefix) {
    state.counters[prefix + "p50_ns"] = quantile(0.50);
    state.counters[prefix + "p99_ns"] = quantile(0.99);
    state.counters[prefix + "mean_ns"] = mean();
    state.counters[prefix + "samples"] = static_cast<double>(ns_.size());
}

std::string unique_name(const std::string& stem) {
    static std::uint64_t n = 0;
    return stem + "-" + std::to_string(::getpid()) + "-" + std::to_string(++n);
}

// --- main --------------------------------------------------------------------

void fail(benchmark::State& state, const std::string& message) {
    ++g_errors;
    std::fprintf(stderr, "mmm-bench: %s\n", message.c_str());
    state.SkipWithError(message.c_str());
}

void guarded(benchmark::State& state, const std::function<void()>& body) {
    try {
        body();
    } catch (const std::exception& e) {
        fail(state, e.what());
    }
}

void at_teardown(std::function<void()> hook) {
    g_teardown.push_back(std::move(hook));
}

int run_main(int argc, char** argv) {
    g_run_pid = ::getpid();
    ::signal(SIGPIPE, SIG_IGN);
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
    int rc = 0;
    try {
        benchmark::RunSpecifiedBenchmarks();
    } catch (const std::exception& e) {
        std::fprintf(stderr, "mmm-bench: %s\n", e.what());
        rc = 1;
    }
    benchmark::Shutdown();
    for (auto& hook : g_teardown) {
        try {
            hook();
        } catch (const std::exception& e) {
            std::fprintf(stderr, "mmm-bench: teardown: %s\n", e.what());
            rc = 1;
        }
    }
    g_client.reset();
    static_cast<void>(unlink_segments(raw_prefix()));
    g_daemon.shutdown();  // a no-op when no benchmark used the daemon
    if (!huge_dir().empty()) {
        ::umount2(huge_dir().c_str(), MNT_DETACH);
        ::rmdir(huge_dir().c_str());
    }
    return rc != 0 || g_errors != 0 ? 1 : 0;
}

}  // namespace mmm_bench
