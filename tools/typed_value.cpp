#include "typed_value.hpp"

#include <array>
#include <charconv>
#include <cstdint>
#include <cstring>

namespace mmmctl {
namespace {

template <class V>
V load(const std::byte* p) {
    V v;
    std::memcpy(&v, p, sizeof v);
    return v;
}

template <class V>
TypedValue integer(const std::byte* p) {
    const V v = load<V>(p);
    return {std::to_string(v), Json(v)};
}

template <class V>
TypedValue floating(const std::byte* p) {
    const V v = load<V>(p);
    char buf[64];
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);  // shortest round-trip form
    return {ec == std::errc() ? std::string(buf, end) : std::string("?"), Json(v)};
}

TypedValue boolean(const std::byte* p) {
    // Any byte but 0 or 1 is not a bool the writer stored: show it, do not reinterpret.
    const auto v = load<std::uint8_t>(p);
    if (v <= 1) return {v ? "true" : "false", Json(v == 1)};
    return {"invalid bool " + std::to_string(v), Json(v)};
}

template <class V>
TypedValue character(const std::byte* p) {
    const V v = load<V>(p);
    const auto code = static_cast<std::int64_t>(v);
    std::string text = std::to_string(code);
    if (code >= 0x20 && code < 0x7f) text += " '" + std::string(1, static_cast<char>(code)) + "'";
    return {std::move(text), Json(code)};
}

struct Scalar {
    std::string_view name;
    std::size_t size;
    TypedValue (*decode)(const std::byte*);
};

constexpr std::array<Scalar, 16> kScalars{{
    {"int8", 1, &integer<std::int8_t>},
    {"uint8", 1, &integer<std::uint8_t>},
    {"int16", 2, &integer<std::int16_t>},
    {"uint16", 2, &integer<std::uint16_t>},
    {"int32", 4, &integer<std::int32_t>},
    {"uint32", 4, &integer<std::uint32_t>},
    {"int64", 8, &integer<std::int64_t>},
    {"uint64", 8, &integer<std::uint64_t>},
    {"float", sizeof(float), &floating<float>},
    {"double", sizeof(double), &floating<double>},
    {"bool", 1, &boolean},
    {"char", 1, &character<char>},
    {"char8_t", 1, &character<char8_t>},
    {"char16_t", 2, &character<char16_t>},
    {"char32_t", 4, &character<char32_t>},
    {"wchar_t", sizeof(wchar_t), &character<wchar_t>},
}};

const Scalar* find_scalar(std::string_view name) {
    for (const auto& s : kScalars)
        if (s.name == name) return &s;
    return nullptr;
}

// Splits "int32[2][3]" into "int32" and 6; a plain name has 1 element. nullopt when malformed.
std::optional<std::size_t> strip_extents(std::string_view& name) {
    std::size_t elements = 1;
    while (!name.empty() && name.back() == ']') {
        auto open = name.rfind('[');
        if (open == std::string_view::npos) return std::nullopt;
        auto digits = name.substr(open + 1, name.size() - open - 2);
        std::size_t extent = 0;
        auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), extent);
        if (ec != std::errc() || end != digits.data() + digits.size() || extent == 0)
            return std::nullopt;
        elements *= extent;
        name = name.substr(0, open);
    }
    return elements;
}

// Splits "std::array<float,3>" (as normalised: no blank after the comma) into "float" and 3.
std::optional<std::size_t> strip_std_array(std::string_view& name) {
    constexpr std::string_view kPrefix = "std::array<";
    if (!name.starts_with(kPrefix) || !name.ends_with('>')) return 1;
    auto inner = name.substr(kPrefix.size(), name.size() - kPrefix.size() - 1);
    auto comma = inner.rfind(',');
    if (comma == std::string_view::npos) return std::nullopt;
    auto digits = inner.substr(comma + 1);
    std::size_t extent = 0;
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), extent);
    if (ec != std::errc() || extent == 0) return std::nullopt;
    // clang++ may print the extent with a suffix ("3UL"); nothing else may follow.
    if (std::string_view(end, digits.data() + digits.size()).find_first_not_of("uUlL") !=
        std::string_view::npos)
        return std::nullopt;
    name = inner.substr(0, comma);
    return extent;
}

constexpr std::size_t kMaxValuesInText = 32;

}  // namespace

std::optional<TypedValue> typed_value(std::string_view type_name,
                                      std::span<const std::byte> bytes) {
    std::string_view base = type_name;
    auto outer = strip_std_array(base);
    const bool is_array = base != type_name || (!base.empty() && base.back() == ']');
    auto inner = outer ? strip_extents(base) : std::nullopt;
    const Scalar* scalar = find_scalar(base);
    if (!inner || scalar == nullptr || *outer * *inner * scalar->size != bytes.size())
        return std::nullopt;
    const std::size_t elements = *outer * *inner;
    if (!is_array) return scalar->decode(bytes.data());

    TypedValue out{"[", Json::array()};
    for (std::size_t i = 0; i < elements; ++i) {
        TypedValue v = scalar->decode(bytes.data() + i * scalar->size);
        if (i < kMaxValuesInText) out.text += (i > 0 ? ", " : "") + v.text;
        out.json.push_back(std::move(v.json));
    }
    if (elements > kMaxValuesInText) out.text += ", ...";
    out.text += "]";
    return out;
}

}  // namespace mmmctl
