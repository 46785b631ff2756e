// mmm::MemChunk<T>: one process's mapping of a named chunk of `size()` elements
// of T. Obtained from Client::create / Client::open; move-only; destruction
// unmaps and never deletes (remove() deletes).
//
// Two ways to reach the elements (docs/CONCURRENCY.md):
//  - checked: read(i), write(i, v) are bounds-checked and element-consistent
//    across processes and threads (a striped seqlock: a read never returns a
//    torn T, readers never block writers); every write bumps version().
//    Elements of 1, 2, 4 or 8 bytes move whole in one atomic access.
//    A single-writer chunk (CreateOptions::single_writer) has at most one
//    writable mapping at a time, the lease holder, whose checked writes are
//    plain stores: as fast as a raw store plus the version() store.
//  - raw: span(), operator[], pointer(i) are plain memory, zero-cost, for users
//    who synchronise themselves (lock(), std::atomic_ref, their own protocol).
//
// A growable chunk (CreateOptions::max_count) changes size() when anyone
// resizes it; its elements never move, so pointers and spans taken earlier
// stay valid (those past a shrink read zero; docs/CONCURRENCY.md).
//
// MemChunk<const T> is a read-only mapping (PROT_READ, enforced by the kernel):
// write(), resize() and lock() do not compile for it.
//
// An empty MemChunk (default-constructed or moved from) has size() 0,
// version() 0 and activity() all zero; every other member throws
// Errc::invalid_argument.
//
// Thread-safety: every element and lock member (read, write, pointer, span,
// version, wait_for_change, lock, try_lock_for) may be called from many threads
// at once on one MemChunk; the object itself must not be moved, assigned or
// destroyed while another thread uses it. Exception: the lease holder of a
// single-writer chunk calls write() (and lock()) from one thread at a time.
// Across processes, see docs/CONCURRENCY.md.
#pragma once

#include <mmm/chunk_lock.hpp>
#include <mmm/detail/element_type.hpp>
#include <mmm/detail/mapped_chunk.hpp>
#include <mmm/detail/seqlock.hpp>
#include <mmm/options.hpp>
#include <mmm/schema.hpp>
#include <mmm/type_name.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <type_traits>
#include <utility>

namespace mmm {

// Spin this long before sleeping in wait_for_change: a futex wake costs tens of
// microseconds on virtual machines, a spin while the peer is active far less.
inline constexpr std::chrono::nanoseconds default_wait_spin{std::chrono::microseconds(20)};

class Client;

template <class T>
class MemChunk {
    using Element = std::remove_const_t<T>;
    static_assert(!std::is_pointer_v<Element>,
                  "mmm::MemChunk<T>: T must not be a pointer: an address means nothing in "
                  "another process; store an index or an offset instead");
    static_assert(std::is_trivially_copyable_v<Element>,
                  "mmm::MemChunk<T>: T must be trivially copyable (no virtual functions, no "
                  "owning members such as std::string or std::vector): its bytes are shared "
                  "with other processes as they are");
    static_assert(!std::is_array_v<Element>,
                  "mmm::MemChunk<T>: T must not be a C array (it cannot be returned by read()); "
                  "use std::array<E, N> instead");
    static_assert(!std::is_volatile_v<T>, "mmm::MemChunk<T>: T must not be volatile");

  public:
    using value_type = Element;
    static constexpr bool read_only = std::is_const_v<T>;

    MemChunk() = default;
    MemChunk(MemChunk&& o) noexcept
        : mapped_(std::move(o.mapped_)),
          access_(std::exchange(o.access_, detail::empty_access())),
          single_writer_(std::exchange(o.single_writer_, false)) {}
    MemChunk& operator=(MemChunk&& o) noexcept {
        if (this != &o) {
            mapped_ = std::move(o.mapped_);
            access_ = std::exchange(o.access_, detail::empty_access());
            single_writer_ = std::exchange(o.single_writer_, false);
        }
        return *this;
    }

    explicit operator bool() const noexcept { return mapped_ != nullptr; }
    // Elements now (a growable chunk's count follows resizes).
    std::size_t size() const noexcept { return access_.count(); }
    // The most elements a resize may reach (size() for a chunk of fixed size).
    std::size_t max_size() const noexcept { return access_.capacity; }
    const std::string& name() const { return mapped().name(); }
    // What an element's bytes mean, as the chunk stores it.
    const Schema& schema() const { return mapped().mapped_info().schema; }

