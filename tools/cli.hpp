// The command line of mmmctl, parsed into a plain value.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <variant>

namespace mmmctl {

enum class Command { list, info, dump, remove, resize, stats, top, metrics };

// How `dump` shows elements: by field (text, or JSON with --json), as CSV
// with a header row, or as raw hex (with typed values where the schema has them).
enum class DumpFormat { fields, csv, raw };

// How `top` orders its rows: by name, by change rate or by bytes (largest first).
enum class TopSort { name, rate, bytes };

struct Invocation {
    Command command = Command::list;
    std::string runtime_dir;  // empty: the library's default
    bool json = false;
    std::string name;                         // info, dump, delete
    std::uint64_t offset = 0;                 // dump, in elements
    std::optional<std::uint64_t> count;       // dump, in elements; unset: all, capped
    DumpFormat format = DumpFormat::fields;   // dump
    std::uint64_t new_count = 0;              // resize
    double interval_s = 1.0;                  // top: seconds between ticks
    std::optional<std::uint64_t> iterations;  // top: ticks before it stops; unset: forever
    TopSort sort = TopSort::name;             // top
    std::string filter;                       // top: fnmatch pattern on names; empty: all
    std::string output;                       // metrics: file written atomically; empty: stdout
};

// The invocation, or the exit status when the command line was fully handled
// here (--help, --version) or was wrong (the error is already printed).
std::variant<Invocation, int> parse_command_line(int argc, char** argv);

}  // namespace mmmctl
