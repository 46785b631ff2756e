// One half of a two-process example (the other is mmm_example_reader): creates
// a chunk of Coordinates, fills it, marks it ready, then sleeps in
// wait_for_change until the reader acknowledges, and finally deletes it.
//
// Usage: mmm_example_writer [NAME [COUNT [TIMEOUT_SECONDS]]]
//        defaults: shared-coords, 8, 30. COUNT includes the handshake slot (>= 2).
// Exit status: 0 when the reader acknowledged the data, 1 otherwise.
#include "coordinate.hpp"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>

int main(int argc, char** argv) {
    const std::string name = argc > 1 ? argv[1] : "shared-coords";
    const long count = argc > 2 ? std::strtol(argv[2], nullptr, 10) : 8;
    const long timeout_s = argc > 3 ? std::strtol(argv[3], nullptr, 10) : 30;
    if (count < 2 || count > 1'000'000 || timeout_s < 1) {
        std::fprintf(stderr,
                     "usage: mmm_example_writer [NAME [COUNT [TIMEOUT_SECONDS]]] "
                     "(2 <= COUNT <= 1000000, TIMEOUT_SECONDS >= 1)\n");
        return 2;
    }
    const auto n = static_cast<std::size_t>(count);

    mmm::MemChunk<Coordinate> mc;
    try {
        mmm::Client client;
        mc = client.create<Coordinate>(name, n);
        for (std::size_t i = 0; i + 1 < n; ++i) mc.write(i, example::expected_value(i));
        mc.write(n - 1, example::kReady);
        std::printf(
            "writer: created '%s' with %zu Coordinates; waiting up to %lds for the reader\n",
            name.c_str(), n, timeout_s);
        std::fflush(stdout);

        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_s);
        const auto answer = example::wait_for_slot(mc, example::kAck, example::kNack, deadline);
        mc.remove();
        if (!answer) {
            std::fprintf(stderr,
                         "mmm_example_writer: no acknowledgement from a reader within %lds\n",
                         timeout_s);
            return 1;
        }
        if (*answer == example::kNack) {
            std::fprintf(stderr, "mmm_example_writer: the reader reported unexpected data\n");
            return 1;
        }
        std::printf("writer: reader acknowledged; '%s' deleted\n", name.c_str());
        return 0;
    } catch (const mmm::Error& e) {
        std::fprintf(stderr, "mmm_example_writer: %s\n", e.what());
    } catch (const std::exception& e) {
        std::fprintf(stderr, "mmm_example_writer: unexpected error: %s\n", e.what());
    }
    // Best effort: do not leave the chunk behind when something failed after create.
    if (mc) {
        try {
            mc.remove();
        } catch (const std::exception&) {
        }
    }
    return 1;
}
