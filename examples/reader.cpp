// The other half of the two-process example (see mmm_example_writer): waits
// for the chunk to be created and filled, verifies every element, and writes
// its acknowledgement into the handshake slot.
//
// Usage: mmm_example_reader [NAME [TIMEOUT_SECONDS]]     defaults: shared-coords, 10
// Exit status: 0 when the data was as expected and acknowledged, 1 otherwise.
#include "coordinate.hpp"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>

int main(int argc, char** argv) {
    const std::string name = argc > 1 ? argv[1] : "shared-coords";
    const long timeout_s = argc > 2 ? std::strtol(argv[2], nullptr, 10) : 10;
    if (timeout_s < 1) {
        std::fprintf(stderr, "usage: mmm_example_reader [NAME [TIMEOUT_SECONDS]]\n");
        return 2;
    }
    const auto timeout = std::chrono::seconds(timeout_s);
    try {
        mmm::Client client;
        // Waits for the writer to create the chunk. Writable (not open<const
        // Coordinate>) because the reader writes its acknowledgement.
        auto mc = client.open<Coordinate>(name, timeout);
        const std::size_t n = mc.size();
        if (n < 2) {
            std::fprintf(stderr, "mmm_example_reader: '%s' has %zu elements, expected >= 2\n",
                         name.c_str(), n);
            return 1;
        }
        const auto deadline = std::chrono::steady_clock::now() + timeout;
        if (!example::wait_for_slot(mc, example::kReady, example::kReady, deadline)) {
            std::fprintf(stderr, "mmm_example_reader: '%s' was not marked ready within %lds\n",
                         name.c_str(), timeout_s);
            return 1;
        }

        std::size_t bad = 0;
        for (std::size_t i = 0; i + 1 < n; ++i) {
            const Coordinate c = mc.read(i);
            const Coordinate want = example::expected_value(i);
            if (c != want) {
                if (++bad <= 5)
                    std::fprintf(stderr, "mmm_example_reader: [%zu] = {%d %d}, expected {%d %d}\n",
                                 i, c.x, c.y, want.x, want.y);
            } else if (i < 8) {
                std::printf("reader: [%zu] = {%d %d}\n", i, c.x, c.y);
            }
        }
        if (n - 1 > 8) std::printf("reader: ... %zu more\n", n - 1 - 8);
        std::fflush(stdout);  // before the writer, woken by the ack, prints its own lines

        mc.write(n - 1, bad == 0 ? example::kAck : example::kNack);
        if (bad != 0) {
            std::fprintf(stderr, "mmm_example_reader: %zu of %zu elements were wrong\n", bad,
                         n - 1);
            return 1;
        }
        std::printf("reader: %zu elements verified; acknowledged\n", n - 1);
        return 0;
    } catch (const mmm::Error& e) {
        std::fprintf(stderr, "mmm_example_reader: %s\n", e.what());
    } catch (const std::exception& e) {
        std::fprintf(stderr, "mmm_example_reader: unexpected error: %s\n", e.what());
    }
    return 1;
}
