// Chunk names, the runtime directory, namespaces and segment directories: the
// only places where a user-supplied string could turn into a path, so all of
// it is here. Not user API.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace mmm::detail {

inline constexpr std::size_t kMaxNameLength = 128;

// Empty when `name` is a valid chunk name (1..128 of [A-Za-z0-9._-], no leading '.'),
// else the reason, for Errc::invalid_name.
std::string name_problem(std::string_view name);
// Throws Error(Errc::invalid_name) with the reason.
void require_valid_name(std::string_view name);

// The system-wide daemon's runtime directory (packaging/mmmd.service).
inline constexpr const char* kSystemRuntimeDir = "/run/mmm";

// $MMM_RUNTIME_DIR, else $XDG_RUNTIME_DIR/mmm, else /tmp/mmm-<uid>: where a
// per-user mmmd runs by default.
std::string default_runtime_dir();
// Where a client looks for mmmd, in order: $MMM_RUNTIME_DIR alone when set;
// else the per-user directory, then the system daemon's /run/mmm.
std::vector<std::string> runtime_dir_candidates();
std::string socket_path(const std::string& runtime_dir);

// The namespace of a daemon instance: a hash of its runtime directory's real
// path, so a restarted daemon on the same directory finds its own segments and
// two daemons on two directories never see each other's.
std::string namespace_for(const std::string& runtime_dir);
// The private directory of a namespace's segments under `root` (/dev/shm, or
// a huge-page tmpfs): "<root>/mmm.<ns>".
std::string segment_dir_for(const std::string& root, std::string_view name_space);

}  // namespace mmm::detail
