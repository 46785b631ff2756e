// mmmd: the registry daemon of mmm. Parses the command line, takes the runtime
// directory and its instance lock, adopts the namespace's chunks, and serves.
#include "config.hpp"
#include "daemonize.hpp"
#include "event_loop.hpp"
#include "registry.hpp"
#include "registry_log.hpp"
#include "runtime_dir.hpp"
#include "segment_store.hpp"
#include "server.hpp"
#include "systemd_notify.hpp"

#include "names.hpp"

#include <grp.h>
#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <sys/un.h>
#include <unistd.h>
#include <CLI/CLI.hpp>
#include <boost/asio/io_context.hpp>

#include <csignal>
#include <cstdio>
#include <filesystem>
#include <stdexcept>
#include <vector>

namespace {

using mmmd::Config;

std::uint32_t parse_mode(const std::string& text) {
    std::size_t used = 0;
    unsigned long mode = 0;
    try {
        mode = std::stoul(text, &used, 8);
    } catch (const std::exception&) {
        used = 0;
    }
    if (used != text.size() || text.empty() || mode > 0777)
        throw CLI::ValidationError("--socket-mode", "'" + text + "' is not an octal mode <= 0777");
    return static_cast<std::uint32_t>(mode);
}

gid_t parse_group(const std::string& name) {
    group gr{};
    group* found = nullptr;
    std::vector<char> buf(16384);
    if (::getgrnam_r(name.c_str(), &gr, buf.data(), buf.size(), &found) != 0 || found == nullptr)
        throw CLI::ValidationError("--group", "no group named '" + name + "'");
    return gr.gr_gid;
}

// Returns the exit code when parsing ends the program (help, errors), else -1.
int parse(int argc, char** argv, Config& config) {
    CLI::App app{"mmmd: the registry daemon of mmm (named, typed shared-memory chunks)", "mmmd"};
    std::string socket_mode = "0600";
    std::string group;
    auto& limits = config.limits;
    app.add_option("--runtime-dir", config.runtime_dir,
                   "directory of the socket, lock and pid file (default: $MMM_RUNTIME_DIR, "
                   "$XDG_RUNTIME_DIR/mmm or /tmp/mmm-<uid>)");
    app.add_option("--log-level", config.log_level, "trace, debug, info, warn, error or off")
        ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "off"}))
        ->capture_default_str();
    app.add_flag("--foreground", config.foreground, "stay in the foreground and log to stderr");
    app.add_option("--max-bytes", limits.max_bytes,
                   "total segment bytes of all chunks (0 = unlimited)")
        ->transform(CLI::AsSizeValue(false));
    app.add_option("--max-chunks", limits.max_chunks, "number of chunks (0 = unlimited)");
    app.add_option("--max-chunk-bytes", limits.max_chunk_bytes,
                   "segment bytes of one chunk (0 = unlimited)")
        ->transform(CLI::AsSizeValue(false));
    app.add_option("--max-connections-per-uid", limits.max_connections_per_uid,
                   "connections one uid may hold")
        ->capture_default_str();
    app.add_option("--max-open-per-connection", limits.max_open_per_connection,
                   "chunks one connection may have open")
        ->capture_default_str();
    app.add_option("--socket-mode", socket_mode, "permissions of the socket, in octal")
        ->capture_default_str();
    app.add_option("--group", group, "group of the socket; the runtime directory becomes 0710");
    app.add_option("--huge-dir", config.huge_dir,
                   "a tmpfs mounted with huge pages (huge=within_size): chunks of 2 MiB and more "
                   "live there (docs/DEPLOYMENT.md)");
    std::int64_t check_interval_ms = config.check_interval.count();
    app.add_option("--check-interval-ms", check_interval_ms,
                   "how often to check a share of the segments for damage by writers "
                   "(0 = never)")
        ->check(CLI::Range(std::int64_t{0}, std::int64_t{3600000}))
        ->capture_default_str();
    std::int64_t busy_poll_us = config.busy_poll.count();
    app.add_option("--busy-poll-us", busy_poll_us,
                   "after handling requests, look for the next one without sleeping for this "
                   "many microseconds (0 = sleep at once: least CPU, slowest round trips)")
        ->check(CLI::Range(std::int64_t{0}, std::int64_t{1000000}))
        ->capture_default_str();
    try {
        app.parse(argc, argv);
        config.socket_mode = parse_mode(socket_mode);
        if (!group.empty()) config.group = parse_group(group);
        config.busy_poll = std::chrono::microseconds(busy_poll_us);
        config.check_interval = std::chrono::milliseconds(check_interval_ms);
    } catch (const CLI::ParseError& e) {
        return app.exit(e);
    }
    return -1;
}

