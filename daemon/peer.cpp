#include "peer.hpp"

#include "posix_io.hpp"

#include <grp.h>
#include <pwd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

namespace mmmd {
namespace {

// The peer process's real supplementary groups, as they were at connect time.
std::optional<std::vector<gid_t>> peer_groups(int fd) {
    std::vector<gid_t> groups(64);
    for (int attempt = 0; attempt < 4; ++attempt) {
        socklen_t len = static_cast<socklen_t>(groups.size() * sizeof(gid_t));
        if (::getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups.data(), &len) == 0) {
            groups.resize(len / sizeof(gid_t));
            return groups;
        }
        if (errno != ERANGE) return std::nullopt;
        groups.resize(len / sizeof(gid_t) + 1);
    }
    return std::nullopt;
}

// Fallback for kernels without SO_PEERGROUPS: the groups the user database gives the uid.
std::vector<gid_t> user_db_groups(uid_t uid) {
    passwd pw{};
    passwd* found = nullptr;
    std::vector<char> buf(16384);
    if (::getpwuid_r(uid, &pw, buf.data(), buf.size(), &found) != 0 || found == nullptr) return {};
    std::vector<gid_t> groups(64);
    for (int attempt = 0; attempt < 4; ++attempt) {
        int n = static_cast<int>(groups.size());
        if (::getgrouplist(pw.pw_name, pw.pw_gid, groups.data(), &n) >= 0) {
            groups.resize(static_cast<std::size_t>(n));
            return groups;
        }
        groups.resize(static_cast<std::size_t>(n) + 1);
    }
    return {};
}

}  // namespace

Peer peer_of(int socket_fd) {
    ucred cred{};
    socklen_t len = sizeof cred;
    if (::getsockopt(socket_fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0)
        mmm::detail::throw_errno("getsockopt(SO_PEERCRED)", errno);
    Peer peer;
    peer.pid = cred.pid;
    peer.uid = cred.uid;
    peer.gid = cred.gid;
    peer.socket_fd = socket_fd;
    return peer;
}

bool in_group(const Peer& peer, gid_t gid) {
    if (peer.gid == gid) return true;
    if (!peer.groups) {
        peer.groups = peer.socket_fd >= 0 ? peer_groups(peer.socket_fd) : std::nullopt;
        if (!peer.groups) peer.groups = user_db_groups(peer.uid);
    }
    return std::find(peer.groups->begin(), peer.groups->end(), gid) != peer.groups->end();
}

std::uint32_t access_bits(const Peer& peer, uid_t owner_uid, gid_t owner_gid, std::uint32_t mode) {
    if (peer.uid == 0) return 07;
    if (peer.uid == owner_uid) return (mode >> 6) & 07;
    if (in_group(peer, owner_gid)) return (mode >> 3) & 07;
    return mode & 07;
}

}  // namespace mmmd
