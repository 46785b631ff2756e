// mmm::Error and mmm::Errc: every failure of the library, the daemon's replies
// and the admin tool is one of these codes, with the chunk's name and a hint
// that tells the user what to do next. Errc plugs into std::error_code
// (mmm::error_category(), make_error_code), so `std::error_code ec = Errc::busy`
// and comparisons against a caught Error's code() work as for std::errc.
//
// Thread-safety: Error is an immutable value; copy it freely across threads.
// error_category() returns one object shared by all threads.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>

namespace mmm {

// The numeric values travel on the wire (docs/PROTOCOL.md): append, never
// reorder, and move kLastErrc to the new last one.
enum class Errc : std::uint16_t {
    ok = 0,
    invalid_name = 1,        // name is not 1..128 of [A-Za-z0-9._-] or starts with '.'
    invalid_argument = 2,    // a bad count, mode, option, index or an empty handle
    size_overflow = 3,       // count * sizeof(T) does not fit the address space
    not_found = 4,           // no chunk of that name (or it was deleted)
    already_exists = 5,      // create of a name that exists
    type_mismatch = 6,       // open<T> with another T than the creator's
    permission_denied = 7,   // the chunk's mode or the daemon refuses this peer
    daemon_unavailable = 8,  // mmmd is not running, went away, or is not one to trust
    protocol_error = 9,      // malformed or incompatible message
    no_space = 10,           // /dev/shm (or the huge-page directory) cannot hold the chunk
    quota_exceeded = 11,     // --max-bytes / --max-chunks / --max-chunk-bytes
    corrupt_header = 12,     // a chunk's description or segment failed validation
    timeout = 13,            // a wait ran out of time
    limit_exceeded = 14,     // per-uid connections, per-connection open chunks, or this
                             // process's open-file limit (RLIMIT_NOFILE)
    out_of_range = 15,       // index >= size(), or a resize beyond max_count
    owner_died = 16,         // a writer died mid-write; the element may be torn
    io_error = 17,           // an unexpected system call failure (errno in message)
    internal = 18,           // a bug in mmm: please report it
    busy = 19,               // another process holds the single-writer chunk's write lease
};
// The highest code in use: decoders accept 1..kLastErrc and nothing else.
inline constexpr Errc kLastErrc = Errc::busy;

// Short stable identifier of a code ("not_found"), as printed by mmmctl --json;
// "unknown" for a value that is not an Errc.
std::string_view to_string(Errc code) noexcept;

// The std::error_category of Errc: name() is "mmm", message(c) is to_string.
const std::error_category& error_category() noexcept;
inline std::error_code make_error_code(Errc code) noexcept {
    return {static_cast<int>(code), error_category()};
}

class Error : public std::runtime_error {
  public:
    Error(Errc code, std::string chunk, std::string message, std::string hint = {});

    Errc code() const noexcept { return code_; }
    // The code as a std::error_code (category mmm::error_category()).
    std::error_code error_code() const noexcept { return make_error_code(code_); }
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

template <>
struct std::is_error_code_enum<mmm::Errc> : std::true_type {};