    // Checked, element-consistent read. Throws Errc::out_of_range.
    Element read(std::size_t i) const {
        check(i);
        return detail::seq_read<Element>(access_, i, !read_only, mapped_->name());
    }

    // Checked, element-consistent write; bumps version() and wakes waiters.
    void write(std::size_t i, const Element& value) requires(!read_only) {
        check(i);
        if (single_writer_)
            detail::seq_write_single(access_, i, value);
        else
            detail::seq_write(access_, i, value);
    }

    // Raw access (bounds-checked index, unsynchronised memory).
    T* pointer(std::size_t i) const {
        check(i);
        return data() + i;
    }
    std::span<T> span() const noexcept { return {data(), size()}; }
    T& operator[](std::size_t i) const noexcept { return data()[i]; }
    T* begin() const noexcept { return data(); }
    T* end() const noexcept { return data() + size(); }

    // The chunk as mmmd knows it (a round trip to the daemon).
    ChunkInfo info() const { return mapped().info(); }
    // Deletes the chunk (owner or root); this mapping stays valid until destroyed.
    void remove() { mapped().remove(); }
    // True once someone removed the chunk; the memory stays valid while mapped.
    bool deleted() const { return mapped().deleted(); }
    // True for a chunk created with CreateOptions::single_writer.
    bool single_writer() const { return mapped().single_writer(); }
    // Grows or shrinks a growable chunk to `new_count` elements (a round trip
    // to mmmd; docs/CONCURRENCY.md). Throws Errc::out_of_range beyond
    // max_size(), no_space / quota_exceeded when the memory is not there (the
    // chunk is then unchanged).
    void resize(std::size_t new_count) requires(!read_only) { mapped().resize(new_count); }

    // Bumped by every checked write, lock release and resize (wraps at 2^32).
    std::uint32_t version() const noexcept {
        return access_.sync->version.load(std::memory_order_acquire);
    }
    // version(), waiters sleeping now, and the recoveries from dead lock
    // holders and dead writers the chunk has seen (all zero when empty).
    ChunkActivity activity() const noexcept { return detail::activity_of(access_); }
    // Sleeps until version() != since; nullopt when the timeout passes first.
    std::optional<std::uint32_t> wait_for_change(
        std::uint32_t since, std::chrono::nanoseconds timeout,
        std::chrono::nanoseconds spin = default_wait_spin) const {
        return mapped().wait_for_change(since, timeout, spin);
    }

    // The chunk's robust exclusive lock (see ChunkLock).
    ChunkLock lock() requires(!read_only) { return mapped().lock(-1); }
    // An empty ChunkLock when the timeout passes first.
    ChunkLock try_lock_for(std::chrono::nanoseconds timeout) requires(!read_only) {
        return mapped().lock(timeout.count());
    }

  private:
    friend class Client;
    explicit MemChunk(std::unique_ptr<detail::MappedChunk> mapped)
        : mapped_(std::move(mapped)),
          access_(mapped_->access()),
          single_writer_(!read_only && mapped_->single_writer()) {}

    T* data() const noexcept { return reinterpret_cast<T*>(access_.data); }
    const detail::MappedChunk& mapped() const {
        if (!mapped_) [[unlikely]]
            detail::throw_empty_handle("MemChunk");
        return *mapped_;
    }
    detail::MappedChunk& mapped() {
        if (!mapped_) [[unlikely]]
            detail::throw_empty_handle("MemChunk");
        return *mapped_;
    }
    void check(std::size_t i) const {
        if (const std::size_t n = size(); i >= n) [[unlikely]] {
            if (!mapped_) detail::throw_empty_handle("MemChunk");
            detail::throw_out_of_range(mapped_->name(), i, n);
        }
    }

    std::unique_ptr<detail::MappedChunk> mapped_;
    detail::ElementAccess access_ = detail::empty_access();
    bool single_writer_ = false;  // this mapping holds the chunk's write lease
};

}  // namespace mmm
