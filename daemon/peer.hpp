// Who is on the other end of a client socket, as the kernel says (SO_PEERCRED),
// and the permission check of a chunk's mode bits against it.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <vector>

namespace mmmd {

struct Peer {
    pid_t pid = 0;
    uid_t uid = 0;
    gid_t gid = 0;
    // Supplementary groups, fetched on first need (most checks never need them).
    mutable std::optional<std::vector<gid_t>> groups;
    int socket_fd = -1;  // for SO_PEERGROUPS
};

// Reads SO_PEERCRED of a connected Unix socket; throws mmm::Error on failure.
Peer peer_of(int socket_fd);

bool in_group(const Peer& peer, gid_t gid);

inline constexpr std::uint32_t kRead = 4;
inline constexpr std::uint32_t kWrite = 2;

// The rwx bits of `mode` that apply to `peer` for a chunk of (owner_uid, owner_gid);
// root gets everything.
std::uint32_t access_bits(const Peer& peer, uid_t owner_uid, gid_t owner_gid, std::uint32_t mode);

}  // namespace mmmd
