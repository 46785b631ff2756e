// systemd's readiness protocol (sd_notify(3)) without libsystemd: a service
// of Type=notify tells the service manager that it is ready by sending the
// datagram "READY=1" to the Unix socket named by $NOTIFY_SOCKET (a path, or
// an abstract name written with a leading '@'). systemd holds back the
// clients ordered After=mmmd.service until then, so mmmd sends it only once
// its socket accepts connections. With $NOTIFY_SOCKET unset (mmmd started by
// hand, by a test, in a container) every call here does nothing.
//
// Type=notify needs `mmmd --foreground`: with NotifyAccess=main (systemd's
// default) only the process systemd started may send READY=1.
//
// Thread-safety: a SystemdNotifier is immutable after construction; notify()
// may be called from any thread.
#pragma once

#include <string>
#include <string_view>

namespace mmmd {

class SystemdNotifier {
  public:
    // Reads $NOTIFY_SOCKET and unsets it, so programs mmmd might start never
    // inherit it (as sd_notify's unset_environment does).
    SystemdNotifier();

    // Whether $NOTIFY_SOCKET named a socket address mmmd can use.
    bool enabled() const { return !address_.empty(); }
    // Sends `state` ("READY=1\nSTATUS=...", newline-separated assignments) as
    // one datagram. Returns false (and logs a warning) when it could not be
    // sent; never throws: a service manager that does not listen must not
    // stop mmmd from serving.
    bool notify(std::string_view state) const;

  private:
    std::string address_;  // "@name" (abstract) or an absolute path; empty: disabled
};

// READY=1 with a STATUS= line when constructed, STOPPING=1 when destroyed:
// construct it once the socket listens, in the scope that runs the event loop.
class SystemdReadiness {
  public:
    explicit SystemdReadiness(std::string_view status);
    ~SystemdReadiness();
    SystemdReadiness(const SystemdReadiness&) = delete;
    SystemdReadiness& operator=(const SystemdReadiness&) = delete;

  private:
    SystemdNotifier notifier_;
};

}  // namespace mmmd
