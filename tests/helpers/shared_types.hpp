// Element types shared by the tests and the helper programs, which may be
// built by another compiler (typed_helper_clang): the same struct must be the
// same mmm type whichever compiler built the process.
#pragma once

#include <mmm/type_name.hpp>

#include <boost/describe.hpp>

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

// Described structs: a schema with field names, a nested record, an array,
// an enum, a char and a bool, and padding (after `kind` and `ok`).
enum class Quality : std::uint8_t { bad = 0, good = 1, checked = 2 };
struct Point {
    float x, y;
};
BOOST_DESCRIBE_STRUCT(Point, (), (x, y))
struct Reading {
    std::uint32_t id;
    Quality kind;
    Point at;
    std::int16_t tags[3];
    char unit;
    bool ok;
    double value;
};
BOOST_DESCRIBE_STRUCT(Reading, (), (id, kind, at, tags, unit, ok, value))

// The next version of Reading: `value` became a float (and the struct
// smaller); pinned to the same name, so only the schema tells the two apart.
struct ReadingV2 {
    std::uint32_t id;
    Quality kind;
    Point at;
    std::int16_t tags[3];
    char unit;
    bool ok;
    float value;
};
BOOST_DESCRIBE_STRUCT(ReadingV2, (), (id, kind, at, tags, unit, ok, value))

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

inline Reading reading_at(std::size_t i) {
    const auto k = static_cast<int>(i);
    return Reading{static_cast<std::uint32_t>(1000 + i),
                   static_cast<Quality>(i % 3),
                   Point{0.5f * static_cast<float>(k), -1.25f * static_cast<float>(k)},
                   {static_cast<std::int16_t>(k), static_cast<std::int16_t>(-k), 7},
                   static_cast<char>('a' + i % 26),
                   i % 2 == 0,
                   1.0 / 8 + static_cast<double>(i)};
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
inline bool operator==(const Reading& a, const Reading& b) {
    return a.id == b.id && a.kind == b.kind && a.at.x == b.at.x && a.at.y == b.at.y &&
           a.tags[0] == b.tags[0] && a.tags[1] == b.tags[1] && a.tags[2] == b.tags[2] &&
           a.unit == b.unit && a.ok == b.ok && a.value == b.value;
}

}  // namespace mmm_test

template <>
inline constexpr std::string_view mmm::type_name_v<mmm_test::Reading> = "mmm_test::Reading";
template <>
inline constexpr std::string_view mmm::type_name_v<mmm_test::ReadingV2> = "mmm_test::Reading";
