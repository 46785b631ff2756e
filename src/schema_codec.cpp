#include "schema_codec.hpp"

#include <mmm/error.hpp>

#include <cstring>
#include <mutex>
#include <optional>

namespace mmm::detail {

namespace {

// Decoded schemas, by their bytes: a daemon sees the same few types in every
// open and create, a client the same few in every reply, so a repeat skips
// parsing and validation and shares the first copy. Bounded: an unknown schema
// replaces the oldest entry.
class KnownSchemas {
  public:
    // The known schema whose bytes `input` starts with. The stored form is
    // self-delimiting (a parser stops after the last type), so no valid schema
    // is a proper prefix of another: a match is exactly that schema.
    std::optional<Schema> find_prefix(std::span<const std::byte> input) {
        std::lock_guard lock(mutex_);
        for (const Schema& s : schemas_) {
            const auto known = SchemaAccess::bytes(s);
            // memcmp, not std::equal: GCC 12 compares std::byte ranges a byte at a time.
            if (known.size() <= input.size() &&
                std::memcmp(known.data(), input.data(), known.size()) == 0)
                return s;
        }
        return std::nullopt;
    }
    void add(const Schema& s) {
        std::lock_guard lock(mutex_);
        if (schemas_.size() < kCapacity) {
            schemas_.push_back(s);
        } else {
            schemas_[next_] = s;
            next_ = (next_ + 1) % kCapacity;
        }
    }

  private:
    static constexpr std::size_t kCapacity = 32;
    std::mutex mutex_;
    std::vector<Schema> schemas_;
    std::size_t next_ = 0;
};

KnownSchemas& known_schemas() {
    static KnownSchemas* known = new KnownSchemas;  // never destroyed: used until exit
    return *known;
}

Schema parse_schema(Reader& r) {
    const std::size_t count = r.u16();
    if (count < 1 || count > kMaxSchemaTypes)
        r.fail("a schema of " + std::to_string(count) + " types");
    Schema::Builder b;
    try {
        for (std::size_t i = 0; i < count; ++i) {
            Schema::Type t;
            t.kind = static_cast<FieldKind>(r.u8());
            t.size = r.u64();
            t.align = r.u64();
            if (t.kind == FieldKind::array) {
                t.element = r.u32();
                t.extent = r.u64();
            } else if (t.kind == FieldKind::record) {
                t.name = r.str();
                const std::size_t fields = r.u16();
                if (fields > kMaxRecordFields)
                    r.fail("a schema record of " + std::to_string(fields) + " fields");
                t.fields.reserve(fields);
                for (std::size_t f = 0; f < fields; ++f) {
                    Schema::Field field;
                    field.name = r.str();
                    field.offset = r.u64();
                    field.type = r.u32();
                    t.fields.push_back(std::move(field));
                }
            }
            b.add(std::move(t));
        }
        return std::move(b).build();  // validates every type
    } catch (const Error& e) {
        if (e.code() == Errc::invalid_argument) r.fail(e.message());
        throw;
    }
}

}  // namespace

void encode_types(Writer& w, const std::vector<Schema::Type>& types) {
    w.u16(static_cast<std::uint16_t>(types.size()));
    for (const Schema::Type& t : types) {
        w.u8(static_cast<std::uint8_t>(t.kind));
        w.u64(t.size);
        w.u64(t.align);
        if (t.kind == FieldKind::array) {
            w.u32(t.element);
            w.u64(t.extent);
        } else if (t.kind == FieldKind::record) {
            w.str(t.name);
            w.u16(static_cast<std::uint16_t>(t.fields.size()));
            for (const Schema::Field& f : t.fields) {
                w.str(f.name);
                w.u64(f.offset);
                w.u32(f.type);
            }
        }
    }
}

void encode_schema(Writer& w, const Schema& schema) {
    w.raw(SchemaAccess::bytes(schema));
}

Schema decode_schema(Reader& r) {
    if (auto known = known_schemas().find_prefix(r.rest())) {
        r.skip(SchemaAccess::bytes(*known).size());
        return *std::move(known);
    }
    Schema schema = parse_schema(r);
    known_schemas().add(schema);
    return schema;
}

namespace {

std::string words(const std::vector<Schema::Type>& types, std::uint32_t i) {
    const Schema::Type& t = types[i];
    if (t.kind == FieldKind::array) {
        std::string extents;
        std::uint32_t e = i;
        while (types[e].kind == FieldKind::array) {
            extents += "[" + std::to_string(types[e].extent) + "]";
            e = types[e].element;
        }
        return words(types, e) + extents;
    }
    if (t.kind == FieldKind::record)
        return t.name.empty() ? "a struct of " + std::to_string(t.size) + " bytes"
                              : "struct " + t.name;
    if (t.kind == FieldKind::opaque) return "opaque(" + std::to_string(t.size) + ")";
    return std::string(to_string(t.kind));
}

// Walks both trees along field names; returns the first difference.
class Differ {
  public:
    Differ(const Schema& held, const Schema& wanted, const std::string& wanted_name)
        : h_(held.types()),
          w_(wanted.types()),
          name_(wanted_name.empty() ? "the type opened" : wanted_name) {}

