// How mmm::schema_of<T>() derives a schema from a C++ type: Boost.Describe for
// described structs, Boost.PFR for other aggregates, the type traits for the
// rest. Included by <mmm/schema.hpp>; not user API.
//
// Boost.PFR cannot reflect every aggregate: a C array member is counted as
// its elements (brace elision) and a base class breaks it. Such a type is
// kept opaque instead: an aggregate is reflected only when initialising it
// member by member with braces ({x}, {y}, ...) takes as many initialisers as
// without braces, which holds exactly when no member is a C array and no base
// class takes an initialiser.
#pragma once

#include <mmm/schema.hpp>
#include <mmm/type_name.hpp>

#include <boost/describe/members.hpp>
#include <boost/describe/modifiers.hpp>
#include <boost/mp11/algorithm.hpp>
#include <boost/pfr/core.hpp>
#include <boost/pfr/tuple_size.hpp>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

namespace mmm::detail {

template <class T>
struct is_std_array : std::false_type {};
template <class E, std::size_t N>
struct is_std_array<std::array<E, N>> : std::true_type {};

template <class T>
constexpr FieldKind scalar_kind_of() {
    using U = std::remove_cv_t<T>;
    if constexpr (std::is_same_v<U, bool>) {
        return FieldKind::boolean;
    } else if constexpr (std::is_same_v<U, char>) {
        return FieldKind::character;
    } else if constexpr (std::is_integral_v<U>) {
        constexpr bool s = std::is_signed_v<U>;
        if constexpr (sizeof(U) == 1) return s ? FieldKind::int8 : FieldKind::uint8;
        if constexpr (sizeof(U) == 2) return s ? FieldKind::int16 : FieldKind::uint16;
        if constexpr (sizeof(U) == 4) return s ? FieldKind::int32 : FieldKind::uint32;
        if constexpr (sizeof(U) == 8) return s ? FieldKind::int64 : FieldKind::uint64;
        return FieldKind::opaque;  // __int128
    } else if constexpr (std::is_same_v<U, float> && sizeof(float) == 4) {
        return FieldKind::float32;
    } else if constexpr (std::is_same_v<U, double> && sizeof(double) == 8) {
        return FieldKind::float64;
    } else {
        return FieldKind::opaque;
    }
}

// --- which aggregates Boost.PFR may reflect ------------------------------------

template <class T>
struct AnyField {
    // Converts to any member type, never to a base class of T (so that a base
    // class cannot absorb an initialiser).
    template <class U>
    requires(!std::is_base_of_v<U, T>) constexpr operator U() const noexcept;
};

template <class T, std::size_t... I>
constexpr bool initialises_elided(std::index_sequence<I...>) {
    return requires {
        T{((void)I, AnyField<T>{})...};
    };
}
template <class T, std::size_t... I>
constexpr bool initialises_braced(std::index_sequence<I...>) {
    return requires {
        T{{((void)I, AnyField<T>{})}...};
    };
}

// The most braced initialisers T{{x}, {y}, ...} takes, searched in [Lo, Hi)
// (T takes Lo; taking N means taking fewer too). A binary search: a linear
// one nests a constant evaluation per member.
template <class T, std::size_t Lo, std::size_t Hi>
constexpr std::size_t braced_initialisers() {
    if constexpr (Hi - Lo <= 1) {
        return Lo;
    } else {
        constexpr std::size_t mid = Lo + (Hi - Lo) / 2;
        if constexpr (initialises_braced<T>(std::make_index_sequence<mid>{}))
            return braced_initialisers<T, mid, Hi>();
        else
            return braced_initialisers<T, Lo, mid>();
    }
}

template <class T>
constexpr bool pfr_reflectable() {
    if constexpr (!std::is_aggregate_v<T> || std::is_union_v<T> || std::is_array_v<T> ||
                  !std::is_standard_layout_v<T> || std::is_empty_v<T> || std::is_polymorphic_v<T>) {
        return false;
    } else {
        constexpr std::size_t members = braced_initialisers<T, 0, kMaxRecordFields + 2>();
        // One more initialiser without braces fits only where a member takes
        // several (a C array, brace elision): PFR would miscount those.
        if constexpr (members == 0 || members > kMaxRecordFields)
            return false;
        else
            return !initialises_elided<T>(std::make_index_sequence<members + 1>{});
    }
}

// --- what a type is ------------------------------------------------------------

enum class Reflection { scalar, enumeration, array, described, aggregate, opaque };

// What T is by its own nature, before the user's opaque_schema_v.
template <class U>
constexpr Reflection natural_reflection_of() {
    if constexpr (std::is_enum_v<U>)
        return Reflection::enumeration;
    else if constexpr (scalar_kind_of<U>() != FieldKind::opaque)
        return Reflection::scalar;
    else if constexpr (std::is_array_v<U> && std::extent_v<U> > 0)
        return Reflection::array;
    else if constexpr (is_std_array<U>::value)
        return std::tuple_size_v<U> > 0 ? Reflection::array : Reflection::opaque;
    else if constexpr (std::is_class_v<U> && boost::describe::has_describe_members<U>::value)
        return Reflection::described;
    else if constexpr (std::is_class_v<U> && pfr_reflectable<U>())
        return Reflection::aggregate;
    else
        return Reflection::opaque;
}

template <class T>
constexpr Reflection reflection_of() {
    using U = std::remove_cv_t<T>;
    if constexpr (opaque_schema_v<U>)
        return Reflection::opaque;
    else
        return natural_reflection_of<U>();
}

template <class U>
struct array_element {
    using type = void;
};
template <class E, std::size_t N>
struct array_element<E[N]> {
    using type = E;
};
template <class E, std::size_t N>
struct array_element<std::array<E, N>> {
    using type = E;
};
template <class U>
using array_element_t = typename array_element<U>::type;
template <class U>
constexpr std::size_t array_extent() {
    if constexpr (std::is_array_v<U>)
        return std::extent_v<U>;
    else
        return std::tuple_size_v<U>;
}

inline constexpr auto kDescribedMembers =
    boost::describe::mod_public | boost::describe::mod_protected | boost::describe::mod_private |
    boost::describe::mod_inherited;

template <class U>
using described_members = boost::describe::describe_members<U, kDescribedMembers>;

template <class U, class D>
using described_member_t =
    std::remove_cv_t<std::remove_reference_t<decltype(std::declval<U&>().*D::pointer)>>;

// Schema types T adds (itself included), how deep its records and arrays
// nest, and at most how many bytes they take stored (src/schema_codec.cpp:
// at most 29 bytes a type, a record's name of up to kMaxRecordNameLength,
// 14 bytes and the name a field).
inline constexpr std::size_t kStoredTypeBytes = 29;
inline constexpr std::size_t kStoredRecordBytes = 2 + kMaxRecordNameLength + 2;
inline constexpr std::size_t kStoredFieldBytes = 2 + 8 + 4;
struct SchemaShape {
    std::size_t types = 1;
    std::size_t depth = 0;
    std::size_t bytes = kStoredTypeBytes;
};
constexpr std::size_t length_of(const char* s) {
    std::size_t n = 0;
    while (s[n] != '\0') ++n;
    return n;
}
constexpr std::size_t decimal_digits(std::size_t v) {
    std::size_t n = 1;
    while (v >= 10) {
        v /= 10;
        ++n;
    }
    return n;
}

template <class T>
constexpr SchemaShape schema_shape();

template <class U, std::size_t... I>
constexpr SchemaShape aggregate_shape(std::index_sequence<I...>) {
    SchemaShape out;
    out.bytes += kStoredRecordBytes;
    ((out.types += schema_shape<boost::pfr::tuple_element_t<I, U>>().types), ...);
    ((out.bytes += schema_shape<boost::pfr::tuple_element_t<I, U>>().bytes + kStoredFieldBytes + 1 +
                   decimal_digits(I)),
     ...);
    std::size_t deepest = 0;
    ((deepest = std::max(deepest, schema_shape<boost::pfr::tuple_element_t<I, U>>().depth)), ...);
    out.depth = deepest + 1;
    return out;
}

template <class T>
constexpr SchemaShape schema_shape() {
    using U = std::remove_cv_t<T>;
    constexpr Reflection r = reflection_of<U>();
    if constexpr (r == Reflection::array) {
        SchemaShape inner = schema_shape<array_element_t<U>>();
        return {inner.types + 1, inner.depth + 1, inner.bytes + kStoredTypeBytes};
    } else if constexpr (r == Reflection::described) {
        SchemaShape out;
        out.bytes += kStoredRecordBytes;
        std::size_t deepest = 0;
        boost::mp11::mp_for_each<described_members<U>>([&](auto d) {
            SchemaShape f = schema_shape<described_member_t<U, decltype(d)>>();
            out.types += f.types;
            out.bytes += f.bytes + kStoredFieldBytes + length_of(decltype(d)::name);
            deepest = std::max(deepest, f.depth);
        });
        out.depth = deepest + 1;
        return out;
    } else if constexpr (r == Reflection::aggregate) {
        return aggregate_shape<U>(std::make_index_sequence<boost::pfr::tuple_size_v<U>>{});
    } else {
        return {};
    }
}

constexpr bool valid_field_name(const char* name) {
    std::size_t n = 0;
    for (; name[n] != '\0'; ++n) {
        const char c = name[n];
        const bool letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
        if (!letter && !(n > 0 && c >= '0' && c <= '9')) return false;
    }
    return n >= 1 && n <= kMaxFieldNameLength;
}

// Storage for taking the addresses of T's members (their offsets) without
// constructing a T, which may have no default constructor.
template <class T>
union MemberProbe {
    constexpr MemberProbe() : bytes{} {}
    T value;
    unsigned char bytes[sizeof(T)];
};

template <class T>
std::uint64_t offset_in(const T& object, const void* member) {
    return static_cast<std::uint64_t>(static_cast<const unsigned char*>(member) -
                                      reinterpret_cast<const unsigned char*>(&object));
}

// The record name kept in a schema (informational): short printable ones only.
std::string record_name_for(std::string name);

template <class T>
std::uint32_t add_schema_type(Schema::Builder& b) {
    using U = std::remove_cv_t<T>;
    constexpr Reflection r = reflection_of<U>();
    if constexpr (r == Reflection::scalar) {
        return b.scalar(scalar_kind_of<U>());
    } else if constexpr (r == Reflection::enumeration) {
        return add_schema_type<std::underlying_type_t<U>>(b);
    } else if constexpr (r == Reflection::array) {
        const std::uint32_t element = add_schema_type<array_element_t<U>>(b);
        return b.array(element, array_extent<U>());
    } else if constexpr (r == Reflection::described) {
        static_assert(boost::mp11::mp_size<described_members<U>>::value <= kMaxRecordFields,
                      "mmm::schema_of<T>: a described struct has more than "
                      "mmm::kMaxRecordFields (512) fields; mark it opaque with "
                      "mmm::opaque_schema_v");
        static MemberProbe<U> probe;
        std::vector<Schema::Field> fields;
        boost::mp11::mp_for_each<described_members<U>>([&](auto d) {
            using D = decltype(d);
            static_assert(valid_field_name(D::name),
                          "mmm::schema_of<T>: a described field name is not 1 to "
                          "mmm::kMaxFieldNameLength (64) of [A-Za-z0-9_]");
            const std::uint32_t type = add_schema_type<described_member_t<U, D>>(b);
            fields.push_back({D::name, offset_in(probe.value, &(probe.value.*D::pointer)), type});
        });
        return b.record(record_name_for(mmm::type_name<U>()), sizeof(U), alignof(U),
                        std::move(fields));
    } else if constexpr (r == Reflection::aggregate) {
        static_assert(boost::pfr::tuple_size_v<U> <= kMaxRecordFields,
                      "mmm::schema_of<T>: an aggregate has more than mmm::kMaxRecordFields "
                      "(512) fields; mark it opaque with mmm::opaque_schema_v");
        static MemberProbe<U> probe;
        std::vector<Schema::Field> fields;
        boost::pfr::for_each_field(probe.value, [&](const auto& field, std::size_t i) {
            using F = std::remove_cvref_t<decltype(field)>;
            const std::uint32_t type = add_schema_type<F>(b);
            // Appended, not "f" + to_string(i): GCC 12 warns (-Wrestrict) on that inlined.
            std::string name("f");
            name.append(std::to_string(i));
            fields.push_back({std::move(name), offset_in(probe.value, &field), type});
        });
        return b.record(record_name_for(mmm::type_name<U>()), sizeof(U), alignof(U),
                        std::move(fields));
    } else {
        return b.opaque(sizeof(U), alignof(U));
    }
}

}  // namespace mmm::detail

namespace mmm {

template <class T>
const Schema& schema_of() {
    using U = std::remove_cv_t<T>;
    constexpr detail::SchemaShape shape = detail::schema_shape<U>();
    static_assert(shape.types <= kMaxSchemaTypes,
                  "mmm::schema_of<T>: T's schema has more than mmm::kMaxSchemaTypes (1024) "
                  "types; mark a member type opaque with mmm::opaque_schema_v");
    static_assert(shape.bytes + 2 <= kMaxSchemaBytes,
                  "mmm::schema_of<T>: T's schema may take more than mmm::kMaxSchemaBytes "
                  "(32 KiB) stored; mark a member type opaque with mmm::opaque_schema_v");
    static_assert(shape.depth <= kMaxSchemaDepth,
                  "mmm::schema_of<T>: T nests records and arrays more than "
                  "mmm::kMaxSchemaDepth (16) deep; mark an inner type opaque with "
                  "mmm::opaque_schema_v");
    static const Schema schema = [] {
        Schema::Builder b;
        detail::add_schema_type<U>(b);
        return std::move(b).build();
    }();
    return schema;
}

}  // namespace mmm
