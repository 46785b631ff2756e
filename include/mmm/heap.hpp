// mmm::Heap: a heap chunk, variable-size shared data. Its bytes hold a
// Boost.Interprocess managed segment (offset pointers, so every process may
// map it at another address; no Boost mutex inside: null_mutex_family), and
// every use of that segment goes through the chunk's robust lock:
//
//   auto heap = client.create_heap("symbols", 64 << 20);   // bytes
//   {
//       mmm::HeapLock h = heap.lock();
//       auto* table = h->find_or_construct<
//           mmm::heap::map<mmm::heap::string, std::uint64_t>>("table")(h.allocator());
//       table->emplace(mmm::heap::string("AAPL", h.allocator()), 42);
//   }   // the release bumps version() and wakes waiters
//
// The managed segment (find, construct, destroy, get_segment_manager, ...) is
// reachable only through a held HeapLock, so unlocked use does not compile.
//
// A holder that dies: the next lock() runs a consistency check of the segment
// (Boost's check_sanity, the named-object indexes, an allocate-all/free-all
// round on a private copy) in a child process, so that a damaged heap can
// neither crash nor hang this one. A heap that fails it is marked corrupt in
// its header; every later lock() and open_heap() throws Errc::corrupt_header
// naming the cause, and the chunk can still be removed. A heap that passes
// it gives a HeapLock whose previous_owner_died() is true: the allocator
// passed the check (a strong one, not a proof), but the containers the dead
// holder was changing may be half-updated (check your own invariants).
//
// A full heap: allocations throw boost::interprocess::bad_alloc inside the
// lock; the exception leaves the HeapLock's scope (which releases the lock)
// and nothing is damaged: the heap is as the failed allocation found it.
//
// Read-only opens (Client::open_heap(name, Access::read_only)) give version(),
// wait_for_change(), info() and deleted(), and no access to the heap's
// contents: lock() throws Errc::permission_denied. A reader cannot take the
// lock, so a writer may change offset pointers under it while it follows them.
//
// An empty Heap (default-constructed or moved from) has size() 0 and
// version() 0; every other member throws Errc::invalid_argument.
//
// Thread-safety: as MemChunk<T>: lock(), version(), wait_for_change() may be
// called from many threads at once on one Heap; a HeapLock is owned by one thread.
#pragma once

#include <mmm/chunk_lock.hpp>
#include <mmm/detail/mapped_chunk.hpp>
#include <mmm/memchunk.hpp>
#include <mmm/options.hpp>
#include <mmm/type_name.hpp>

#include <boost/container/deque.hpp>
#include <boost/container/map.hpp>
#include <boost/container/string.hpp>
#include <boost/container/vector.hpp>
#include <boost/interprocess/allocators/allocator.hpp>
#include <boost/interprocess/indexes/iset_index.hpp>
#include <boost/interprocess/managed_external_buffer.hpp>
#include <boost/interprocess/mem_algo/rbtree_best_fit.hpp>
#include <boost/interprocess/offset_ptr.hpp>
#include <boost/interprocess/sync/mutex_family.hpp>
#include <boost/unordered_map.hpp>
#include <boost/version.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace mmm {

namespace heap {

namespace bip = boost::interprocess;

// Boost's managed buffer that a heap chunk holds, and its segment manager.
using managed_buffer = bip::basic_managed_external_buffer<
    char, bip::rbtree_best_fit<bip::null_mutex_family, bip::offset_ptr<void>>, bip::iset_index>;
using segment_manager = managed_buffer::segment_manager;

// Names that begin with this are mmm's records of the type made under a name
// (see segment); HeapLock::objects() leaves them out.
inline constexpr std::string_view type_record_prefix = "mmm.type:";

}  // namespace heap

namespace detail {
// Record (or forget) the type constructed under `name` (src/heap_objects.cpp).
// Never throws: a heap too full for the record leaves the type unrecorded.
void record_heap_object(heap::segment_manager& manager, const char* name, std::string_view type,
                        std::size_t element_size) noexcept;
void forget_heap_object(heap::segment_manager& manager, const char* name) noexcept;

// Boost's construct proxy, which records the type once the object is made.
template <class T, class Proxy>
class RecordingProxy {
  public:
    RecordingProxy(Proxy proxy, heap::segment_manager* manager, const char* name)
        : proxy_(std::move(proxy)), manager_(manager), name_(name) {}
    template <class... Args>
    T* operator()(Args&&... args) const {
        T* made = proxy_(std::forward<Args>(args)...);
        if (made && name_) record_heap_object(*manager_, name_, type_name<T>(), sizeof(T));
        return made;
    }
    // construct<T>(name)[n](args...): an array of n.
    const RecordingProxy& operator[](std::size_t n) const {
        proxy_[n];
        return *this;
    }

