// What tests/test_heap.cpp and heap_helper share: the containers they build in
// a heap and the values they put in them.
#pragma once

#include <mmm/heap.hpp>

#include <cstdint>
#include <string>

namespace mmm_test {

using HeapMap = mmm::heap::map<mmm::heap::string, std::uint64_t>;
using HeapVector = mmm::heap::vector<std::uint64_t>;

// Entries the churn command grows "vec" and "map" to.
inline constexpr std::uint64_t kChurnMax = 20000;

// The vector value of insertion i of a process tagged `tag` ("A", "B").
inline std::uint64_t tag_value(const std::string& tag, std::uint64_t i) {
    return (static_cast<std::uint64_t>(tag.empty() ? 0 : tag[0]) << 32) | i;
}

// The churn command's map key of insertion i (long enough to leave the
// string's inline buffer, so every insertion allocates twice).
inline std::string key_of(std::uint64_t i) {
    return "key-with-a-long-prefix-" + std::to_string(i);
}

}  // namespace mmm_test
