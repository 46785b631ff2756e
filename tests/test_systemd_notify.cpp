// mmmd speaks systemd's readiness protocol (daemon/systemd_notify.hpp), which
// the packaged unit relies on (Type=notify): with NOTIFY_SOCKET set, READY=1
// arrives only once mmmd's socket accepts connections, and STOPPING=1 when it
// shuts down. Without a listener on NOTIFY_SOCKET, mmmd serves all the same.
#include "child_process.hpp"
#include "daemon_process.hpp"
#include "temp_dir.hpp"
#include "test_paths.hpp"

#include "names.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstddef>
#include <cstring>
#include <optional>
#include <stdexcept>
#include <string>

namespace {

using namespace std::chrono_literals;
using mmm::test::ChildOptions;
using mmm::test::ChildProcess;
using mmm::test::TempDir;

// A datagram socket standing in for systemd's notification socket, bound to
// `address`: a path, or an abstract name written "@name".
class NotifySocket {
  public:
    explicit NotifySocket(const std::string& address) {
        fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (fd_ < 0) throw std::runtime_error(std::string("socket: ") + std::strerror(errno));
        sockaddr_un addr{};
        addr.sun_family = AF_UNIX;
        if (address.empty() || address.size() >= sizeof addr.sun_path)
            throw std::runtime_error("bad notify socket address " + address);
        std::memcpy(addr.sun_path, address.data(), address.size());
        std::size_t bytes = address.size() + 1;
        if (address.front() == '@') {
            addr.sun_path[0] = '\0';
            bytes = address.size();  // abstract names have no terminating NUL
        }
        auto length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + bytes);
        if (::bind(fd_, reinterpret_cast<const sockaddr*>(&addr), length) != 0)
            throw std::runtime_error("bind " + address + ": " + std::strerror(errno));
    }
    ~NotifySocket() { ::close(fd_); }
    NotifySocket(const NotifySocket&) = delete;
    NotifySocket& operator=(const NotifySocket&) = delete;

    // The next datagram, or nullopt when none arrives within `timeout`.
    std::optional<std::string> receive(std::chrono::milliseconds timeout) {
        const auto deadline = std::chrono::steady_clock::now() + timeout;
        for (int attempt = 0; attempt < 1000; ++attempt) {  // EINTR retries, bounded
            auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                deadline - std::chrono::steady_clock::now());
            if (left.count() < 0) return std::nullopt;
            pollfd p{fd_, POLLIN, 0};
            int ready = ::poll(&p, 1, static_cast<int>(left.count()));
            if (ready < 0 && errno == EINTR) continue;
            if (ready <= 0) return std::nullopt;
            char buf[4096];
            ssize_t n = ::recv(fd_, buf, sizeof buf, MSG_DONTWAIT);
            if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
            if (n < 0) return std::nullopt;
            return std::string(buf, static_cast<std::size_t>(n));
        }
        return std::nullopt;
    }

  private:
    int fd_ = -1;
};

bool has_line(const std::string& message, const std::string& line) {
    return ("\n" + message + "\n").find("\n" + line + "\n") != std::string::npos;
}

// mmmd in the foreground on `runtime_dir`, with NOTIFY_SOCKET=`notify_socket`.
ChildProcess start_daemon(const std::string& runtime_dir, const std::string& notify_socket) {
    ChildOptions options;
    options.capture_stdout = false;  // its log goes to the test's output
    options.env["NOTIFY_SOCKET"] = notify_socket;
    return ChildProcess(mmm::test::daemon_path(),
                        {"--foreground", "--runtime-dir", runtime_dir, "--log-level", "warn"},
                        std::move(options));
}

// Starts mmmd notifying `address`, and checks the READY=1 / STOPPING=1 pair.
void expect_ready_then_stopping(const std::string& address) {
    TempDir runtime("mmm-notify-run");
    NotifySocket notify(address);
    ChildProcess daemon = start_daemon(runtime.path(), address);
    const std::string socket = mmm::detail::socket_path(runtime.path());

    auto ready = notify.receive(10s);
    ASSERT_TRUE(ready) << "no notification from mmmd within 10 s";
    // The very first message must already find the socket accepting: systemd
    // starts the clients ordered after mmmd as soon as it reads READY=1.
    EXPECT_TRUE(mmm::test::can_connect(socket)) << "READY=1 came before " << socket << " accepted";
    EXPECT_TRUE(has_line(*ready, "READY=1")) << *ready;
    EXPECT_TRUE(has_line(*ready, "STATUS=listening on " + socket)) << *ready;

    daemon.kill(SIGTERM);
    auto stopping = notify.receive(10s);
    ASSERT_TRUE(stopping) << "no STOPPING=1 from mmmd within 10 s of SIGTERM";
    EXPECT_TRUE(has_line(*stopping, "STOPPING=1")) << *stopping;
    auto status = daemon.wait_for_exit(10s);
    EXPECT_TRUE(status.ok()) << status.describe();
}

TEST(SystemdNotify, ReadyOnlyOnceTheSocketAcceptsThenStoppingOnAPathSocket) {
    TempDir dir("mmm-notify");
    ASSERT_NO_FATAL_FAILURE(expect_ready_then_stopping(dir.path() + "/notify"));
}

TEST(SystemdNotify, ReadyOnAnAbstractSocket) {
    // Abstract names are global to the network namespace: make this one unique.
    TempDir dir("mmm-notify");
    const std::string name = dir.path().substr(dir.path().find_last_of('/') + 1);
    ASSERT_NO_FATAL_FAILURE(
        expect_ready_then_stopping("@mmm-test-" + std::to_string(::getpid()) + "-" + name));
}

TEST(SystemdNotify, ServesWhenNobodyListensOrTheAddressIsUnusable) {
    TempDir dir("mmm-notify");
    for (const std::string& address : {dir.path() + "/nobody-listens", std::string("relative")}) {
        TempDir runtime("mmm-notify-run");
        ChildProcess daemon = start_daemon(runtime.path(), address);
        const std::string socket = mmm::detail::socket_path(runtime.path());
        bool serving = false;
        const auto deadline = std::chrono::steady_clock::now() + 10s;
        for (int attempt = 0; attempt < 2000 && !serving; ++attempt) {
            serving = mmm::test::can_connect(socket);
            if (serving || std::chrono::steady_clock::now() >= deadline) break;
            // Paces the poll and notices an early exit at once.
            auto early = daemon.wait_for_exit(5ms);
            ASSERT_TRUE(early.timed_out)
                << "mmmd exited with NOTIFY_SOCKET=" << address << ": " << early.describe();
        }
        EXPECT_TRUE(serving) << "mmmd did not serve with NOTIFY_SOCKET=" << address;
        daemon.kill(SIGTERM);
        auto status = daemon.wait_for_exit(10s);
        EXPECT_TRUE(status.ok()) << address << ": " << status.describe();
    }
}

}  // namespace
