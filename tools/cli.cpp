#include "cli.hpp"

#include "error_report.hpp"
#include "exit_codes.hpp"

#include <CLI/CLI.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace mmmctl {
namespace {

// A parse error must honour --json even though parsing never got to set it.
bool asks_for_json(int argc, char** argv) {
    for (int i = 1; i < argc; ++i)
        if (std::string_view(argv[i]) == "--json") return true;
    return false;
}

CLI::App* add_command(CLI::App& app, Invocation& inv, const char* name, const char* description) {
    CLI::App* sub = app.add_subcommand(name, description);
    // Also on each subcommand (not only through fallthrough) so `mmmctl list --help` shows it.
    sub->add_flag("--json", inv.json, "Print machine-readable JSON to stdout");
    return sub;
}

// CLI11 would wrap "-1" around to 2^64-1 for an unsigned option.
std::string reject_negative(const std::string& value) {
    return !value.empty() && value.front() == '-' ? "must not be negative (got " + value + ")"
                                                  : std::string();
}

}  // namespace

std::variant<Invocation, int> parse_command_line(int argc, char** argv) {
    Invocation inv;
    CLI::App app{"mmmctl: inspect and manage the shared-memory chunks of mmmd", "mmmctl"};
    app.set_version_flag("--version", std::string("mmmctl ") + MMM_VERSION);
    app.footer(exit_code_help());
    app.require_subcommand(1, 1);
    // Global options may follow the subcommand: `mmmctl list --runtime-dir X`.
    app.fallthrough();
    app.add_option("--runtime-dir", inv.runtime_dir,
                   "Directory of mmmd's socket (default: $MMM_RUNTIME_DIR; else "
                   "$XDG_RUNTIME_DIR/mmm or /tmp/mmm-<uid>, then the system-wide "
                   "/run/mmm)");
    app.add_flag("--json", inv.json, "Print machine-readable JSON to stdout");

    CLI::App* list = add_command(app, inv, "list", "List every chunk this user may read");
    CLI::App* info = add_command(app, inv, "info", "Show everything mmmd knows about one chunk");
    info->add_option("name", inv.name, "Chunk name")->required();
    CLI::App* dump =
        add_command(app, inv, "dump", "Print a chunk's elements by field (a snapshot of each)");
    dump->add_option("name", inv.name, "Chunk name")->required();
    std::string format = "text";
    dump->add_option("--format", format, "text (fields; JSON with --json) or csv (a header row)")
        ->check(CLI::IsMember({"text", "csv"}));
    bool raw = false;
    dump->add_flag("--raw", raw, "Hex of each element's bytes instead of its fields");
    dump->add_option("--offset", inv.offset, "First element to show (default 0)")
        ->check(reject_negative);
    std::uint64_t count = 0;
    CLI::Option* count_option =
        dump->add_option("--count", count, "Number of elements to show (default: all, at most 64)")
            ->check(reject_negative);
    CLI::App* remove = add_command(app, inv, "delete", "Delete a chunk (owner or root only)");
    remove->add_option("name", inv.name, "Chunk name")->required();
    CLI::App* resize =
        add_command(app, inv, "resize", "Grow or shrink a growable chunk (owner or root only)");
    resize->add_option("name", inv.name, "Chunk name")->required();
    resize->add_option("count", inv.new_count, "Elements it holds from now on")
        ->required()
        ->check(reject_negative);
    CLI::App* stats = add_command(app, inv, "stats", "Show the daemon's counters and limits");
    CLI::App* top = add_command(app, inv, "top",
                                "Live view of the chunks: change rate, attachments, lease, bytes");
    top->add_option("--interval", inv.interval_s, "Seconds between refreshes (default 1)")
        ->check(CLI::Range(0.01, 3600.0));
    std::uint64_t iterations = 0;
    CLI::Option* iterations_option =
        top->add_option("--iterations", iterations,
                        "Stop after this many refreshes (default: never)")
            ->check(reject_negative)
            ->check(CLI::PositiveNumber);
    std::string sort = "name";
    top->add_option("--sort", sort, "Row order: name, rate or bytes (largest first)")
        ->check(CLI::IsMember({"name", "rate", "bytes"}));
    top->add_option("--filter", inv.filter, "Only chunks whose name matches this glob (fnmatch)");
    // No --json of its own: the text format is its only output.
    CLI::App* metrics = app.add_subcommand(
        "metrics", "Print the daemon's and each chunk's figures in the Prometheus text format");
    metrics->add_option("--output", inv.output,
                        "Write to this file atomically (temporary file, then rename), as "
                        "node_exporter's textfile collector wants");

    try {
        app.parse(argc, argv);
    } catch (const CLI::CallForHelp& e) {
        return app.exit(e);
    } catch (const CLI::CallForAllHelp& e) {
        return app.exit(e);
    } catch (const CLI::CallForVersion& e) {
        return app.exit(e);
    } catch (const CLI::RequiredError& e) {
        // CLI11 reports a mistyped command as a missing one; name the culprit instead.
        std::vector<std::string> rest = app.remaining();
        std::string message =
            !app.get_subcommands().empty() || rest.empty()
                ? std::string(e.what())
                : "unknown command '" + rest.front() +
                      "' (commands: list, info, dump, delete, resize, stats, top, metrics)";
        return report_usage_error(message, asks_for_json(argc, argv));
    } catch (const CLI::ParseError& e) {
        return report_usage_error(e.what(), asks_for_json(argc, argv));
    }

    if (*count_option) inv.count = count;
    if (*iterations_option) inv.iterations = iterations;
    inv.sort = sort == "rate" ? TopSort::rate : sort == "bytes" ? TopSort::bytes : TopSort::name;
    if (raw && format == "csv")
        return report_usage_error("--raw and --format csv are two different outputs: pick one",
                                  inv.json);
    inv.format = raw ? DumpFormat::raw : format == "csv" ? DumpFormat::csv : DumpFormat::fields;
    if (list->parsed()) inv.command = Command::list;
    if (info->parsed()) inv.command = Command::info;
    if (dump->parsed()) inv.command = Command::dump;
    if (remove->parsed()) inv.command = Command::remove;
    if (resize->parsed()) inv.command = Command::resize;
    if (stats->parsed()) inv.command = Command::stats;
    if (top->parsed()) inv.command = Command::top;
    if (metrics->parsed()) inv.command = Command::metrics;
    if (inv.command == Command::metrics && inv.json)
        return report_usage_error(
            "metrics prints the Prometheus text format, not JSON (mmmctl stats --json and "
            "mmmctl list --json have the same figures)",
            true);
    return inv;
}

}  // namespace mmmctl
