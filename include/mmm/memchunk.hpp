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
// MemChunk<const T> is a read-only mapping (PROT_READ, enforced by the kernel):
// write() and lock() do not compile for it.
//
// Thread-safety: every element and lock member (read, write, pointer, span,
// version, wait_for_change, lock, try_lock_for) may be called from many threads
// at once on one MemChunk; the object itself must not be moved, assigned or
// destroyed while another thread uses it. Exception: the lease holder of a
// single-writer chunk calls write() (and lock()) from one thread at a time.
#pragma once

#include <mmm/chunk_lock.hpp>
#include <mmm/detail/mapped_chunk.hpp>
#include <mmm/detail/seqlock.hpp>
#include <mmm/options.hpp>
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
          data_(std::exchange(o.data_, nullptr)),
          sync_(std::exchange(o.sync_, nullptr)),
          count_(std::exchange(o.count_, 0)),
          single_writer_(std::exchange(o.single_writer_, false)) {}
    MemChunk& operator=(MemChunk&& o) noexcept {
        if (this != &o) {
            mapped_ = std::move(o.mapped_);
            data_ = std::exchange(o.data_, nullptr);
            sync_ = std::exchange(o.sync_, nullptr);
            count_ = std::exchange(o.count_, 0);
            single_writer_ = std::exchange(o.single_writer_, false);
        }
        return *this;
    }

    explicit operator bool() const noexcept { return mapped_ != nullptr; }
    std::size_t size() const noexcept { return count_; }
    const std::string& name() const { return mapped_->name(); }

    // Checked, element-consistent read. Throws Errc::out_of_range.
    Element read(std::size_t i) const {
        check(i);
        return detail::seq_read(sync_, data_ + i, i, !read_only, mapped_->name());
    }

    // Checked, element-consistent write; bumps version() and wakes waiters.
    void write(std::size_t i, const Element& value) requires(!read_only) {
        check(i);
        if (single_writer_)
            detail::seq_write_single(sync_, data_ + i, i, value);
        else
            detail::seq_write(sync_, data_ + i, i, value);
    }

    // Raw access (bounds-checked index, unsynchronised memory).
    T* pointer(std::size_t i) const {
        check(i);
        return data_ + i;
    }
    std::span<T> span() const noexcept { return {data_, count_}; }
    T& operator[](std::size_t i) const noexcept { return data_[i]; }
    T* begin() const noexcept { return data_; }
    T* end() const noexcept { return data_ + count_; }

    // The chunk as mmmd knows it (a round trip to the daemon).
    ChunkInfo info() const { return mapped_->info(); }
    // Deletes the chunk (owner or root); this mapping stays valid until destroyed.
    void remove() { mapped_->remove(); }
    // True once someone removed the chunk; the memory stays valid while mapped.
    bool deleted() const { return mapped_->deleted(); }
    // True for a chunk created with CreateOptions::single_writer.
    bool single_writer() const { return mapped_->single_writer(); }

    // Bumped by every checked write and every lock release (wraps at 2^32).
    std::uint32_t version() const noexcept {
        return sync_->version.load(std::memory_order_acquire);
    }
    // Sleeps until version() != since; nullopt when the timeout passes first.
    std::optional<std::uint32_t> wait_for_change(
        std::uint32_t since, std::chrono::nanoseconds timeout,
        std::chrono::nanoseconds spin = default_wait_spin) const {
        return mapped_->wait_for_change(since, timeout, spin);
    }

    // The chunk's robust exclusive lock (see ChunkLock).
    ChunkLock lock() requires(!read_only) { return detail::lock_chunk(sync_, name(), -1); }
    // An empty ChunkLock when the timeout passes first.
    ChunkLock try_lock_for(std::chrono::nanoseconds timeout) requires(!read_only) {
        return detail::lock_chunk(sync_, name(), timeout.count());
    }

  private:
    friend class Client;
    explicit MemChunk(std::unique_ptr<detail::MappedChunk> mapped)
        : mapped_(std::move(mapped)),
          data_(static_cast<T*>(mapped_->data())),
          sync_(mapped_->sync()),
          count_(mapped_->count()),
          single_writer_(!read_only && mapped_->single_writer()) {}

    void check(std::size_t i) const {
        if (i >= count_) [[unlikely]]
            detail::throw_out_of_range(mapped_->name(), i, count_);
    }

    std::unique_ptr<detail::MappedChunk> mapped_;
    T* data_ = nullptr;
    detail::ChunkSync* sync_ = nullptr;
    std::size_t count_ = 0;
    bool single_writer_ = false;  // this mapping holds the chunk's write lease
};

namespace detail {
template <class T>
ElementType element_type_of() {
    using E = std::remove_cv_t<T>;
    ElementType t;
    t.name = mmm::type_name<E>();
    // The header stores 255 bytes of the name; the fingerprint covers what is stored.
    if (t.name.size() > 255) t.name.resize(255);
    t.size = sizeof(E);
    t.align = alignof(E);
    t.fingerprint = fingerprint(t.name, t.size, t.align);
    return t;
}
}  // namespace detail

}  // namespace mmm
