// Watches processes for exit through pidfds on the io_context, so mmmd can
// delete a session chunk whose creator (from before a restart) exits.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>

#include <sys/types.h>

#include <functional>
#include <list>

namespace mmmd {

class PidWatch {
  public:
    explicit PidWatch(boost::asio::io_context& io) : io_(io) {}

    // Calls `on_exit` once `pid` has exited; at once (posted) if it is already
    // gone. Returns false when the process cannot be watched (it then never fires).
    bool watch(pid_t pid, std::function<void()> on_exit);
    void stop();

  private:
    boost::asio::io_context& io_;
    std::list<boost::asio::posix::stream_descriptor> watched_;
};

}  // namespace mmmd
