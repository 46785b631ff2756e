// mmm::Schema: the value type, its builder (the one place a schema is
// validated, whoever built it: schema_of<T>, a user, the decoder of a stored
// schema), equality and the printed forms.
#include <mmm/error.hpp>
#include <mmm/schema.hpp>

#include <mmm/detail/text.hpp>
#include "fnv1a.hpp"
#include "schema_codec.hpp"

#include <algorithm>
#include <map>
#include <set>
#include <utility>

namespace mmm {

struct Schema::Data {
    std::vector<Type> types;
    std::vector<std::byte> bytes;  // the stored form (schema_codec.hpp), made once
    std::uint64_t digest = 0;      // FNV-1a of `bytes`
};

std::span<const std::byte> SchemaAccess::bytes(const Schema& s) {
    return s.data_->bytes;
}

std::uint64_t SchemaAccess::digest(const Schema& s) {
    return s.data_->digest;
}

namespace {

constexpr std::uint64_t kMaxTypeBytes = 1ull << 30;  // detail::kMaxElementSize
constexpr std::uint64_t kMaxTypeAlign = 4096;
constexpr std::size_t kMaxPrinted = std::size_t{64} * 1024;

bool power_of_two(std::uint64_t v) {
    return v != 0 && (v & (v - 1)) == 0;
}

bool valid_field_name(const std::string& name) {
    if (name.empty() || name.size() > kMaxFieldNameLength) return false;
    for (std::size_t i = 0; i < name.size(); ++i) {
        const char c = name[i];
        const bool letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
        if (!letter && !(i > 0 && c >= '0' && c <= '9')) return false;
    }
    return true;
}

[[noreturn]] void invalid(const std::string& what) {
    throw Error(Errc::invalid_argument, {}, "invalid schema: " + what);
}

std::string where(std::size_t index) {
    return "type " + std::to_string(index);
}

void check_type(const std::vector<Schema::Type>& types, std::size_t i) {
    const Schema::Type& t = types[i];
    const FieldKind k = t.kind;
    if (k > FieldKind::record) invalid(where(i) + " has unknown kind " + std::to_string(int(k)));
    const bool scalar = k != FieldKind::opaque && k != FieldKind::array && k != FieldKind::record;
    if (k != FieldKind::record && (!t.name.empty() || !t.fields.empty()))
        invalid(where(i) + " is not a record but has a name or fields");
    if (k != FieldKind::array && (t.element != 0 || t.extent != 0))
        invalid(where(i) + " is not an array but has an element type or extent");
    if (t.size < 1 || t.size > kMaxTypeBytes)
        invalid(where(i) + " has size " + std::to_string(t.size));
    if (!power_of_two(t.align) || t.align > kMaxTypeAlign || t.size % t.align != 0)
        invalid(where(i) + " has alignment " + std::to_string(t.align) + " for size " +
                std::to_string(t.size));
    if (scalar) {
        if (t.size != scalar_size(k) || t.align != scalar_size(k))
            invalid(where(i) + " (" + std::string(to_string(k)) +
                    ") must have size and alignment " + std::to_string(scalar_size(k)));
        return;
    }
    if (k == FieldKind::array) {
        if (t.element >= i) invalid(where(i) + " refers to a later type");
        const Schema::Type& e = types[t.element];
        std::uint64_t total = 0;
        if (t.extent < 1 || __builtin_mul_overflow(e.size, t.extent, &total) || total != t.size)
            invalid(where(i) + " is an array of " + std::to_string(t.extent) + " x " +
                    std::to_string(e.size) + " bytes but has size " + std::to_string(t.size));
        if (t.align != e.align) invalid(where(i) + " must have its element's alignment");
        return;
    }
    if (k != FieldKind::record) return;  // opaque: size and alignment were all
    if (t.name.size() > kMaxRecordNameLength || !detail::is_printable_ascii(t.name))
        invalid(where(i) + " has a record name that is not up to " +
                std::to_string(kMaxRecordNameLength) + " printable characters");
    if (t.fields.empty() || t.fields.size() > kMaxRecordFields)
        invalid(where(i) + " has " + std::to_string(t.fields.size()) +
                " fields (a record has 1 to " + std::to_string(kMaxRecordFields) + ")");
    std::set<std::string_view> names;
    std::uint64_t end_of_previous = 0;
    std::uint64_t widest = 1;
    for (const Schema::Field& f : t.fields) {
        if (!valid_field_name(f.name))
            invalid(where(i) + " has a field name that is not 1 to " +
                    std::to_string(kMaxFieldNameLength) +
                    " of [A-Za-z0-9_] (not starting with a digit)");
        if (!names.insert(f.name).second) invalid(where(i) + " has two fields named " + f.name);
        if (f.type >= i)
            invalid("field '" + f.name + "' of " + where(i) + " refers to a later type");
        const Schema::Type& ft = types[f.type];
        std::uint64_t end = 0;
        if (__builtin_add_overflow(f.offset, ft.size, &end) || end > t.size)
            invalid("field '" + f.name + "' of " + where(i) + " ends past the record");
        if (f.offset % ft.align != 0)
            invalid("field '" + f.name + "' of " + where(i) + " is not aligned to " +
                    std::to_string(ft.align));
        if (f.offset < end_of_previous)
            invalid("field '" + f.name + "' of " + where(i) +
                    " overlaps the field before it (or the fields are not in offset order)");
        end_of_previous = end;
        widest = std::max(widest, ft.align);
    }
    if (t.align < widest) invalid(where(i) + " is less aligned than its fields");
}

std::size_t depth_of(const std::vector<Schema::Type>& types, std::size_t i,
                     std::vector<std::size_t>& memo) {
    if (memo[i] != SIZE_MAX) return memo[i];
    const Schema::Type& t = types[i];
    std::size_t d = 0;
    if (t.kind == FieldKind::array) d = depth_of(types, t.element, memo) + 1;
    if (t.kind == FieldKind::record)
        for (const auto& f : t.fields) d = std::max(d, depth_of(types, f.type, memo) + 1);
    return memo[i] = d;
}

// Structural equality of types a (in A) and b (in B); record names ignored.
// Memoised on (a, b): a schema may share a type among many fields.
class Comparison {
  public:
    Comparison(const std::vector<Schema::Type>& a, const std::vector<Schema::Type>& b)
        : a_(a), b_(b) {}
    bool equal(std::uint32_t i, std::uint32_t j) {
        if (auto it = seen_.find({i, j}); it != seen_.end()) return it->second;
        const Schema::Type& x = a_[i];
        const Schema::Type& y = b_[j];
        bool same = x.kind == y.kind && x.size == y.size && x.align == y.align;
        if (same && x.kind == FieldKind::array)
            same = x.extent == y.extent && equal(x.element, y.element);
        if (same && x.kind == FieldKind::record) {
            same = x.fields.size() == y.fields.size();
            for (std::size_t f = 0; same && f < x.fields.size(); ++f)
                same = x.fields[f].name == y.fields[f].name &&
                       x.fields[f].offset == y.fields[f].offset &&
                       equal(x.fields[f].type, y.fields[f].type);
        }
        seen_.emplace(std::pair{i, j}, same);
        return same;
    }