  private:
    Proxy proxy_;
    heap::segment_manager* manager_;
    const char* name_;  // null for anonymous and unique instances: nothing to record
};
}  // namespace detail

namespace heap {

// The managed segment inside a heap chunk: Boost's managed buffer, whose
// construct, find_or_construct and their _it forms also record the type made
// under each name (as a named char array "mmm.type:<name>" holding
// "<sizeof>:<type name>"), so that HeapLock::objects() and `mmmctl info` can
// say what a named object is and how many elements it has. destroy and
// destroy_ptr drop the record. Objects made through get_segment_manager()
// directly are listed without a type.
class segment : public managed_buffer {
  public:
    using managed_buffer::destroy;  // the unique_instance form
    using managed_buffer::managed_buffer;

    template <class T>
    auto construct(char_ptr_holder_t name) {
        return recorded<T>(managed_buffer::construct<T>(name), name);
    }
    template <class T>
    auto construct(char_ptr_holder_t name, const std::nothrow_t& tag) {
        return recorded<T>(managed_buffer::construct<T>(name, tag), name);
    }
    template <class T>
    auto find_or_construct(char_ptr_holder_t name) {
        return recorded<T>(managed_buffer::find_or_construct<T>(name), name);
    }
    template <class T>
    auto find_or_construct(char_ptr_holder_t name, const std::nothrow_t& tag) {
        return recorded<T>(managed_buffer::find_or_construct<T>(name, tag), name);
    }
    template <class T>
    auto construct_it(char_ptr_holder_t name) {
        return recorded<T>(managed_buffer::construct_it<T>(name), name);
    }
    template <class T>
    auto construct_it(char_ptr_holder_t name, const std::nothrow_t& tag) {
        return recorded<T>(managed_buffer::construct_it<T>(name, tag), name);
    }
    template <class T>
    auto find_or_construct_it(char_ptr_holder_t name) {
        return recorded<T>(managed_buffer::find_or_construct_it<T>(name), name);
    }
    template <class T>
    auto find_or_construct_it(char_ptr_holder_t name, const std::nothrow_t& tag) {
        return recorded<T>(managed_buffer::find_or_construct_it<T>(name, tag), name);
    }

    template <class T>
    bool destroy(const char* name) {
        const bool destroyed = managed_buffer::destroy<T>(name);
        if (destroyed) mmm::detail::forget_heap_object(*get_segment_manager(), name);
        return destroyed;
    }
    template <class T>
    void destroy_ptr(const T* object) {
        const char* name = managed_buffer::get_instance_name(object);
        const bool named = managed_buffer::get_instance_type(object) == bip::named_type;
        // The name lives in the object's block: keep a copy past the destroy.
        const std::string kept = named && name ? std::string(name) : std::string();
        managed_buffer::destroy_ptr(object);
        if (named) mmm::detail::forget_heap_object(*get_segment_manager(), kept.c_str());
    }

  private:
    template <class T, class Proxy>
    mmm::detail::RecordingProxy<T, Proxy> recorded(Proxy proxy, char_ptr_holder_t name) {
        const char* named = name.is_anonymous() || name.is_unique() ? nullptr : name.get();
        return {std::move(proxy), get_segment_manager(), named};
    }
};

// Boost.Interprocess's allocator over a heap's segment manager (constructible
// from HeapLock::allocator() or from get_segment_manager()).
template <class T>
using allocator = bip::allocator<T, segment_manager>;

template <class T>
using vector = boost::container::vector<T, allocator<T>>;
template <class T>
using deque = boost::container::deque<T, allocator<T>>;
using string = boost::container::basic_string<char, std::char_traits<char>, allocator<char>>;
template <class K, class V, class Compare = std::less<K>>
using map = boost::container::map<K, V, Compare, allocator<std::pair<const K, V>>>;
template <class K, class V, class Hash = boost::hash<K>, class Equal = std::equal_to<K>>
using unordered_map = boost::unordered_map<K, V, Hash, Equal, allocator<std::pair<const K, V>>>;

// The smallest heap create_heap accepts, in bytes.
inline constexpr std::size_t min_bytes = 4096;

}  // namespace heap

namespace detail {
// The type name a heap chunk records: a process whose Boost lays the
// segment out differently (another version, index or algorithm) gets
// Errc::type_mismatch at open_heap instead of misreading the heap.
inline std::string heap_type_name() {
    return "mmm::heap<boost " + std::to_string(BOOST_VERSION / 100000) + "." +
           std::to_string(BOOST_VERSION / 100 % 1000) + "." + std::to_string(BOOST_VERSION % 100) +
           ", rbtree_best_fit<null_mutex_family, offset_ptr<void>>, iset_index, " +
           std::to_string(sizeof(void*) * 8) + "-bit>";
}
}  // namespace detail

