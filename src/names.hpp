// Chunk names, the runtime directory and segment names: the only places where
// a user-supplied string could turn into a path, so all of it is here.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace mmm::detail {

inline constexpr std::size_t kMaxNameLength = 128;

// Empty when `name` is a valid chunk name (1..128 of [A-Za-z0-9._-], no leading '.'),
// else the reason, for Errc::invalid_name.
std::string name_problem(std::string_view name);
// Throws Error(Errc::invalid_name) with the reason.
void require_valid_name(std::string_view name);

// $MMM_RUNTIME_DIR, else $XDG_RUNTIME_DIR/mmm, else /tmp/mmm-<uid>.
std::string default_runtime_dir();
std::string socket_path(const std::string& runtime_dir);

// The namespace of a daemon instance: a hash of its runtime directory's real
// path, so a restarted daemon on the same directory finds its own segments and
// two daemons on two directories never see each other's.
std::string namespace_for(const std::string& runtime_dir);
// "mmm.<ns>.<name>" (no leading '/'; as listed in /dev/shm).
std::string segment_name(std::string_view name_space, std::string_view chunk_name);
// The chunk name of a segment of this namespace, or nullopt when it is not one.
std::optional<std::string> chunk_name_of_segment(std::string_view name_space,
                                                 std::string_view segment);

}  // namespace mmm::detail
