#include "asymmetric_fence.hpp"

#include <mmm/detail/seqlock.hpp>

#include <linux/membarrier.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <mutex>

namespace mmm::detail {

bool g_single_writer_full_fence = false;

namespace {

long membarrier(int cmd) {
    return ::syscall(SYS_membarrier, cmd, 0u, 0);
}

}  // namespace

void register_single_writer_process() noexcept {
    static std::once_flag once;
    std::call_once(once, [] {
        if (membarrier(MEMBARRIER_CMD_REGISTER_GLOBAL_EXPEDITED) != 0)
            g_single_writer_full_fence = true;
    });
}

bool asymmetric_fence() noexcept {
    return membarrier(MEMBARRIER_CMD_GLOBAL_EXPEDITED) == 0;
}

}  // namespace mmm::detail
