#include "commands.hpp"
#include "element_reader.hpp"
#include "hex_dump.hpp"
#include "json_output.hpp"
#include "typed_value.hpp"

#include <mmm/error.hpp>

#include <algorithm>
#include <iostream>

namespace mmmctl {
namespace {

// Without --count a dump stops here: a terminal is no place for a million elements.
constexpr std::uint64_t kDefaultMaxElements = 64;

struct Range {
    std::uint64_t offset = 0;
    std::uint64_t count = 0;
    bool truncated = false;  // the default cap cut the dump short
};

Range select_range(const Invocation& inv, std::uint64_t total) {
    using mmm::Errc;
    const std::string last = "the chunk has " + std::to_string(total) + " elements (0.." +
                             std::to_string(total - 1) + ")";
    if (inv.count && *inv.count == 0)
        throw mmm::Error(Errc::invalid_argument, inv.name, "--count must be at least 1");
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

void print_text(const mmm::detail::MappedChunk& chunk, const std::string& type_name,
                const Range& range) {
    const char* unit = chunk.element_size() == 1 ? " byte" : " bytes";
    std::cout << chunk.name() << ": " << chunk.count() << " x "
              << (type_name.empty() ? "?" : type_name) << " (" << chunk.element_size() << unit
              << " each), elements " << range.offset << ".." << range.offset + range.count - 1
              << " (raw snapshot)\n";
    const std::size_t index_width = std::to_string(range.offset + range.count - 1).size();
    ElementReader reader(chunk);
    for (std::uint64_t i = range.offset; i < range.offset + range.count; ++i) {
        ElementSnapshot e = reader.read(i);
        std::string index = std::to_string(i);
        std::string label = "[" + std::string(index_width - index.size(), ' ') + index + "] ";
        std::vector<std::string> lines = hex_lines(e.bytes);
        auto value = typed_value(type_name, e.bytes);
        if (value) lines.back() += "  = " + value->text;
        if (!e.consistent) lines.back() += "  (may be torn: a writer held the element's lock)";
        for (std::size_t l = 0; l < lines.size(); ++l)
            std::cout << (l == 0 ? label : std::string(label.size(), ' ')) << lines[l] << '\n';
    }
    if (range.truncated)
        std::cout << "... " << chunk.count() - range.offset - range.count
                  << " more elements; use --offset and --count to see them\n";
}

void print_json_dump(const mmm::detail::MappedChunk& chunk, const std::string& type_name,
                     const Range& range) {
    Json elements = Json::array();
    ElementReader reader(chunk);
    for (std::uint64_t i = range.offset; i < range.offset + range.count; ++i) {
        ElementSnapshot e = reader.read(i);
        Json element = {{"index", i}, {"hex", hex_string(e.bytes)}};
        if (auto value = typed_value(type_name, e.bytes)) element["value"] = value->json;
        element["consistent"] = e.consistent;
        elements.push_back(std::move(element));
    }
    print_json({
        {"name", chunk.name()},
        {"type_name", type_name},
        {"element_size", chunk.element_size()},
        {"total_count", chunk.count()},
        {"offset", range.offset},
        {"count", range.count},
        {"truncated", range.truncated},
        {"elements", std::move(elements)},
    });
}

}  // namespace

void run_dump(mmm::Client& client, const Invocation& inv) {
    // Read-only: dumping must never be able to change a chunk.
    auto chunk = client.open_untyped(inv.name, false);
    // The mapping does not carry the type name; info() of the mapping checks it is the same chunk.
    const std::string type_name = chunk->info().type_name;
    const Range range = select_range(inv, chunk->count());
    if (inv.json)
        print_json_dump(*chunk, type_name, range);
    else
        print_text(*chunk, type_name, range);
}

}  // namespace mmmctl
