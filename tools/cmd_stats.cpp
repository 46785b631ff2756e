#include "commands.hpp"
#include "json_output.hpp"
#include "text_format.hpp"

#include <chrono>
#include <iostream>

namespace mmmctl {
namespace {

// The daemon reports an unset quota as 0.
std::string limit(std::uint64_t value, bool is_bytes) {
    if (value == 0) return "unlimited";
    return is_bytes ? std::to_string(value) + " (" + format_bytes(value) + ")"
                    : std::to_string(value);
}

}  // namespace

void run_stats(mmm::Client& client, const Invocation& inv) {
    const mmm::Stats s = client.stats();
    if (inv.json) {
        print_json(stats_json(s));
        return;
    }
    using std::to_string;
    auto& out = std::cout;
    print_field(out, "daemon_pid", to_string(s.daemon_pid));
    print_field(out, "runtime_dir", s.runtime_dir);
    print_field(out, "name_space", s.name_space);
    print_field(out, "segment_dir", s.segment_dir);
    print_field(out, "huge_dir", s.huge_dir.empty() ? "-" : s.huge_dir);
    print_field(out, "chunks", to_string(s.chunks));
    print_field(out, "quarantined", to_string(s.quarantined));
    print_field(out, "bytes", to_string(s.bytes) + " (" + format_bytes(s.bytes) + ")");
    print_field(out, "max_bytes", limit(s.max_bytes, true));
    print_field(out, "max_chunks", limit(s.max_chunks, false));
    print_field(out, "max_chunk_bytes", limit(s.max_chunk_bytes, true));
    print_field(out, "connections", to_string(s.connections));
    print_field(out, "requests", to_string(s.requests));
    print_field(out, "uptime",
                format_age(std::chrono::milliseconds(s.uptime_ms)) + " (" + to_string(s.uptime_ms) +
                    " ms)");
}

}  // namespace mmmctl
