// Schemas as bytes (in chunk records, on the wire) and the field-level
// account of how two schemas differ, for type_mismatch errors. The stored
// form (docs/LAYOUT.md, "Schemas"):
//
//   u16 type count (1..kMaxSchemaTypes), then per type, children first and
//   the root last:
//     u8 kind, u64 size, u64 align
//     array:  u32 element, u64 extent
//     record: str name, u16 field count, then per field: str name,
//             u64 offset, u32 type
//
// A decoded schema is untrusted input until Schema::Builder::build() has
// validated it, which decode_schema always does (or finds the same bytes
// among the schemas it validated before). build() encodes every schema once;
// encode_schema and schema_bytes give that copy. Not user API.
#pragma once

#include "codec.hpp"

#include <mmm/schema.hpp>

#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace mmm {

// The cached forms a Schema keeps (src/schema.cpp).
struct SchemaAccess {
    static std::span<const std::byte> bytes(const Schema& s);
    static std::uint64_t digest(const Schema& s);
};

}  // namespace mmm

namespace mmm::detail {

// The stored form of `types` (Schema::Builder::build() calls it once per schema).
void encode_types(Writer& w, const std::vector<Schema::Type>& types);
void encode_schema(Writer& w, const Schema& schema);
// Throws mmm::Error with the Reader's failure code when the bytes are not a
// valid schema (the message says what is wrong).
Schema decode_schema(Reader& r);
// A copy of the bytes encode_schema writes.
inline std::vector<std::byte> schema_bytes(const Schema& schema) {
    const auto bytes = SchemaAccess::bytes(schema);
    return {bytes.begin(), bytes.end()};
}
// FNV-1a of schema_bytes(schema), computed once.
inline std::uint64_t schema_digest(const Schema& schema) {
    return SchemaAccess::digest(schema);
}

// The first difference between the schema a chunk holds and the one it was
// opened with, for a user: "field 'y' is float32 at offset 4 in the chunk,
// int32 in Coordinate". Empty when they are equal.
std::string schema_difference(const Schema& held, const Schema& wanted,
                              const std::string& wanted_name);

}  // namespace mmm::detail
