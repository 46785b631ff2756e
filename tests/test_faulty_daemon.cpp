// What a client does with replies the real mmmd never sends: a list cursor
// that stands still, a page whose head and entries disagree after the next
// page was already asked for, a size hint far beyond any registry. These need
// a peer that says what the test scripts, so this file plays the daemon on a
// socket of its own; every other integration test talks to a real mmmd.
#include "codec.hpp"
#include "error_of.hpp"
#include "eventually.hpp"
#include "names.hpp"
#include "protocol.hpp"
#include "temp_dir.hpp"
#include "unique_fd.hpp"
#include "unix_socket.hpp"

#include <mmm/mmm.hpp>

#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <functional>
#include <limits>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace {

using namespace std::chrono_literals;
using mmm::Errc;
namespace proto = mmm::proto;

// Listens on <runtime_dir>/mmmd.sock in a thread of its own and answers each
// request frame with what `script(connection, request_id, request)` returns
// (whole frames; empty: no answer). Connections are numbered from 0 in the
// order they are accepted. Frames are read and sent with the client's own
// socket layer (FrameReader, send_all).
class ScriptedDaemon {
  public:
    using Script = std::function<std::vector<std::byte>(int connection, std::uint32_t request_id,
                                                        const proto::Request& request)>;

    ScriptedDaemon(const std::string& runtime_dir, Script script)
        : script_(std::move(script)), listener_(mmm::detail::unix_stream_socket()) {
        sockaddr_un address{};
        address.sun_family = AF_UNIX;
        const std::string path = mmm::detail::socket_path(runtime_dir);
        if (path.size() >= sizeof address.sun_path)
            throw std::runtime_error("socket path too long: " + path);
        std::memcpy(address.sun_path, path.c_str(), path.size() + 1);
        if (::bind(listener_.get(), reinterpret_cast<const sockaddr*>(&address), sizeof address) !=
                0 ||
            ::listen(listener_.get(), 8) != 0)
            throw std::runtime_error("cannot listen on " + path + ": " + std::strerror(errno));
        thread_ = std::thread([this] { serve(); });
    }
    ~ScriptedDaemon() {
        stop_ = true;
        thread_.join();
    }
    ScriptedDaemon(const ScriptedDaemon&) = delete;
    ScriptedDaemon& operator=(const ScriptedDaemon&) = delete;

    int accepted() const { return accepted_; }
    bool closed_by_client(int n) const {
        std::lock_guard lock(mutex_);
        return n < static_cast<int>(closed_.size()) && closed_[n];
    }

  private:
    struct Connection {
        mmm::detail::UniqueFd fd;
        mmm::detail::FrameReader reader;
    };

    void serve() {
        // Bounded: the tests here finish in well under a second.
        const auto give_up = std::chrono::steady_clock::now() + 30s;
        while (!stop_ && std::chrono::steady_clock::now() < give_up) {
            std::vector<pollfd> fds{{listener_.get(), POLLIN, 0}};
            for (const auto& c : connections_)
                fds.push_back({c.fd.get(), POLLIN, 0});  // -1: skipped
            if (::poll(fds.data(), fds.size(), 20) <= 0) continue;
            if ((fds[0].revents & POLLIN) != 0) accept_one();
            for (std::size_t i = 1; i < fds.size(); ++i)
                if ((fds[i].revents & (POLLIN | POLLHUP | POLLERR)) != 0) answer(i - 1);
        }
    }

    void accept_one() {
        mmm::detail::UniqueFd fd(::accept4(listener_.get(), nullptr, nullptr, SOCK_CLOEXEC));
        if (!fd) return;
        connections_.push_back({std::move(fd), {}});
        std::lock_guard lock(mutex_);
        closed_.push_back(false);
        ++accepted_;
    }

    // Answers every request the connection has sent; a closed one is forgotten.
    void answer(std::size_t n) {
        Connection& c = connections_[n];
        try {
            do {
                const auto frame = c.reader.next(c.fd.get(), std::chrono::steady_clock::now() + 5s);
                const auto request = proto::decode_request(
                    static_cast<proto::MessageType>(frame.header.type), frame.body);
                const auto reply = script_(static_cast<int>(n), frame.header.request_id, request);
                if (!reply.empty()) mmm::detail::send_all(c.fd.get(), reply);
            } while (c.reader.has_buffered());
        } catch (const mmm::Error& e) {
            if (e.code() != Errc::daemon_unavailable) throw;  // not a closed peer: a test bug
            c.fd.reset();
            std::lock_guard lock(mutex_);
            closed_[n] = true;
        }
    }

    Script script_;
    mmm::detail::UniqueFd listener_;
    std::thread thread_;
    std::atomic<bool> stop_{false};
    std::vector<Connection> connections_;  // the serving thread's only
    mutable std::mutex mutex_;
    std::vector<bool> closed_;
    std::atomic<int> accepted_{0};
};

