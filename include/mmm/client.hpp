// mmm::Client: a connection to mmmd, the registry daemon, through which chunks
// are created, opened, removed and listed. Element access never goes through
// the client: once open, a chunk is plain memory.
//
// Thread-safety: one Client may be used from many threads (requests are
// serialised on its connection). Chunks keep the connection alive; they may
// outlive the Client object. When mmmd restarts, the next request reconnects.
// In a child forked from the process (without exec) the Client opens a
// connection of its own at its first request (docs/CONCURRENCY.md, fork()).
#pragma once

#include <mmm/error.hpp>
#include <mmm/memchunk.hpp>
#include <mmm/options.hpp>

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace mmm {

class Client {
  public:
    // Connects at once; throws Errc::daemon_unavailable when mmmd is not running.
    Client();
    explicit Client(ClientOptions options);
    ~Client();
    Client(Client&&) noexcept;
    Client& operator=(Client&&) noexcept;

    // A new chunk of `count` zero-filled elements of T (all bytes 0).
    // Throws invalid_name, invalid_argument (count 0), size_overflow,
    // already_exists, quota_exceeded, no_space, permission_denied.
    template <class T>
    MemChunk<T> create(std::string_view name, std::size_t count, CreateOptions options = {}) {
        static_assert(!std::is_const_v<T>,
                      "mmm::Client::create<T>: create a mutable chunk; "
                      "open<const T> gives a read-only mapping");
        check_count(name, count, sizeof(T));
        return MemChunk<T>(create_mapped(name, count, detail::element_type_of<T>(), options));
    }

    // Maps an existing chunk; open<const T> maps it read-only. Throws not_found,
    // type_mismatch (naming both types), permission_denied, corrupt_header.
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

    // Deletes a chunk (its owner or root only). Mapped copies stay valid.
    void remove(std::string_view name);
    // Every chunk this user may read, sorted by name.
    std::vector<ChunkInfo> list();
    ChunkInfo info(std::string_view name);
    Stats stats();
    const std::string& runtime_dir() const;

    // For admin tools: maps a chunk whatever its type; elements are bytes.
    std::unique_ptr<detail::MappedChunk> open_untyped(std::string_view name, bool writable);

  private:
    static void check_count(std::string_view name, std::size_t count, std::size_t element_size);
    std::unique_ptr<detail::MappedChunk> create_mapped(std::string_view name, std::size_t count,
                                                       const detail::ElementType& type,
                                                       const CreateOptions& options);
    std::unique_ptr<detail::MappedChunk> open_mapped(std::string_view name,
                                                     const detail::ElementType& type, bool writable,
                                                     const OpenOptions& options);

    std::shared_ptr<detail::ClientCore> core_;
};

}  // namespace mmm
