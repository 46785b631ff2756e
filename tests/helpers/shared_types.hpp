// Element types shared by the tests and the helper programs, which may be
// built by another compiler (typed_helper_clang): the same struct must be the
// same mmm type whichever compiler built the process.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

namespace mmm_test {

struct Coordinate {
    int x, y;
};

struct Sample {
    std::uint64_t id;
    double value;
};

using Triple = std::array<unsigned long, 3>;

// Deterministic contents, so two processes can check each other's writes.
inline Coordinate coordinate_at(std::size_t i) {
    auto k = static_cast<int>(i);
    return Coordinate{3 * k + 1, -(7 * k + 2)};
}
inline Sample sample_at(std::size_t i) {
    return Sample{0x1234'5678'9abc'0000ull + i, 0.25 + 1.5 * static_cast<double>(i)};
}
inline Triple triple_at(std::size_t i) {
    return Triple{i, i * i + 1, ~0ul - i};
}

// What a growable chunk's writer stores at element i (never 0, so a reader
// tells it from a not yet written, zero-filled element).
inline std::uint64_t growth_value(std::size_t i) {
    return 0x9e3779b97f4a7c15ull ^ (static_cast<std::uint64_t>(i) * 7 + 1);
}

inline bool operator==(const Coordinate& a, const Coordinate& b) {
    return a.x == b.x && a.y == b.y;
}
inline bool operator==(const Sample& a, const Sample& b) {
    return a.id == b.id && a.value == b.value;
}

}  // namespace mmm_test
