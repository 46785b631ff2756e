// Two processes share a map of strings in a heap chunk (mmm::Heap): the
// parent creates the heap; a forked child opens it with a Client of its own
// and adds words under the heap's robust lock; the parent waits for the
// change (the child's unlock bumps version()) and reads the words back under
// the lock. The heap is removed at the end.
//
// Usage: mmm_example_heap [NAME]   default: words
// Exit status: 0 when the parent read every word the child wrote, 1 otherwise.
#include <mmm/heap.hpp>
#include <mmm/mmm.hpp>

#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <exception>
#include <string>

namespace {

// A map from words to their lengths, in the heap's memory.
using Words = mmm::heap::map<mmm::heap::string, std::uint64_t>;

constexpr const char* kWords[] = {"apple", "banana", "cherry", "damson", "elderberry"};

int child_main(const std::string& name) {
    try {
        mmm::Client client;
        auto heap = client.open_heap(name);
        mmm::HeapLock h = heap.lock();
        auto* words = h->find_or_construct<Words>("words")(h.allocator());
        for (const char* w : kWords)
            words->emplace(mmm::heap::string(w, h.allocator()), std::strlen(w));
        return 0;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "mmm_example_heap[child]: %s\n", e.what());
        return 1;
    }
}

}  // namespace

int main(int argc, char** argv) {
    const std::string name = argc > 1 ? argv[1] : "words";
    try {
        mmm::Client client;
        auto heap = client.create_heap(name, 1 << 20);  // 1 MiB
        const std::uint32_t before = heap.version();
        std::fflush(nullptr);
        const pid_t pid = ::fork();
        if (pid < 0) {
            std::perror("fork");
            return 1;
        }
        if (pid == 0) ::_exit(child_main(name));
        int status = 0;
        while (::waitpid(pid, &status, 0) < 0) {
        }
        const bool changed = heap.wait_for_change(before, std::chrono::seconds(10)).has_value();
        std::size_t found = 0;
        if (changed && WIFEXITED(status) && WEXITSTATUS(status) == 0) {
            mmm::HeapLock h = heap.lock();
            if (auto* words = h->find<Words>("words").first) {
                for (const auto& [word, length] : *words)
                    std::printf("%-12s %llu\n", word.c_str(),
                                static_cast<unsigned long long>(length));
                found = words->size();
            }
            std::printf("heap '%s': %zu words, %zu of %zu bytes free\n", name.c_str(), found,
                        h->get_free_memory(), heap.size());
        }
        heap.remove();
        return found == std::size(kWords) ? 0 : 1;
    } catch (const mmm::Error& e) {
        std::fprintf(stderr, "mmm_example_heap: %s\n", e.what());
        return 1;
    }
}
