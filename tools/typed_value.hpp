// The value of an element whose type mmm names as a fundamental type ("int32",
// "uint64", "double", ...; see src/type_name.cpp) or an array of one
// ("float[3]", "std::array<float,3>"). Other types (structs) have no known layout: hex only.
#pragma once

#include "json_output.hpp"

#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace mmmctl {

struct TypedValue {
    std::string text;  // "42", "1.5", "[1, 2, 3]"
    Json json;         // a number, bool, or an array of them
};

// nullopt when the type is not a known fundamental one or the size does not fit it.
std::optional<TypedValue> typed_value(std::string_view type_name, std::span<const std::byte> bytes);

}  // namespace mmmctl
