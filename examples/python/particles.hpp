// What examples/python/writer.cpp shares with examples/python/reader.py: a
// chunk of Particles whose last element is a handshake slot (its id):
//   0        as created: the data is not written yet
//   kReady   written by the C++ writer after the data
//   kAck     written by the Python reader after it has checked the data
//   kNack    written by the reader when the data was not what it expected
// BOOST_DESCRIBE_STRUCT gives the chunk's schema its field names, so Python
// sees a structured numpy array with fields id, flags, pos.x/y/z, mass.
#pragma once

#include <boost/describe/class.hpp>

#include <cstddef>
#include <cstdint>

namespace example {

struct Vec3 {
    double x, y, z;
};
BOOST_DESCRIBE_STRUCT(Vec3, (), (x, y, z))

struct Particle {
    std::int32_t id;
    std::uint32_t flags;
    Vec3 pos;
    double mass;
};
BOOST_DESCRIBE_STRUCT(Particle, (), (id, flags, pos, mass))

inline constexpr std::int32_t kReady = -1;
inline constexpr std::int32_t kAck = -2;
inline constexpr std::int32_t kNack = -3;

// Element i of the data (reader.py checks the same formula with numpy).
inline Particle particle_at(std::size_t i) {
    const double d = static_cast<double>(i);
    return Particle{static_cast<std::int32_t>(i), static_cast<std::uint32_t>(i % 3),
                    Vec3{0.5 * d, 2.0 * d, -d}, 1.0 + d};
}

}  // namespace example
