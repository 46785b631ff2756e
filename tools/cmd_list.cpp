#include "commands.hpp"
#include "json_output.hpp"
#include "table.hpp"
#include "text_format.hpp"

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

std::string or_dash(const std::string& s) {
    return s.empty() ? "-" : s;
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
        out.reserve(kBlock + 64 * 1024);
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
        table.add_row({c.name, or_dash(c.type_name), std::to_string(c.count),
                       std::to_string(c.bytes), format_mode(c.mode), user_name(c.owner_uid),
                       std::string(mmm::to_string(c.state)), attached_cell(c.attachments),
                       is_known(c.created) ? format_age(now - c.created) : "-"});
    }
    table.print(std::cout);
    // A quarantined chunk is one mmmd refused to adopt: say why, under the table.
    for (const auto& c : chunks)
        if (c.state == mmm::ChunkState::quarantined || !c.problem.empty())
            std::cout << c.name << ": " << mmm::to_string(c.state) << ": "
                      << (c.problem.empty() ? "no reason given" : c.problem) << '\n';
}

}  // namespace mmmctl
