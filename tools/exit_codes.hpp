// The exit status of mmmctl: scripts branch on these, so they never change meaning.
#pragma once

#include <mmm/error.hpp>

#include <string>

namespace mmmctl {

namespace exit_code {
inline constexpr int ok = 0;
inline constexpr int failure = 1;             // any other error
inline constexpr int usage = 2;               // bad command line, name, offset or count
inline constexpr int daemon_unavailable = 3;  // mmmd is not running
inline constexpr int not_found = 4;           // no chunk of that name
inline constexpr int permission_denied = 5;   // the chunk's mode or mmmd refuses this user
}  // namespace exit_code

int exit_code_for(mmm::Errc code);

// The table printed at the end of `mmmctl --help`.
std::string exit_code_help();

}  // namespace mmmctl
