// Element schemas: what schema_of<T>() derives (Boost.Describe, Boost.PFR,
// the traits), equality and the field-level account of a difference, the
// builder's validation, and the stored form. Starts no daemon.
#include "element_type.hpp"
#include "schema_codec.hpp"

#include <mmm/mmm.hpp>

#include <gtest/gtest.h>
#include <boost/describe.hpp>

#include <array>
#include <cstdint>

namespace unitschema {

struct Coordinate {
    int x, y;
};
BOOST_DESCRIBE_STRUCT(Coordinate, (), (x, y))

// The same fields, another order: the same size, another layout.
struct Swapped {
    int y, x;
};
BOOST_DESCRIBE_STRUCT(Swapped, (), (y, x))

// The same field names and types, another padding.
struct Padded {
    std::int32_t x;
    alignas(8) std::int32_t y;
};
BOOST_DESCRIBE_STRUCT(Padded, (), (x, y))

struct FloatY {
    int x;
    float y;
};
BOOST_DESCRIBE_STRUCT(FloatY, (), (x, y))

enum class Colour : std::uint8_t { red, green };

struct Vec3 {
    float x, y, z;
};
BOOST_DESCRIBE_STRUCT(Vec3, (), (x, y, z))

struct Particle {
    Vec3 position;
    double mass;
    std::int32_t tags[4];
    Colour colour;
    bool alive;
};
BOOST_DESCRIBE_STRUCT(Particle, (), (position, mass, tags, colour, alive))

struct Particle2 {  // tags has another extent
    Vec3 position;
    double mass;
    std::int32_t tags[3];
    Colour colour;
    bool alive;
};
BOOST_DESCRIBE_STRUCT(Particle2, (), (position, mass, tags, colour, alive))

struct Base {
    int a;
};
struct Derived : Base {
    int b;
};
BOOST_DESCRIBE_STRUCT(Base, (), (a))
BOOST_DESCRIBE_STRUCT(Derived, (Base), (b))

// Not described: reflected through Boost.PFR.
struct Plain {
    std::uint16_t a;
    double b;
    std::array<std::int8_t, 3> c;
};
// An aggregate PFR cannot reflect: a C array member.
struct WithCArray {
    int values[3];
    short s;
};
// An aggregate with a base: not reflected either.
struct PlainBase {
    int a;
};
struct PlainDerived : PlainBase {
    int b;
};
// A class with a constructor: opaque.
class Opaque {
  public:
    explicit Opaque(int v) : v_(v) {}

  private:
    int v_;
};
struct ForcedOpaque {
    int a, b;
};

}  // namespace unitschema

template <>
inline constexpr bool mmm::opaque_schema_v<unitschema::ForcedOpaque> = true;

