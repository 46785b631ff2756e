// Feeds arbitrary bytes as a stored schema (in chunk records and on the wire):
// it decodes into a schema that passes every check, or throws mmm::Error.
// A schema that decodes must print, compare and encode again without harm.
#include "schema_codec.hpp"

#include <mmm/error.hpp>

#include <cstddef>
#include <cstdint>
#include <span>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    mmm::detail::Reader r(std::as_bytes(std::span(data, size)), mmm::Errc::corrupt_header);
    try {
        const mmm::Schema schema = mmm::detail::decode_schema(r);
        (void)schema.to_string();
        (void)schema.summary();
        if (!(schema == schema)) __builtin_trap();
        const auto bytes = mmm::detail::schema_bytes(schema);
        mmm::detail::Reader again(bytes, mmm::Errc::corrupt_header);
        if (!(mmm::detail::decode_schema(again) == schema)) __builtin_trap();
        (void)mmm::detail::schema_difference(schema, mmm::Schema::opaque(4, 4), "X");
    } catch (const mmm::Error&) {
    }
    return 0;
}
