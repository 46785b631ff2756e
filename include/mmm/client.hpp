// mmm::Client: a connection to mmmd, the registry daemon, through which chunks
// are created, opened, resized, removed and listed. Element access never goes
// through the client: once open, a chunk is plain memory.
//
// Before it talks to mmmd the client checks that the daemon is one to trust:
// its runtime directory and socket belong to this user, root or the system
// daemon's user (ClientOptions::daemon_user) and nobody else can replace them,
// and the process behind the socket runs as one of those users
// (docs/SECURITY.md). Otherwise Errc::daemon_unavailable says why.
//
// Thread-safety: one Client may be used from many threads (requests are
// serialised on its connection). Chunks keep the connection alive; they may
// outlive the Client object. When mmmd restarts, the next request reconnects.
// In a child forked from the process (without exec) the Client opens a
// connection of its own at its first request (docs/CONCURRENCY.md, fork()).
#pragma once

#include <mmm/any_chunk.hpp>
#include <mmm/detail/element_type.hpp>
#include <mmm/error.hpp>
#include <mmm/memchunk.hpp>
#include <mmm/options.hpp>
#include <mmm/schema.hpp>

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace mmm {

class Heap;  // <mmm/heap.hpp> (not included by <mmm/mmm.hpp>: include it to use heaps)

// How open_any and open_heap map a chunk.
enum class Access : std::uint8_t { read_write, read_only };

class Client {
  public:
    // Connects at once; throws Errc::daemon_unavailable when mmmd is not running.
    Client();
    explicit Client(ClientOptions options);
    ~Client();
    Client(Client&&) noexcept;
    Client& operator=(Client&&) noexcept;

    // A new chunk of `count` zero-filled elements of T (all bytes 0).
    // Throws invalid_name, invalid_argument (count 0, max_count below count),
    // size_overflow, already_exists, quota_exceeded, no_space, permission_denied.
    template <class T>
    MemChunk<T> create(std::string_view name, std::size_t count, CreateOptions options = {}) {
        static_assert(!std::is_const_v<T>,
                      "mmm::Client::create<T>: create a mutable chunk; "
                      "open<const T> gives a read-only mapping");
        static_assert(std::is_trivially_copyable_v<T> && !std::is_pointer_v<T>,
                      "mmm::Client::create<T>: T must be trivially copyable and not a pointer");
        return MemChunk<T>(create_mapped(name, count, detail::element_type_of<T>(), options));
    }

    // Maps an existing chunk; open<const T> maps it read-only. Throws not_found,
    // type_mismatch (naming the first field that differs), permission_denied,
    // corrupt_header.
    template <class T>
    MemChunk<T> open(std::string_view name, OpenOptions options = {}) {
        return MemChunk<T>(
            open_mapped(name, detail::element_type_of<T>(), !std::is_const_v<T>, options));
    }
    // Waits up to `wait` for a chunk of that name to be created; Errc::timeout after.
    template <class T>
    MemChunk<T> open(std::string_view name, std::chrono::milliseconds wait) {
        return open<T>(name, OpenOptions{.wait = wait});
    }

    // A chunk of `count` elements described by `schema` (element size and
    // alignment are the schema's). `type_name` may be empty; when given, C++
    // opens must use a type of that name (docs/LAYOUT.md, "Type identity").
    AnyChunk create_any(std::string_view name, const Schema& schema, std::size_t count,
                        CreateOptions options = {}, std::string_view type_name = {});
    // Maps an existing array chunk whatever its element type.
    AnyChunk open_any(std::string_view name, Access access = Access::read_write,
                      OpenOptions options = {});

    // A heap chunk of `bytes` bytes holding a Boost.Interprocess managed
    // segment (mmm::Heap, <mmm/heap.hpp>). Throws invalid_argument below
    // heap::min_bytes or with max_count (a heap cannot be resized), and what
    // create throws.
    Heap create_heap(std::string_view name, std::size_t bytes, CreateOptions options = {});
    // Maps an existing heap chunk. Throws type_mismatch for an array chunk or a
    // heap built with another Boost layout, corrupt_header for a heap marked
    // corrupt, and what open throws. A read-only Heap cannot lock (see Heap).
    Heap open_heap(std::string_view name, OpenOptions options = {});
    Heap open_heap(std::string_view name, Access access, OpenOptions options = {});

    // Deletes a chunk (its owner or root only). Mapped copies stay valid.
    void remove(std::string_view name);
    // Resizes a growable chunk (as MemChunk<T>::resize; needs write permission).
    ChunkInfo resize(std::string_view name, std::size_t new_count);
    // Every chunk this user may read, sorted by name. Asked for in pages of
    // up to 4096; a chunk created or removed meanwhile may or may not be in
    // it, every other chunk is, once. Other threads' requests on this Client
    // wait until it is done (about 0.5 s at a million chunks).
    std::vector<ChunkInfo> list();
    ChunkInfo info(std::string_view name);
    Stats stats();
    const std::string& runtime_dir() const;

  private:
    std::unique_ptr<detail::MappedChunk> create_mapped(std::string_view name, std::size_t count,
                                                       const detail::ElementType& type,
                                                       const CreateOptions& options,
                                                       ChunkKind kind = ChunkKind::array);
    std::unique_ptr<detail::MappedChunk> open_mapped(std::string_view name,
                                                     const detail::ElementType& type, bool writable,
                                                     const OpenOptions& options,
                                                     ChunkKind kind = ChunkKind::array);

    std::shared_ptr<detail::ClientCore> core_;
};

}  // namespace mmm