void setup_logging(const Config& config, bool to_file, const std::string& dir) {
    std::shared_ptr<spdlog::logger> logger;
    if (to_file)
        logger = spdlog::basic_logger_mt("mmmd", dir + "/mmmd.log");
    else
        logger = spdlog::stderr_color_mt("mmmd");
    logger->set_level(spdlog::level::from_str(config.log_level));
    logger->flush_on(spdlog::level::info);  // control-plane events are rare: keep the log current
    spdlog::set_default_logger(logger);
}

std::string runtime_dir_of(const Config& config) {
    std::string dir =
        config.runtime_dir.empty() ? mmm::detail::default_runtime_dir() : config.runtime_dir;
    // Absolute, since a daemon changes to "/".
    return std::filesystem::absolute(dir).lexically_normal().string();
}

int run(const Config& config, mmmd::Daemonizer& daemonizer) {
    const std::string dir = runtime_dir_of(config);
    const std::string socket = mmm::detail::socket_path(dir);
    if (socket.size() >= sizeof(sockaddr_un::sun_path))
        throw std::runtime_error("socket path " + socket +
                                 " is too long for a Unix socket; use a "
                                 "shorter --runtime-dir");
    mmmd::prepare_runtime_dir(dir, config.group);
    mmmd::InstanceLock instance(dir);
    setup_logging(config, daemonizer.detached(), dir);
    instance.write_pid_file();

    const std::string name_space = mmm::detail::namespace_for(dir);
    // Before the store: its reaper thread may still post completions into it
    // while the store is destroyed (they are dropped, never run).
    boost::asio::io_context io;
    mmmd::SegmentStore store(name_space, "/dev/shm", config.huge_dir);
    mmmd::RegistryLog log(store.log_dir_fd());
    mmmd::Registry registry(store, log, config.limits, ::geteuid());
    auto orphans = registry.adopt();

    {
        mmmd::Server server(io, registry, config,
                            {dir, name_space, store.dir(false),
                             store.has_huge_dir() ? store.dir(true) : std::string(),
                             std::chrono::steady_clock::now()},
                            socket);
        server.listen();
        server.watch_creators(orphans);
        server.start();
        spdlog::info("mmmd {} listening on {} (pid {}, segments in {})", MMM_VERSION, socket,
                     ::getpid(), store.dir(false));
        daemonizer.ready();
        mmmd::SystemdReadiness systemd("listening on " + socket);  // READY=1; STOPPING=1 at the end
        mmmd::run_event_loop(io, config.busy_poll);
    }
    if (registry.chunk_count() == 0 && registry.quarantined_count() == 0)
        store.remove_directories_if_empty();
    spdlog::info("mmmd stopped");
    return 0;
}

// GCC 12's ThreadSanitizer sets up a thread's signal state lazily, on the
// thread's first blocking call, and drops a signal that lands while it does
// (later TSan versions install that state with a compare-and-swap). mmmd's
// first blocking call would be its first epoll_wait, just after the socket
// appears: the moment a test or an impatient admin sends SIGTERM, which then
// never arrives. One blocking call before any handler is installed moves the
// setup out of that window; builds without TSan do nothing here.
void settle_thread_sanitizer() {
#if defined(__SANITIZE_THREAD__)
    ::usleep(0);
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
    ::usleep(0);
#endif
#endif
}

}  // namespace

// The outer handler: what fails before the daemon runs (parsing, detaching)
// or while reporting a failure is said on stderr, never std::terminate.
int main(int argc, char** argv) try {
    Config config;
    if (int code = parse(argc, argv, config); code >= 0) return code;
    std::signal(SIGPIPE, SIG_IGN);
    mmmd::Daemonizer daemonizer;
    if (!config.foreground) daemonizer.detach();
    settle_thread_sanitizer();
    try {
        return run(config, daemonizer);
    } catch (const std::exception& e) {
        if (auto logger = spdlog::get("mmmd")) logger->error("{}", e.what());
        if (daemonizer.detached())
            daemonizer.failed(e.what());
        else
            std::fprintf(stderr, "mmmd: %s\n", e.what());
        return 1;
    }
} catch (const std::exception& e) {
    std::fprintf(stderr, "mmmd: %s\n", e.what());
    return 1;
} catch (...) {
    std::fprintf(stderr, "mmmd: failed with an unknown exception\n");
    return 1;
}
