#include "daemon_trust.hpp"

#include <mmm/detail/text.hpp>
#include "names.hpp"

#include <mmm/error.hpp>

#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <optional>

namespace mmm::detail {
namespace {

constexpr const char* kSystemDaemonUser = "mmm";

std::optional<uid_t> uid_of(const std::string& user) {
    if (!user.empty() &&
        std::all_of(user.begin(), user.end(), [](char c) { return c >= '0' && c <= '9'; }))
        return static_cast<uid_t>(std::strtoul(user.c_str(), nullptr, 10));
    passwd pw{};
    passwd* found = nullptr;
    std::vector<char> buf(16384);
    if (::getpwnam_r(user.c_str(), &pw, buf.data(), buf.size(), &found) != 0 || found == nullptr)
        return std::nullopt;
    return pw.pw_uid;
}

std::string name_of(uid_t uid) {
    if (uid == 0) return "root";
    passwd pw{};
    passwd* found = nullptr;
    std::vector<char> buf(16384);
    if (::getpwuid_r(uid, &pw, buf.data(), buf.size(), &found) != 0 || found == nullptr)
        return "uid " + std::to_string(uid);
    return std::string(pw.pw_name) + " (uid " + std::to_string(uid) + ")";
}

}  // namespace

bool TrustedUsers::contains(uid_t uid) const {
    return std::find(uids.begin(), uids.end(), uid) != uids.end();
}

std::string TrustedUsers::describe() const {
    std::string out;
    for (std::size_t i = 0; i < uids.size(); ++i) {
        if (i > 0) out += i + 1 == uids.size() ? " or " : ", ";
        out += name_of(uids[i]);
    }
    return out;
}

TrustedUsers trusted_users(const std::string& daemon_user) {
    TrustedUsers t;
    t.uids.push_back(::geteuid());
    if (::geteuid() != 0) t.uids.push_back(0);
    std::string user = daemon_user;
    if (user.empty())
        if (const char* env = std::getenv("MMM_DAEMON_USER"); env && *env) user = env;
    if (!user.empty()) {
        auto uid = uid_of(user);
        if (!uid)
            throw Error(Errc::invalid_argument, {},
                        "no user named '" + printable(user) + "' (the daemon user to trust)",
                        "set ClientOptions::daemon_user or MMM_DAEMON_USER to an existing user");
        if (!t.contains(*uid)) t.uids.push_back(*uid);
    } else if (auto system = uid_of(kSystemDaemonUser); system && !t.contains(*system)) {
        t.uids.push_back(*system);
    }
    return t;
}

std::string runtime_dir_problem(const std::string& dir, const TrustedUsers& trusted) {
    struct stat st {};
    if (::lstat(dir.c_str(), &st) != 0) return {};  // nothing there: the connect says so
    if (!S_ISDIR(st.st_mode)) return dir + " is not a directory";
    if (!trusted.contains(st.st_uid))
        return dir + " belongs to " + name_of(st.st_uid) + ", not to " + trusted.describe();
    if ((st.st_mode & 022) != 0)
        return dir + " is writable by group or others (mode " + octal(st.st_mode & 07777) +
               "): anyone could replace its socket";
    const std::string socket = socket_path(dir);
    if (::lstat(socket.c_str(), &st) != 0) return {};
    if (!S_ISSOCK(st.st_mode)) return socket + " is not a socket";
    if (!trusted.contains(st.st_uid))
        return socket + " belongs to " + name_of(st.st_uid) + ", not to " + trusted.describe();
    return {};
}

}  // namespace mmm::detail
