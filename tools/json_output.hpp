// mmmctl --json: the JSON shapes of ChunkInfo, Stats and errors (docs/MMMCTL.md).
// Keys are the snake_case member names; a member with a human form (mode,
// created) has the human form under its own name and the number beside it.
#pragma once

#include <mmm/error.hpp>
#include <mmm/options.hpp>

#include <nlohmann/json.hpp>

#include <optional>
#include <string>

namespace mmmctl {

// Keys in the order a reader expects, not alphabetical.
using Json = nlohmann::ordered_json;

Json chunk_json(const mmm::ChunkInfo& info);
// The same object, compact, appended to `out` (for long lists).
void append_chunk_json(std::string& out, const mmm::ChunkInfo& info);
Json stats_json(const mmm::Stats& stats);
Json error_json(const mmm::Error& error);

// A figure that may be unknown: the value, or null.
template <class T>
Json or_null(const std::optional<T>& value) {
    return value ? Json(*value) : Json(nullptr);
}

// Pretty-printed to stdout; bytes that are not UTF-8 (a corrupt header's type name) are replaced.
void print_json(const Json& value);

}  // namespace mmmctl
