#include "schema_dtype.hpp"

#include <mmm/error.hpp>

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

namespace mmm::python {

namespace {

[[noreturn]] void no_schema(py::handle dtype, const std::string& why) {
    throw Error(Errc::invalid_argument, {},
                "numpy dtype " + py::repr(dtype).cast<std::string>() + " has no mmm schema: " + why,
                "use bool, int8..int64, uint8..uint64, float32, float64, 'S1', subarrays and "
                "structured dtypes of those");
}

const char* scalar_code(FieldKind kind) {
    switch (kind) {
        case FieldKind::boolean:
            return "?";
        case FieldKind::character:
            return "S1";
        case FieldKind::int8:
            return "i1";
        case FieldKind::uint8:
            return "u1";
        case FieldKind::int16:
            return "=i2";
        case FieldKind::uint16:
            return "=u2";
        case FieldKind::int32:
            return "=i4";
        case FieldKind::uint32:
            return "=u4";
        case FieldKind::int64:
            return "=i8";
        case FieldKind::uint64:
            return "=u8";
        case FieldKind::float32:
            return "=f4";
        case FieldKind::float64:
            return "=f8";
        default:
            return nullptr;
    }
}

py::object dtype_of_type(const Schema& schema, std::uint32_t index) {
    const Schema::Type& t = schema.types().at(index);
    py::object np_dtype = numpy().attr("dtype");
    if (const char* code = scalar_code(t.kind)) return np_dtype(code);
    switch (t.kind) {
        case FieldKind::opaque:
            return np_dtype("V" + std::to_string(t.size));
        case FieldKind::array: {
            // Arrays of arrays are one subarray of several dimensions, as numpy has them.
            py::list shape;
            const Schema::Type* e = &t;
            for (; e->kind == FieldKind::array; e = &schema.types().at(e->element))
                shape.append(e->extent);
            const auto base = static_cast<std::uint32_t>(e - schema.types().data());
            return np_dtype(py::make_tuple(dtype_of_type(schema, base), py::tuple(shape)));
        }
        case FieldKind::record: {
            py::list names, formats, offsets;
            for (const Schema::Field& f : t.fields) {
                names.append(f.name);
                formats.append(dtype_of_type(schema, f.type));
                offsets.append(f.offset);
            }
            // The list form when C's layout gives these offsets (it prints
            // as users write it), else names, formats, offsets and itemsize.
            py::list pairs;
            for (std::size_t k = 0; k < t.fields.size(); ++k)
                pairs.append(py::make_tuple(names[k], formats[k]));
            py::object natural = np_dtype(pairs, py::arg("align") = true);
            py::dict natural_fields = natural.attr("fields");
            bool same = natural.attr("itemsize").cast<std::uint64_t>() == t.size;
            for (std::size_t k = 0; same && k < t.fields.size(); ++k)
                same = py::tuple(natural_fields[names[k]])[1].cast<std::uint64_t>() ==
                       t.fields[k].offset;
            if (same) return natural;
            py::dict spec;
            spec["names"] = names;
            spec["formats"] = formats;
            spec["offsets"] = offsets;
            spec["itemsize"] = t.size;
            return np_dtype(spec, py::arg("align") = true);
        }
        default:
            throw Error(
                Errc::corrupt_header, {},
                "a schema type of kind " + std::string(to_string(t.kind)) + " has no numpy dtype");
    }
}

struct Built {
    std::uint32_t index;
    std::uint64_t align;
};

FieldKind integer_kind(bool is_signed, std::size_t size) {
    switch (size) {
        case 1:
            return is_signed ? FieldKind::int8 : FieldKind::uint8;
        case 2:
            return is_signed ? FieldKind::int16 : FieldKind::uint16;
        case 4:
            return is_signed ? FieldKind::int32 : FieldKind::uint32;
        default:
            return is_signed ? FieldKind::int64 : FieldKind::uint64;
    }
}

Built add(Schema::Builder& builder, py::handle dtype, const std::string& record_name, int depth) {
    if (depth > static_cast<int>(kMaxSchemaDepth))
        no_schema(dtype, "it nests more than " + std::to_string(kMaxSchemaDepth) + " deep");
    py::object subdtype = dtype.attr("subdtype");
    if (!subdtype.is_none()) {
        auto pair = subdtype.cast<py::tuple>();
        Built e = add(builder, pair[0], {}, depth + 1);
        auto shape = pair[1].cast<std::vector<std::uint64_t>>();
        for (auto dim = shape.rbegin(); dim != shape.rend(); ++dim)
            e.index = builder.array(e.index, *dim);
        return e;
    }
    const auto itemsize = dtype.attr("itemsize").cast<std::uint64_t>();
    py::object names = dtype.attr("names");
    if (!names.is_none()) {
        py::dict fields = dtype.attr("fields");
        std::vector<Schema::Field> record;
        std::uint64_t widest = 1;
        for (py::handle name : names) {
            py::tuple entry = fields[name];
            Built f = add(builder, entry[0], {}, depth + 1);
            record.push_back(
                Schema::Field{name.cast<std::string>(), entry[1].cast<std::uint64_t>(), f.index});
            widest = std::max(widest, f.align);
        }
        return {builder.record(record_name, itemsize, widest, std::move(record)), widest};
    }
    const auto kind = dtype.attr("kind").cast<std::string>();
    if (!dtype.attr("isnative").cast<bool>())
        no_schema(dtype, "its byte order is not the machine's");
    auto scalar = [&](FieldKind k) { return Built{builder.scalar(k), scalar_size(k)}; };
    if (kind == "b") return scalar(FieldKind::boolean);
    if ((kind == "i" || kind == "u") &&
        (itemsize == 1 || itemsize == 2 || itemsize == 4 || itemsize == 8))
        return scalar(integer_kind(kind == "i", itemsize));
    if (kind == "f" && itemsize == 4) return scalar(FieldKind::float32);
    if (kind == "f" && itemsize == 8) return scalar(FieldKind::float64);
    if (kind == "S" && itemsize >= 1) {
        Built c = scalar(FieldKind::character);
        if (itemsize > 1) c.index = builder.array(c.index, itemsize);
        return c;
    }
    if (kind == "V" && itemsize >= 1) return {builder.opaque(itemsize, 1), 1};
    no_schema(dtype, "mmm has no " + py::str(dtype.attr("name")).cast<std::string>() + " (kind '" +
                         kind + "', " + std::to_string(itemsize) + " bytes)");
}

}  // namespace

py::module_& numpy() {
    // Leaked on purpose: destroying it after the interpreter is gone would crash.
    static auto* module = new py::module_(py::module_::import("numpy"));
    return *module;
}

py::object dtype_of(const Schema& schema) {
    if (schema.is_opaque())
        return numpy().attr("dtype")(py::make_tuple("u1", py::make_tuple(schema.size())));
    return dtype_of_type(schema, static_cast<std::uint32_t>(schema.types().size() - 1));
}

Schema schema_of(py::handle dtype_like, const std::string& record_name) {
    py::object dtype = numpy().attr("dtype")(dtype_like);
    Schema::Builder builder;
    add(builder, dtype, record_name, 0);
    try {
        return std::move(builder).build();
    } catch (const Error& e) {
        if (e.code() != Errc::invalid_argument) throw;
        throw Error(Errc::invalid_argument, {},
                    e.message() + " (numpy dtype " + py::repr(dtype).cast<std::string>() + ")",
                    "numpy packs structured dtypes unless told otherwise: np.dtype(fields, "
                    "align=True) lays them out as C does");
    }
}

bool is_raw_void(py::handle dtype_like) {
    py::object dtype = numpy().attr("dtype")(dtype_like);
    return dtype.attr("kind").cast<std::string>() == "V" && dtype.attr("names").is_none() &&
           dtype.attr("subdtype").is_none();
}

}  // namespace mmm::python
