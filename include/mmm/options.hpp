// Options and plain value types of the mmm API: what create and open accept,
// and what list/info/stats return. All are plain values, safe to copy across threads.
#pragma once

#include <mmm/schema.hpp>

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

// Where a chunk's memory comes from when mmmd has a huge-page directory
// (mmmd --huge-dir, docs/DEPLOYMENT.md): automatic puts chunks of 2 MiB and
// more there; never and always decide for one chunk. Without a huge-page
// directory every chunk lives in /dev/shm, and `always` is an error.
enum class HugePages : std::uint8_t { automatic = 0, never = 1, always = 2 };

// An array of `count` elements (MemChunk<T>, AnyChunk), or a heap: a managed
// Boost.Interprocess segment of `count` bytes (mmm::Heap).
enum class ChunkKind : std::uint8_t { array = 0, heap = 1 };

struct CreateOptions {
    std::uint32_t mode = mode::owner_only;
    Lifetime lifetime = Lifetime::persistent;
    bool populate = false;  // pre-fault every page at map time (MAP_POPULATE)
    // At most one writable mapping at a time: the creator's, then whoever opens
    // it writable after the holder lets go (Errc::busy meanwhile). The holder's
    // checked writes are plain stores, no atomic read-modify-write
    // (docs/CONCURRENCY.md).
    bool single_writer = false;
    // A growable chunk: resize() may later take it up to this many elements
    // (every mapping reserves address space for them up front, so pointers
    // never move). 0: `count`, a chunk of fixed size.
    std::uint64_t max_count = 0;
    HugePages huge_pages = HugePages::automatic;
};

struct OpenOptions {
    // How long open waits for a chunk of that name to be created; 0 = fail at once.
    std::chrono::milliseconds wait{0};
    bool populate = false;
};

struct ClientOptions {
    // Empty: $MMM_RUNTIME_DIR if set; else the per-user daemon
    // ($XDG_RUNTIME_DIR/mmm, else /tmp/mmm-<uid>), then the system-wide one
    // in /run/mmm, the first whose trusted mmmd answers.
    std::string runtime_dir{};
    // Limit on one control request's round trip (not on waits the request asks for).
    std::chrono::milliseconds request_timeout{10000};
    // How long a request checks for mmmd's reply without sleeping (yielding the
    // CPU between checks) before it sleeps in poll. mmmd answers most requests
    // within microseconds, and waking a sleeping thread costs 10-30 us on a
    // virtual machine; 0 sleeps at once (the least CPU, the slowest round trip).
    std::chrono::microseconds reply_spin{50};
    // Besides this process's own user and root, the user whose mmmd this
    // client accepts (a name or a numeric uid). Empty: $MMM_DAEMON_USER, else
    // the system daemon's user `mmm` when it exists. The runtime directory,
    // the socket and the daemon's process must belong to one of them
    // (docs/SECURITY.md, "Clients verify the daemon").
    std::string daemon_user{};
};

enum class ChunkState : std::uint8_t { creating = 0, ready = 1, deleted = 2, quarantined = 3 };
std::string_view to_string(ChunkState state) noexcept;
std::string_view to_string(Lifetime lifetime) noexcept;
std::string_view to_string(ChunkKind kind) noexcept;
std::string_view to_string(HugePages huge_pages) noexcept;

// What a chunk's header counts, read live from a mapping (MemChunk<T>::activity,
// AnyChunk::activity): the words every process shares, not what mmmd reports.
struct ChunkActivity {
    std::uint32_t version = 0;          // version(): wraps at 2^32
    std::uint32_t waiters = 0;          // sleeping in wait_for_change now (all processes)
    std::uint32_t lock_recoveries = 0;  // times lock() took over from a dead owner
    std::uint32_t stripe_recoveries =
        0;  // times a writer died mid-write and its element was healed
};

// A process that has a chunk mapped, as mmmd knows it from its socket.
struct Attachment {
    pid_t pid = 0;
    uid_t uid = 0;
    bool writable = false;
};

struct ChunkInfo {
    std::string name;
    ChunkKind kind = ChunkKind::array;
    std::string type_name;  // the creator's element type, as mmm names it (may be empty)
    // A digest of type_name, size, alignment and schema: equal for equal types
    // under one mmm version, not stable from one version to the next.
    std::uint64_t type_fingerprint = 0;
    std::uint64_t element_size = 0;
    std::uint64_t element_align = 0;
    Schema schema;                    // what an element's bytes mean (opaque when unknown)
    std::uint64_t count = 0;          // elements now
    std::uint64_t max_count = 0;      // elements a resize may reach (== count: fixed size)
    std::uint64_t bytes = 0;          // count * element_size
    std::uint64_t segment_bytes = 0;  // header + max_count elements: the segment's length
    bool huge_pages = false;          // the segment lives in mmmd's huge-page directory
    std::uint32_t mode = 0;
    uid_t owner_uid = 0;
    gid_t owner_gid = 0;
    pid_t creator_pid = 0;
    Lifetime lifetime = Lifetime::persistent;
    ChunkState state = ChunkState::ready;
    std::chrono::system_clock::time_point created{};
    std::uint64_t generation = 0;  // unique per create; a re-created name has a new one
    std::string segment;           // the segment's file, for diagnostics
    std::string problem;           // why mmmd refuses to serve a quarantined chunk
    bool single_writer = false;    // created with CreateOptions::single_writer
    pid_t writer_pid = 0;          // the write lease holder of a single-writer chunk; 0: free
    std::vector<Attachment> attachments;
};

struct Stats {
    pid_t daemon_pid = 0;
    std::string runtime_dir{};
    std::string name_space;   // part of the name of this daemon's segment directories
    std::string segment_dir;  // where its segments live (/dev/shm/mmm.<name_space>)
    std::string huge_dir;     // its huge-page segment directory; empty: none
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
