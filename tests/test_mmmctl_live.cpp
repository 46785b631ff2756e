// mmmctl top and mmmctl metrics against a real mmmd (docs/MMMCTL.md): top
// piped (plain lines per tick), as NDJSON, and under a pseudo-terminal
// (redrawn in place); metrics parsed by prometheus_client's parser
// (tests/metrics_check.py) and checked line by line here.
#include "child_process.hpp"
#include "daemon_test.hpp"
#include "eventually.hpp"
#include "forked.hpp"
#include "mmmctl_runner.hpp"
#include "prometheus_text.hpp"
#include "temp_dir.hpp"
#include "test_paths.hpp"

#include <mmm/mmm.hpp>

#include <nlohmann/json.hpp>

#include <dirent.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

extern char** environ;

namespace {

using Json = nlohmann::json;
using mmm::test::RunResult;
using namespace std::chrono_literals;

std::string show(const RunResult& r) {
    return r.status.describe() + "\nstdout:\n" + r.out + "\nstderr:\n" + r.err;
}

std::vector<std::string> lines_of(const std::string& text) {
    std::vector<std::string> lines;
    std::istringstream in(text);
    std::string line;
    while (std::getline(in, line)) lines.push_back(line);
    return lines;
}

std::vector<std::string> split_words(const std::string& line) {
    std::vector<std::string> words;
    std::istringstream in(line);
    std::string w;
    while (in >> w) words.push_back(w);
    return words;
}

// Writes to a chunk from a thread of the test until stopped (bounded in
// count and time), so every tick of `top` sees its version move.
class BusyWriter {
  public:
    explicit BusyWriter(mmm::MemChunk<std::int32_t>& chunk)
        : thread_([this, &chunk] {
              const auto deadline = std::chrono::steady_clock::now() + 60s;
              for (std::int32_t i = 0; i < 10'000'000 && !stop_.load(); ++i) {
                  chunk.write(0, i);
                  if (std::chrono::steady_clock::now() >= deadline) break;
                  // Pacing only (about 1000 writes a second), not synchronisation.
                  std::this_thread::sleep_for(1ms);
              }
          }) {}
    ~BusyWriter() {
        stop_ = true;
        thread_.join();
    }

