// How mmmd names a client connection: unique for the daemon's lifetime.
#pragma once

#include <cstdint>

namespace mmmd {

using ConnId = std::uint64_t;

}  // namespace mmmd
