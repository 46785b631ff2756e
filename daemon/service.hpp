// The protocol's side of mmmd: decodes request frames into the registry's
// calls, encodes what they return (paging long lists to fit a frame), and
// parks opens that asked to wait for a chunk until it is created or the wait
// ends. The registry never sees a wire type (as Redis keeps networking.c
// apart from its commands).
#pragma once

#include "connection.hpp"
#include "registry.hpp"

#include "protocol.hpp"

#include <mmm/options.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <span>
#include <string>

namespace mmmd {

struct DaemonIdentity {
    std::string runtime_dir;
    std::string name_space;
    std::string segment_dir;
    std::string huge_dir;
    std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();
};

class Service {
  public:
    Service(boost::asio::io_context& io, Registry& registry, DaemonIdentity identity,
            std::function<std::uint64_t()> connection_count);

    void handle(const std::shared_ptr<Connection>& conn, const mmm::proto::FrameHeader& header,
                std::span<const std::byte> body);
    void connection_closed(ConnId conn);
    // Cancels every parked open (at shutdown).
    void stop();

  private:
    struct Waiter;
    using Conn = std::shared_ptr<Connection>;

    void dispatch(const Conn& conn, std::uint32_t id, const mmm::proto::Request& request);
    void create(const Conn& conn, std::uint32_t id, const mmm::proto::CreateRequest& req);
    void open(const Conn& conn, std::uint32_t id, const mmm::proto::OpenRequest& req);
    void list(const Conn& conn, std::uint32_t id, const mmm::proto::ListRequest& req);
    void park(const Conn& conn, std::uint32_t id, const mmm::proto::OpenRequest& req,
              std::chrono::milliseconds wait);
    void serve_waiters(const std::string& name);
    void expire(const std::shared_ptr<Waiter>& waiter);
    void unpark(const std::shared_ptr<Waiter>& waiter);
    mmm::Stats stats() const;

    boost::asio::io_context& io_;
    Registry& registry_;
    DaemonIdentity identity_;
    std::function<std::uint64_t()> connection_count_;
    std::multimap<std::string, std::shared_ptr<Waiter>> waiters_;
    std::map<ConnId, std::size_t> waits_per_conn_;
    std::uint64_t requests_ = 0;
    std::vector<std::byte> list_page_;  // reused: a page's chunks before its head is known
};

}  // namespace mmmd
