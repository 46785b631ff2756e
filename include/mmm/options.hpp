// Options and plain value types of the mmm API: what create and open accept,
// and what list/info/stats return. All are plain values, safe to copy across threads.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace mmm {

// Who may do what with a chunk, as Unix permission bits checked by mmmd
// against the peer credentials of the socket (owner = creating uid).
namespace mode {
inline constexpr std::uint32_t owner_only = 0600;  // default
inline constexpr std::uint32_t group_read = 0640;
inline constexpr std::uint32_t group_read_write = 0660;
inline constexpr std::uint32_t others_read = 0644;
inline constexpr std::uint32_t all_read_write = 0666;
}  // namespace mode

// persistent: lives until an explicit remove (the default).
// session: mmmd deletes it when the creating client disconnects or dies.
enum class Lifetime : std::uint8_t { persistent = 0, session = 1 };

struct CreateOptions {
    std::uint32_t mode = mode::owner_only;
    Lifetime lifetime = Lifetime::persistent;
    bool populate = false;  // pre-fault every page at map time (MAP_POPULATE)
    // At most one writable mapping at a time: the creator's, then whoever opens
    // it writable after the holder lets go (Errc::busy meanwhile). The holder's
    // checked writes are plain stores, no atomic read-modify-write
    // (docs/CONCURRENCY.md).
    bool single_writer = false;
};

struct OpenOptions {
    // How long open waits for a chunk of that name to be created; 0 = fail at once.
    std::chrono::milliseconds wait{0};
    bool populate = false;
};

struct ClientOptions {
    // Empty: $MMM_RUNTIME_DIR, else $XDG_RUNTIME_DIR/mmm, else /tmp/mmm-<uid>.
    std::string runtime_dir;
    // Limit on one control request's round trip (not on waits the request asks for).
    std::chrono::milliseconds request_timeout{10000};
    // How long a request checks for mmmd's reply without sleeping (yielding the
    // CPU between checks) before it sleeps in poll. mmmd answers most requests
    // within microseconds, and waking a sleeping thread costs 10-30 us on a
    // virtual machine; 0 sleeps at once (the least CPU, the slowest round trip).
    std::chrono::microseconds reply_spin{50};
};

enum class ChunkState : std::uint8_t { creating = 0, ready = 1, deleted = 2, quarantined = 3 };
std::string_view to_string(ChunkState state) noexcept;
std::string_view to_string(Lifetime lifetime) noexcept;

// A process that has a chunk mapped, as mmmd knows it from its socket.
struct Attachment {
    pid_t pid = 0;
    uid_t uid = 0;
    bool writable = false;
};

struct ChunkInfo {
    std::string name;
    std::string type_name;  // the creator's element type, as mmm names it
    std::uint64_t type_fingerprint = 0;
    std::uint64_t element_size = 0;
    std::uint64_t element_align = 0;
    std::uint64_t count = 0;
    std::uint64_t bytes = 0;          // count * element_size
    std::uint64_t segment_bytes = 0;  // header + elements, as reserved in /dev/shm
    std::uint32_t mode = 0;
    uid_t owner_uid = 0;
    gid_t owner_gid = 0;
    pid_t creator_pid = 0;
    Lifetime lifetime = Lifetime::persistent;
    ChunkState state = ChunkState::ready;
    std::chrono::system_clock::time_point created{};
    std::uint64_t generation = 0;  // unique per create; a re-created name has a new one
    std::string segment;           // the POSIX shm name, for diagnostics
    std::string problem;           // why a quarantined segment was refused
    bool single_writer = false;    // created with CreateOptions::single_writer
    pid_t writer_pid = 0;          // the write lease holder of a single-writer chunk; 0: free
    std::vector<Attachment> attachments;
};

struct Stats {
    pid_t daemon_pid = 0;
    std::string runtime_dir;
    std::string name_space;  // prefix of every segment of this daemon
    std::uint64_t chunks = 0;
    std::uint64_t quarantined = 0;
    std::uint64_t bytes = 0;  // segment bytes reserved by all chunks
    std::uint64_t max_bytes = 0;
    std::uint64_t max_chunks = 0;
    std::uint64_t max_chunk_bytes = 0;
    std::uint64_t connections = 0;
    std::uint64_t requests = 0;
    std::uint64_t uptime_ms = 0;
};

}  // namespace mmm
