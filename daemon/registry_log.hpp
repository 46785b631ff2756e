// mmmd's truth about its chunks: an append-only log of chunk records in the
// namespace's private segment directory (/dev/shm/mmm.<ns>/.registry), where
// no client can write. A client with a writable chunk can scribble on the
// chunk's segment, header included; it cannot touch this file, so whether a
// chunk exists, whose it is, its mode, lifetime, type, schema and count are
// decided here, and a restarted mmmd rebuilds its registry from it alone.
//
//   file    = "MMMREG01" (8 bytes) entry*
//   entry   = u32 payload length, u32 checksum (FNV-1a of the payload, low
//             32 bits), payload
//   payload = u8 1 (put), chunk record (src/chunk_record.hpp)
//           | u8 2 (erase), str name, u64 generation
//
// A put replaces the record of its name; an erase removes it if the
// generation matches. The log is rewritten with only the live records when it
// has doubled since the last rewrite (a new file renamed over the old one, so
// a crash leaves one or the other whole). An entry cut short by a crash ends
// the replay; the file is cut back to the last whole entry.
#pragma once

#include "chunk_record.hpp"
#include "unique_fd.hpp"

#include <cstdint>
#include <functional>
#include <map>
#include <span>
#include <string>
#include <vector>

namespace mmmd {

class RegistryLog {
  public:
    // Opens (or creates, 0600) the log in the directory `dir_fd`.
    explicit RegistryLog(int dir_fd);

    struct Replayed {
        std::map<std::string, mmm::detail::ChunkRecord> records;
        std::vector<std::string> problems;  // what was wrong, for the log
    };
    // Reads the whole log: the live records.
    Replayed replay();

    void put(const mmm::detail::ChunkRecord& record);
    void erase(const std::string& name, std::uint64_t generation);

    // Whether the log has grown enough since its last rewrite to be worth rewriting.
    bool wants_compaction() const;
    // Rewrites the log with the records `each` hands to its visitor.
    using EachRecord =
        std::function<void(const std::function<void(const mmm::detail::ChunkRecord&)>&)>;
    void compact(const EachRecord& each);

    std::uint64_t bytes() const { return size_; }

  private:
    void append(const std::vector<std::byte>& payload);

    int dir_fd_;
    mmm::detail::UniqueFd fd_;
    std::uint64_t size_ = 0;
    std::uint64_t size_after_compaction_ = 0;
};

// The testable core of the log's format (fuzzed): entries decoded from bytes.
struct LogEntry {
    bool put = true;
    mmm::detail::ChunkRecord record;  // put
    std::string name;                 // erase
    std::uint64_t generation = 0;     // erase
};
// Decodes the entries of a log file's bytes; stops at the first entry that is
// cut short or fails its checksum or decoding (`valid_bytes` says where).
std::vector<LogEntry> decode_log(std::span<const std::byte> file, std::uint64_t& valid_bytes,
                                 std::vector<std::string>& problems);
std::vector<std::byte> encode_log_entry(const LogEntry& entry);
// An entry around any payload (length and checksum in front of it).
std::vector<std::byte> frame_log_payload(const std::vector<std::byte>& payload);
inline constexpr char kLogMagic[8] = {'M', 'M', 'M', 'R', 'E', 'G', '0', '1'};

}  // namespace mmmd