mmm::ChunkInfo chunk_named(const std::string& name) {
    mmm::ChunkInfo info;
    info.name = name;
    return info;
}

// A list page as mmmd would send it, except that its head says what the test
// wants, true or not.
std::vector<std::byte> list_page(std::uint32_t request_id, const proto::ListHead& head,
                                 const std::vector<mmm::ChunkInfo>& chunks) {
    std::vector<std::byte> encoded;
    mmm::detail::Writer cw(encoded);
    for (const auto& c : chunks) proto::encode_info(cw, c);
    return proto::make_frame(proto::MessageType::reply_ok, request_id, [&](mmm::detail::Writer& w) {
        proto::encode_list_page(w, head, encoded);
    });
}

const proto::ListRequest* as_list(const proto::Request& request) {
    return std::get_if<proto::ListRequest>(&request);
}

mmm::Client client_of(const mmm::test::TempDir& dir) {
    mmm::ClientOptions options;
    options.runtime_dir = dir.path();
    options.request_timeout = 5s;
    return mmm::Client(options);
}

TEST(FaultyDaemon, AListCursorThatStandsStillIsAProtocolErrorNotAnEndlessList) {
    mmm::test::TempDir dir("mmm-faulty");
    std::atomic<int> list_requests{0};
    ScriptedDaemon daemon(dir.path(), [&](int, std::uint32_t id, const proto::Request& request) {
        if (as_list(request) == nullptr) return std::vector<std::byte>{};
        ++list_requests;
        // Whatever the cursor, the same page that says more follow.
        return list_page(id, {1, true, 2, "b"}, {chunk_named("b")});
    });
    mmm::Client client = client_of(dir);
    const auto error = mmm::test::thrown([&] { (void)client.list(); });
    ASSERT_TRUE(error) << "a list whose cursor does not move returned";
    EXPECT_EQ(error->code(), Errc::protocol_error) << error->what();
    EXPECT_NE(std::string(error->what()).find("cursor"), std::string::npos) << error->what();
    // The first page moves past "", the second does not move past "b".
    EXPECT_EQ(list_requests.load(), 2);
}

TEST(FaultyDaemon, APageThatFailsWithTheNextRequestInFlightDropsTheConnection) {
    mmm::test::TempDir dir("mmm-faulty");
    ScriptedDaemon daemon(
        dir.path(), [&](int connection, std::uint32_t id, const proto::Request& request) {
            const proto::ListRequest* list = as_list(request);
            if (list == nullptr) return std::vector<std::byte>{};
            if (connection == 0 && list->after.empty())
                // More follow, and its head names "z" while its only chunk is "a":
                // found while decoding, after the next page was asked for.
                return list_page(id, {1, true, 3, "z"}, {chunk_named("a")});
            if (connection == 0)  // the next page: sent, never to be read
                return list_page(id, {1, false, 3, "zz"}, {chunk_named("zz")});
            return list_page(id, {2, false, 2, "b"}, {chunk_named("a"), chunk_named("b")});
        });
    mmm::Client client = client_of(dir);
    EXPECT_EQ(mmm::test::error_of([&] { (void)client.list(); }), Errc::protocol_error)
        << "a page whose head names another chunk than its last must not be accepted";
    // Its reply to the request in flight would be read as the next call's:
    // the client closes the connection instead.
    EXPECT_TRUE(mmm::test::eventually([&] { return daemon.closed_by_client(0); }, 5s));
    const auto chunks = client.list();  // on a new connection, with nothing left over
    ASSERT_EQ(chunks.size(), 2u);
    EXPECT_EQ(chunks[0].name, "a");
    EXPECT_EQ(chunks[1].name, "b");
    EXPECT_EQ(daemon.accepted(), 2);
}

TEST(FaultyDaemon, AnAbsurdRegistrySizeNeitherFailsTheListNorKeepsTheMemory) {
    mmm::test::TempDir dir("mmm-faulty");
    constexpr std::uint64_t absurd = std::numeric_limits<std::uint64_t>::max();
    ScriptedDaemon daemon(dir.path(), [&](int, std::uint32_t id, const proto::Request& request) {
        const proto::ListRequest* list = as_list(request);
        if (list == nullptr) return std::vector<std::byte>{};
        // Two pages, each claiming a registry of 2^64 - 1 chunks.
        if (list->after.empty()) return list_page(id, {1, true, absurd, "a"}, {chunk_named("a")});
        return list_page(id, {1, false, absurd, "b"}, {chunk_named("b")});
    });
    mmm::Client client = client_of(dir);
    const auto chunks = client.list();
    ASSERT_EQ(chunks.size(), 2u);
    EXPECT_EQ(chunks[0].name, "a");
    EXPECT_EQ(chunks[1].name, "b");
    // Whatever was reserved for the hint is given back once the list is short.
    EXPECT_LT(chunks.capacity(), 1024u);
}

}  // namespace
