// Touching memory a client can shrink under us, without dying of it.
//
// Any client with a writable descriptor can ftruncate the segment; a store
// into a page past the new end raises SIGBUS. mmmd must still write a few
// words into segments (a removed chunk's state and version, a resized chunk's
// count) through a mapping, because they are atomics that other processes
// wait on. It does so inside guarded(): a SIGBUS (or SIGSEGV) at an address
// of the guarded range jumps back out, and guarded() returns false, so the
// fault costs that one chunk, never the daemon.
//
// The guarded code must be async-signal-safe in effect (atomics and system
// calls, no locks, no allocation): a fault abandons it where it is.
#pragma once

#include <csetjmp>
#include <cstddef>

namespace mmmd {

namespace fault_guard_detail {
struct Guard {
    sigjmp_buf jump;
    const char* begin;
    const char* end;
};
// The guard of this thread, while one runs.
Guard*& current() noexcept;
void install_handler();
// After a jump out of the handler: puts back the mask the thread had when it
// faulted, which a runtime that wraps handlers may have changed.
void after_fault() noexcept;
}  // namespace fault_guard_detail

// Runs fn(); false when it faulted on [addr, addr + length).
template <class F>
bool guarded(void* addr, std::size_t length, F&& fn) {
    fault_guard_detail::install_handler();
    fault_guard_detail::Guard guard;
    guard.begin = static_cast<const char*>(addr);
    guard.end = guard.begin + length;
    // 0: the mask is not saved here (that is an rt_sigprocmask on every call,
    // a remove's included). Our own handler leaves it alone (SA_NODEFER), but
    // a runtime that wraps handlers may not: ThreadSanitizer blocks signals
    // while its wrapper runs, so after a jump SIGBUS stayed blocked (the next
    // fault killed mmmd) and so did SIGTERM. The rare path that did jump puts
    // back the mask of the moment of the fault (the handler's context has it).
    if (sigsetjmp(guard.jump, 0) != 0) {
        fault_guard_detail::current() = nullptr;
        fault_guard_detail::after_fault();
        return false;
    }
    fault_guard_detail::current() = &guard;
    fn();
    fault_guard_detail::current() = nullptr;
    return true;
}

}  // namespace mmmd
