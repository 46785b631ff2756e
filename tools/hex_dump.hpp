// Hex forms of raw element bytes.
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <vector>

namespace mmmctl {

// "2a000000": two lowercase hex digits per byte, no separators.
std::string hex_string(std::span<const std::byte> bytes);

// xxd-style lines of 16 bytes: "00000010: 2a00 0000 ...  *...". The hex column
// is as wide as the element's longest line, so short elements stay compact.
std::vector<std::string> hex_lines(std::span<const std::byte> bytes);

}  // namespace mmmctl
