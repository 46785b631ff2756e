#include "commands.hpp"
#include "live_counters.hpp"
#include "prometheus_text.hpp"

#include <mmm/detail/text.hpp>
#include <mmm/error.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <iostream>
#include <string>

namespace mmmctl {
namespace {

std::string errno_text(int err) {
    return std::strerror(err);
}

[[noreturn]] void fail_io(const std::string& what, const std::string& path, int err) {
    throw mmm::Error(mmm::Errc::io_error, {}, what + " " + path + ": " + errno_text(err),
                     "check that the directory exists and that this user may write to it");
}

// `path` replaced in one step: a reader (node_exporter) sees the old file or
// the new one, never half of it. The temporary file is a dot file without the
// .prom suffix, so the textfile collector never reads it.
void write_atomically(const std::string& path, const std::string& text) {
    const auto slash = path.rfind('/');
    const std::string dir = slash == std::string::npos ? "" : path.substr(0, slash + 1);
    const std::string base = slash == std::string::npos ? path : path.substr(slash + 1);
    std::string tmp = dir + "." + base + ".XXXXXX";
    const int fd = ::mkstemp(tmp.data());
    if (fd < 0) fail_io("cannot create a temporary file for", path, errno);
    auto give_up = [&](const char* what) {
        const int err = errno;
        ::close(fd);
        ::unlink(tmp.c_str());
        fail_io(what, path, err);
    };
    // mkstemp makes it 0600; metrics are for a collector running as another user.
    if (::fchmod(fd, 0644) != 0) give_up("cannot set the mode of the temporary file for");
    std::size_t done = 0;
    while (done < text.size()) {
        const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) give_up("cannot write the temporary file for");
        done += static_cast<std::size_t>(n);
    }
    if (::fsync(fd) != 0) give_up("cannot flush the temporary file for");
    if (::close(fd) != 0) {
        const int err = errno;
        ::unlink(tmp.c_str());
        fail_io("cannot write the temporary file for", path, err);
    }
    if (::rename(tmp.c_str(), path.c_str()) != 0) {
        const int err = errno;
        ::unlink(tmp.c_str());
        fail_io("cannot rename the temporary file to", path, err);
    }
}

// The name as a label value: printable ASCII (a quarantined segment found in
// /dev/shm may be named with any bytes; the format wants UTF-8).
std::string label_of(const mmm::ChunkInfo& c) {
    return mmm::detail::printable(c.name);
}

std::string metrics_text(mmm::Client& client) {
    const mmm::Stats s = client.stats();
    const auto chunks = client.list();
    PrometheusText p;
    using L = PrometheusText::Labels;
    auto gauge = [&](const char* name, const char* help, std::uint64_t value) {
        p.family(name, "gauge", help);
        p.sample(name, {}, value);
    };
    gauge("mmm_chunks", "Chunks mmmd serves (quarantined ones included).", s.chunks);
    gauge("mmm_quarantined_chunks", "Chunks mmmd refused to adopt (mmmctl list says why).",
          s.quarantined);
    gauge("mmm_bytes", "Segment bytes reserved by all chunks.", s.bytes);
    gauge("mmm_max_bytes", "The --max-bytes quota; 0: unlimited.", s.max_bytes);
    gauge("mmm_max_chunks", "The --max-chunks quota; 0: unlimited.", s.max_chunks);
    gauge("mmm_max_chunk_bytes", "The --max-chunk-bytes quota; 0: unlimited.", s.max_chunk_bytes);
    gauge("mmm_connections", "Client connections open now.", s.connections);
    p.family("mmm_requests_total", "counter", "Requests mmmd has served since it started.");
    p.sample("mmm_requests_total", {}, s.requests);
    p.family("mmm_uptime_seconds", "gauge", "Seconds since mmmd started.");
    p.sample("mmm_uptime_seconds", {}, static_cast<double>(s.uptime_ms) / 1000.0);

    // One family at a time, every chunk in each (the format wants a family's
    // samples together).
    auto per_chunk = [&](const char* name, const char* type, const char* help, auto value_of) {
        p.family(name, type, help);
        for (const auto& c : chunks) value_of(c, L{{"name", label_of(c)}});
    };
    auto plain = [&](const char* name, const char* help, auto field) {
        per_chunk(name, "gauge", help, [&](const mmm::ChunkInfo& c, const L& l) {
            p.sample(name, l, static_cast<std::uint64_t>(field(c)));
        });
    };
    plain("mmm_chunk_bytes", "Bytes of the chunk's elements (count * element size).",
          [](const mmm::ChunkInfo& c) { return c.bytes; });
    plain("mmm_chunk_segment_bytes",
          "Bytes of the chunk's segment (header and max_count elements).",
          [](const mmm::ChunkInfo& c) { return c.segment_bytes; });
    plain("mmm_chunk_count", "Elements the chunk holds now.",
          [](const mmm::ChunkInfo& c) { return c.count; });
    plain("mmm_chunk_max_count", "Elements a resize may reach (count for a fixed-size chunk).",
          [](const mmm::ChunkInfo& c) { return c.max_count; });
    plain("mmm_chunk_attachments", "Processes that have the chunk mapped.",
          [](const mmm::ChunkInfo& c) { return c.attachments.size(); });
    plain("mmm_chunk_writable_attachments", "Processes that have the chunk mapped for writing.",
          [](const mmm::ChunkInfo& c) {
              std::size_t n = 0;
              for (const auto& a : c.attachments) n += a.writable ? 1 : 0;
              return n;
          });
    plain("mmm_chunk_created_seconds", "When the chunk was created, in seconds since the epoch.",
          [](const mmm::ChunkInfo& c) {
              return std::chrono::duration_cast<std::chrono::seconds>(c.created.time_since_epoch())
                  .count();
          });
    per_chunk("mmm_chunk_state", "gauge",
              "1 for the chunk's state (creating, ready, deleted, quarantined).",
              [&](const mmm::ChunkInfo& c, L l) {
                  l.emplace_back("state", std::string(mmm::to_string(c.state)));
                  p.sample("mmm_chunk_state", l, std::uint64_t{1});
              });
    p.family("mmm_chunk_writer_pid", "gauge",
             "The pid holding a single-writer chunk's write lease; 0: free. Only single-writer "
             "chunks have it.");
    for (const auto& c : chunks)
        if (c.single_writer)
            p.sample("mmm_chunk_writer_pid", L{{"name", label_of(c)}},
                     static_cast<std::uint64_t>(c.writer_pid));
    // These live in the segment, not in what mmmd reports: each chunk is mapped
    // read-only for a moment (absent for a chunk this user cannot map). A
    // family's samples must stand together, so all are read first.
    LiveCounters reader(client, false);
    std::vector<std::optional<mmm::ChunkActivity>> live;
    live.reserve(chunks.size());
    for (const auto& c : chunks) live.push_back(reader.read(c));
    auto from_segment = [&](const char* name, const char* type, const char* help,
                            std::uint32_t mmm::ChunkActivity::*field) {
        p.family(name, type, help);
        for (std::size_t i = 0; i < chunks.size(); ++i)
            if (live[i])
                p.sample(name, L{{"name", label_of(chunks[i])}}, std::uint64_t{(*live[i]).*field});
    };
    // version() wraps at 2^32, which rate() takes for a reset.
    from_segment("mmm_chunk_version_total", "counter",
                 "Writes to the chunk (its version(); wraps at 2^32).",
                 &mmm::ChunkActivity::version);
    from_segment("mmm_chunk_waiters", "gauge", "Threads sleeping in wait_for_change on the chunk.",
                 &mmm::ChunkActivity::waiters);
    from_segment("mmm_chunk_lock_recoveries_total", "counter",
                 "Times the chunk's lock was taken over from a holder that died.",
                 &mmm::ChunkActivity::lock_recoveries);
    from_segment("mmm_chunk_stripe_recoveries_total", "counter",
                 "Times a writer died mid-write and its element was healed.",
                 &mmm::ChunkActivity::stripe_recoveries);
    return p.text();
}

}  // namespace

void run_metrics(mmm::Client& client, const Invocation& inv) {
    const std::string text = metrics_text(client);
    if (inv.output.empty()) {
        std::cout << text << std::flush;
        if (!std::cout) throw mmm::Error(mmm::Errc::io_error, {}, "cannot write to stdout");
        return;
    }
    write_atomically(inv.output, text);
}

}  // namespace mmmctl
