#include "commands.hpp"
#include "json_output.hpp"
#include "table.hpp"
#include "text_format.hpp"

#include <mmm/detail/text.hpp>

#include <chrono>
#include <iostream>

namespace mmmctl {
namespace {

// "0", or "2 (1234,5678)"; long pid lists are cut: `mmmctl info` has them all.
std::string attached_cell(const std::vector<mmm::Attachment>& attachments) {
    constexpr std::size_t kMaxPids = 4;
    std::string out = std::to_string(attachments.size());
    if (attachments.empty()) return out;
    out += " (";
    for (std::size_t i = 0; i < attachments.size() && i < kMaxPids; ++i)
        out += (i > 0 ? "," : "") + std::to_string(attachments[i].pid);
    if (attachments.size() > kMaxPids) out += ",...";
    return out + ")";
}

// The type name, or the schema's short form where the name says nothing.
std::string type_cell(const mmm::ChunkInfo& c) {
    if (c.state == mmm::ChunkState::quarantined && c.type_name.empty()) return "-";
    if (c.kind == mmm::ChunkKind::heap) return "heap";
    return mmm::detail::printable(c.type_name.empty() ? c.schema.summary() : c.type_name);
}

// "100", or "100/1000" for a growable chunk.
std::string count_cell(const mmm::ChunkInfo& c) {
    std::string out = std::to_string(c.count);
    if (c.max_count > c.count) out += "/" + std::to_string(c.max_count);
    return out;
}

}  // namespace

void run_list(mmm::Client& client, const Invocation& inv) {
    const auto chunks = client.list();
    if (inv.json) {
        // One chunk per line, written straight into text: a tree of 100k nlohmann
        // objects dumped with indentation took seconds (docs/BENCHMARKS.md).
        // Written out in blocks of about 1 MiB, so one buffer is reused instead
        // of growing to the whole list (fresh pages are slow on VMs).
        constexpr std::size_t kBlock = std::size_t{1} << 20;
        std::string out = "[";
        out.reserve(kBlock + std::size_t{64} * 1024);
        for (std::size_t i = 0; i < chunks.size(); ++i) {
            out += i == 0 ? "\n  " : ",\n  ";
            append_chunk_json(out, chunks[i]);
            if (out.size() >= kBlock) {
                std::cout.write(out.data(), static_cast<std::streamsize>(out.size()));
                out.clear();
            }
        }
        out += chunks.empty() ? "]\n" : "\n]\n";
        std::cout.write(out.data(), static_cast<std::streamsize>(out.size()));
        return;
    }
    if (chunks.empty()) {
        std::cout << "no chunks (mmmd at " << client.runtime_dir() << ")\n";
        return;
    }
    using A = Table::Align;
    Table table({{"NAME"},
                 {"TYPE"},
                 {"COUNT", A::right},
                 {"BYTES", A::right},
                 {"MODE"},
                 {"OWNER"},
                 {"STATE"},
                 {"ATTACHED"},
                 {"AGE", A::right}});
    const auto now = std::chrono::system_clock::now();
    for (const auto& c : chunks) {
        table.add_row({mmm::detail::printable(c.name), type_cell(c), count_cell(c),
                       std::to_string(c.bytes), format_mode(c.mode), user_name(c.owner_uid),
                       std::string(mmm::to_string(c.state)), attached_cell(c.attachments),
                       is_known(c.created) ? format_age(now - c.created) : "-"});
    }
    table.print(std::cout);
    // A quarantined chunk is one mmmd refused to adopt: say why, under the table.
    for (const auto& c : chunks)
        if (c.state == mmm::ChunkState::quarantined || !c.problem.empty())
            std::cout << mmm::detail::printable(c.name) << ": " << mmm::to_string(c.state) << ": "
                      << (c.problem.empty() ? "no reason given" : mmm::detail::printable(c.problem))
                      << '\n';
}

}  // namespace mmmctl
