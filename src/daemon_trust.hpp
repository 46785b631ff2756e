// Whether an mmmd found in a runtime directory is one this process may trust
// with its chunks. Someone else could have made the directory (the fallback
// /tmp/mmm-<uid> is anyone's to create), put a socket in it, or run a daemon
// behind it; a client that talked to such a daemon would hand it its data.
// So before connecting the library checks that the directory and the socket
// belong to a trusted user and that nobody else can replace them, and after
// connecting that the daemon process runs as a trusted user
// (docs/SECURITY.md, "Clients verify the daemon"). Not user API.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

namespace mmm::detail {

struct TrustedUsers {
    std::vector<uid_t> uids;  // this process's euid, root, and the daemon user
    bool contains(uid_t uid) const;
    std::string describe() const;  // "uid 1000, root or mmm (uid 998)"
};

// `daemon_user`: ClientOptions::daemon_user (a name or a uid); empty:
// $MMM_DAEMON_USER, else the system daemon's user `mmm` when it exists.
// Throws Errc::invalid_argument for a user that does not exist.
TrustedUsers trusted_users(const std::string& daemon_user);

// Empty when `dir` and its socket may be trusted; otherwise why not. A
// missing directory or socket is not a trust problem (nothing listens there):
// it returns empty and the connect then fails.
std::string runtime_dir_problem(const std::string& dir, const TrustedUsers& trusted);

}  // namespace mmm::detail
