// mmmd's loop around its io_context: run handlers as events arrive and, after
// the last one, keep checking for the next without sleeping for a short while.
#pragma once

#include <boost/asio/io_context.hpp>

#include <chrono>

namespace mmmd {

// Runs `io` until it is stopped or out of work. After handling events it
// checks for new ones without sleeping for `busy_poll` (0: sleep at once).
// A client's next request (or the close notice after an open) then finds mmmd
// awake instead of paying for a wake-up, which costs 10-30 us on a virtual
// machine; the price is up to `busy_poll` of CPU after each burst of requests.
void run_event_loop(boost::asio::io_context& io, std::chrono::microseconds busy_poll);

}  // namespace mmmd
