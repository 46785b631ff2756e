// How mmm names an element type, so that open<T> can check that it maps the
// creator's T. The name is taken from the compiler and normalised so that g++
// and clang++ agree ("unsigned long" and "long unsigned int" are one type; the
// fixed-width integers are named by size). A type can be given an explicit,
// stable name by specialising mmm::type_name_v:
//
//   template <> inline constexpr std::string_view mmm::type_name_v<my::Tick> = "my::Tick/v2";
//
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace mmm {

namespace detail {
// Normalises a compiler-printed type name (see type_name.cpp for the rules).
std::string normalize_type_name(std::string_view pretty);
std::uint64_t fingerprint(std::string_view canonical_name, std::uint64_t size, std::uint64_t align);

template <class T>
constexpr std::string_view pretty_function_of() {
    return __PRETTY_FUNCTION__;
}
}  // namespace detail

// Empty means: derive from the compiler. Specialise to pin a name.
template <class T>
inline constexpr std::string_view type_name_v{};

template <class T>
std::string type_name() {
    if constexpr (!type_name_v<T>.empty()) {
        return std::string(type_name_v<T>);
    } else {
        return detail::normalize_type_name(detail::pretty_function_of<T>());
    }
}

}  // namespace mmm
