// rel_full_shm_helper MMMD_PATH: a real full /dev/shm. In a private mount
// namespace it mounts a 4 MiB tmpfs on /dev/shm, starts mmmd there and, as a
// client of it: creates a 1 MiB chunk (ok), a 16 MiB chunk (must fail with
// Errc::no_space at create, not SIGBUS later), then fills the tmpfs to the
// last page and creates chunks of 4 KiB and 256 KiB (no_space too, wherever
// the space runs out: mmmd's header, the reservation), and checks the first
// chunk's data.
//
// Exit codes: 0 pass, 1 fail (reason on stdout), 77 skipped (reason on stdout).
#include <mmm/mmm.hpp>

#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fcntl.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

namespace {

int skip(const std::string& why) {
    std::printf("SKIP %s\n", why.c_str());
    return 77;
}
int fail(const std::string& why) {
    std::printf("FAIL %s\n", why.c_str());
    return 1;
}

bool can_connect(const std::string& path) {
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
    int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    bool ok = fd >= 0 && ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
    if (fd >= 0) ::close(fd);
    return ok;
}

int run(const char* mmmd, const std::string& dir) {
    pid_t daemon = ::fork();
    if (daemon < 0) return fail("fork");
    if (daemon == 0) {
        ::prctl(PR_SET_PDEATHSIG, SIGKILL);
        ::execl(mmmd, mmmd, "--foreground", "--runtime-dir", dir.c_str(), "--log-level", "warn",
                static_cast<char*>(nullptr));
        ::_exit(127);
    }
    struct Reaper {
        pid_t pid;
        ~Reaper() {
            ::kill(pid, SIGTERM);
            for (int i = 0; i < 500; ++i) {  // bounded: 5 s
                if (::waitpid(pid, nullptr, WNOHANG) == pid) return;
                std::this_thread::sleep_for(std::chrono::milliseconds(10));
            }
            ::kill(pid, SIGKILL);
            ::waitpid(pid, nullptr, 0);
        }
    } reaper{daemon};
    const std::string socket = dir + "/mmmd.sock";
    bool up = false;
    for (int i = 0; i < 2000 && !up; ++i) {  // bounded: 10 s
        up = can_connect(socket);
        if (!up) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    if (!up) return fail("mmmd did not come up");

    mmm::Client client(mmm::ClientOptions{.runtime_dir = dir});
    auto small = client.create<char>("small", 1 << 20);
    for (std::size_t i = 0; i < small.size(); i += 4096)
        small.write(i, static_cast<char>(i / 4096));
    try {
        auto big = client.create<char>("big", 16 << 20);
        return fail("a 16 MiB chunk was created in a 4 MiB /dev/shm");
    } catch (const mmm::Error& e) {
        if (e.code() != mmm::Errc::no_space)
            return fail(std::string("create of 16 MiB: expected no_space, got ") +
                        std::string(mmm::to_string(e.code())) + ": " + e.what());
        std::printf("no_space: %s\n", e.what());
    }
    {
        // Every page left taken by a file of someone else's.
        const std::string filler = "/dev/shm/filler";
        const int fd = ::open(filler.c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
        if (fd < 0) return fail("cannot create the filler");
        std::vector<char> page(4096, 'f');
        for (int i = 0; i < 4096 && ::write(fd, page.data(), page.size()) > 0; ++i) {
        }
        ::close(fd);
        for (std::size_t bytes : {std::size_t{4096}, std::size_t{256} << 10}) {
            try {
                auto c = client.create<char>("full-" + std::to_string(bytes), bytes);
                ::unlink(filler.c_str());
                return fail("a chunk of " + std::to_string(bytes) + " bytes fit in a full tmpfs");
            } catch (const mmm::Error& e) {
                if (e.code() != mmm::Errc::no_space) {
                    ::unlink(filler.c_str());
                    return fail("create of " + std::to_string(bytes) +
                                " bytes in a full tmpfs: expected no_space, got " +
                                std::string(mmm::to_string(e.code())) + ": " + e.what());
                }
                std::printf("no_space at %zu bytes: %s\n", bytes, e.what());
            }
        }
        ::unlink(filler.c_str());
    }
    for (std::size_t i = 0; i < small.size(); i += 4096)
        if (small.read(i) != static_cast<char>(i / 4096)) return fail("small chunk data changed");
    if (::access("/dev/shm", F_OK) != 0) return fail("/dev/shm vanished");
    for (const auto& c : client.list())
        if (c.name == "big") return fail("'big' is listed");
    client.remove("small");
    std::printf("PASS\n");
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    std::setvbuf(stdout, nullptr, _IONBF, 0);
    if (argc != 2) return fail("usage: rel_full_shm_helper MMMD_PATH");
    if (::geteuid() != 0) return skip("needs root to unshare a mount namespace");
    if (::unshare(CLONE_NEWNS) != 0)
        return skip(std::string("unshare(CLONE_NEWNS) failed: ") + std::strerror(errno));
    if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0)
        return skip(std::string("making mounts private failed: ") + std::strerror(errno));
    if (::mount("tmpfs", "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV, "size=4m,mode=1777") != 0)
        return skip(std::string("mounting a 4 MiB tmpfs on /dev/shm failed: ") +
                    std::strerror(errno));
    char tmpl[] = "/tmp/mmm-fullshm.XXXXXX";
    if (::mkdtemp(tmpl) == nullptr) return fail("mkdtemp");
    const std::string dir = std::string(tmpl) + "/rt";
    int rc = 1;
    try {
        rc = run(argv[1], dir);
    } catch (const std::exception& e) {
        rc = fail(std::string("exception: ") + e.what());
    }
    std::error_code ec;
    std::filesystem::remove_all(tmpl, ec);
    // The tmpfs and its segments go with this mount namespace.
    return rc;
}
