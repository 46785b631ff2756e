// The non-template half of MemChunk<T>, AnyChunk and Heap: one process's
// mapping of one chunk segment, and the client connection it came from. The
// data path lives in src/mapped_chunk.cpp: map, unmap, waits, untyped reads
// and writes, resizes. Not user API.
#pragma once

#include <mmm/chunk_lock.hpp>
#include <mmm/detail/chunk_sync.hpp>
#include <mmm/options.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

namespace mmm::detail {

class ClientCore;

// The words an empty handle (default-constructed or moved from) points at: a
// count of 0 and a version of 0, so its size() and version() are defined.
extern ChunkSync g_empty_sync;
inline ElementAccess empty_access() {
    ElementAccess a;
    a.sync = &g_empty_sync;
    return a;
}

// The shared counters of a mapping's header: version() as it always reads,
// the rest relaxed (figures for people and monitors, not for synchronisation).
inline ChunkActivity activity_of(const ElementAccess& a) noexcept {
    ChunkActivity c;
    c.version = a.sync->version.load(std::memory_order_acquire);
    c.waiters = a.sync->waiters.load(std::memory_order_relaxed) +
                a.sync->watchers.load(std::memory_order_relaxed);
    c.lock_recoveries = a.sync->lock_recoveries.load(std::memory_order_relaxed);
    c.stripe_recoveries = a.sync->stripe_recoveries.load(std::memory_order_relaxed);
    return c;
}

class MappedChunk {
  public:
    // Takes over a mapping of `length` bytes at `base` made from mmmd's grant
    // of `info` (src/mapped_chunk.cpp, map_granted).
    MappedChunk(std::shared_ptr<ClientCore> core, ChunkInfo info, void* base, std::size_t length,
                const ElementAccess& access, bool writable);
    ~MappedChunk();
    MappedChunk(const MappedChunk&) = delete;
    MappedChunk& operator=(const MappedChunk&) = delete;

    const ElementAccess& access() const { return access_; }
    bool writable() const { return writable_; }
    // A single-writer chunk; a writable mapping of one holds its write lease.
    bool single_writer() const { return info_.single_writer; }
    const std::string& name() const { return info_.name; }
    std::uint64_t generation() const { return info_.generation; }
    // As mmmd described the chunk when it was mapped (count then, type, schema).
    const ChunkInfo& mapped_info() const { return info_; }

    ChunkInfo info() const;
    void remove();
    bool deleted() const;
    // Asks mmmd to resize the chunk; returns once the new count is published.
    void resize(std::uint64_t new_count);

    // Blocks until version != since or the timeout passes; spins first for up
    // to `spin`, then sleeps counted as a waiter (docs/CONCURRENCY.md).
    std::optional<std::uint32_t> wait_for_change(std::uint32_t since,
                                                 std::chrono::nanoseconds timeout,
                                                 std::chrono::nanoseconds spin) const;
    // The chunk lock: held, or empty when timeout_ns >= 0 ran out (-1: wait forever).
    ChunkLock lock(long long timeout_ns) const;

    // Untorn copies of element `index` (element_size bytes) in and out. A
    // read gives up at `deadline` when a live writer holds the element's
    // stripe all along, and returns false (the copy may then be torn).
    bool read_bytes(std::uint64_t index, void* out,
                    std::chrono::steady_clock::time_point deadline =
                        std::chrono::steady_clock::time_point::max()) const;
    void write_bytes(std::uint64_t index, const void* value) const;

  private:
    // Read-only mappings cannot write `waiters`: mmmd counts them in
    // `watchers` instead. False when mmmd cannot be reached.
    bool watch() const noexcept;
    void unwatch() const noexcept;

    std::shared_ptr<ClientCore> core_;
    ChunkInfo info_;
    void* base_;
    std::size_t length_;
    ElementAccess access_;
    bool writable_;
    // The process that mapped it: a fork child that inherited the mapping
    // must not send the parent's close notice (mmmd counts the attachment as
    // the parent's).
    std::uint32_t mapper_pid_;
};

// Errc::invalid_argument: `what` ("MemChunk", "AnyChunk", "Heap") is empty.
[[noreturn]] void throw_empty_handle(const char* what);
// Errc::out_of_range for index >= size.
[[noreturn]] void throw_out_of_range(const std::string& name, std::uint64_t index,
                                     std::uint64_t size);

}  // namespace mmm::detail
