// mmmctl: the admin tool of mmm (docs/MMMCTL.md).
#include "cli.hpp"
#include "commands.hpp"
#include "error_report.hpp"

#include <mmm/client.hpp>
#include <mmm/error.hpp>

#include <cstdio>
#include <exception>
#include <variant>

namespace {

void run(mmm::Client& client, const mmmctl::Invocation& inv) {
    using mmmctl::Command;
    switch (inv.command) {
        case Command::list:
            return mmmctl::run_list(client, inv);
        case Command::info:
            return mmmctl::run_info(client, inv);
        case Command::dump:
            return mmmctl::run_dump(client, inv);
        case Command::remove:
            return mmmctl::run_delete(client, inv);
        case Command::resize:
            return mmmctl::run_resize(client, inv);
        case Command::stats:
            return mmmctl::run_stats(client, inv);
        case Command::top:
            return mmmctl::run_top(client, inv);
        case Command::metrics:
            return mmmctl::run_metrics(client, inv);
    }
}

}  // namespace

// The outer handler: a failure outside the command (parsing the command line,
// reporting an error) is said on stderr, never std::terminate.
int main(int argc, char** argv) try {
    auto parsed = mmmctl::parse_command_line(argc, argv);
    if (const int* exit_status = std::get_if<int>(&parsed)) return *exit_status;
    const auto& inv = std::get<mmmctl::Invocation>(parsed);
    try {
        mmm::Client client(mmm::ClientOptions{.runtime_dir = inv.runtime_dir});
        run(client, inv);
        return 0;
    } catch (const mmm::Error& e) {
        return mmmctl::report_error(e, inv.json);
    } catch (const std::exception& e) {
        return mmmctl::report_error(mmm::Error(mmm::Errc::internal, {}, e.what()), inv.json);
    }
} catch (const std::exception& e) {
    std::fprintf(stderr, "mmmctl: %s\n", e.what());
    return 1;
} catch (...) {
    std::fprintf(stderr, "mmmctl: failed with an unknown exception\n");
    return 1;
}
