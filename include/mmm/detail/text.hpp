// Small text helpers shared by the library, mmmd and mmmctl (which links the
// public library only). Not user API.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>

namespace mmm::detail {

// Permission bits as four octal digits: "0600".
inline std::string octal(std::uint32_t mode) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "0%03o", mode);
    return buf;
}

// Whether every byte is printable ASCII (0x20..0x7e).
inline bool is_printable_ascii(std::string_view s) {
    for (char c : s) {
        const auto b = static_cast<unsigned char>(c);
        if (b < 0x20 || b > 0x7e) return false;
    }
    return true;
}

// `s` with every byte outside printable ASCII (0x20..0x7e), and the backslash,
// escaped as \xHH, so text read from a segment or a socket can never drive a
// terminal (escape sequences) or break a line-based format.
inline std::string printable(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    for (char c : s) {
        const auto b = static_cast<unsigned char>(c);
        if (b >= 0x20 && b <= 0x7e && c != '\\') {
            out.push_back(c);
        } else {
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\x%02x", b);
            out += buf;
        }
    }
    return out;
}

}  // namespace mmm::detail
