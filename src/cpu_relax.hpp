// The pause instruction of spin-wait loops: tells the CPU (and a hyperthread
// sibling) that this is a spin. Not user API.
#pragma once

namespace mmm::detail {

inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    asm volatile("yield");
#endif
}

}  // namespace mmm::detail
