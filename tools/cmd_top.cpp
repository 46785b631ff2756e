#include "commands.hpp"
#include "json_output.hpp"
#include "live_counters.hpp"
#include "table.hpp"
#include "text_format.hpp"

#include <mmm/detail/text.hpp>

#include <fnmatch.h>
#include <sys/ioctl.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace mmmctl {
namespace {

using Clock = std::chrono::steady_clock;

// What one tick saw.
struct Sample {
    Clock::time_point at;
    mmm::Stats stats;
    std::vector<mmm::ChunkInfo> chunks;                       // filtered, sorted by name
    std::vector<std::optional<mmm::ChunkActivity>> counters;  // per chunk
    std::optional<std::uint64_t> shm_free;  // bytes of the segment directory's file system
    std::optional<std::uint64_t> shm_total;
};

// One chunk's line: the figures of a tick, rates against the tick before.
struct Row {
    std::string name;
    std::optional<double> rate;  // versions per second; unknown on first sight or unmapped
    std::optional<std::uint32_t> version;
    std::optional<std::uint32_t> waiters;            // sleeping in wait_for_change
    std::optional<std::uint32_t> lock_recoveries;    // lock taken over from a dead owner
    std::optional<std::uint32_t> stripe_recoveries;  // writes healed after a dead writer
    std::size_t attachments = 0;  // this mmmctl's own read-only mapping not counted
    std::size_t writable = 0;
    std::optional<pid_t> writer_pid;  // single-writer chunks only; 0: lease free
    std::uint64_t bytes = 0;
    std::string state;
};

Sample take_sample(mmm::Client& client, LiveCounters& counters, const std::string& filter) {
    Sample s;
    s.stats = client.stats();
    for (auto& c : client.list())
        if (filter.empty() || ::fnmatch(filter.c_str(), c.name.c_str(), 0) == 0)
            s.chunks.push_back(std::move(c));
    std::vector<std::string> names;
    names.reserve(s.chunks.size());
    for (const auto& c : s.chunks) {
        s.counters.push_back(counters.read(c));
        names.push_back(c.name);
    }
    counters.keep_only(names);
    struct statvfs fs {};
    if (!s.stats.segment_dir.empty() && ::statvfs(s.stats.segment_dir.c_str(), &fs) == 0) {
        s.shm_free = std::uint64_t{fs.f_bavail} * fs.f_frsize;
        s.shm_total = std::uint64_t{fs.f_blocks} * fs.f_frsize;
    }
    s.at = Clock::now();
    return s;
}

double seconds_between(const Sample& before, const Sample& after) {
    return std::chrono::duration<double>(after.at - before.at).count();
}

std::vector<Row> rows_of(const Sample& before, const Sample& now, TopSort sort) {
    std::map<std::string, std::pair<std::uint64_t, std::optional<std::uint32_t>>> earlier;
    for (std::size_t i = 0; i < before.chunks.size(); ++i)
        earlier[before.chunks[i].name] = {
            before.chunks[i].generation,
            before.counters[i] ? std::optional(before.counters[i]->version) : std::nullopt};
    const double dt = seconds_between(before, now);
    const pid_t self = ::getpid();
    std::vector<Row> rows;
    rows.reserve(now.chunks.size());
    for (std::size_t i = 0; i < now.chunks.size(); ++i) {
        const auto& c = now.chunks[i];
        Row r;
        r.name = c.name;
        if (const auto& live = now.counters[i]) {
            r.version = live->version;
            r.waiters = live->waiters;
            r.lock_recoveries = live->lock_recoveries;
            r.stripe_recoveries = live->stripe_recoveries;
        }
        auto it = earlier.find(c.name);
        if (it != earlier.end() && it->second.first == c.generation && it->second.second &&
            r.version && dt > 0)
            r.rate = versions_between(*it->second.second, *r.version) / dt;
        for (const auto& a : c.attachments) {
            if (a.pid == self) continue;
            ++r.attachments;
            r.writable += a.writable ? 1 : 0;
        }
        if (c.single_writer) r.writer_pid = c.writer_pid;
        r.bytes = c.bytes;
        r.state = std::string(mmm::to_string(c.state));
        rows.push_back(std::move(r));
    }
    auto by_name = [](const Row& a, const Row& b) { return a.name < b.name; };
    if (sort == TopSort::rate)
        std::stable_sort(rows.begin(), rows.end(), [](const Row& a, const Row& b) {
            return a.rate.value_or(-1.0) > b.rate.value_or(-1.0);
        });
    else if (sort == TopSort::bytes)
        std::stable_sort(rows.begin(), rows.end(),
                         [](const Row& a, const Row& b) { return a.bytes > b.bytes; });
    else
        std::stable_sort(rows.begin(), rows.end(), by_name);
    return rows;
}

double requests_per_second(const Sample& before, const Sample& now) {
    const double dt = seconds_between(before, now);
    if (dt <= 0 || now.stats.requests < before.stats.requests) return 0;
    return static_cast<double>(now.stats.requests - before.stats.requests) / dt;
}

std::string or_dash(const std::optional<std::uint32_t>& v) {
    return v ? std::to_string(*v) : std::string("-");
}

std::string fixed1(double value) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.1f", value);
    return buf;
}

