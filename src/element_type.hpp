// The rules of element types, in one place for the library and mmmd: what a
// valid type is, when a chunk of one type may be opened as another, how a
// mismatch is told, and the type's fingerprint (docs/LAYOUT.md, "Type
// identity"). Not user API.
#pragma once

#include <mmm/detail/element_type.hpp>

#include <cstddef>
#include <cstdint>
#include <string>

namespace mmm::detail {

inline constexpr std::size_t kMaxTypeNameLength = 4096;
inline constexpr std::uint64_t kMaxElementSize = 1ull << 30;
inline constexpr std::uint64_t kMaxElementAlign = 4096;

// Empty when `t` is a valid element type for a chunk; otherwise why not.
// Names are compared whole, so they are kept whole: at most
// kMaxTypeNameLength printable ASCII bytes (no control bytes, no NUL).
std::string type_problem(const ElementType& t);

// Empty when a chunk of `held` may be opened as `wanted`; otherwise the
// type_mismatch message. A `wanted` of size 0 is an untyped open (any type).
// Types that both have a schema match when the schemas are equal and, when
// both are named, the names are; when either has none (opaque), they match
// when the whole names, sizes and alignments are equal.
std::string type_mismatch(const ElementType& held, const ElementType& wanted);

// FNV-1a over the whole name, the size, the alignment and the schema's bytes.
std::uint64_t fingerprint(const ElementType& t);

// "Coordinate (8 bytes, align 4)".
std::string describe(const ElementType& t);

}  // namespace mmm::detail
