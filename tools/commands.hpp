// The subcommands of mmmctl. Each prints text or, with inv.json, JSON to
// stdout, and reports failure by throwing mmm::Error.
#pragma once

#include "cli.hpp"

#include <mmm/client.hpp>

namespace mmmctl {

void run_list(mmm::Client& client, const Invocation& inv);
void run_info(mmm::Client& client, const Invocation& inv);
void run_dump(mmm::Client& client, const Invocation& inv);
void run_delete(mmm::Client& client, const Invocation& inv);
void run_resize(mmm::Client& client, const Invocation& inv);
void run_stats(mmm::Client& client, const Invocation& inv);
void run_top(mmm::Client& client, const Invocation& inv);
void run_metrics(mmm::Client& client, const Invocation& inv);

}  // namespace mmmctl
