// How mmm names an element type. The name is taken from the compiler and
// normalised so that g++ and clang++ agree ("unsigned long" and "long unsigned
// int" are one type; the fixed-width integers are named by size). A type can
// be given an explicit, stable name by specialising mmm::type_name_v:
//
//   template <> inline constexpr std::string_view mmm::type_name_v<my::Tick> = "my::Tick/v2";
//
// The name takes part in the type check at open (docs/LAYOUT.md, "Type
// identity"): opaque types match by name, size and alignment; types with a
// schema match by schema, and by name when both sides have one.
//
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <string_view>

namespace mmm {

namespace detail {
// Normalises a compiler-printed type name (see type_name.cpp for the rules).
std::string normalize_type_name(std::string_view pretty);

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
