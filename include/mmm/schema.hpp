// mmm::Schema: what the bytes of one element mean, stored in every chunk so
// that mmmctl, Python and any other reader see fields, not bytes.
//
// A schema is a small tree of types: scalars (bool, char, 8- to 64-bit
// integers, float, double), arrays of a type, records (structs: named fields
// at offsets) and opaque bytes (a size and an alignment, nothing more).
// mmm::schema_of<T>() derives it from T at its first use: scalars and enums
// (as their underlying type), std::array<S, N> and S[N], structs described
// with BOOST_DESCRIBE_STRUCT (field names and nesting), other aggregates
// through Boost.PFR (fields named f0, f1, ...), anything else opaque. Limits
// (kMaxSchemaTypes, kMaxRecordFields, kMaxFieldNameLength, kMaxSchemaDepth,
// kMaxSchemaBytes)
// are checked at compile time for C++ types and at run time for schemas built
// by hand or read from a chunk (docs/LAYOUT.md, "Schemas").
//
// Two schemas are equal when their trees are: the same kinds, sizes,
// alignments, extents, field names and offsets. Record names are shown, never
// compared.
//
// Thread-safety: a Schema is an immutable value (cheap to copy: it shares its
// data); use it from any number of threads.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace mmm {

inline constexpr std::size_t kMaxSchemaTypes = 1024;      // types in one schema
inline constexpr std::size_t kMaxRecordFields = 512;      // fields of one record
inline constexpr std::size_t kMaxFieldNameLength = 64;    // [A-Za-z_][A-Za-z0-9_]*
inline constexpr std::size_t kMaxSchemaDepth = 16;        // records and arrays nested
inline constexpr std::size_t kMaxRecordNameLength = 256;  // longer record names are not kept
inline constexpr std::size_t kMaxSchemaBytes =
    std::size_t{32} * 1024;  // the schema as stored (docs/LAYOUT.md)

enum class FieldKind : std::uint8_t {
    opaque = 0,  // bytes of a known size and alignment, nothing more
    boolean = 1,
    character = 2,  // char: one byte of text
    int8 = 3,
    uint8 = 4,
    int16 = 5,
    uint16 = 6,
    int32 = 7,
    uint32 = 8,
    int64 = 9,
    uint64 = 10,
    float32 = 11,
    float64 = 12,
    array = 13,   // `extent` elements of types()[element]
    record = 14,  // named fields at offsets
};
// "int32", "float64", "record", ...
std::string_view to_string(FieldKind kind) noexcept;
// Size (= alignment) of a scalar kind; 0 for opaque, array and record.
std::uint64_t scalar_size(FieldKind kind) noexcept;

class Schema {
  public:
    struct Field {
        std::string name;
        std::uint64_t offset = 0;
        std::uint32_t type = 0;  // index into types()
    };
    struct Type {
        FieldKind kind = FieldKind::opaque;
        std::uint64_t size = 0;
        std::uint64_t align = 1;
        std::uint32_t element = 0;  // array: index into types()
        std::uint64_t extent = 0;   // array: number of elements
        std::string name;           // record: its name (informational; may be empty)
        std::vector<Field> fields;  // record: by increasing offset
    };

    // An opaque single byte; assign a real schema.
    Schema();
    static Schema opaque(std::uint64_t size, std::uint64_t align);
    static Schema scalar(FieldKind kind);

    // Types in dependency order: a type only refers to types before it; the
    // root (the element itself) is the last.
    const std::vector<Type>& types() const;
    const Type& root() const;
    std::uint64_t size() const { return root().size; }
    std::uint64_t align() const { return root().align; }
    bool is_opaque() const { return root().kind == FieldKind::opaque; }

    // The schema as a C-like declaration, one field per line with its offset:
    //   struct Coordinate {  // 8 bytes
    //     int32 x;  // @0
    //     int32 y;  // @4
    //   }
    std::string to_string() const;
    // One line: "{x: int32, y: int32}", "float64[3]", "opaque(16)".
    std::string summary() const;

    friend bool operator==(const Schema& a, const Schema& b);

    // Builds a schema type by type; build() validates the whole tree and
    // throws mmm::Error (Errc::invalid_argument) naming the first problem.
    class Builder {
      public:
        std::uint32_t scalar(FieldKind kind);
        std::uint32_t opaque(std::uint64_t size, std::uint64_t align);
        std::uint32_t array(std::uint32_t element, std::uint64_t extent);
        // Fields in any order; they are sorted by offset.
        std::uint32_t record(std::string name, std::uint64_t size, std::uint64_t align,
                             std::vector<Field> fields);
        // A type as given, checked by build() like every other (decoders use it).
        std::uint32_t add(Type type);
        // The last type added is the root.
        Schema build() &&;

      private:
        std::vector<Type> types_;
    };

  private:
    struct Data;
    explicit Schema(std::shared_ptr<const Data> data);
    std::shared_ptr<const Data> data_;
    friend struct SchemaAccess;
};

// The schema of T (derived once, at the first call; see above).
template <class T>
const Schema& schema_of();

// Specialise to true to store T as opaque bytes whatever it is (for example an
// aggregate with a base class, which Boost.PFR cannot reflect).
template <class T>
inline constexpr bool opaque_schema_v = false;

}  // namespace mmm

#include <mmm/detail/schema_reflect.hpp>
