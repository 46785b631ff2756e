// mmm::AnyChunk: a chunk whose element type is known at run time only, by its
// schema and element size: what admin tools, language bindings and generic
// code use. Created with Client::create_any (a Schema built at run time) or
// opened with Client::open_any whatever the chunk's type. It shares its
// implementation with MemChunk<T>: the same mapping, the same untorn checked
// reads and writes (on bytes), the same lock, version and waits.
//
// An empty AnyChunk (default-constructed or moved from) has size() 0,
// version() 0 and activity() all zero; every other member throws Errc::invalid_argument.
//
// Thread-safety: as MemChunk<T>: members may be called from many threads at
// once; the object must not be moved or destroyed while another thread uses it.
#pragma once

#include <mmm/chunk_lock.hpp>
#include <mmm/detail/mapped_chunk.hpp>
#include <mmm/memchunk.hpp>
#include <mmm/options.hpp>
#include <mmm/schema.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace mmm {

class AnyChunk {
  public:
    AnyChunk() = default;
    AnyChunk(AnyChunk&& o) noexcept;
    AnyChunk& operator=(AnyChunk&& o) noexcept;
    ~AnyChunk();

    explicit operator bool() const noexcept { return mapped_ != nullptr; }
    std::size_t size() const noexcept { return access_.count(); }
    std::size_t max_size() const noexcept { return access_.capacity; }
    std::size_t element_size() const noexcept { return access_.element_size; }
    const std::string& name() const;
    const Schema& schema() const;
    // The element type's name as its creator gave it (may be empty).
    const std::string& type_name() const;
    ChunkKind kind() const;
    bool read_only() const;
    bool single_writer() const;

    // Checked, untorn copy of element `i` into `out` (element_size() bytes).
    // Throws out_of_range, or invalid_argument when `out` has another size.
    void read_bytes(std::size_t i, std::span<std::byte> out) const;
    std::vector<std::byte> read_bytes(std::size_t i) const;
    // As read_bytes, but gives up after `patience` while a live writer holds
    // the element (a stopped process mid-write): returns false, and `out`
    // holds a copy that may be torn. For tools that must never hang.
    bool try_read_bytes(std::size_t i, std::span<std::byte> out,
                        std::chrono::nanoseconds patience) const;
    // Checked, untorn write of element `i`; bumps version(). Throws
    // permission_denied on a read-only mapping.
    void write_bytes(std::size_t i, std::span<const std::byte> value);

    // Raw memory of the elements: size() * element_size() bytes.
    std::byte* data() const noexcept { return access_.data; }
    std::span<std::byte> bytes() const noexcept { return {data(), size() * element_size()}; }

    ChunkInfo info() const;
    void remove();
    bool deleted() const;
    // As MemChunk<T>::resize (needs a writable mapping).
    void resize(std::size_t new_count);

    std::uint32_t version() const noexcept {
        return access_.sync->version.load(std::memory_order_acquire);
    }
    // As MemChunk<T>::activity.
    ChunkActivity activity() const noexcept { return detail::activity_of(access_); }
    std::optional<std::uint32_t> wait_for_change(
        std::uint32_t since, std::chrono::nanoseconds timeout,
        std::chrono::nanoseconds spin = default_wait_spin) const;
    // The chunk's robust lock; permission_denied on a read-only mapping.
    ChunkLock lock();
    ChunkLock try_lock_for(std::chrono::nanoseconds timeout);

  private:
    friend class Client;
    explicit AnyChunk(std::unique_ptr<detail::MappedChunk> mapped);
    const detail::MappedChunk& mapped() const;

    std::unique_ptr<detail::MappedChunk> mapped_;
    detail::ElementAccess access_ = detail::empty_access();
};

}  // namespace mmm
