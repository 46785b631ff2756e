#include "systemd_notify.hpp"

#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdlib>
#include <cstring>

namespace mmmd {

namespace {

// A socket descriptor closed on every path out.
class Fd {
  public:
    explicit Fd(int fd) : fd_(fd) {}
    ~Fd() {
        if (fd_ >= 0) ::close(fd_);
    }
    Fd(const Fd&) = delete;
    Fd& operator=(const Fd&) = delete;
    int get() const { return fd_; }

  private:
    int fd_;
};

// "@name" -> abstract "\0name"; "/path" -> the path. Fills `addr` and returns
// the length to pass to sendto, or 0 when `address` cannot be a sockaddr_un.
socklen_t to_sockaddr(const std::string& address, sockaddr_un& addr) {
    addr = {};
    addr.sun_family = AF_UNIX;
    if (address.size() >= sizeof addr.sun_path) return 0;
    std::memcpy(addr.sun_path, address.data(), address.size());
    if (address.front() == '@') addr.sun_path[0] = '\0';
    // Abstract names are exactly as long as given (no terminating NUL);
    // a path's terminating NUL is already there (addr was zeroed).
    const std::size_t path_bytes = address.size() + (address.front() == '@' ? 0 : 1);
    return static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + path_bytes);
}

}  // namespace

SystemdNotifier::SystemdNotifier() {
    const char* value = std::getenv("NOTIFY_SOCKET");
    if (value == nullptr) return;
    std::string address = value;
    ::unsetenv("NOTIFY_SOCKET");
    if (address.size() < 2 || (address.front() != '/' && address.front() != '@')) {
        // systemd >= 253 may also pass "vsock:..." addresses (to VMs): not for a local daemon.
        spdlog::warn(
            "NOTIFY_SOCKET='{}' is not a Unix socket path or @abstract name; not notifying",
            address);
        return;
    }
    sockaddr_un addr{};
    if (to_sockaddr(address, addr) == 0) {
        spdlog::warn("NOTIFY_SOCKET '{}' is too long for a Unix socket address; not notifying",
                     address);
        return;
    }
    address_ = std::move(address);
}

bool SystemdNotifier::notify(std::string_view state) const {
    if (address_.empty()) return false;
    sockaddr_un addr{};
    const socklen_t length = to_sockaddr(address_, addr);
    Fd fd(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    if (fd.get() < 0) {
        spdlog::warn("cannot notify systemd: socket: {}", std::strerror(errno));
        return false;
    }
    for (int attempt = 0; attempt < 100; ++attempt) {  // EINTR only: bounded all the same
        ssize_t sent = ::sendto(fd.get(), state.data(), state.size(), MSG_NOSIGNAL,
                                reinterpret_cast<const sockaddr*>(&addr), length);
        if (sent == static_cast<ssize_t>(state.size())) return true;
        if (sent < 0 && errno == EINTR) continue;
        spdlog::warn("cannot notify systemd on {}: {}", address_,
                     sent < 0 ? std::strerror(errno) : "short write");
        return false;
    }
    return false;
}

SystemdReadiness::SystemdReadiness(std::string_view status) {
    if (!notifier_.enabled()) return;
    std::string state = "READY=1\nSTATUS=";
    state += status;
    if (notifier_.notify(state)) spdlog::debug("told systemd: ready ({})", status);
}

SystemdReadiness::~SystemdReadiness() {
    if (notifier_.enabled()) notifier_.notify("STOPPING=1\nSTATUS=stopping");
}

}  // namespace mmmd
