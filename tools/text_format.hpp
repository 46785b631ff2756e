// Human-readable forms of the values mmmctl prints.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <iosfwd>
#include <string>
#include <string_view>

namespace mmmctl {

// "5s", "3m", "2h", "4d": the largest whole unit; negative (clock skew) is "0s".
std::string format_age(std::chrono::system_clock::duration age);
// "0600".
std::string format_mode(std::uint32_t mode);
// "4.0 KiB"; bytes below 1 KiB as "512 B".
std::string format_bytes(std::uint64_t bytes);
// The user's login name, else the uid in decimal.
const std::string& user_name(uid_t uid);
// mmmd reports the epoch when it cannot know (a quarantined segment's header is not trusted).
bool is_known(std::chrono::system_clock::time_point t);
// "2024-05-01T12:34:56.789Z".
std::string iso8601_utc(std::chrono::system_clock::time_point t);

// "key:             value": one line of `info` / `stats`, values aligned.
void print_field(std::ostream& out, std::string_view key, const std::string& value);

}  // namespace mmmctl
