// Feeds arbitrary bytes as mmmd's registry log, the truth a restarted mmmd
// adopts: the entry framing, chunk records and their schemas. Anything but
// entries that decode and validate, or a clean stop, is a bug.
#include "chunk_layout.hpp"
#include "registry_log.hpp"

#include <cstddef>
#include <cstdint>
#include <span>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::uint64_t valid = 0;
    std::vector<std::string> problems;
    const auto entries = mmmd::decode_log(std::as_bytes(std::span(data, size)), valid, problems);
    if (valid > size) __builtin_trap();
    for (const auto& e : entries) {
        if (!e.put) continue;
        // A record that decodes is one mmmd may hold: its segment's geometry
        // exists, and it encodes to what decodes to the same record.
        const auto bytes = mmm::detail::record_bytes(e.record);
        if (!mmm::detail::geometry_for(e.record, bytes.size())) __builtin_trap();
        mmm::detail::Reader r(bytes, mmm::Errc::corrupt_header);
        if (mmm::detail::record_bytes(mmm::detail::decode_record(r)) != bytes) __builtin_trap();
    }
    return 0;
}
