// FNV-1a, 64-bit: the one hash mmm uses where a stable, cheap, non-secret
// digest will do (namespaces of runtime directories, type fingerprints). Not
// for integrity against someone who means harm. Not user API.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace mmm::detail {

inline constexpr std::uint64_t kFnvOffset = 0xcbf29ce484222325ull;
inline constexpr std::uint64_t kFnvPrime = 0x100000001b3ull;

inline std::uint64_t fnv1a(std::uint64_t hash, const void* data, std::size_t n) {
    const auto* p = static_cast<const unsigned char*>(data);
    for (std::size_t i = 0; i < n; ++i) {
        hash ^= p[i];
        hash *= kFnvPrime;
    }
    return hash;
}

inline std::uint64_t fnv1a(std::uint64_t hash, std::string_view s) {
    return fnv1a(hash, s.data(), s.size());
}

// Mixes an integer in as its 8 little-endian bytes, so the digest does not
// depend on the host's byte order.
inline std::uint64_t fnv1a_u64(std::uint64_t hash, std::uint64_t v) {
    for (int i = 0; i < 8; ++i) {
        hash ^= static_cast<unsigned char>(v >> (8 * i));
        hash *= kFnvPrime;
    }
    return hash;
}

}  // namespace mmm::detail
