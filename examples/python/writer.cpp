// The C++ half of the C++ writer / Python reader example (the other half is
// examples/python/reader.py): creates a chunk of Particles, fills it, marks it
// ready, sleeps in wait_for_change until the reader acknowledges, and deletes it.
//
// Usage: mmm_example_py_writer [NAME [COUNT [TIMEOUT_SECONDS]]]
//        defaults: py-particles, 1000, 30. COUNT includes the handshake slot (>= 2).
// Exit status: 0 when the reader acknowledged the data, 1 otherwise.
#include "particles.hpp"

#include <mmm/mmm.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>

int main(int argc, char** argv) {
    const std::string name = argc > 1 ? argv[1] : "py-particles";
    const long count = argc > 2 ? std::strtol(argv[2], nullptr, 10) : 1000;
    const long timeout_s = argc > 3 ? std::strtol(argv[3], nullptr, 10) : 30;
    if (count < 2 || count > 10'000'000 || timeout_s < 1) {
        std::fprintf(stderr, "usage: mmm_example_py_writer [NAME [COUNT [TIMEOUT_SECONDS]]]\n");
        return 2;
    }
    const auto n = static_cast<std::size_t>(count);
    mmm::MemChunk<example::Particle> chunk;
    try {
        mmm::Client client;
        chunk = client.create<example::Particle>(name, n);
        for (std::size_t i = 0; i + 1 < n; ++i) chunk.write(i, example::particle_at(i));
        chunk.write(n - 1, example::Particle{example::kReady, 0, {}, 0});
        std::printf("writer: '%s' holds %zu particles; waiting up to %lds for the reader\n",
                    name.c_str(), n - 1, timeout_s);
        std::fflush(stdout);

        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_s);
        std::int32_t answer = 0;
        for (;;) {
            const std::uint32_t seen = chunk.version();  // before the read: no change is missed
            answer = chunk.read(n - 1).id;
            if (answer == example::kAck || answer == example::kNack) break;
            const auto left = deadline - std::chrono::steady_clock::now();
            if (left <= std::chrono::steady_clock::duration::zero()) break;
            chunk.wait_for_change(seen, left);
        }
        chunk.remove();
        if (answer != example::kAck) {
            std::fprintf(stderr, "mmm_example_py_writer: %s\n",
                         answer == example::kNack ? "the reader reported unexpected data"
                                                  : "no answer from a reader in time");
            return 1;
        }
        std::printf("writer: the reader acknowledged; '%s' deleted\n", name.c_str());
        return 0;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "mmm_example_py_writer: %s\n", e.what());
    }
    if (chunk) {
        try {
            chunk.remove();
        } catch (const std::exception&) {
        }
    }
    return 1;
}
