// The asymmetric fence behind single-writer chunks: the lease holder's writes
// store version() and then load `waiters` with no fence between them (the
// fast side); a waiter that registers in `waiters` (the slow side) runs
// membarrier(MEMBARRIER_CMD_GLOBAL_EXPEDITED) before it re-reads version(), which
// puts a full barrier on every CPU running a registered process. Either the
// writer's store is then visible to the waiter, or the writer's load comes
// after the barrier and sees the waiter. Not user API.
#pragma once

namespace mmm::detail {

// Registers this process as a fast-side writer, once. When the kernel refuses,
// the process's single-writer writes fall back to a full fence.
void register_single_writer_process() noexcept;

// The slow side's barrier. False when the kernel refuses it: the caller must
// then not sleep unboundedly on a single-writer chunk.
bool asymmetric_fence() noexcept;

}  // namespace mmm::detail
