// What the library knows of an element type when it creates or opens a chunk:
// sent to mmmd, which checks it against the chunk's (src/element_type.cpp has
// the rules, shared by the library and mmmd). Not user API.
#pragma once

#include <mmm/schema.hpp>
#include <mmm/type_name.hpp>

#include <cstdint>
#include <string>
#include <type_traits>

namespace mmm::detail {

struct ElementType {
    std::string name;  // mmm::type_name<T>(); may be empty for a schema built at run time
    std::uint64_t size = 0;
    std::uint64_t align = 0;
    Schema schema;
};

// Made once per type: every create and open of a T sends it, and the name's
// normalisation and the schema's derivation need not run again.
template <class T>
const ElementType& element_type_of() {
    using E = std::remove_cv_t<T>;
    static const ElementType type{mmm::type_name<E>(), sizeof(E), alignof(E), mmm::schema_of<E>()};
    return type;
}

}  // namespace mmm::detail
