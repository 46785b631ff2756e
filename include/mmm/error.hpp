// mmm::Error and mmm::Errc: every failure of the library, the daemon's replies
// and the admin tool is one of these codes, with the chunk's name and a hint
// that tells the user what to do next.
//
// Thread-safety: Error is an immutable value; copy it freely across threads.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>

namespace mmm {

// The numeric values travel on the wire (docs/PROTOCOL.md): append, never reorder.
enum class Errc : std::uint16_t {
    ok = 0,
    invalid_name = 1,        // name is not 1..128 of [A-Za-z0-9._-] or starts with '.'
    invalid_argument = 2,    // a bad count, mode, option or index
    size_overflow = 3,       // count * sizeof(T) does not fit the address space
    not_found = 4,           // no chunk of that name (or it was deleted)
    already_exists = 5,      // create of a name that exists
    type_mismatch = 6,       // open<T> with another T than the creator's
    permission_denied = 7,   // the chunk's mode or the daemon refuses this peer
    daemon_unavailable = 8,  // mmmd is not running or went away
    protocol_error = 9,      // malformed or incompatible message
    no_space = 10,           // /dev/shm cannot hold the chunk
    quota_exceeded = 11,     // --max-bytes / --max-chunks / --max-chunk-bytes
    corrupt_header = 12,     // a segment header failed validation
    timeout = 13,            // a wait ran out of time
    limit_exceeded = 14,     // per-uid connections, per-connection open chunks, or this
                             // process's open-file limit (RLIMIT_NOFILE)
    out_of_range = 15,       // index >= size()
    owner_died = 16,         // a writer died mid-write; the element may be torn
    io_error = 17,           // an unexpected system call failure (errno in message)
    internal = 18,           // a bug in mmm: please report it
    busy = 19,               // another process holds the single-writer chunk's write lease
};

// Short stable identifier of a code ("not_found"), as printed by mmmctl --json.
std::string_view to_string(Errc code) noexcept;

class Error : public std::runtime_error {
  public:
    Error(Errc code, std::string chunk, std::string message, std::string hint = {});

    Errc code() const noexcept { return code_; }
    // The chunk the failure is about; empty when it concerns no chunk.
    const std::string& chunk() const noexcept { return chunk_; }
    // What went wrong, without the name or the hint.
    const std::string& message() const noexcept { return message_; }
    // What to do next; may be empty.
    const std::string& hint() const noexcept { return hint_; }

  private:
    Errc code_;
    std::string chunk_;
    std::string message_;
    std::string hint_;
};

}  // namespace mmm
