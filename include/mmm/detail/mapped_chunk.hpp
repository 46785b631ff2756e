// The non-template half of MemChunk<T>: one mapping of one chunk segment and
// the client connection it came from. Not user API.
#pragma once

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

// What the library knows of an element type: checked against the header on open.
struct ElementType {
    std::string name;
    std::uint64_t size = 0;
    std::uint64_t align = 0;
    std::uint64_t fingerprint = 0;  // 0 with size 0: untyped (admin tools only)
};

class MappedChunk {
  public:
    MappedChunk(std::shared_ptr<ClientCore> core, std::string name, std::uint64_t generation,
                void* base, std::size_t length, std::uint64_t data_offset, std::uint64_t count,
                std::uint64_t element_size, bool writable, bool single_writer);
    ~MappedChunk();
    MappedChunk(const MappedChunk&) = delete;
    MappedChunk& operator=(const MappedChunk&) = delete;

    void* data() const { return data_; }
    ChunkSync* sync() const { return sync_; }
    std::uint64_t count() const { return count_; }
    std::uint64_t element_size() const { return element_size_; }
    bool writable() const { return writable_; }
    // A single-writer chunk; a writable mapping of one holds its write lease.
    bool single_writer() const { return single_writer_; }
    const std::string& name() const { return name_; }
    std::uint64_t generation() const { return generation_; }

    ChunkInfo info() const;
    void remove();
    bool deleted() const;

    // Blocks until version != since or the timeout passes; spins first for up
    // to `spin`, then sleeps counted as a waiter (docs/CONCURRENCY.md).
    std::optional<std::uint32_t> wait_for_change(std::uint32_t since,
                                                 std::chrono::nanoseconds timeout,
                                                 std::chrono::nanoseconds spin) const;
    // Read-only mappings cannot write `waiters`: mmmd counts them in
    // `watchers` instead. False when mmmd cannot be reached.
    bool watch() const noexcept;
    void unwatch() const noexcept;

  private:
    std::shared_ptr<ClientCore> core_;
    std::string name_;
    std::uint64_t generation_;
    void* base_;
    std::size_t length_;
    void* data_;
    ChunkSync* sync_;
    std::uint64_t count_;
    std::uint64_t element_size_;
    bool writable_;
    bool single_writer_;
    // The process that mapped it: a fork child that inherited the mapping
    // must not send the parent's close notice (mmmd counts the attachment as
    // the parent's).
    std::uint32_t mapper_pid_;
};

template <class T>
ElementType element_type_of();

[[noreturn]] void throw_out_of_range(const std::string& name, std::size_t index,
                                     std::uint64_t size);

}  // namespace mmm::detail
