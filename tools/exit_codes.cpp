#include "exit_codes.hpp"

namespace mmmctl {

int exit_code_for(mmm::Errc code) {
    switch (code) {
        case mmm::Errc::ok:
            return exit_code::ok;
        case mmm::Errc::invalid_name:
        case mmm::Errc::invalid_argument:
        case mmm::Errc::out_of_range:
            return exit_code::usage;
        case mmm::Errc::daemon_unavailable:
            return exit_code::daemon_unavailable;
        case mmm::Errc::not_found:
            return exit_code::not_found;
        case mmm::Errc::permission_denied:
            return exit_code::permission_denied;
        default:
            return exit_code::failure;
    }
}

std::string exit_code_help() {
    return "Exit codes:\n"
           "  0  success\n"
           "  1  other error (see the message)\n"
           "  2  usage: bad option, chunk name, offset or count\n"
           "  3  mmmd is not running (start it, or pass --runtime-dir / set MMM_RUNTIME_DIR)\n"
           "  4  no chunk of that name\n"
           "  5  permission denied\n"
           "With --json, errors are also written to stdout as\n"
           "  {\"error\": CODE, \"message\": ..., \"chunk\": ..., \"hint\": ...}";
}

}  // namespace mmmctl
