#include "client_core.hpp"

#include "names.hpp"

#include <poll.h>
#include <pthread.h>

#include <algorithm>
#include <mutex>
#include <optional>
#include <vector>

namespace mmm::detail {
namespace {

Error error_of(const ReceivedFrame& reply) {
    Reader r(reply.body);
    auto e = proto::decode_error(r);
    return Error(e.code, e.chunk, e.message, e.hint);
}

// Every live ClientCore, so that a fork child can drop the connections it
// inherited: on a shared socket the two processes' requests and replies mix,
// and mmmd (which knows a connection by SO_PEERCRED) would count the child's
// creates, attachments and leases as the parent's, and the child's copy would
// keep the parent's session chunks alive after the parent closed its Client.
struct LiveCores {
    std::mutex mutex;
    std::vector<ClientCore*> cores;
};

LiveCores& live_cores() {
    static auto* live = new LiveCores;  // never destroyed: a fork may come during exit
    return *live;
}

void track(ClientCore* core) {
    static std::once_flag once;
    std::call_once(once, [] {
        // The lock, held across fork(), keeps the list whole in the child.
        ::pthread_atfork([]() noexcept { live_cores().mutex.lock(); },
                         []() noexcept { live_cores().mutex.unlock(); },
                         []() noexcept {
                             for (ClientCore* c : live_cores().cores)
                                 c->forget_inherited_connection();
                             live_cores().mutex.unlock();
                         });
    });
    std::lock_guard lock(live_cores().mutex);
    live_cores().cores.push_back(core);
}

// Untracks and closes in one step: a fork in between would leave the child a
// copy of the connection that its handler no longer knows of.
void untrack(ClientCore* core) noexcept {
    std::lock_guard lock(live_cores().mutex);
    auto& cores = live_cores().cores;
    cores.erase(std::remove(cores.begin(), cores.end(), core), cores.end());
    core->forget_inherited_connection();
}

bool is_idempotent(const proto::Request& request) {
    // A commit only counts on the connection that created the chunk.
    return !std::holds_alternative<proto::CreateRequest>(request) &&
           !std::holds_alternative<proto::RemoveRequest>(request) &&
           !std::holds_alternative<proto::CommitRequest>(request);
}

}  // namespace

ClientCore::ClientCore(ClientOptions options)
    : options_(std::move(options)),
      trusted_(trusted_users(options_.daemon_user)),
      candidates_(options_.runtime_dir.empty() ? runtime_dir_candidates()
                                               : std::vector<std::string>{options_.runtime_dir}),
      runtime_dir_(candidates_.front()) {
    track(this);
    try {
        std::lock_guard lock(mutex_);
        ensure_connected();
    } catch (...) {
        untrack(this);
        throw;
    }
}

ClientCore::~ClientCore() {
    untrack(this);
}

void ClientCore::forget_inherited_connection() noexcept {
    // In a fork child only this process's descriptor closes; the parent's
    // connection stays up.
    fd_.reset();
    reader_.reset();
}

void ClientCore::ensure_connected() {
    if (fd_) return;
    if (candidates_.size() == 1) return connect_to(candidates_.front());
    // No directory chosen yet: the first daemon to trust wins, and stays.
    std::string looked;
    for (const std::string& dir : candidates_) {
        try {
            connect_to(dir);
            runtime_dir_ = dir;
            candidates_ = {dir};
            return;
        } catch (const Error& e) {
            if (e.code() != Errc::daemon_unavailable) throw;
            looked += (looked.empty() ? "" : "; ") + e.message();
        }
    }
    throw Error(Errc::daemon_unavailable, {}, "no mmmd to connect to: " + looked,
                "start mmmd, or set MMM_RUNTIME_DIR to its runtime directory");
}

void ClientCore::connect_to(const std::string& dir) {
    if (std::string problem = runtime_dir_problem(dir, trusted_); !problem.empty())
        throw Error(Errc::daemon_unavailable, {},
                    "the mmmd runtime directory is not one to trust: " + problem,
                    "use a runtime directory of your own (MMM_RUNTIME_DIR), or trust the "
                    "daemon's user with MMM_DAEMON_USER");
    {
        // Made where the fork handler sees it: a fork from here on copies the
        // socket with fd_ set, and the child closes it.
        std::lock_guard fork_guard(live_cores().mutex);
        fd_ = unix_stream_socket();
        reader_.reset();
    }
    try {
        connect_unix(fd_.get(), socket_path(dir));
        const uid_t daemon = peer_uid(fd_.get());
        if (!trusted_.contains(daemon))
            throw Error(Errc::daemon_unavailable, {},
                        "the daemon at " + socket_path(dir) + " runs as uid " +
                            std::to_string(daemon) + ", not as " + trusted_.describe(),
                        "use a runtime directory of your own (MMM_RUNTIME_DIR), or trust the "
                        "daemon's user with MMM_DAEMON_USER");
    } catch (...) {
        drop_connection();
        throw;
    }
}

void ClientCore::drop_connection() noexcept {
    std::lock_guard fork_guard(live_cores().mutex);  // see ensure_connected
    fd_.reset();
    reader_.reset();
}

std::optional<Reply> ClientCore::try_call(const proto::Request& request) {
    std::unique_lock lock(mutex_, std::try_to_lock);
    if (!lock.owns_lock()) return std::nullopt;
    return call_locked(request, std::chrono::milliseconds(0));
}

Reply ClientCore::call(const proto::Request& request, std::chrono::milliseconds extra_wait) {
    std::lock_guard lock(mutex_);
    return call_locked(request, extra_wait);
}

Reply ClientCore::call_locked(const proto::Request& request, std::chrono::milliseconds extra_wait) {
    try {
        return call_once(request, extra_wait);
    } catch (const Error& e) {
        // A restarted daemon shows up as a dead connection: reconnect once.
        if (e.code() != Errc::daemon_unavailable) throw;
        if (!is_idempotent(request))
            throw Error(Errc::daemon_unavailable, e.chunk(),
                        "lost the connection to mmmd during the request; its outcome is unknown",
                        "check with mmmctl list, then retry");
        drop_connection();
        return call_once(request, extra_wait);
    }
}

Reply ClientCore::call_once(const proto::Request& request, std::chrono::milliseconds extra_wait) {
    const std::uint32_t id = send_request(request);
    return receive_reply(id,
                         std::chrono::steady_clock::now() + options_.request_timeout + extra_wait);
}

std::uint32_t ClientCore::send_request(const proto::Request& request) {
    bool fresh = !fd_;
    ensure_connected();
    std::uint32_t id = next_id_++;
    auto frame = proto::encode_request(request, id);
    // A connection mmmd closed may still hold its reason (a notice): report that.
    auto send = [&] {
        try {
            send_all(fd_.get(), frame);
        } catch (const Error& e) {
            if (e.code() == Errc::daemon_unavailable) throw_parting_notice();
            throw;
        }
    };
    try {
        send();
    } catch (const Error& e) {
        // Nothing reached a live daemon: safe to resend on a new connection.
        if (e.code() != Errc::daemon_unavailable || fresh) throw;
        drop_connection();
        ensure_connected();
        send();
    }
    return id;
}

Reply ClientCore::receive_reply(std::uint32_t id, std::chrono::steady_clock::time_point deadline) {
    for (;;) {
        ReceivedFrame reply;
        try {
            reply = reader_.next(fd_.get(), deadline, options_.reply_spin);
        } catch (const Error& e) {
            // The stream is out of step after a timeout or a protocol error.
            drop_connection();
            throw;
        }
        // A reply to a request sent on the connection id 0 is the daemon's notice
        // before it closes (for example over the per-uid connection cap).
        if (reply.header.request_id != id && reply.header.request_id != 0) continue;
        auto type = static_cast<proto::MessageType>(reply.header.type);
        if (type == proto::MessageType::reply_error) {
            if (reply.header.request_id == 0) drop_connection();
            throw error_of(reply);
        }
        if (type != proto::MessageType::reply_ok) {
            drop_connection();
            throw Error(Errc::protocol_error, {}, "unexpected reply type from mmmd");
        }
        return Reply{std::move(reply.body), std::move(reply.fds), reply.fds_dropped};
    }
}

void ClientCore::pipeline(const proto::Request& first,
                          const std::function<void(Reply&, const PipelineSend&)>& step) {
    std::lock_guard lock(mutex_);
    proto::Request outstanding = first;  // the request whose reply comes next
    bool in_flight = false;              // it was sent on this connection
    bool retried = false;
    std::uint32_t id = 0;
    for (;;) {
        Reply reply;
        try {
            if (!in_flight) {
                id = send_request(outstanding);
                in_flight = true;
            }
            reply = receive_reply(id, std::chrono::steady_clock::now() + options_.request_timeout);
        } catch (const Error& e) {
            // A restarted daemon shows up as a dead connection: ask the new one, once.
            if (e.code() != Errc::daemon_unavailable || retried) throw;
            drop_connection();
            retried = true;
            in_flight = false;
            continue;
        }
        in_flight = false;
        try {
            step(reply, [&](const proto::Request& next) {
                outstanding = next;
                id = send_request(next);
                in_flight = true;
            });
        } catch (...) {
            if (in_flight) drop_connection();
            throw;
        }
        if (!in_flight) return;
    }
}

void ClientCore::throw_parting_notice() {
    if (!fd_) return;
    pollfd p{fd_.get(), POLLIN, 0};
    if (!reader_.has_buffered() && (::poll(&p, 1, 0) <= 0 || (p.revents & POLLIN) == 0)) return;
    std::optional<Error> notice;
    try {
        // Already there, whole: mmmd sends a frame in one sendmsg.
        ReceivedFrame frame = reader_.next(
            fd_.get(), std::chrono::steady_clock::now() + std::chrono::milliseconds(100));
        if (frame.header.request_id == 0 &&
            static_cast<proto::MessageType>(frame.header.type) == proto::MessageType::reply_error)
            notice = error_of(frame);
    } catch (const Error&) {
        // Not a readable notice: the failed send is the error to report.
    }
    if (notice) {
        drop_connection();
        throw *notice;
    }
}

void ClientCore::notify(const proto::Request& request, bool to_new_daemon) noexcept {
    try {
        std::lock_guard lock(mutex_);
        auto frame = proto::encode_request(request, 0);
        try {
            if (!fd_ && !to_new_daemon) return;  // a new daemon does not know of it anyway
            ensure_connected();
            send_all(fd_.get(), frame);
        } catch (const Error& e) {
            if (e.code() != Errc::daemon_unavailable || !to_new_daemon) throw;
            drop_connection();
            ensure_connected();
            send_all(fd_.get(), frame);
        }
    } catch (...) {
        // Best effort: the daemon drops a vanished client's attachments itself.
    }
}

}  // namespace mmm::detail
