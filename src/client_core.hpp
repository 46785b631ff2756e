// The connection behind a Client and its chunks: one socket to mmmd, one
// request at a time, reconnecting when the daemon has restarted. It finds
// mmmd in the first runtime directory that has one it may trust
// (names.hpp runtime_dir_candidates, daemon_trust.hpp) and stays with it.
#pragma once

#include "daemon_trust.hpp"
#include "protocol.hpp"
#include "unix_socket.hpp"

#include <mmm/options.hpp>

#include <chrono>
#include <functional>
#include <mutex>
#include <optional>
#include <string>

namespace mmm::detail {

struct Reply {
    std::vector<std::byte> body;
    std::vector<UniqueFd> fds;
    bool fds_dropped = false;  // see ReceivedFrame::fds_dropped
};

class ClientCore {
  public:
    explicit ClientCore(ClientOptions options);
    ~ClientCore();
    ClientCore(const ClientCore&) = delete;
    ClientCore& operator=(const ClientCore&) = delete;

    // Sends a request and returns the ok reply; an error reply is thrown as
    // mmm::Error. `extra_wait` extends the deadline for requests that wait.
    // Idempotent requests are retried once on a fresh connection when mmmd restarted.
    Reply call(const proto::Request& request,
               std::chrono::milliseconds extra_wait = std::chrono::milliseconds(0));
    // call(), unless another thread is using the connection (for example in an
    // open that waits for a create): then nullopt at once instead of queueing.
    std::optional<Reply> try_call(const proto::Request& request);
    // Runs `steps(call)` holding the connection, where call(request) is call()
    // without taking it again: for a sequence of requests that no request of
    // another thread (say, an open parked until a create) may come between.
    template <class Steps>
    decltype(auto) exclusively(Steps&& steps) {
        std::lock_guard lock(mutex_);
        return steps([this](const proto::Request& request) {
            return call_locked(request, std::chrono::milliseconds(0));
        });
    }
    // Requests in a pipeline, holding the connection throughout (other
    // threads' requests on this client wait): sends `first`; for each ok
    // reply, `step(reply, send)` may call send(next) once, before it does the
    // slow part of reading the reply, so that mmmd works on the next while this
    // process reads the last. The pipeline goes on while steps send. For
    // idempotent requests only: after a daemon restart the outstanding request
    // is sent once more on a new connection. A step that throws after sending
    // drops the connection (its reply would be left in the stream).
    using PipelineSend = std::function<void(const proto::Request&)>;
    void pipeline(const proto::Request& first,
                  const std::function<void(Reply& reply, const PipelineSend& send)>& step);
    // One-way notice; best effort (the daemon may be gone).
    // `to_new_daemon`: also worth telling an mmmd that restarted since (which
    // counts the watchers an earlier one counted until they unwatch).
    void notify(const proto::Request& request, bool to_new_daemon = false) noexcept;

    // The runtime directory of the daemon this connects to.
    const std::string& runtime_dir() const { return runtime_dir_; }

    // Closes this process's descriptor of the connection without a word to
    // mmmd. Run in a fork child (from a pthread_atfork handler), so that the
    // child's next request opens a connection of its own instead of mixing its
    // frames into the parent's, and at destruction. Needs the list of live
    // cores locked (client_core.cpp), not mutex_.
    void forget_inherited_connection() noexcept;

  private:
    // call() with mutex_ held: one reconnect for idempotent requests.
    Reply call_locked(const proto::Request& request, std::chrono::milliseconds extra_wait);
    Reply call_once(const proto::Request& request, std::chrono::milliseconds extra_wait);
    // The halves of call_once: send returns the request's id; receive waits
    // for the ok reply to it (an error reply is thrown).
    std::uint32_t send_request(const proto::Request& request);
    Reply receive_reply(std::uint32_t id, std::chrono::steady_clock::time_point deadline);
    // After a failed send: throws the notice mmmd left on the connection before
    // closing it (say, over the per-uid connection cap), if there is one.
    void throw_parting_notice();
    void ensure_connected();
    // Connects to the mmmd of `dir` after checking that it may be trusted;
    // throws daemon_unavailable (or permission_denied) saying why not.
    void connect_to(const std::string& dir);
    // Closes the connection (the next request makes a new one).
    void drop_connection() noexcept;

    ClientOptions options_;
    TrustedUsers trusted_;
    std::vector<std::string> candidates_;  // where to look until one answers
    std::string runtime_dir_;
    std::mutex mutex_;
    UniqueFd fd_;
    FrameReader reader_;  // of fd_
    std::uint32_t next_id_ = 1;
};

}  // namespace mmm::detail
