// Runs the mmmctl built with this tree against a runtime directory and
// collects its exit status, stdout and stderr (bounded by a timeout).
#pragma once

#include "child_process.hpp"

#include <string>
#include <vector>

namespace mmm::test {

// MMM_RUNTIME_DIR is set to runtime_dir for the tool.
RunResult run_mmmctl(const std::string& runtime_dir, const std::vector<std::string>& args,
                     std::chrono::milliseconds timeout = std::chrono::seconds(30));

}  // namespace mmm::test