    // `offset`: where this part of the element starts (for the message).
    std::optional<std::string> types(std::uint32_t h, std::uint32_t w, const std::string& path,
                                     std::uint64_t offset) {
        const Schema::Type& a = h_[h];
        const Schema::Type& b = w_[w];
        if (a.kind == FieldKind::record && b.kind == FieldKind::record) {
            if (auto d = fields(a, b, path, offset)) return d;
            if (a.size != b.size || a.align != b.align)
                return subject(path) + " is " + std::to_string(a.size) + " bytes (align " +
                       std::to_string(a.align) + ") in the chunk, " + std::to_string(b.size) +
                       " bytes (align " + std::to_string(b.align) + ") in " + name_;
            return std::nullopt;
        }
        if (a.kind == FieldKind::array && b.kind == FieldKind::array && a.extent == b.extent &&
            a.size == b.size)
            return types(a.element, b.element, path, offset);
        const bool same = a.kind == b.kind && a.size == b.size && a.align == b.align &&
                          (a.kind != FieldKind::array || a.extent == b.extent);
        if (same) return std::nullopt;
        return subject(path) + " is " + words(h_, h) +
               (path.empty() ? "" : " at offset " + std::to_string(offset)) + " in the chunk, " +
               words(w_, w) + " in " + name_;
    }

  private:
    static std::string subject(const std::string& path) {
        return path.empty() ? "the element" : "field '" + path + "'";
    }

    std::optional<std::string> fields(const Schema::Type& a, const Schema::Type& b,
                                      const std::string& path, std::uint64_t base) {
        const std::string prefix = path.empty() ? "" : path + ".";
        for (const Schema::Field& want : b.fields) {
            const Schema::Field* have = nullptr;
            for (const Schema::Field& f : a.fields)
                if (f.name == want.name) have = &f;
            const std::string field = prefix + want.name;
            if (!have)
                return "field '" + field + "' (" + words(w_, want.type) + " at offset " +
                       std::to_string(base + want.offset) + ") is in " + name_ +
                       " but not in the chunk";
            if (have->offset != want.offset) {
                const bool same_type = !types(have->type, want.type, field, base + have->offset);
                return "field '" + field + "' is " +
                       (same_type ? std::string() : words(h_, have->type) + " ") + "at offset " +
                       std::to_string(base + have->offset) + " in the chunk, " +
                       (same_type ? std::string() : words(w_, want.type) + " ") + "at offset " +
                       std::to_string(base + want.offset) + " in " + name_;
            }
            if (auto d = types(have->type, want.type, field, base + have->offset)) return d;
        }
        for (const Schema::Field& have : a.fields) {
            bool known = false;
            for (const Schema::Field& f : b.fields) known = known || f.name == have.name;
            if (!known)
                return "field '" + prefix + have.name + "' (" + words(h_, have.type) +
                       " at offset " + std::to_string(have.offset) +
                       ") is in the chunk but not in " + name_;
        }
        for (std::size_t i = 0; i < a.fields.size() && i < b.fields.size(); ++i)
            if (a.fields[i].name != b.fields[i].name)
                return "the fields are in another order in the chunk than in " + name_;
        return std::nullopt;
    }

    const std::vector<Schema::Type>& h_;
    const std::vector<Schema::Type>& w_;
    std::string name_;
};

}  // namespace

std::string schema_difference(const Schema& held, const Schema& wanted,
                              const std::string& wanted_name) {
    if (held == wanted) return {};
    Differ d(held, wanted, wanted_name);
    auto root_h = static_cast<std::uint32_t>(held.types().size() - 1);
    auto root_w = static_cast<std::uint32_t>(wanted.types().size() - 1);
    if (auto found = d.types(root_h, root_w, "", 0)) return *found;
    return "the chunk's element is " + held.summary() + ", " +
           (wanted_name.empty() ? std::string("the type opened") : wanted_name) + "'s is " +
           wanted.summary();
}

}  // namespace mmm::detail
