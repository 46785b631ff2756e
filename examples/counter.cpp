// A counter shared by processes: N forked children each add 1 to chunk[0] K
// times with std::atomic_ref<std::uint64_t>::fetch_add, straight on the shared
// memory (raw access: no daemon, no seqlock, one atomic instruction per add).
// The parent waits for them and checks that the total is N * K.
//
// Usage: mmm_example_counter [NAME [CHILDREN [INCREMENTS]]]
//        defaults: counter, 4, 100000
// Exit status: 0 when the total is right, 1 otherwise.
#include <mmm/mmm.hpp>

#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <string>
#include <vector>

namespace {

// Runs in a forked child: opens the chunk by name with a Client of its own
// (an inherited one would do too: it reconnects in the child by itself),
// adds `increments` times, and returns the exit status.
int child_main(const std::string& name, std::uint64_t increments) {
    try {
        mmm::Client client;
        auto counter = client.open<std::uint64_t>(name);
        std::atomic_ref<std::uint64_t> total(counter[0]);
        for (std::uint64_t i = 0; i < increments; ++i)
            total.fetch_add(1, std::memory_order_relaxed);
        return 0;
    } catch (const mmm::Error& e) {
        std::fprintf(stderr, "mmm_example_counter[child %d]: %s\n", static_cast<int>(::getpid()),
                     e.what());
    } catch (const std::exception& e) {
        std::fprintf(stderr, "mmm_example_counter[child %d]: unexpected error: %s\n",
                     static_cast<int>(::getpid()), e.what());
    }
    return 1;
}

// Waits for every child; false when one failed.
bool reap(const std::vector<pid_t>& children) {
    bool ok = true;
    for (pid_t pid : children) {
        int status = 0;
        pid_t r;
        do {
            r = ::waitpid(pid, &status, 0);
        } while (r < 0 && errno == EINTR);
        if (r < 0) {
            std::fprintf(stderr, "mmm_example_counter: waitpid(%d): %s\n", static_cast<int>(pid),
                         std::strerror(errno));
            ok = false;
        } else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
            std::fprintf(stderr, "mmm_example_counter: child %d failed (status %d)\n",
                         static_cast<int>(pid), status);
            ok = false;
        }
    }
    return ok;
}

}  // namespace

int main(int argc, char** argv) {
    const std::string name = argc > 1 ? argv[1] : "counter";
    const long children_arg = argc > 2 ? std::strtol(argv[2], nullptr, 10) : 4;
    const long long increments_arg = argc > 3 ? std::strtoll(argv[3], nullptr, 10) : 100000;
    if (children_arg < 1 || children_arg > 256 || increments_arg < 1) {
        std::fprintf(stderr,
                     "usage: mmm_example_counter [NAME [CHILDREN [INCREMENTS]]] "
                     "(1 <= CHILDREN <= 256, INCREMENTS >= 1)\n");
        return 2;
    }
    const auto children = static_cast<std::uint64_t>(children_arg);
    const auto increments = static_cast<std::uint64_t>(increments_arg);

    mmm::MemChunk<std::uint64_t> counter;
    bool ok = false;
    try {
        mmm::Client client;
        counter = client.create<std::uint64_t>(name, 1);  // zero-filled
        static_assert(alignof(std::uint64_t) >= std::atomic_ref<std::uint64_t>::required_alignment);

        const auto start = std::chrono::steady_clock::now();
        std::fflush(nullptr);  // or the children would print the parent's buffered output again
        std::vector<pid_t> pids;
        for (std::uint64_t c = 0; c < children; ++c) {
            const pid_t pid = ::fork();
            if (pid < 0) {
                std::fprintf(stderr, "mmm_example_counter: fork: %s\n", std::strerror(errno));
                break;
            }
            // _exit: the child must not run the parent's destructors (they
            // would talk to mmmd on the parent's connection).
            if (pid == 0) ::_exit(child_main(name, increments));
            pids.push_back(pid);
        }
        const bool forked_all = pids.size() == children;
        const bool children_ok = reap(pids) && forked_all;
        const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                            std::chrono::steady_clock::now() - start)
                            .count();

        const std::uint64_t total =
            std::atomic_ref<std::uint64_t>(counter[0]).load(std::memory_order_acquire);
        const std::uint64_t expected = children * increments;
        std::printf("counter: %llu processes x %llu increments = %llu (expected %llu) in %lld ms\n",
                    static_cast<unsigned long long>(children),
                    static_cast<unsigned long long>(increments),
                    static_cast<unsigned long long>(total),
                    static_cast<unsigned long long>(expected), static_cast<long long>(ms));
        ok = children_ok && total == expected;
        if (children_ok && total != expected)
            std::fprintf(stderr, "mmm_example_counter: lost updates: %llu != %llu\n",
                         static_cast<unsigned long long>(total),
                         static_cast<unsigned long long>(expected));
    } catch (const mmm::Error& e) {
        std::fprintf(stderr, "mmm_example_counter: %s\n", e.what());
    } catch (const std::exception& e) {
        std::fprintf(stderr, "mmm_example_counter: unexpected error: %s\n", e.what());
    }
    if (counter) {
        try {
            counter.remove();
        } catch (const mmm::Error& e) {
            std::fprintf(stderr, "mmm_example_counter: %s\n", e.what());
            ok = false;
        }
    }
    return ok ? 0 : 1;
}