class Heap;

// A named object of a heap, as HeapLock::objects() lists it.
struct HeapObject {
    std::string name;
    // mmm::type_name of what was constructed under the name, with the heap's
    // segment manager, allocator and string spelled mmm::heap::segment_manager,
    // mmm::heap::allocator<T> and mmm::heap::string; empty when it was
    // not recorded (made through get_segment_manager() directly, or by a build
    // older than the record, or in a heap too full to hold the record).
    std::string type_name;
    std::optional<std::size_t> count;  // elements, when the type is recorded
    std::size_t bytes = 0;             // the object's bytes (count x sizeof)
};

// The held lock of a heap, and the only way to its managed segment. Move-only;
// destruction (or unlock()) bumps the heap's version, wakes waiters, releases.
// It must not outlive the Heap it came from (it points into its mapping).
class HeapLock {
  public:
    HeapLock() = default;
    HeapLock(HeapLock&&) noexcept = default;
    HeapLock& operator=(HeapLock&& o) noexcept {
        if (this != &o) {
            lock_ = std::move(o.lock_);
            segment_ = std::exchange(o.segment_, nullptr);
        }
        return *this;
    }
    ~HeapLock() = default;

    bool owns_lock() const noexcept { return lock_.owns_lock(); }
    explicit operator bool() const noexcept { return owns_lock(); }
    // True when the previous holder died holding the lock. The heap passed its
    // consistency check; the containers it was changing may be half-updated.
    bool previous_owner_died() const noexcept { return lock_.previous_owner_died(); }

    // The managed segment (Boost.Interprocess basic_managed_external_buffer).
    heap::segment* operator->() const { return &held(); }
    heap::segment& operator*() const { return held(); }
    heap::segment_manager* segment_manager() const { return held().get_segment_manager(); }
    // Converts to every heap::allocator<T>.
    heap::allocator<char> allocator() const { return heap::allocator<char>(segment_manager()); }

    // The heap's named objects (at most `limit` of them, sorted by name),
    // without mmm's type records.
    std::vector<HeapObject> objects(std::size_t limit = SIZE_MAX) const;

    // Releases early (bumps version, wakes waiters); the segment is then out of reach.
    void unlock() noexcept {
        lock_.unlock();
        segment_ = nullptr;
    }

  private:
    friend class Heap;
    HeapLock(ChunkLock lock, heap::segment* segment) : lock_(std::move(lock)), segment_(segment) {}
    heap::segment& held() const {
        if (!segment_ || !lock_.owns_lock()) [[unlikely]]
            detail::throw_empty_handle("HeapLock");
        return *segment_;
    }

    ChunkLock lock_;
    heap::segment* segment_ = nullptr;
};

class Heap {
  public:
    Heap();
    Heap(Heap&& o) noexcept;
    Heap& operator=(Heap&& o) noexcept;
    ~Heap();

    explicit operator bool() const noexcept { return mapped_ != nullptr; }
    const std::string& name() const;
    // The heap's bytes (what create_heap asked for).
    std::size_t size() const noexcept { return access_.capacity; }
    bool read_only() const;

    // The chunk as mmmd knows it (a round trip to the daemon).
    ChunkInfo info() const;
    // Deletes the chunk (owner or root); this mapping stays valid until destroyed.
    void remove();
    bool deleted() const;

    // Bumped by every lock release (wraps at 2^32).
    std::uint32_t version() const noexcept {
        return access_.sync->version.load(std::memory_order_acquire);
    }
    std::optional<std::uint32_t> wait_for_change(
        std::uint32_t since, std::chrono::nanoseconds timeout,
        std::chrono::nanoseconds spin = default_wait_spin) const;

    // The heap's robust exclusive lock. Throws permission_denied on a
    // read-only Heap, corrupt_header when the heap is marked corrupt.
    HeapLock lock();
    // An empty HeapLock when the timeout passes first.
    HeapLock try_lock_for(std::chrono::nanoseconds timeout);

  private:
    friend class Client;
    explicit Heap(std::unique_ptr<detail::MappedChunk> mapped);
    const detail::MappedChunk& mapped() const;
    HeapLock lock_for(long long timeout_ns);

    std::unique_ptr<detail::MappedChunk> mapped_;
    std::unique_ptr<heap::segment> segment_;
    detail::ElementAccess access_ = detail::empty_access();
};

}  // namespace mmm
