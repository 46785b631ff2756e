#include "mmmctl_runner.hpp"

#include "test_paths.hpp"

namespace mmm::test {

RunResult run_mmmctl(const std::string& runtime_dir, const std::vector<std::string>& args,
                     std::chrono::milliseconds timeout) {
    ChildOptions options;
    options.env["MMM_RUNTIME_DIR"] = runtime_dir;
    options.env.insert_or_assign(
        "NO_COLOR", std::string(1, '1'));  // not operator=: g++ 12 -Wrestrict false positive
    return run_program(mmmctl_path(), args, std::move(options), timeout);
}

}  // namespace mmm::test
