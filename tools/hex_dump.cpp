#include "hex_dump.hpp"

#include <algorithm>
#include <cstdio>

namespace mmmctl {
namespace {

constexpr std::size_t kBytesPerLine = 16;
constexpr char kDigits[] = "0123456789abcdef";

void append_hex(std::string& out, std::byte b) {
    const auto v = std::to_integer<unsigned>(b);
    out.push_back(kDigits[v >> 4]);
    out.push_back(kDigits[v & 0xf]);
}

// Bytes grouped in pairs, as xxd prints them.
std::string hex_column(std::span<const std::byte> bytes) {
    std::string out;
    for (std::size_t i = 0; i < bytes.size(); ++i) {
        if (i > 0 && i % 2 == 0) out.push_back(' ');
        append_hex(out, bytes[i]);
    }
    return out;
}

std::string ascii_column(std::span<const std::byte> bytes) {
    std::string out;
    for (std::byte b : bytes) {
        const auto v = std::to_integer<unsigned>(b);
        out.push_back(v >= 0x20 && v < 0x7f ? static_cast<char>(v) : '.');
    }
    return out;
}

}  // namespace

std::string hex_string(std::span<const std::byte> bytes) {
    std::string out;
    out.reserve(bytes.size() * 2);
    for (std::byte b : bytes) append_hex(out, b);
    return out;
}

std::vector<std::string> hex_lines(std::span<const std::byte> bytes) {
    const std::size_t widest = std::min(bytes.size(), kBytesPerLine);
    const std::size_t hex_width = widest * 2 + (widest > 0 ? (widest - 1) / 2 : 0);
    std::vector<std::string> lines;
    for (std::size_t offset = 0; offset < bytes.size(); offset += kBytesPerLine) {
        auto line_bytes = bytes.subspan(offset, std::min(kBytesPerLine, bytes.size() - offset));
        char prefix[24];
        std::snprintf(prefix, sizeof prefix, "%08zx: ", offset);
        std::string hex = hex_column(line_bytes);
        hex.resize(hex_width, ' ');
        lines.push_back(prefix + hex + "  " + ascii_column(line_bytes));
    }
    return lines;
}

}  // namespace mmmctl
