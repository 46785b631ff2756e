#include "event_loop.hpp"

namespace mmmd {

void run_event_loop(boost::asio::io_context& io, std::chrono::microseconds busy_poll) {
    if (busy_poll.count() <= 0) {
        io.run();
        return;
    }
    using Clock = std::chrono::steady_clock;
    while (!io.stopped()) {
        // Sleeps until a handler has run, but never for more than a second:
        // ThreadSanitizer holds back a signal that lands while we poll and only
        // hands it over on the next intercepted call, so an endless sleep could
        // keep SIGTERM from reaching mmmd. Out of work, io is stopped.
        if (io.run_one_for(std::chrono::seconds(1)) == 0) continue;
        auto quiet_until = Clock::now() + busy_poll;
        while (!io.stopped()) {
            // poll() asks the reactor for ready events without blocking.
            if (io.poll() > 0)
                quiet_until = Clock::now() + busy_poll;
            else if (Clock::now() >= quiet_until)
                break;
        }
    }
}

}  // namespace mmmd
