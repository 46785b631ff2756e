// Whether a process that mmmd recorded (a write lease holder) still runs, as
// far as it can tell. Not user API.
#pragma once

#include <cstdint>

namespace mmmd {

// The state letter of /proc/<pid>/stat ('R' running, 'S' sleeping, 'Z' zombie,
// ...), or '?' when it cannot be read (no such process, no procfs).
char process_state(std::uint32_t pid);

// Whether a recorded lease holder still runs (a zombie does not). A pid reused
// by another process after the holder died reads as alive until that process exits.
bool lease_holder_alive(std::uint32_t pid);

}  // namespace mmmd
