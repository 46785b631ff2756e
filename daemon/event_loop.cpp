#include "event_loop.hpp"

namespace mmmd {

void run_event_loop(boost::asio::io_context& io, std::chrono::microseconds busy_poll) {
    if (busy_poll.count() <= 0) {
        io.run();
        return;
    }
    using Clock = std::chrono::steady_clock;
    while (!io.stopped()) {
        // Sleeps until at least one handler has run.
        if (io.run_one() == 0) break;
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
