#include "sync_words.hpp"

#include "pid_alive.hpp"

namespace mmmd {

bool lease_holder_alive(std::uint32_t pid) {
    if (!mmm::detail::pid_alive(pid)) return false;
    // A zombie has already unmapped everything: it writes no more. Without
    // procfs ('?') kill() is all there is to go by.
    const char state = mmm::detail::process_state(pid);
    return state != 'Z' && state != 'X';
}

}  // namespace mmmd
