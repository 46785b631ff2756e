// mmm::Heap: a heap chunk's managed segment behind the chunk's robust lock.
// Mapping, waits, info and removal are MappedChunk's (src/mapped_chunk.cpp);
// what is here: building the segment under the lock, checking it after a
// holder died, and the heap_state word of the header (docs/LAYOUT.md).
#include <mmm/error.hpp>
#include <mmm/heap.hpp>

#include <signal.h>
#include <sys/mman.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <ctime>
#include <new>
#include <utility>

namespace mmm {
namespace {

namespace bip = boost::interprocess;

// ChunkSync::heap_state. Anything else is corrupt too (a scribbled word).
enum HeapState : std::uint32_t {
    kUnbuilt = 0,       // the segment is not built yet: the next holder builds it
    kReady = 1,         // built and, as far as anyone checked, sound
    kCheckFailed = 2,   // a holder died; the consistency check found damage
    kCheckCrashed = 3,  // a holder died; the consistency check crashed on the heap
    kCheckHung = 4,     // a holder died; the consistency check did not finish
    kUnchecked = 5,     // a holder died; the next holder runs the consistency check
};

// Free bytes the allocator may still count once the check took every block
// its free tree had (at most a block too small to split).
constexpr std::size_t kDrainSlack = 256;

// How long the consistency check of a heap may take.
constexpr std::chrono::seconds kCheckLimit{10};

std::string corrupt_cause(std::uint32_t state) {
    const std::string died = "a holder of its lock died mid-update and ";
    switch (state) {
        case kCheckFailed:
            return died +
                   "the heap failed the consistency check (Boost.Interprocess check_sanity, "
                   "its index of named objects, or its free memory accounting)";
        case kCheckCrashed:
            return died + "the consistency check of the heap crashed on it";
        case kCheckHung:
            return died + "the consistency check of the heap did not finish in " +
                   std::to_string(kCheckLimit.count()) + " s (a loop in its free list or index)";
        default:
            return "its header holds an unknown heap state (" + std::to_string(state) + ")";
    }
}

bool is_corrupt(std::uint32_t state) {
    return state != kUnbuilt && state != kReady && state != kUnchecked;
}

[[noreturn]] void throw_corrupt(const std::string& name, std::uint32_t state) {
    throw Error(Errc::corrupt_header, name, "the heap is marked corrupt: " + corrupt_cause(state),
                "its contents cannot be trusted: remove it (mmmctl delete " + name +
                    ", or Client::remove) and re-create it");
}

// Walks one index of named objects, bounded: a damaged tree may loop.
template <class It>
bool index_sane(It it, It end, const char* base, std::size_t bytes) {
    std::size_t n = 0;
    const std::size_t limit = bytes / 16;
    for (; it != end; ++it) {
        if (++n > limit) return false;
        const char* name = it->name();
        if (name < base || name >= base + bytes) return false;
    }
    return true;
}

// Anonymous memory (mmap: no malloc in a forked child), unmapped on exit.
class Scratch {
  public:
    explicit Scratch(std::size_t bytes) : bytes_(bytes) {
        void* p =
            ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        base_ = p == MAP_FAILED ? nullptr : p;
    }
    ~Scratch() {
        if (base_) ::munmap(base_, bytes_);
    }
    Scratch(const Scratch&) = delete;
    Scratch& operator=(const Scratch&) = delete;
    void* get() const { return base_; }

  private:
    std::size_t bytes_;
    void* base_;
};

// The check itself; may crash or loop on a damaged heap (run in a child). It
// works on a private copy of the heap (offset pointers: the copy is a heap of
// its own): Boost's check_sanity, bounded walks of the indexes, then it
// allocates every free byte it can and frees it all again, which makes the
// allocator visit its free tree and merge every block it hands out with its
// neighbours, and checks that it ends where it started.
bool heap_sane(const void* shared, std::size_t bytes) {
    try {
        Scratch copy(bytes);
        if (!copy.get()) return false;
        std::memcpy(copy.get(), shared, bytes);
        char* const base = static_cast<char*>(copy.get());
        heap::segment segment(bip::open_only, base, bytes);
        if (segment.get_size() != bytes) return false;
        if (!segment.check_sanity()) return false;
        if (!index_sane(segment.named_begin(), segment.named_end(), base, bytes) ||
            !index_sane(segment.unique_begin(), segment.unique_end(), base, bytes))
            return false;
        const std::size_t free_before = segment.get_free_memory();
        if (free_before > bytes) return false;
        const std::size_t slots = bytes / 16 + 1;
        Scratch taken_memory(slots * sizeof(void*));
        if (!taken_memory.get()) return false;
        void** taken = static_cast<void**>(taken_memory.get());
        std::size_t n = 0;
        std::size_t want = free_before;
        while (want >= 8 && n < slots) {
            void* p = segment.allocate(want, std::nothrow);
            if (!p) {
                want /= 2;
                continue;
            }
            if (static_cast<char*>(p) < base || static_cast<char*>(p) + want > base + bytes)
                return false;
            taken[n++] = p;
        }
        // The free tree gave all it had: the counters must agree that nothing
        // is left (a block the dead holder took out of the tree and never
        // accounted for, or put back twice, shows here).
        if (segment.get_free_memory() > kDrainSlack) return false;
        for (std::size_t i = 0; i < n; ++i) segment.deallocate(taken[i]);
        return segment.check_sanity() && segment.get_free_memory() == free_before;
    } catch (...) {
        return false;
    }
}

// Runs heap_sane in a forked child, so that a damaged heap can neither crash
// nor hang this process: kReady when it passed, the corrupt state when not,
// kUnchecked when no verdict came (no process to fork, or someone else reaped
// the child). The child reads the shared mapping it inherited, writes nothing
// shared, and leaves with _exit.
std::uint32_t check_heap(const void* base, std::size_t bytes) {
    const pid_t pid = ::fork();
    if (pid < 0) return kUnchecked;
    if (pid == 0) ::_exit(heap_sane(base, bytes) ? 0 : 1);
    const auto deadline = std::chrono::steady_clock::now() + kCheckLimit;
    for (;;) {
        int status = 0;
        const pid_t r = ::waitpid(pid, &status, WNOHANG);
        if (r == pid) {
            if (WIFEXITED(status)) return WEXITSTATUS(status) == 0 ? kReady : kCheckFailed;
            return kCheckCrashed;
        }
        if (r < 0 && errno != EINTR) return kUnchecked;  // reaped elsewhere (a SIGCHLD handler)
        if (std::chrono::steady_clock::now() >= deadline) {
            ::kill(pid, SIGKILL);
            while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
            }
            return kCheckHung;
        }
        timespec pause{0, 1'000'000};  // 1 ms
        ::nanosleep(&pause, nullptr);
    }
}

}  // namespace

