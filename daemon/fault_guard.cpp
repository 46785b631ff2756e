#include "fault_guard.hpp"

#include <signal.h>

#include <cstring>
#include <mutex>

namespace mmmd::fault_guard_detail {
namespace {

struct ThreadMask {
    sigset_t mask{};
    bool noted = false;
};
// A thread's mask as it was before its first guard (install_handler).
ThreadMask& thread_mask() noexcept {
    thread_local ThreadMask mask;
    return mask;
}

struct sigaction g_previous_bus;
struct sigaction g_previous_segv;

void on_fault(int sig, siginfo_t* info, void* context) {
    Guard* guard = current();
    const auto* at = static_cast<const char*>(info->si_addr);
    if (guard != nullptr && at >= guard->begin && at < guard->end) siglongjmp(guard->jump, 1);
    // Not ours: what would have happened without us (returning re-runs the
    // faulting access under the previous disposition).
    const struct sigaction& previous = sig == SIGBUS ? g_previous_bus : g_previous_segv;
    if ((previous.sa_flags & SA_SIGINFO) != 0 && previous.sa_sigaction != nullptr) {
        previous.sa_sigaction(sig, info, context);
        return;
    }
    if (previous.sa_handler != SIG_DFL && previous.sa_handler != SIG_IGN &&
        previous.sa_handler != nullptr) {
        previous.sa_handler(sig);
        return;
    }
    ::signal(sig, SIG_DFL);
}

}  // namespace

Guard*& current() noexcept {
    thread_local Guard* guard = nullptr;
    return guard;
}

void install_handler() {
    if (ThreadMask& m = thread_mask(); !m.noted) {
        ::pthread_sigmask(SIG_SETMASK, nullptr, &m.mask);
        m.noted = true;
    }
    static std::once_flag once;
    std::call_once(once, [] {
        struct sigaction action;
        std::memset(&action, 0, sizeof action);
        action.sa_sigaction = &on_fault;
        action.sa_flags = SA_SIGINFO | SA_NODEFER;
        sigemptyset(&action.sa_mask);
        ::sigaction(SIGBUS, &action, &g_previous_bus);
        ::sigaction(SIGSEGV, &action, &g_previous_segv);
    });
}

void after_fault() noexcept {
    ::pthread_sigmask(SIG_SETMASK, &thread_mask().mask, nullptr);
}

}  // namespace mmmd::fault_guard_detail