  private:
    std::atomic<bool> stop_{false};
    std::thread thread_;
};

class MmmctlLiveTest : public mmm::test::DaemonTest {
  protected:
    RunResult ctl(const std::vector<std::string>& args) {
        return mmm::test::run_mmmctl(runtime_dir(), args);
    }
};

TEST_F(MmmctlLiveTest, TopPipedAppendsATickOfLinesWithTheChangeRate) {
    auto busy = client().create<std::int32_t>("busy", 4);
    auto idle = client().create<std::int32_t>("idle", 1000);
    RunResult r;
    {
        BusyWriter writer(busy);
        r = ctl({"top", "--iterations", "2", "--interval", "0.3", "--sort", "rate"});
    }
    ASSERT_EQ(r.status.code, 0) << show(r);
    EXPECT_EQ(r.out.find('\x1b'), std::string::npos) << "no escape sequences when piped";
    int headers = 0;
    int titles = 0;
    std::vector<std::string> order;  // chunk rows as printed
    std::vector<double> busy_rates;
    std::vector<double> idle_rates;
    for (const auto& line : lines_of(r.out)) {
        auto w = split_words(line);
        if (line.rfind("mmm top ", 0) == 0) {
            ++headers;
            EXPECT_NE(line.find("chunks 2"), std::string::npos) << line;
            EXPECT_NE(line.find("shm free"), std::string::npos) << line;
            EXPECT_NE(line.find("connections"), std::string::npos) << line;
        } else if (!w.empty() && w[0] == "NAME") {
            ++titles;
            EXPECT_EQ(w.size(), 10u) << line;
        } else if (!w.empty() && w[0] == "busy") {
            ASSERT_GE(w.size(), 10u) << line;
            busy_rates.push_back(std::stod(w[1]));
            order.push_back(w[0]);
            EXPECT_EQ(w[5], "0") << line;    // waiters
            EXPECT_EQ(w[7], "0/0") << line;  // lock/stripe recoveries
            EXPECT_EQ(w[8], "16") << line;   // bytes
            EXPECT_EQ(w[9], "ready") << line;
        } else if (!w.empty() && w[0] == "idle") {
            ASSERT_GE(w.size(), 10u) << line;
            idle_rates.push_back(std::stod(w[1]));
            order.push_back(w[0]);
            EXPECT_EQ(w[8], "4000") << line;
        }
    }
    EXPECT_EQ(headers, 2) << r.out;
    EXPECT_EQ(titles, 2) << r.out;
    ASSERT_EQ(busy_rates.size(), 2u) << r.out;
    ASSERT_EQ(idle_rates.size(), 2u) << r.out;
    EXPECT_GT(busy_rates[1], 0.0) << r.out;
    EXPECT_EQ(idle_rates[1], 0.0) << r.out;
    // --sort rate: the busiest first in the second tick (the first may start with both idle).
    ASSERT_EQ(order.size(), 4u) << r.out;
    EXPECT_EQ(order[2], "busy") << r.out;
}

TEST_F(MmmctlLiveTest, TopEndsWithExitCode3WhenMmmdGoesAway) {
    mmm::test::ChildOptions options;
    options.env["MMM_RUNTIME_DIR"] = runtime_dir();
    options.capture_stderr = true;
    mmm::test::ChildProcess top(mmm::test::mmmctl_path(), {"top", "--interval", "0.05"}, options);
    auto first = top.read_line(10s);
    ASSERT_TRUE(first.has_value()) << top.err();
    EXPECT_EQ(first->rfind("mmm top ", 0), 0u) << *first;
    daemon().stop();
    auto status = top.wait_for_exit(10s);
    EXPECT_TRUE(status.exited && status.code == 3) << status.describe() << "\n" << top.err();
    EXPECT_NE(top.err().find("daemon_unavailable"), std::string::npos) << top.err();
}

TEST_F(MmmctlLiveTest, TopJsonWritesOneObjectPerTick) {
    auto busy = client().create<std::int32_t>("busy", 4);
    auto idle = client().create<std::int32_t>("idle", 1000);
    auto other = client().create<std::int32_t>("other", 2);
    RunResult r;
    {
        BusyWriter writer(busy);
        r = ctl({"top", "--json", "--iterations", "2", "--interval", "0.3", "--sort", "bytes",
                 "--filter", "[bi]*"});
    }
    ASSERT_EQ(r.status.code, 0) << show(r);
    const auto lines = lines_of(r.out);
    ASSERT_EQ(lines.size(), 2u) << r.out;
    const auto expected_attachments = client().info("busy").attachments.size();
    for (const auto& line : lines) {
        Json tick;
        ASSERT_NO_THROW(tick = Json::parse(line)) << line;
        EXPECT_EQ(tick["chunks"], 3) << line;  // the daemon's figure: the filter is for rows
        EXPECT_GT(tick["interval_s"].get<double>(), 0.0) << line;
        EXPECT_GT(tick["shm_free_bytes"].get<std::uint64_t>(), 0u) << line;
        EXPECT_GE(tick["connections"].get<std::uint64_t>(), 2u) << line;  // the test's and top's
        EXPECT_GT(tick["requests_per_second"].get<double>(), 0.0) << line;
        const Json& rows = tick["rows"];
        ASSERT_EQ(rows.size(), 2u) << line;
        // --sort bytes: the largest first; --filter left "other" out.
        EXPECT_EQ(rows[0]["name"], "idle") << line;
        EXPECT_EQ(rows[1]["name"], "busy") << line;
        EXPECT_EQ(rows[0]["bytes"], 4000) << line;
        EXPECT_EQ(rows[0]["rate"].get<double>(), 0.0) << line;
        EXPECT_GT(rows[1]["rate"].get<double>(), 0.0) << line;
        EXPECT_TRUE(rows[1]["version"].is_number()) << line;
        // mmmctl's own read-only mapping is not counted.
        EXPECT_EQ(rows[1]["attachments"], expected_attachments) << line;
        EXPECT_TRUE(rows[1]["writer_pid"].is_null()) << line;
        EXPECT_EQ(rows[1]["state"], "ready") << line;
    }
}

TEST_F(MmmctlLiveTest, TopShowsTheLeaseOfASingleWriterChunk) {
    auto solo = client().create<std::int32_t>("solo", 1, mmm::CreateOptions{.single_writer = true});
    auto r = ctl({"top", "--json", "--iterations", "1", "--interval", "0.05"});
    ASSERT_EQ(r.status.code, 0) << show(r);
    Json tick = Json::parse(r.out);
    ASSERT_EQ(tick["rows"].size(), 1u) << r.out;
    EXPECT_EQ(tick["rows"][0]["writer_pid"].get<pid_t>(), client().info("solo").writer_pid)
        << r.out;
}

// Waiters and recoveries live in the segment's header: a thread asleep in
// wait_for_change, a lock holder that died and the next lock() taking over.
TEST_F(MmmctlLiveTest, TopAndMetricsShowWaitersAndLockRecoveries) {
    auto chunk = client().create<std::int32_t>("watched", 4);
    EXPECT_EQ(chunk.activity().waiters, 0u);
    EXPECT_EQ(chunk.activity().lock_recoveries, 0u);
    // A holder that exits with the lock held; the next lock() takes it over.
    auto holder = mmm::test::start_forked([&] {
        auto mine = new_client().open<std::int32_t>("watched");
        auto guard = mine.lock();
        ::_exit(0);  // dies holding it
        return 1;
    });
    const auto ended = holder.wait(10s);
    ASSERT_TRUE(ended.exited && ended.code == 0) << ended.describe();
    {
        auto guard = chunk.lock();
        EXPECT_TRUE(guard.previous_owner_died());
    }
    EXPECT_EQ(chunk.activity().lock_recoveries, 1u);
    // A thread asleep on the version (no spin, so it goes to the futex at once).
    const std::uint32_t since = chunk.version();
    std::thread waiter([&] { (void)chunk.wait_for_change(since, 30s, 0ns); });
    const bool asleep = mmm::test::eventually([&] { return chunk.activity().waiters == 1; }, 10s);
    RunResult top;
    RunResult metrics;
    if (asleep) {
        top = ctl({"top", "--json", "--iterations", "1", "--interval", "0.05"});
        metrics = ctl({"metrics"});
    }
    chunk.write(0, 1);  // wakes the waiter
    waiter.join();
    ASSERT_TRUE(asleep) << "the waiter never showed in activity().waiters";
    EXPECT_TRUE(mmm::test::eventually([&] { return chunk.activity().waiters == 0; }, 10s));

    ASSERT_EQ(top.status.code, 0) << show(top);
    Json tick;
    ASSERT_NO_THROW(tick = Json::parse(top.out)) << top.out;
    ASSERT_EQ(tick["rows"].size(), 1u) << top.out;
    EXPECT_EQ(tick["rows"][0]["waiters"], 1) << top.out;
    EXPECT_EQ(tick["rows"][0]["lock_recoveries"], 1) << top.out;
    EXPECT_EQ(tick["rows"][0]["stripe_recoveries"], 0) << top.out;

    ASSERT_EQ(metrics.status.code, 0) << show(metrics);
    EXPECT_NE(metrics.out.find("\nmmm_chunk_waiters{name=\"watched\"} 1\n"), std::string::npos)
        << metrics.out;
    EXPECT_NE(metrics.out.find("\nmmm_chunk_lock_recoveries_total{name=\"watched\"} 1\n"),
              std::string::npos)
        << metrics.out;
    EXPECT_NE(metrics.out.find("\nmmm_chunk_stripe_recoveries_total{name=\"watched\"} 0\n"),
              std::string::npos)
        << metrics.out;
}

TEST_F(MmmctlLiveTest, TopRejectsABadIntervalAndSort) {
    EXPECT_EQ(ctl({"top", "--interval", "0"}).status.code, 2);
    EXPECT_EQ(ctl({"top", "--sort", "size"}).status.code, 2);
    EXPECT_EQ(ctl({"top", "--iterations", "0"}).status.code, 2);
    EXPECT_EQ(ctl({"top", "--iterations", "-1"}).status.code, 2);
}

// Runs mmmctl under a pseudo-terminal until it exits (bounded); returns what it wrote.
std::string run_on_terminal(const std::string& runtime_dir, const std::vector<std::string>& args,
                            mmm::test::ExitStatus& status) {
    // Everything the child needs is built before the fork.
    const std::string program = mmm::test::mmmctl_path();
    std::vector<std::string> argv_text{program};
    argv_text.insert(argv_text.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (auto& a : argv_text) argv.push_back(a.data());
    argv.push_back(nullptr);
    std::vector<std::string> env_text{"MMM_RUNTIME_DIR=" + runtime_dir};
    for (char** e = environ; *e != nullptr; ++e)
        if (std::string_view(*e).rfind("MMM_RUNTIME_DIR=", 0) != 0) env_text.emplace_back(*e);
    std::vector<char*> envp;
    for (auto& e : env_text) envp.push_back(e.data());
    envp.push_back(nullptr);
    struct winsize ws {};
    ws.ws_row = 40;
    ws.ws_col = 160;

    int master = -1;
    const pid_t pid = ::forkpty(&master, nullptr, nullptr, &ws);
    if (pid < 0) {
        ADD_FAILURE() << "forkpty: " << std::strerror(errno);
        return {};
    }
    if (pid == 0) {
        ::execve(program.c_str(), argv.data(), envp.data());
        ::_exit(127);
    }
    std::string out;
    const auto deadline = std::chrono::steady_clock::now() + 30s;
    for (int i = 0; i < 100'000 && std::chrono::steady_clock::now() < deadline; ++i) {
        pollfd p{master, POLLIN, 0};
        if (::poll(&p, 1, 100) < 0 && errno != EINTR) break;
        if (p.revents == 0) continue;
        char buf[4096];
        const ssize_t n = ::read(master, buf, sizeof buf);
        if (n > 0) {
            out.append(buf, static_cast<std::size_t>(n));
            continue;
        }
        if (n < 0 && errno == EINTR) continue;
        break;  // EIO: the child closed the terminal
    }
    status = mmm::test::wait_for_pid(pid, 10s);
    ::close(master);
    return out;
}

TEST_F(MmmctlLiveTest, TopOnATerminalRedrawsInPlace) {
    auto chunk = client().create<std::int32_t>("shown", 8);
    mmm::test::ExitStatus status;
    const std::string out =
        run_on_terminal(runtime_dir(), {"top", "--iterations", "2", "--interval", "0.1"}, status);
    ASSERT_TRUE(status.ok()) << status.describe() << "\n" << out;
    const std::string clear = "\x1b[H\x1b[2J";
    std::size_t clears = 0;
    for (auto at = out.find(clear); at != std::string::npos; at = out.find(clear, at + 1)) ++clears;
    EXPECT_EQ(clears, 2u) << out;
    EXPECT_EQ(out.find(clear), 0u) << "each tick starts with home and clear:\n" << out;
    EXPECT_NE(out.find("mmm top "), std::string::npos) << out;
    EXPECT_NE(out.find("shown"), std::string::npos) << out;
}

// --- metrics ------------------------------------------------------------------

std::string read_file(const std::string& path) {
    std::ifstream in(path);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

std::vector<std::string> entries_of(const std::string& dir) {
    std::vector<std::string> names;
    if (DIR* d = ::opendir(dir.c_str())) {
        while (dirent* e = ::readdir(d))
            if (std::string n = e->d_name; n != "." && n != "..") names.push_back(n);
        ::closedir(d);
    }
    return names;
}

TEST_F(MmmctlLiveTest, MetricsAreParsedByPrometheusClient) {
    auto alpha = client().create<std::int32_t>("alpha", 10);
    auto solo = client().create<std::int32_t>("solo", 2, mmm::CreateOptions{.single_writer = true});
    for (std::int32_t i = 0; i < 5; ++i) alpha.write(0, i);
    const auto alpha_version = alpha.version();
    const auto solo_info = client().info("solo");

    mmm::test::TempDir dir("mmm-metrics");
    const std::string file = dir.path() + "/mmm.prom";
    auto r = ctl({"metrics", "--output", file});
    ASSERT_EQ(r.status.code, 0) << show(r);
    EXPECT_EQ(r.out, "") << "--output writes nothing to stdout";
    EXPECT_EQ(entries_of(dir.path()), std::vector<std::string>{"mmm.prom"})
        << "the temporary file is renamed, not left behind";
    struct stat st {};
    ASSERT_EQ(::stat(file.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0644u) << "readable by a collector running as another user";

    if (::access("/usr/bin/python3", X_OK) != 0)
        GTEST_SKIP() << "no /usr/bin/python3 to run tests/metrics_check.py";
    mmm::test::ChildOptions python;
    python.capture_stderr = true;
    auto parsed =
        mmm::test::run_program("/usr/bin/python3", {MMM_METRICS_CHECK_SCRIPT, file}, python);
    if (parsed.status.exited && parsed.status.code == 77)
        GTEST_SKIP() << "python3-prometheus-client is not installed: " << parsed.err;
    ASSERT_TRUE(parsed.status.ok()) << show(parsed) << "\nmetrics:\n" << read_file(file);
    Json families = Json::parse(parsed.out);

    auto value = [&](const std::string& family, const std::string& chunk = {},
                     const std::string& sample = {}) -> double {
        const Json& f = families[family];
        for (const auto& s : f["samples"]) {
            if (!sample.empty() && s["name"] != sample) continue;
            if (chunk.empty() ? s["labels"].empty() : s["labels"].value("name", "") == chunk)
                return s["value"].get<double>();
        }
        ADD_FAILURE() << "no sample of " << family << " for '" << chunk << "'\n" << parsed.out;
        return -1;
    };
    EXPECT_EQ(families["mmm_chunks"]["type"], "gauge");
    EXPECT_EQ(value("mmm_chunks"), 2);
    EXPECT_EQ(value("mmm_quarantined_chunks"), 0);
    EXPECT_EQ(value("mmm_bytes"), static_cast<double>(client().stats().bytes));
    EXPECT_GE(value("mmm_connections"), 1);
    // prometheus_client names a counter's family without its _total.
    EXPECT_EQ(families["mmm_requests"]["type"], "counter");
    EXPECT_GT(value("mmm_requests"), 0);
    EXPECT_GE(value("mmm_uptime_seconds"), 0);
    EXPECT_EQ(value("mmm_chunk_bytes", "alpha"), 40);
    EXPECT_EQ(value("mmm_chunk_count", "alpha"), 10);
    EXPECT_EQ(value("mmm_chunk_max_count", "alpha"), 10);
    EXPECT_EQ(value("mmm_chunk_attachments", "alpha"),
              static_cast<double>(client().info("alpha").attachments.size()));
    EXPECT_EQ(value("mmm_chunk_writable_attachments", "alpha"), 1);
    EXPECT_EQ(families["mmm_chunk_version"]["type"], "counter");
    EXPECT_EQ(value("mmm_chunk_version", "alpha"), alpha_version);
    EXPECT_EQ(value("mmm_chunk_writer_pid", "solo"), solo_info.writer_pid);
    for (const auto& s : families["mmm_chunk_writer_pid"]["samples"])
        EXPECT_EQ(s["labels"]["name"], "solo") << "only single-writer chunks have a lease";
    bool ready = false;
    for (const auto& s : families["mmm_chunk_state"]["samples"])
        if (s["labels"]["name"] == "alpha" && s["labels"]["state"] == "ready" && s["value"] == 1)
            ready = true;
    EXPECT_TRUE(ready) << parsed.out;
    EXPECT_NE(value("mmm_chunk_created_seconds", "alpha"), 0);
}

// The format checked here too, line by line, without Python.
TEST_F(MmmctlLiveTest, MetricsTextIsWellFormed) {
    auto a = client().create<std::int32_t>("a.b-c_d", 3);
    auto r = ctl({"metrics"});
    ASSERT_EQ(r.status.code, 0) << show(r);
    ASSERT_FALSE(r.out.empty());
    ASSERT_EQ(r.out.back(), '\n');
    const std::regex help(R"(# HELP (mmm_[a-z_]+) \S.*)");
    const std::regex type(R"(# TYPE (mmm_[a-z_]+) (gauge|counter))");
    const std::regex sample(
        R"((mmm_[a-z_]+)(\{[a-z_]+="([^"\\\n]|\\[\\"n])*"(,[a-z_]+="([^"\\\n]|\\[\\"n])*")*\})? (-?[0-9.e+]+|NaN|[+-]Inf))");
    std::set<std::string> families;
    std::string current;
    std::string pending_help;
    for (const auto& line : lines_of(r.out)) {
        std::smatch m;
        if (std::regex_match(line, m, help)) {
            EXPECT_TRUE(families.insert(m[1]).second) << "family twice: " << line;
            pending_help = m[1];
        } else if (std::regex_match(line, m, type)) {
            EXPECT_EQ(m[1], pending_help) << "TYPE right after its HELP: " << line;
            current = m[1];
        } else if (std::regex_match(line, m, sample)) {
            EXPECT_EQ(m[1], current) << "a sample under its own family: " << line;
        } else {
            ADD_FAILURE() << "not a line of the text format: '" << line << "'";
        }
    }
    EXPECT_TRUE(families.count("mmm_chunk_bytes"));
    EXPECT_NE(r.out.find("mmm_chunk_bytes{name=\"a.b-c_d\"} 12\n"), std::string::npos) << r.out;
}

TEST(PrometheusText, LabelValuesAndHelpAreEscaped) {
    EXPECT_EQ(mmmctl::escape_label_value("plain.name-1"), "plain.name-1");
    EXPECT_EQ(mmmctl::escape_label_value("a\\b\"c\nd"), "a\\\\b\\\"c\\nd");
    EXPECT_EQ(mmmctl::escape_help("x\\y\nz \"q\""), "x\\\\y\\nz \"q\"");
    mmmctl::PrometheusText p;
    p.family("mmm_x", "gauge", "X.");
    p.sample("mmm_x", {{"name", "q\""}}, std::uint64_t{3});
    p.sample("mmm_x", {}, 0.5);
    EXPECT_EQ(p.text(),
              "# HELP mmm_x X.\n# TYPE mmm_x gauge\nmmm_x{name=\"q\\\"\"} 3\nmmm_x 0.5\n");
}

TEST_F(MmmctlLiveTest, MetricsErrorsAreReported) {
    auto json = ctl({"metrics", "--json"});
    EXPECT_EQ(json.status.code, 2) << show(json);
    auto r = ctl({"metrics", "--output", "/nonexistent-dir-of-mmm/m.prom"});
    EXPECT_EQ(r.status.code, 1) << show(r);
    EXPECT_NE(r.err.find("/nonexistent-dir-of-mmm/m.prom"), std::string::npos) << show(r);
}

}  // namespace
