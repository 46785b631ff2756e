#include "commands.hpp"
#include "hex_dump.hpp"
#include "json_output.hpp"
#include "schema_values.hpp"

#include <mmm/any_chunk.hpp>
#include <mmm/detail/text.hpp>
#include <mmm/error.hpp>

#include <algorithm>
#include <chrono>
#include <iostream>

namespace mmmctl {
namespace {

// Without --count a dump stops here: a terminal is no place for a million elements.
constexpr std::uint64_t kDefaultMaxElements = 64;
// Long enough for any live writer of one element; short enough that a dump
// touching many stuck elements still returns promptly.
constexpr auto kWriterPatience = std::chrono::milliseconds(50);

struct Range {
    std::uint64_t offset = 0;
    std::uint64_t count = 0;
    bool truncated = false;  // the default cap cut the dump short
};

Range select_range(const Invocation& inv, std::uint64_t total) {
    using mmm::Errc;
    if (inv.count && *inv.count == 0)
        throw mmm::Error(Errc::invalid_argument, inv.name, "--count must be at least 1");
    const std::string last = total == 0 ? "the chunk has no elements"
                                        : "the chunk has " + std::to_string(total) +
                                              " elements (0.." + std::to_string(total - 1) + ")";
    if (inv.offset >= total)
        throw mmm::Error(Errc::out_of_range, inv.name,
                         "--offset " + std::to_string(inv.offset) + " is out of range: " + last,
                         "pass an --offset below " + std::to_string(total));
    const std::uint64_t available = total - inv.offset;
    if (inv.count && *inv.count > available)
        throw mmm::Error(Errc::out_of_range, inv.name,
                         "--offset " + std::to_string(inv.offset) + " --count " +
                             std::to_string(*inv.count) + " is out of range: " + last,
                         "pass a --count of at most " + std::to_string(available));
    if (inv.count) return {inv.offset, *inv.count, false};
    return {inv.offset, std::min(available, kDefaultMaxElements), available > kDefaultMaxElements};
}

// One element's bytes, never torn by a checked write; `consistent` is false
// when a writer held it throughout the patience (a stopped process mid-write).
struct Element {
    std::vector<std::byte> bytes;
    bool consistent = true;
};

Element read(const mmm::AnyChunk& chunk, std::uint64_t i) {
    Element e{std::vector<std::byte>(chunk.element_size()), true};
    e.consistent = chunk.try_read_bytes(i, e.bytes, kWriterPatience);
    return e;
}

constexpr const char* kTorn = "may be torn: a writer held the element throughout";

void print_text(const mmm::AnyChunk& chunk, const Range& range, bool raw) {
    const std::string type =
        chunk.type_name().empty() ? chunk.schema().summary() : chunk.type_name();
    std::cout << mmm::detail::printable(chunk.name()) << ": " << chunk.size() << " x "
              << mmm::detail::printable(type) << " (" << chunk.element_size()
              << (chunk.element_size() == 1 ? " byte" : " bytes") << " each), elements "
              << range.offset << ".." << range.offset + range.count - 1 << "\n";
    const std::size_t index_width = std::to_string(range.offset + range.count - 1).size();
    for (std::uint64_t i = range.offset; i < range.offset + range.count; ++i) {
        const Element e = read(chunk, i);
        const std::string index = std::to_string(i);
        const std::string label = "[" + std::string(index_width - index.size(), ' ') + index + "] ";
        std::vector<std::string> lines;
        if (raw) {
            lines = hex_lines(e.bytes);
            if (!chunk.schema().is_opaque())
                lines.back() += "  = " + element_text(chunk.schema(), e.bytes);
        } else {
            lines.push_back(element_text(chunk.schema(), e.bytes));
        }
        if (!e.consistent) lines.back() += std::string("  (") + kTorn + ")";
        for (std::size_t l = 0; l < lines.size(); ++l)
            std::cout << (l == 0 ? label : std::string(label.size(), ' ')) << lines[l] << '\n';
    }
    if (range.truncated)
        std::cout << "... " << chunk.size() - range.offset - range.count
                  << " more elements; use --offset and --count to see them\n";
}

void print_csv(const mmm::AnyChunk& chunk, const Range& range) {
    std::cout << "index";
    for (const std::string& column : csv_columns(chunk.schema())) std::cout << ',' << column;
    std::cout << ",consistent\n";
    for (std::uint64_t i = range.offset; i < range.offset + range.count; ++i) {
        const Element e = read(chunk, i);
        std::cout << i;
        for (const std::string& value : csv_values(chunk.schema(), e.bytes))
            std::cout << ',' << value;
        std::cout << (e.consistent ? ",true\n" : ",false\n");
    }
}

void print_json_dump(const mmm::AnyChunk& chunk, const Range& range, bool raw) {
    Json elements = Json::array();
    for (std::uint64_t i = range.offset; i < range.offset + range.count; ++i) {
        const Element e = read(chunk, i);
        Json element = {{"index", i}};
        if (raw) element["hex"] = hex_string(e.bytes);
        if (!raw || !chunk.schema().is_opaque())
            element["value"] = element_json(chunk.schema(), e.bytes);
        element["consistent"] = e.consistent;
        elements.push_back(std::move(element));
    }
    print_json({
        {"name", chunk.name()},
        {"type_name", chunk.type_name()},
        {"schema", chunk.schema().summary()},
        {"element_size", chunk.element_size()},
        {"total_count", chunk.size()},
        {"offset", range.offset},
        {"count", range.count},
        {"truncated", range.truncated},
        {"elements", std::move(elements)},
    });
}

}  // namespace

void run_dump(mmm::Client& client, const Invocation& inv) {
    // Read-only: dumping must never be able to change a chunk.
    const mmm::AnyChunk chunk = client.open_any(inv.name, mmm::Access::read_only);
    const Range range = select_range(inv, chunk.size());
    const bool raw = inv.format == DumpFormat::raw;
    if (inv.format == DumpFormat::csv)
        print_csv(chunk, range);
    else if (inv.json)
        print_json_dump(chunk, range, raw);
    else
        print_text(chunk, range, raw);
}

}  // namespace mmmctl
