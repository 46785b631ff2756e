#include "process_state.hpp"

#include "pid_alive.hpp"

#include <fstream>
#include <string>

namespace mmmd {

char process_state(std::uint32_t pid) {
    std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
    std::string line;
    if (!std::getline(stat, line)) return '?';
    // The command name in parentheses may itself contain ')' or spaces.
    auto comm_end = line.rfind(')');
    if (comm_end == std::string::npos || comm_end + 2 >= line.size()) return '?';
    return line[comm_end + 2];
}

bool lease_holder_alive(std::uint32_t pid) {
    if (!mmm::detail::pid_alive(pid)) return false;
    // A zombie has already unmapped everything: it writes no more. Without
    // procfs ('?') kill() is all there is to go by.
    const char state = process_state(pid);
    return state != 'Z' && state != 'X';
}

}  // namespace mmmd