Heap::Heap() = default;
Heap::Heap(std::unique_ptr<detail::MappedChunk> mapped)
    : mapped_(std::move(mapped)), access_(mapped_->access()) {
    if (const std::uint32_t state = access_.sync->heap_state.load(std::memory_order_acquire);
        is_corrupt(state))
        throw_corrupt(mapped_->name(), state);
    // Only records where the segment is (reads nothing of it).
    segment_ = std::make_unique<heap::segment>(bip::open_only, access_.data, size());
}
Heap::Heap(Heap&& o) noexcept
    : mapped_(std::move(o.mapped_)),
      segment_(std::move(o.segment_)),
      access_(std::exchange(o.access_, detail::empty_access())) {}
Heap& Heap::operator=(Heap&& o) noexcept {
    if (this != &o) {
        segment_ = std::move(o.segment_);
        mapped_ = std::move(o.mapped_);
        access_ = std::exchange(o.access_, detail::empty_access());
    }
    return *this;
}
Heap::~Heap() = default;

const detail::MappedChunk& Heap::mapped() const {
    if (!mapped_) detail::throw_empty_handle("Heap");
    return *mapped_;
}

const std::string& Heap::name() const {
    return mapped().name();
}
bool Heap::read_only() const {
    return !mapped().writable();
}
ChunkInfo Heap::info() const {
    return mapped().info();
}
void Heap::remove() {
    if (!mapped_) detail::throw_empty_handle("Heap");
    mapped_->remove();
}
bool Heap::deleted() const {
    return mapped().deleted();
}

std::optional<std::uint32_t> Heap::wait_for_change(std::uint32_t since,
                                                   std::chrono::nanoseconds timeout,
                                                   std::chrono::nanoseconds spin) const {
    return mapped().wait_for_change(since, timeout, spin);
}

HeapLock Heap::lock() {
    return lock_for(-1);
}
HeapLock Heap::try_lock_for(std::chrono::nanoseconds timeout) {
    return lock_for(std::max<long long>(0, timeout.count()));
}

HeapLock Heap::lock_for(long long timeout_ns) {
    const detail::MappedChunk& m = mapped();
    if (!m.writable())
        throw Error(Errc::permission_denied, m.name(),
                    "a read-only Heap cannot lock the heap: its contents are offset pointers "
                    "that writers change under the lock, and a reader that cannot take the "
                    "lock could follow them into freed or half-written memory",
                    "open it writable (needs write permission), or share what readers need "
                    "through an array chunk");
    detail::ChunkSync* sync = access_.sync;
    if (const std::uint32_t state = sync->heap_state.load(std::memory_order_acquire);
        is_corrupt(state))
        throw_corrupt(m.name(), state);
    ChunkLock lock = m.lock(timeout_ns);
    if (!lock) return {};
    std::uint32_t state = sync->heap_state.load(std::memory_order_acquire);
    if (state == kReady && lock.previous_owner_died()) {
        // Recorded first: if this process dies too, the next holder checks.
        state = kUnchecked;
        sync->heap_state.store(state, std::memory_order_release);
    }
    if (state == kUnchecked) {
        // Nothing of the heap is read in this process before the check passed.
        state = check_heap(access_.data, size());
        if (state == kUnchecked) {
            lock.unlock();
            throw Error(Errc::io_error, m.name(),
                        "a holder of the heap's lock died, and its consistency check could not "
                        "run (no process could be forked, or its status was reaped elsewhere)",
                        "retry: the next lock() runs the check again");
        }
        sync->heap_state.store(state, std::memory_order_release);
    }
    if (is_corrupt(state)) {
        lock.unlock();
        throw_corrupt(m.name(), state);
    }
    if (state == kUnbuilt) {
        // The creator builds the segment right after create; when it died
        // before it had, whoever locks first builds it (nobody used it yet).
        heap::segment built(bip::create_only, access_.data, size());
        sync->heap_state.store(kReady, std::memory_order_release);
    }
    return HeapLock(std::move(lock), segment_.get());
}

}  // namespace mmm
