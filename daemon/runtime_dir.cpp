#include "runtime_dir.hpp"

#include <mmm/detail/text.hpp>

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <stdexcept>

namespace mmmd {

namespace {

[[noreturn]] void fail(const std::string& message) {
    throw std::runtime_error(message);
}

std::string errno_text(int err) {
    return std::strerror(err);
}

std::string parent_of(const std::string& dir) {
    auto slash = dir.find_last_of('/');
    if (slash == std::string::npos) return ".";
    return slash == 0 ? "/" : dir.substr(0, slash);
}

}  // namespace

void prepare_runtime_dir(const std::string& dir, std::optional<gid_t> group) {
    if (dir.empty()) fail("the runtime directory is empty");
    if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
        if (errno == ENOENT)
            fail("cannot create runtime directory " + dir + ": its parent " + parent_of(dir) +
                 " does not exist");
        fail("cannot create runtime directory " + dir + ": " + errno_text(errno));
    }
    struct stat st {};
    if (::lstat(dir.c_str(), &st) != 0) fail("cannot stat " + dir + ": " + errno_text(errno));
    if (!S_ISDIR(st.st_mode)) fail("runtime directory " + dir + " is not a directory");
    if (st.st_uid != ::geteuid())
        fail("runtime directory " + dir + " is owned by uid " + std::to_string(st.st_uid) +
             ", not by mmmd's uid " + std::to_string(::geteuid()) +
             "; use --runtime-dir with a directory of your own");
    if ((st.st_mode & 022) != 0)
        fail("runtime directory " + dir + " is writable by group or others (mode " +
             mmm::detail::octal(st.st_mode & 07777) + "); run chmod 700 " + dir +
             " or use another --runtime-dir");
    if (group) {
        if (::chown(dir.c_str(), static_cast<uid_t>(-1), *group) != 0 ||
            ::chmod(dir.c_str(), 0710) != 0)
            fail("cannot give " + dir + " group " + std::to_string(*group) + ": " +
                 errno_text(errno));
    }
}

InstanceLock::InstanceLock(const std::string& dir) : dir_(dir) {
    const std::string path = dir + "/mmmd.lock";
    lock_.reset(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
    if (!lock_) fail("cannot open " + path + ": " + errno_text(errno));
    if (::flock(lock_.get(), LOCK_EX | LOCK_NB) == 0) return;
    if (errno != EWOULDBLOCK) fail("cannot lock " + path + ": " + errno_text(errno));
    std::string pid;
    std::ifstream in(dir + "/mmmd.pid");
    if (!(in >> pid)) pid = "unknown";
    fail("mmmd is already running on " + dir + " (pid " + pid + ")");
}

InstanceLock::~InstanceLock() {
    if (wrote_pid_) ::unlink((dir_ + "/mmmd.pid").c_str());
}

void InstanceLock::write_pid_file() {
    // Written aside then renamed, so a reader never sees a half-written pid.
    const std::string path = dir_ + "/mmmd.pid";
    const std::string tmp = path + ".tmp";
    {
        std::ofstream out(tmp, std::ios::trunc);
        out << ::getpid() << '\n';
        if (!out.flush()) fail("cannot write " + tmp);
    }
    if (::rename(tmp.c_str(), path.c_str()) != 0)
        fail("cannot write " + path + ": " + errno_text(errno));
    wrote_pid_ = true;
}

}  // namespace mmmd
