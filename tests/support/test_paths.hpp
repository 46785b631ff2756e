// Where the binaries under test are: paths baked in at build time by
// tests/CMakeLists.txt (generator expressions), so a test never searches PATH.
#pragma once

#include "daemon_process.hpp"  // daemon_path(): the mmmd built with this tree

#include <string>

namespace mmm::test {

// The mmmctl built with this tree.
std::string mmmctl_path();
// A helper program built from tests/helpers/ with the project's compiler (g++).
std::string helper_path(const std::string& name);
// The typed helper built with clang++, or empty when it was not built; then
// clang_helper_skip_reason() says why.
std::string clang_helper_path();
std::string clang_helper_skip_reason();

}  // namespace mmm::test
