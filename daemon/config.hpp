// mmmd's settings, as parsed from the command line.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

namespace mmmd {

// 0 means unlimited for the byte and chunk quotas.
struct Limits {
    std::uint64_t max_bytes = 0;
    std::uint64_t max_chunks = 0;
    std::uint64_t max_chunk_bytes = 0;
    std::uint64_t max_connections_per_uid = 64;
    std::uint64_t max_open_per_connection = 4096;
};

struct Config {
    std::string runtime_dir;
    std::string log_level = "info";
    bool foreground = false;
    Limits limits;
    std::uint32_t socket_mode = 0600;
    std::optional<gid_t> group;  // --group: socket group, runtime dir 0710
    // --busy-poll-us: how long to look for the next request without sleeping.
    std::chrono::microseconds busy_poll{50};
    // --huge-dir: a tmpfs mounted with huge pages for big chunks; empty: none.
    std::string huge_dir;
    // --check-interval-ms: how often mmmd checks a share of the segments for
    // what writers may have done to them (0: never).
    std::chrono::milliseconds check_interval{1000};
};

}  // namespace mmmd
