// The command line of mmmctl, parsed into a plain value.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <variant>

namespace mmmctl {

enum class Command { list, info, dump, remove, stats };

struct Invocation {
    Command command = Command::list;
    std::string runtime_dir;  // empty: the library's default
    bool json = false;
    std::string name;                    // info, dump, delete
    std::uint64_t offset = 0;            // dump, in elements
    std::optional<std::uint64_t> count;  // dump, in elements; unset: all, capped
};

// The invocation, or the exit status when the command line was fully handled
// here (--help, --version) or was wrong (the error is already printed).
std::variant<Invocation, int> parse_command_line(int argc, char** argv);

}  // namespace mmmctl
