#include "fault_guard.hpp"

#include <signal.h>
#include <ucontext.h>

#include <cstring>
#include <mutex>

namespace mmmd::fault_guard_detail {
namespace {

// The mask of the thread's last guarded fault: static storage, so it is
// still what the handler wrote after the jump (a local of guarded() would not be).
sigset_t& fault_mask() noexcept {
    thread_local sigset_t mask;
    return mask;
}

struct sigaction g_previous_bus;
struct sigaction g_previous_segv;

void on_fault(int sig, siginfo_t* info, void* context) {
    Guard* guard = current();
    const auto* at = static_cast<const char*>(info->si_addr);
    if (guard != nullptr && at >= guard->begin && at < guard->end) {
        // The mask to return to: the kernel saved it in the context.
        fault_mask() = static_cast<const ucontext_t*>(context)->uc_sigmask;
        siglongjmp(guard->jump, 1);
    }
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
    ::pthread_sigmask(SIG_SETMASK, &fault_mask(), nullptr);
}

}  // namespace mmmd::fault_guard_detail