namespace {

using namespace unitschema;
using mmm::FieldKind;
using mmm::Schema;
using mmm::schema_of;

TEST(Schema, ScalarsEnumsAndArrays) {
    EXPECT_EQ(schema_of<int>().root().kind, FieldKind::int32);
    EXPECT_EQ(schema_of<unsigned long long>().root().kind, FieldKind::uint64);
    EXPECT_EQ(schema_of<bool>().root().kind, FieldKind::boolean);
    EXPECT_EQ(schema_of<char>().root().kind, FieldKind::character);
    EXPECT_EQ(schema_of<double>().root().kind, FieldKind::float64);
    EXPECT_EQ(schema_of<Colour>().root().kind, FieldKind::uint8);  // its underlying type
    EXPECT_EQ(schema_of<std::byte>().root().kind, FieldKind::uint8);
    const Schema& arr = schema_of<std::array<float, 4>>();
    EXPECT_EQ(arr.root().kind, FieldKind::array);
    EXPECT_EQ(arr.root().extent, 4u);
    EXPECT_EQ(arr.types()[arr.root().element].kind, FieldKind::float32);
    EXPECT_EQ(arr.summary(), "float32[4]");
    EXPECT_EQ((schema_of<std::array<std::array<int, 2>, 3>>().summary()), "int32[3][2]");
    EXPECT_EQ(schema_of<long double>().root().kind, FieldKind::opaque);
}

TEST(Schema, DescribedStructsHaveTheirFieldsNestedRecordsAndArrays) {
    const Schema& s = schema_of<Particle>();
    EXPECT_EQ(s.size(), sizeof(Particle));
    EXPECT_EQ(s.align(), alignof(Particle));
    ASSERT_EQ(s.root().kind, FieldKind::record);
    ASSERT_EQ(s.root().fields.size(), 5u);
    EXPECT_EQ(s.root().fields[0].name, "position");
    EXPECT_EQ(s.root().fields[1].offset, offsetof(Particle, mass));
    EXPECT_EQ(s.root().fields[2].offset, offsetof(Particle, tags));
    EXPECT_EQ(s.summary(),
              "{position: {x: float32, y: float32, z: float32}, mass: float64, tags: int32[4], "
              "colour: uint8, alive: bool}");
    EXPECT_NE(s.to_string().find("int32 tags[4];  // @"), std::string::npos) << s.to_string();
    EXPECT_NE(s.to_string().find("struct unitschema::Particle"), std::string::npos);
    // Bases are described members too.
    EXPECT_EQ(schema_of<Derived>().summary(), "{a: int32, b: int32}");
}

TEST(Schema, OtherAggregatesThroughPfrOrOpaque) {
    const Schema& s = schema_of<Plain>();
    ASSERT_EQ(s.root().kind, FieldKind::record);
    EXPECT_EQ(s.summary(), "{f0: uint16, f1: float64, f2: int8[3]}");
    EXPECT_EQ(s.root().fields[1].offset, offsetof(Plain, b));
    // What PFR would get wrong stays opaque, whole.
    for (const Schema* o : {&schema_of<WithCArray>(), &schema_of<PlainDerived>(),
                            &schema_of<Opaque>(), &schema_of<ForcedOpaque>()})
        EXPECT_TRUE(o->is_opaque()) << o->summary();
    EXPECT_EQ(schema_of<WithCArray>().size(), sizeof(WithCArray));
}

TEST(Schema, EqualityIsStructuralAndDifferencesNameTheField) {
    using mmm::detail::schema_difference;
    EXPECT_EQ(schema_of<Coordinate>(), schema_of<Coordinate>());
    EXPECT_EQ(schema_difference(schema_of<Coordinate>(), schema_of<Coordinate>(), "Coordinate"),
              "");
    // The message of the issue, word for word.
    EXPECT_EQ(schema_difference(schema_of<FloatY>(), schema_of<Coordinate>(), "Coordinate"),
              "field 'y' is float32 at offset 4 in the chunk, int32 in Coordinate");
    // Same size, fields in another order.
    EXPECT_FALSE(schema_of<Swapped>() == schema_of<Coordinate>());
    EXPECT_EQ(schema_difference(schema_of<Swapped>(), schema_of<Coordinate>(), "Coordinate"),
              "field 'x' is at offset 4 in the chunk, at offset 0 in Coordinate");
    // Same fields, another padding.
    EXPECT_FALSE(schema_of<Padded>() == schema_of<Coordinate>());
    EXPECT_NE(schema_difference(schema_of<Padded>(), schema_of<Coordinate>(), "Coordinate")
                  .find("field 'y'"),
              std::string::npos);
    // Nested records and array extents.
    EXPECT_EQ(schema_difference(schema_of<Particle2>(), schema_of<Particle>(), "Particle"),
              "field 'tags' is int32[3] at offset " + std::to_string(offsetof(Particle, tags)) +
                  " in the chunk, int32[4] in Particle");
    // Record names are not compared: the same layout from another name is equal.
    Schema::Builder b;
    const auto i32 = b.scalar(FieldKind::int32);
    b.record("SomethingElse", 8, 4, {{"x", 0, i32}, {"y", 4, i32}});
    EXPECT_EQ(std::move(b).build(), schema_of<Coordinate>());
}

TEST(ElementTypes, SchemasDecideAndNamesWhenBothHaveOne) {
    using mmm::detail::element_type_of;
    using mmm::detail::type_mismatch;
    auto coord = element_type_of<Coordinate>();
    EXPECT_EQ(type_mismatch(coord, coord), "");
    EXPECT_NE(type_mismatch(element_type_of<FloatY>(), coord), "");
    // Same fields, another name: both named, so they differ.
    auto renamed = coord;
    renamed.name = "Point";
    EXPECT_NE(type_mismatch(coord, renamed).find("names are not"), std::string::npos);
    // Unnamed (a schema built at run time): the schema alone decides.
    auto unnamed = coord;
    unnamed.name.clear();
    EXPECT_EQ(type_mismatch(coord, unnamed), "");
    // Opaque types: whole name, size and alignment.
    auto opaque = element_type_of<Opaque>();
    EXPECT_EQ(type_mismatch(opaque, opaque), "");
    auto other = opaque;
    other.name += "2";
    EXPECT_NE(type_mismatch(opaque, other), "");
    // An untyped open matches anything.
    EXPECT_EQ(type_mismatch(coord, mmm::detail::ElementType{}), "");
}

TEST(Schema, TheBuilderRefusesWhatIsNotALayout) {
    auto invalid = [](auto&& build) {
        try {
            Schema::Builder b;
            build(b);
            (void)std::move(b).build();
        } catch (const mmm::Error& e) {
            return e.code() == mmm::Errc::invalid_argument;
        }
        return false;
    };
    EXPECT_TRUE(invalid([](Schema::Builder&) {}));  // no types
    EXPECT_TRUE(invalid([](Schema::Builder& b) { b.opaque(0, 1); }));
    EXPECT_TRUE(invalid([](Schema::Builder& b) { b.opaque(8, 3); }));
    EXPECT_TRUE(invalid([](Schema::Builder& b) { b.array(b.scalar(FieldKind::int32), 0); }));
    EXPECT_TRUE(invalid([](Schema::Builder& b) {
        const auto i = b.scalar(FieldKind::int32);
        b.record("R", 8, 4, {{"x", 0, i}, {"y", 2, i}});  // overlap
    }));
    EXPECT_TRUE(invalid([](Schema::Builder& b) {
        const auto i = b.scalar(FieldKind::int32);
        b.record("R", 8, 4, {{"x", 0, i}, {"x", 4, i}});  // a name twice
    }));
    EXPECT_TRUE(invalid([](Schema::Builder& b) {
        const auto i = b.scalar(FieldKind::int32);
        b.record("R", 8, 4, {{"x", 0, i}, {"9y", 4, i}});  // not an identifier
    }));
    EXPECT_TRUE(invalid([](Schema::Builder& b) {
        const auto i = b.scalar(FieldKind::int32);
        b.record("R", 8, 4, {{"x", 0, i}, {"y", 6, i}});  // misaligned, past the end
    }));
    EXPECT_TRUE(invalid([](Schema::Builder& b) {
        const auto i = b.scalar(FieldKind::int32);
        b.record("R", 8, 2, {{"x", 0, i}, {"y", 4, i}});  // less aligned than its fields
    }));
    EXPECT_TRUE(invalid([](Schema::Builder& b) {
        const auto i = b.scalar(FieldKind::int32);
        b.record("Bad\x1b", 8, 4, {{"x", 0, i}, {"y", 4, i}});  // a control byte in its name
    }));
    EXPECT_TRUE(invalid([](Schema::Builder& b) {
        auto t = b.scalar(FieldKind::int8);
        for (int i = 0; i < 17; ++i) t = b.array(t, 1);  // nested 17 deep
    }));
    EXPECT_FALSE(invalid([](Schema::Builder& b) {
        auto t = b.scalar(FieldKind::int8);
        for (int i = 0; i < 16; ++i) t = b.array(t, 1);
    }));
}

TEST(Schema, TheStoredFormRoundTrips) {
    for (const Schema* s : {&schema_of<Particle>(), &schema_of<Plain>(), &schema_of<int>(),
                            &schema_of<Opaque>(), &schema_of<std::array<Vec3, 2>>()}) {
        const auto bytes = mmm::detail::schema_bytes(*s);
        mmm::detail::Reader r(bytes, mmm::Errc::corrupt_header);
        const Schema back = mmm::detail::decode_schema(r);
        EXPECT_TRUE(r.at_end());
        EXPECT_EQ(back, *s);
        EXPECT_EQ(mmm::detail::schema_bytes(back), bytes);
        EXPECT_EQ(back.to_string(), s->to_string());
    }
}

// decode_schema keeps the schemas it validated and shares them when the same
// bytes come again; anything else, however close, is parsed and validated.
TEST(Schema, ARepeatedSchemaIsSharedAndANearCopyIsStillValidated) {
    const auto bytes = mmm::detail::schema_bytes(schema_of<Particle>());
    std::vector<std::byte> framed = bytes;
    framed.push_back(std::byte{0x7f});  // whatever follows the schema in a message
    mmm::detail::Reader first(framed, mmm::Errc::corrupt_header);
    const Schema a = mmm::detail::decode_schema(first);
    mmm::detail::Reader second(framed, mmm::Errc::corrupt_header);
    const Schema b = mmm::detail::decode_schema(second);
    EXPECT_EQ(first.position(), bytes.size());
    EXPECT_EQ(second.position(), bytes.size());
    EXPECT_EQ(a, schema_of<Particle>());
    EXPECT_EQ(mmm::detail::schema_digest(a), mmm::detail::schema_digest(b));
    EXPECT_EQ(mmm::detail::schema_digest(a), mmm::detail::schema_digest(schema_of<Particle>()));

    // Every copy with one bit flipped: not known, so parsed and validated.
    std::size_t flipped = 0;
    for (std::size_t at = 0; at < bytes.size(); ++at) {
        std::vector<std::byte> near = bytes;
        near[at] ^= std::byte{0x01};
        mmm::detail::Reader r(near, mmm::Errc::corrupt_header);
        try {
            const Schema s = mmm::detail::decode_schema(r);
            // Some flips give another valid schema (a field renamed): never this one.
            EXPECT_NE(mmm::detail::schema_bytes(s), bytes) << "flip at " << at;
        } catch (const mmm::Error& e) {
            EXPECT_EQ(e.code(), mmm::Errc::corrupt_header) << "flip at " << at;
            ++flipped;
        }
    }
    EXPECT_GT(flipped, bytes.size() / 2);  // most single flips break the layout

    // Cut short: never read as the known schema it starts like.
    for (std::size_t keep : {std::size_t{0}, std::size_t{1}, bytes.size() / 2, bytes.size() - 1}) {
        const std::vector<std::byte> cut(bytes.begin(), bytes.begin() + static_cast<long>(keep));
        mmm::detail::Reader r(cut, mmm::Errc::corrupt_header);
        EXPECT_THROW(mmm::detail::decode_schema(r), mmm::Error) << "kept " << keep;
    }
}

}  // namespace
