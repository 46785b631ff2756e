#include "schema_values.hpp"

#include "hex_dump.hpp"

#include <charconv>
#include <cstdint>
#include <cstring>

namespace mmmctl {
namespace {

using mmm::FieldKind;
using Types = std::vector<mmm::Schema::Type>;

// Past this many array elements the text form says how many more there are.
constexpr std::uint64_t kMaxTextValues = 32;

template <class V>
V load(const std::byte* p) {
    V v;
    std::memcpy(&v, p, sizeof v);
    return v;
}

template <class V>
std::string shortest(V v) {
    char buf[64];
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);  // the shortest exact form
    return ec == std::errc() ? std::string(buf, end) : std::string("?");
}

// The text and JSON of one scalar.
std::pair<std::string, Json> scalar(FieldKind kind, const std::byte* p) {
    switch (kind) {
        case FieldKind::boolean: {
            const auto v = load<std::uint8_t>(p);
            if (v <= 1) return {v ? "true" : "false", Json(v == 1)};
            return {"invalid bool " + std::to_string(v), Json(v)};
        }
        case FieldKind::character: {
            const auto v = load<unsigned char>(p);
            std::string text = std::to_string(v);
            if (v >= 0x20 && v < 0x7f) text += " '" + std::string(1, static_cast<char>(v)) + "'";
            return {text, Json(v)};
        }
        case FieldKind::int8:
            return {std::to_string(load<std::int8_t>(p)), Json(load<std::int8_t>(p))};
        case FieldKind::uint8:
            return {std::to_string(load<std::uint8_t>(p)), Json(load<std::uint8_t>(p))};
        case FieldKind::int16:
            return {std::to_string(load<std::int16_t>(p)), Json(load<std::int16_t>(p))};
        case FieldKind::uint16:
            return {std::to_string(load<std::uint16_t>(p)), Json(load<std::uint16_t>(p))};
        case FieldKind::int32:
            return {std::to_string(load<std::int32_t>(p)), Json(load<std::int32_t>(p))};
        case FieldKind::uint32:
            return {std::to_string(load<std::uint32_t>(p)), Json(load<std::uint32_t>(p))};
        case FieldKind::int64:
            return {std::to_string(load<std::int64_t>(p)), Json(load<std::int64_t>(p))};
        case FieldKind::uint64:
            return {std::to_string(load<std::uint64_t>(p)), Json(load<std::uint64_t>(p))};
        case FieldKind::float32:
            return {shortest(load<float>(p)), Json(load<float>(p))};
        case FieldKind::float64:
            return {shortest(load<double>(p)), Json(load<double>(p))};
        default:
            return {"?", Json()};
    }
}

std::string text_of(const Types& types, std::uint32_t t, const std::byte* p) {
    const auto& type = types[t];
    switch (type.kind) {
        case FieldKind::record: {
            std::string out = "{";
            for (std::size_t i = 0; i < type.fields.size(); ++i) {
                const auto& f = type.fields[i];
                out += (i == 0 ? "" : ", ") + f.name + ": " + text_of(types, f.type, p + f.offset);
            }
            return out + "}";
        }
        case FieldKind::array: {
            std::string out = "[";
            const std::uint64_t step = types[type.element].size;
            for (std::uint64_t i = 0; i < type.extent; ++i) {
                if (i == kMaxTextValues) {
                    out += ", ... " + std::to_string(type.extent - i) + " more";
                    break;
                }
                out += (i == 0 ? "" : ", ") + text_of(types, type.element, p + i * step);
            }
            return out + "]";
        }
        case FieldKind::opaque:
            return "0x" + hex_string(std::span<const std::byte>(p, type.size));
        default:
            return scalar(type.kind, p).first;
    }
}

Json json_of(const Types& types, std::uint32_t t, const std::byte* p) {
    const auto& type = types[t];
    switch (type.kind) {
        case FieldKind::record: {
            Json out = Json::object();
            for (const auto& f : type.fields) out[f.name] = json_of(types, f.type, p + f.offset);
            return out;
        }
        case FieldKind::array: {
            Json out = Json::array();
            const std::uint64_t step = types[type.element].size;
            for (std::uint64_t i = 0; i < type.extent; ++i)
                out.push_back(json_of(types, type.element, p + i * step));
            return out;
        }
        case FieldKind::opaque:
            return Json(hex_string(std::span<const std::byte>(p, type.size)));
        default:
            return scalar(type.kind, p).second;
    }
}

// Visits every scalar (or opaque part) with its column name and offset.
template <class Visit>
void leaves(const Types& types, std::uint32_t t, const std::string& name, std::uint64_t offset,
            Visit&& visit) {
    const auto& type = types[t];
    if (type.kind == FieldKind::record) {
        for (const auto& f : type.fields)
            leaves(types, f.type, name.empty() ? f.name : name + "." + f.name, offset + f.offset,
                   visit);
    } else if (type.kind == FieldKind::array) {
        const std::uint64_t step = types[type.element].size;
        for (std::uint64_t i = 0; i < type.extent; ++i)
            leaves(types, type.element,
                   (name.empty() ? "value" : name) + "[" + std::to_string(i) + "]",
                   offset + i * step, visit);
    } else {
        visit(name.empty() ? (type.kind == FieldKind::opaque ? "hex" : "value") : name, t, offset);
    }
}

std::uint32_t root_of(const mmm::Schema& schema) {
    return static_cast<std::uint32_t>(schema.types().size() - 1);
}

}  // namespace

std::string element_text(const mmm::Schema& schema, std::span<const std::byte> bytes) {
    return text_of(schema.types(), root_of(schema), bytes.data());
}

Json element_json(const mmm::Schema& schema, std::span<const std::byte> bytes) {
    return json_of(schema.types(), root_of(schema), bytes.data());
}

std::vector<std::string> csv_columns(const mmm::Schema& schema) {
    std::vector<std::string> out;
    leaves(schema.types(), root_of(schema), "", 0,
           [&](const std::string& name, std::uint32_t, std::uint64_t) { out.push_back(name); });
    return out;
}

std::vector<std::string> csv_values(const mmm::Schema& schema, std::span<const std::byte> bytes) {
    std::vector<std::string> out;
    const auto& types = schema.types();
    leaves(types, root_of(schema), "", 0,
           [&](const std::string&, std::uint32_t t, std::uint64_t offset) {
               const auto& type = types[t];
               const std::byte* p = bytes.data() + offset;
               if (type.kind == FieldKind::opaque)
                   out.push_back(hex_string(std::span<const std::byte>(p, type.size)));
               else if (type.kind == FieldKind::character || type.kind == FieldKind::boolean)
                   out.push_back(std::to_string(load<std::uint8_t>(p)));
               else
                   out.push_back(scalar(type.kind, p).first);
           });
    return out;
}

}  // namespace mmmctl
