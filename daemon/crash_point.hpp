// Test hook (docs/RELIABILITY.md): MMMD_CRASH_POINT=<point> makes mmmd kill
// itself with SIGKILL when it reaches that point, to test crash recovery.
// Read once, at the first use.
#pragma once

namespace mmmd {

void crash_point(const char* point);
// Logs a warning when the hook is set (at startup).
void crash_point_announce();

}  // namespace mmmd
