#include "error_report.hpp"

#include "exit_codes.hpp"
#include "json_output.hpp"

#include <mmm/detail/text.hpp>

#include <iostream>

namespace mmmctl {
namespace {

// Error::what() already starts with "mmm: "; rebuilt from the parts so the
// line reads "mmmctl: 'name': message [code]; hint" without a double prefix.
std::string describe(const mmm::Error& e) {
    // Messages carry text from mmmd and from segments: escaped, never raw.
    using mmm::detail::printable;
    std::string out = "mmmctl: ";
    if (!e.chunk().empty()) out += "'" + printable(e.chunk()) + "': ";
    out += printable(e.message());
    out += " [";
    out += mmm::to_string(e.code());
    out += "]";
    if (!e.hint().empty()) out += "; " + printable(e.hint());
    return out;
}

}  // namespace

int report_error(const mmm::Error& error, bool json) {
    std::cout.flush();
    std::cerr << describe(error) << '\n';
    if (json) print_json(error_json(error));
    return exit_code_for(error.code());
}

int report_usage_error(const std::string& message, bool json) {
    return report_error(
        mmm::Error(mmm::Errc::invalid_argument, {}, message, "run 'mmmctl --help' for usage"),
        json);
}

}  // namespace mmmctl
