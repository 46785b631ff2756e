#include "test_paths.hpp"

#ifndef MMM_CTL_PATH
#error "MMM_CTL_PATH must be defined by tests/CMakeLists.txt"
#endif
#ifndef MMM_TEST_HELPER_DIR
#error "MMM_TEST_HELPER_DIR must be defined by tests/CMakeLists.txt"
#endif
#ifndef MMM_TEST_CLANG_HELPER
#define MMM_TEST_CLANG_HELPER ""
#endif
#ifndef MMM_TEST_CLANG_SKIP_REASON
#define MMM_TEST_CLANG_SKIP_REASON "the clang++ helper was not configured"
#endif

namespace mmm::test {

std::string mmmctl_path() {
    return MMM_CTL_PATH;
}
std::string helper_path(const std::string& name) {
    return std::string(MMM_TEST_HELPER_DIR) + "/" + name;
}
std::string clang_helper_path() {
    return MMM_TEST_CLANG_HELPER;
}
std::string clang_helper_skip_reason() {
    return MMM_TEST_CLANG_SKIP_REASON;
}

}  // namespace mmm::test
