// eventually(condition, limit): polls a condition until it holds, bounded in
// time and in count, for state another process changes asynchronously (no
// sleeps: tests wait on conditions with a deadline).
#pragma once

#include <chrono>
#include <thread>

namespace mmm::test {

template <class Condition>
bool eventually(Condition condition, std::chrono::milliseconds limit) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    for (int i = 0; i < 100'000; ++i) {
        if (condition()) return true;
        if (std::chrono::steady_clock::now() >= deadline) break;
        std::this_thread::yield();
    }
    return condition();
}

}  // namespace mmm::test
