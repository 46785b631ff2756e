#include "text_format.hpp"

#include <mmm/detail/text.hpp>

#include <pwd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <ctime>
#include <ostream>
#include <unordered_map>
#include <vector>

namespace mmmctl {

std::string format_age(std::chrono::system_clock::duration age) {
    using namespace std::chrono;
    const auto s = duration_cast<seconds>(age).count();
    if (s < 0) return "0s";
    if (s < 60) return std::to_string(s) + "s";
    if (s < 3600) return std::to_string(s / 60) + "m";
    if (s < 86400) return std::to_string(s / 3600) + "h";
    return std::to_string(s / 86400) + "d";
}

std::string format_mode(std::uint32_t mode) {
    return mmm::detail::octal(mode);
}

std::string format_bytes(std::uint64_t bytes) {
    static constexpr const char* kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
    if (bytes < 1024) return std::to_string(bytes) + " B";
    double value = static_cast<double>(bytes);
    std::size_t unit = 0;
    while (value >= 1024 && unit + 1 < std::size(kUnits)) {
        value /= 1024;
        ++unit;
    }
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.1f %s", value, kUnits[unit]);
    return buf;
}

namespace {
std::string lookup_user_name(uid_t uid) {
    long hint = ::sysconf(_SC_GETPW_R_SIZE_MAX);
    std::vector<char> buf(hint > 0 ? static_cast<std::size_t>(hint) : 1024);
    for (;;) {
        passwd pw{};
        passwd* found = nullptr;
        int err = ::getpwuid_r(uid, &pw, buf.data(), buf.size(), &found);
        if (err == ERANGE && buf.size() < (1u << 20)) {
            buf.resize(buf.size() * 2);
            continue;
        }
        if (err == 0 && found != nullptr && found->pw_name != nullptr) return found->pw_name;
        return std::to_string(uid);
    }
}
}  // namespace

const std::string& user_name(uid_t uid) {
    // getpwuid_r re-reads /etc/passwd each call: 6 syscalls per row of a
    // 100k-chunk list without this cache (docs/BENCHMARKS.md).
    static std::unordered_map<uid_t, std::string> cache;
    auto [it, inserted] = cache.try_emplace(uid);
    if (inserted) it->second = lookup_user_name(uid);
    return it->second;
}

bool is_known(std::chrono::system_clock::time_point t) {
    return t.time_since_epoch().count() != 0;
}

std::string iso8601_utc(std::chrono::system_clock::time_point t) {
    using namespace std::chrono;
    const auto since_epoch = t.time_since_epoch();
    const auto secs = floor<seconds>(since_epoch);
    const auto millis = duration_cast<milliseconds>(since_epoch - secs).count();
    // The date to the second, kept for the next call: the chunks of a list
    // were mostly made in the same few seconds, and gmtime_r + strftime per
    // row was a tenth of `mmmctl list --json` at a million chunks.
    thread_local std::int64_t last_secs = 0;
    thread_local std::string last_date;
    if (last_date.empty() || last_secs != secs.count()) {
        const std::time_t tt = static_cast<std::time_t>(secs.count());
        std::tm tm{};
        if (::gmtime_r(&tt, &tm) == nullptr) return std::to_string(secs.count()) + "s";
        char date[32];
        last_date.assign(date, std::strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%S", &tm));
        last_secs = secs.count();
    }
    const auto ms = static_cast<unsigned>(millis);  // 0..999
    const char frac[] = {'.', static_cast<char>('0' + ms / 100),
                         static_cast<char>('0' + ms / 10 % 10), static_cast<char>('0' + ms % 10),
                         'Z'};
    std::string out;
    out.reserve(last_date.size() + sizeof frac);
    out.append(last_date).append(frac, sizeof frac);
    return out;
}

void print_field(std::ostream& out, std::string_view key, const std::string& value) {
    constexpr std::size_t kKeyWidth = 18;
    out << key << ':'
        << std::string(key.size() + 1 < kKeyWidth ? kKeyWidth - key.size() - 1 : 1, ' ') << value
        << '\n';
}

}  // namespace mmmctl
