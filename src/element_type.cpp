#include "element_type.hpp"

#include <mmm/detail/text.hpp>
#include "fnv1a.hpp"
#include "schema_codec.hpp"

namespace mmm::detail {

std::string type_problem(const ElementType& t) {
    if (t.name.size() > kMaxTypeNameLength)
        return "its name has " + std::to_string(t.name.size()) + " bytes, more than " +
               std::to_string(kMaxTypeNameLength) +
               " (pin a shorter one by specialising mmm::type_name_v)";
    if (!is_printable_ascii(t.name))
        return "its name holds a byte that is not printable ASCII: " + printable(t.name);
    if (t.size < 1 || t.size > kMaxElementSize)
        return "its size " + std::to_string(t.size) + " is not in 1.." +
               std::to_string(kMaxElementSize);
    if (t.align == 0 || (t.align & (t.align - 1)) != 0 || t.align > kMaxElementAlign)
        return "its alignment " + std::to_string(t.align) + " is not a power of two up to " +
               std::to_string(kMaxElementAlign);
    if (t.size % t.align != 0) return "its size is not a multiple of its alignment";
    if (t.schema.size() != t.size || t.schema.align() != t.align)
        return "its schema describes " + std::to_string(t.schema.size()) + " bytes aligned to " +
               std::to_string(t.schema.align()) + ", the type " + std::to_string(t.size) +
               " aligned to " + std::to_string(t.align);
    return {};
}

std::string describe(const ElementType& t) {
    return (t.name.empty() ? std::string("an unnamed type") : printable(t.name)) + " (" +
           std::to_string(t.size) + " bytes, align " + std::to_string(t.align) + ")";
}

std::string type_mismatch(const ElementType& held, const ElementType& wanted) {
    if (wanted.size == 0) return {};
    if (!held.schema.is_opaque() && !wanted.schema.is_opaque()) {
        // Equality first: it is cheap (the same decoded schema is one object),
        // the account of a difference is not.
        std::string difference =
            held.schema == wanted.schema
                ? std::string()
                : schema_difference(held.schema, wanted.schema, printable(wanted.name));
        if (!difference.empty()) return difference;
        if (!held.name.empty() && !wanted.name.empty() && held.name != wanted.name)
            return "the chunk holds " + describe(held) + " but was opened as " + describe(wanted) +
                   ": their fields are the same, their names are not (pin one name for both "
                   "with mmm::type_name_v)";
        return {};
    }
    // A type without a schema (opaque to mmm, or from a chunk made before
    // chunks had schemas) is known by its whole name, size and alignment.
    if (held.name == wanted.name && held.size == wanted.size && held.align == wanted.align)
        return {};
    return "the chunk holds " + describe(held) + " but was opened as " + describe(wanted);
}

std::uint64_t fingerprint(const ElementType& t) {
    std::uint64_t h = fnv1a(kFnvOffset, t.name);
    h = fnv1a_u64(h, t.size);
    h = fnv1a_u64(h, t.align);
    return fnv1a_u64(h, schema_digest(t.schema));
}

}  // namespace mmm::detail