std::string header_line(const Sample& before, const Sample& now) {
    const auto& s = now.stats;
    std::string line = "mmm top " + iso8601_utc(std::chrono::system_clock::now());
    line += "  chunks " + std::to_string(s.chunks);
    if (s.quarantined > 0) line += " (" + std::to_string(s.quarantined) + " quarantined)";
    line += "  bytes " + format_bytes(s.bytes) + " of " +
            (s.max_bytes == 0 ? std::string("unlimited") : format_bytes(s.max_bytes));
    line += "  shm free " + (now.shm_free ? format_bytes(*now.shm_free) + " of " +
                                                format_bytes(now.shm_total.value_or(0))
                                          : std::string("unknown"));
    line += "  requests " + fixed1(requests_per_second(before, now)) + "/s";
    line += "  connections " + std::to_string(s.connections);
    return line;
}

// Rows that fit the terminal below the header and the titles; 0: all (unknown size).
std::size_t terminal_rows() {
    struct winsize ws {};
    if (::ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) != 0 || ws.ws_row < 4) return 0;
    return ws.ws_row - 3u;
}

void print_text(const Sample& before, const Sample& now, const std::vector<Row>& rows,
                bool terminal, const Invocation& inv) {
    std::string out;
    // Home and clear: the next tick is drawn over this one.
    if (terminal) out += "\x1b[H\x1b[2J";
    out += header_line(before, now) + '\n';
    using A = Table::Align;
    Table table({{"NAME"},
                 {"RATE/S", A::right},
                 {"VERSION", A::right},
                 {"ATTACHED", A::right},
                 {"WRITERS", A::right},
                 {"WAITERS", A::right},
                 {"LEASE", A::right},
                 {"RECOVERED", A::right},
                 {"BYTES", A::right},
                 {"STATE"}});
    const std::size_t fit = terminal ? terminal_rows() : 0;
    const std::size_t shown = fit == 0 ? rows.size() : std::min(rows.size(), fit);
    for (std::size_t i = 0; i < shown; ++i) {
        const Row& r = rows[i];
        table.add_row({mmm::detail::printable(r.name), r.rate ? fixed1(*r.rate) : "-",
                       or_dash(r.version), std::to_string(r.attachments),
                       std::to_string(r.writable), or_dash(r.waiters),
                       !r.writer_pid        ? std::string("-")
                       : *r.writer_pid == 0 ? std::string("free")
                                            : std::to_string(*r.writer_pid),
                       r.lock_recoveries ? std::to_string(*r.lock_recoveries) + "/" +
                                               std::to_string(r.stripe_recoveries.value_or(0))
                                         : std::string("-"),
                       std::to_string(r.bytes), r.state});
    }
    std::ostringstream text;
    if (rows.empty())
        text << (inv.filter.empty() ? "no chunks\n" : "no chunks match '" + inv.filter + "'\n");
    else
        table.print(text);
    out += text.str();
    if (shown < rows.size()) out += "... " + std::to_string(rows.size() - shown) + " more\n";
    // Piped: ticks are separated by a blank line.
    if (!terminal) out += '\n';
    std::cout << out << std::flush;
}

void print_json_tick(const Sample& before, const Sample& now, const std::vector<Row>& rows) {
    const auto& s = now.stats;
    Json tick = {
        {"time", iso8601_utc(std::chrono::system_clock::now())},
        {"interval_s", seconds_between(before, now)},
        {"chunks", s.chunks},
        {"quarantined", s.quarantined},
        {"bytes", s.bytes},
        {"max_bytes", s.max_bytes},
        {"segment_dir", s.segment_dir},
        {"shm_free_bytes", or_null(now.shm_free)},
        {"shm_total_bytes", or_null(now.shm_total)},
        {"requests_per_second", requests_per_second(before, now)},
        {"connections", s.connections},
    };
    Json list = Json::array();
    for (const Row& r : rows) {
        list.push_back({
            {"name", r.name},
            {"rate", or_null(r.rate)},
            {"version", or_null(r.version)},
            {"attachments", r.attachments},
            {"writable_attachments", r.writable},
            {"waiters", or_null(r.waiters)},
            {"lock_recoveries", or_null(r.lock_recoveries)},
            {"stripe_recoveries", or_null(r.stripe_recoveries)},
            {"writer_pid", or_null(r.writer_pid)},
            {"bytes", r.bytes},
            {"state", r.state},
        });
    }
    tick["rows"] = std::move(list);
    std::cout << tick.dump(-1, ' ', false, Json::error_handler_t::replace) << '\n' << std::flush;
}

}  // namespace

void run_top(mmm::Client& client, const Invocation& inv) {
    const bool terminal = !inv.json && ::isatty(STDOUT_FILENO) == 1;
    const auto interval =
        std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(inv.interval_s));
    LiveCounters counters(client, true);
    Sample before = take_sample(client, counters, inv.filter);
    const Clock::time_point start = before.at;
    for (std::uint64_t tick = 1; !inv.iterations || tick <= *inv.iterations; ++tick) {
        // On a fixed beat: a slow tick does not shift the ones after it.
        std::this_thread::sleep_until(start + interval * static_cast<Clock::rep>(tick));
        Sample now = take_sample(client, counters, inv.filter);
        const auto rows = rows_of(before, now, inv.sort);
        if (inv.json)
            print_json_tick(before, now, rows);
        else
            print_text(before, now, rows, terminal, inv);
        if (!std::cout) throw mmm::Error(mmm::Errc::io_error, {}, "cannot write to stdout");
        before = std::move(now);
    }
}

}  // namespace mmmctl
