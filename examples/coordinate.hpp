// What mmm_example_writer and mmm_example_reader share: the element type and
// the handshake they run through the chunk's last element.
//
// The chunk holds `count` Coordinates. Elements 0..count-2 carry the data,
// {i, 2*i}; the last element is the handshake slot:
//   {0, 0}   as created (all bytes 0): the data is not written yet
//   kReady   written by the writer after the data
//   kAck     written by the reader after it has verified the data
//   kNack    written by the reader when the data was not what it expected
// Every access goes through the checked read()/write(), so each element is
// read whole, and seeing kReady means the data written before it is visible.
#pragma once

#include <mmm/mmm.hpp>

#include <chrono>
#include <cstddef>
#include <optional>

struct Coordinate {
    int x, y;
    friend bool operator==(const Coordinate&, const Coordinate&) = default;
};

namespace example {

inline constexpr Coordinate kReady{-1, 1};
inline constexpr Coordinate kAck{-1, 2};
inline constexpr Coordinate kNack{-1, 3};

inline Coordinate expected_value(std::size_t i) {
    const int v = static_cast<int>(i);
    return {v, 2 * v};
}

// Waits until the handshake slot holds one of `a` or `b`; nullopt at the deadline.
// The version is taken before the slot is read, so a write that lands between
// the read and the wait still wakes the wait.
template <class T>
std::optional<Coordinate> wait_for_slot(const mmm::MemChunk<T>& mc, Coordinate a, Coordinate b,
                                        std::chrono::steady_clock::time_point deadline) {
    const std::size_t slot = mc.size() - 1;
    for (;;) {
        const std::uint32_t seen = mc.version();
        const Coordinate now = mc.read(slot);
        if (now == a || now == b) return now;
        const auto left = deadline - std::chrono::steady_clock::now();
        if (left <= std::chrono::steady_clock::duration::zero()) return std::nullopt;
        mc.wait_for_change(seen, left);
    }
}

}  // namespace example