  private:
    const std::vector<Schema::Type>& a_;
    const std::vector<Schema::Type>& b_;
    std::map<std::pair<std::uint32_t, std::uint32_t>, bool> seen_;
};

// "int32", "float64[3]", "struct Coordinate", "opaque(16)": a type as a field shows it.
std::string type_words(const std::vector<Schema::Type>& types, std::uint32_t i) {
    const Schema::Type& t = types[i];
    switch (t.kind) {
        case FieldKind::array: {
            std::string extents;
            std::uint32_t e = i;
            while (types[e].kind == FieldKind::array) {
                extents += "[" + std::to_string(types[e].extent) + "]";
                e = types[e].element;
            }
            return type_words(types, e) + extents;
        }
        case FieldKind::record:
            return t.name.empty() ? "struct" : "struct " + t.name;
        case FieldKind::opaque:
            return "opaque(" + std::to_string(t.size) + ")";
        default:
            return std::string(to_string(t.kind));
    }
}

void print_record(const std::vector<Schema::Type>& types, std::uint32_t i, int indent,
                  std::string& out) {
    const Schema::Type& t = types[i];
    const std::string pad(static_cast<std::size_t>(indent) * 2, ' ');
    out += (t.name.empty() ? std::string("struct") : "struct " + t.name) + " {  // " +
           std::to_string(t.size) + " bytes\n";
    for (const auto& f : t.fields) {
        if (out.size() > kMaxPrinted) {
            out += pad + "  ...\n";
            break;
        }
        out += pad + "  ";
        // Arrays print C-style after the name; a record (of an array) prints inline.
        std::uint32_t base = f.type;
        std::string extents;
        while (types[base].kind == FieldKind::array) {
            extents += "[" + std::to_string(types[base].extent) + "]";
            base = types[base].element;
        }
        if (types[base].kind == FieldKind::record) {
            std::string nested;
            print_record(types, base, indent + 1, nested);
            nested.pop_back();  // its last newline
            out += nested;
        } else {
            out += type_words(types, base);
        }
        out += " " + f.name + extents + ";  // @" + std::to_string(f.offset) + "\n";
    }
    out += pad + "}\n";
}

void summarise(const std::vector<Schema::Type>& types, std::uint32_t i, std::string& out) {
    const Schema::Type& t = types[i];
    if (out.size() > kMaxPrinted) return;
    if (t.kind == FieldKind::record) {
        out += '{';
        for (std::size_t f = 0; f < t.fields.size(); ++f) {
            if (f > 0) out += ", ";
            out += t.fields[f].name + ": ";
            summarise(types, t.fields[f].type, out);
        }
        out += '}';
    } else if (t.kind == FieldKind::array) {
        std::string extents;
        std::uint32_t e = i;
        while (types[e].kind == FieldKind::array) {
            extents += "[" + std::to_string(types[e].extent) + "]";
            e = types[e].element;
        }
        summarise(types, e, out);
        out += extents;
    } else {
        out += type_words(types, i);
    }
}

}  // namespace

std::string_view to_string(FieldKind kind) noexcept {
    switch (kind) {
        case FieldKind::opaque:
            return "opaque";
        case FieldKind::boolean:
            return "bool";
        case FieldKind::character:
            return "char";
        case FieldKind::int8:
            return "int8";
        case FieldKind::uint8:
            return "uint8";
        case FieldKind::int16:
            return "int16";
        case FieldKind::uint16:
            return "uint16";
        case FieldKind::int32:
            return "int32";
        case FieldKind::uint32:
            return "uint32";
        case FieldKind::int64:
            return "int64";
        case FieldKind::uint64:
            return "uint64";
        case FieldKind::float32:
            return "float32";
        case FieldKind::float64:
            return "float64";
        case FieldKind::array:
            return "array";
        case FieldKind::record:
            return "record";
    }
    return "unknown";
}

std::uint64_t scalar_size(FieldKind kind) noexcept {
    switch (kind) {
        case FieldKind::boolean:
        case FieldKind::character:
        case FieldKind::int8:
        case FieldKind::uint8:
            return 1;
        case FieldKind::int16:
        case FieldKind::uint16:
            return 2;
        case FieldKind::int32:
        case FieldKind::uint32:
        case FieldKind::float32:
            return 4;
        case FieldKind::int64:
        case FieldKind::uint64:
        case FieldKind::float64:
            return 8;
        default:
            return 0;
    }
}

// Every default-constructed ElementType and ChunkInfo holds one: built once.
Schema::Schema()
    : data_([] {
          static const Schema one_byte = opaque(1, 1);
          return one_byte.data_;
      }()) {}
Schema::Schema(std::shared_ptr<const Data> data) : data_(std::move(data)) {}

Schema Schema::opaque(std::uint64_t size, std::uint64_t align) {
    Builder b;
    b.opaque(size, align);
    return std::move(b).build();
}

Schema Schema::scalar(FieldKind kind) {
    Builder b;
    b.scalar(kind);
    return std::move(b).build();
}

const std::vector<Schema::Type>& Schema::types() const {
    return data_->types;
}

const Schema::Type& Schema::root() const {
    return data_->types.back();
}

std::string Schema::to_string() const {
    const auto& types = data_->types;
    const auto root_index = static_cast<std::uint32_t>(types.size() - 1);
    if (root().kind != FieldKind::record) return type_words(types, root_index);
    std::string out;
    print_record(types, root_index, 0, out);
    out.pop_back();  // the last newline
    return out;
}

std::string Schema::summary() const {
    std::string out;
    summarise(data_->types, static_cast<std::uint32_t>(data_->types.size() - 1), out);
    if (out.size() > kMaxPrinted) out.resize(kMaxPrinted), out += "...";
    return out;
}

bool operator==(const Schema& a, const Schema& b) {
    if (a.data_ == b.data_) return true;
    const auto& x = a.types();
    const auto& y = b.types();
    return Comparison(x, y).equal(static_cast<std::uint32_t>(x.size() - 1),
                                  static_cast<std::uint32_t>(y.size() - 1));
}

// --- Builder -----------------------------------------------------------------------

std::uint32_t Schema::Builder::add(Type type) {
    if (types_.size() >= kMaxSchemaTypes)
        invalid("more than " + std::to_string(kMaxSchemaTypes) + " types");
    types_.push_back(std::move(type));
    return static_cast<std::uint32_t>(types_.size() - 1);
}

std::uint32_t Schema::Builder::scalar(FieldKind kind) {
    const std::uint64_t size = scalar_size(kind);
    if (size == 0) invalid(std::string(mmm::to_string(kind)) + " is not a scalar kind");
    return add(Type{kind, size, size, 0, 0, {}, {}});
}

std::uint32_t Schema::Builder::opaque(std::uint64_t size, std::uint64_t align) {
    return add(Type{FieldKind::opaque, size, align, 0, 0, {}, {}});
}

std::uint32_t Schema::Builder::array(std::uint32_t element, std::uint64_t extent) {
    if (element >= types_.size()) invalid("an array of a type not added yet");
    const Type& e = types_[element];
    std::uint64_t size = 0;
    if (__builtin_mul_overflow(e.size, extent, &size)) size = UINT64_MAX;
    return add(Type{FieldKind::array, size, e.align, element, extent, {}, {}});
}

std::uint32_t Schema::Builder::record(std::string name, std::uint64_t size, std::uint64_t align,
                                      std::vector<Field> fields) {
    std::stable_sort(fields.begin(), fields.end(),
                     [](const Field& a, const Field& b) { return a.offset < b.offset; });
    return add(Type{FieldKind::record, size, align, 0, 0, std::move(name), std::move(fields)});
}

Schema Schema::Builder::build() && {
    if (types_.empty()) invalid("no types");
    for (std::size_t i = 0; i < types_.size(); ++i) check_type(types_, i);
    std::vector<std::size_t> memo(types_.size(), SIZE_MAX);
    if (depth_of(types_, types_.size() - 1, memo) > kMaxSchemaDepth)
        invalid("records and arrays nest more than " + std::to_string(kMaxSchemaDepth) + " deep");
    auto data = std::make_shared<Data>();
    data->types = std::move(types_);
    detail::Writer w(data->bytes);
    detail::encode_types(w, data->types);
    data->digest = detail::fnv1a(detail::kFnvOffset, data->bytes.data(), data->bytes.size());
    return Schema(std::move(data));
}

}  // namespace mmm

namespace mmm::detail {

std::string record_name_for(std::string name) {
    if (name.size() > kMaxRecordNameLength || !is_printable_ascii(name)) return {};
    return name;
}

}  // namespace mmm::detail
