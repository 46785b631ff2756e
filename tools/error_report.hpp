// How mmmctl tells the user (and, with --json, a script) that something failed.
#pragma once

#include <mmm/error.hpp>

#include <string>

namespace mmmctl {

// Prints the error to stderr (and as JSON to stdout when `json`); returns the exit status.
int report_error(const mmm::Error& error, bool json);
// A command line the parser refused; returns exit_code::usage.
int report_usage_error(const std::string& message, bool json);

}  // namespace mmmctl
