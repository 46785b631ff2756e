// An element's bytes read through its chunk's schema: as text
// ("{x: 1, y: 2}"), as JSON (objects of numbers), or as CSV columns. The bytes
// come from shared memory: any bit pattern is shown, never trusted (a bool
// that is neither 0 nor 1 says so).
#pragma once

#include "json_output.hpp"

#include <mmm/schema.hpp>

#include <cstddef>
#include <span>
#include <string>
#include <vector>

namespace mmmctl {

std::string element_text(const mmm::Schema& schema, std::span<const std::byte> bytes);
Json element_json(const mmm::Schema& schema, std::span<const std::byte> bytes);
// Column names, one per scalar ("x", "pos.y", "v[2]"); "value" for a scalar
// element; opaque parts are one hex column.
std::vector<std::string> csv_columns(const mmm::Schema& schema);
std::vector<std::string> csv_values(const mmm::Schema& schema, std::span<const std::byte> bytes);

}  // namespace mmmctl
