// The data path of a chunk, in one place: mapping a granted segment (checks
// first, nothing in the segment trusted), unmapping it (giving the write lease
// back, telling mmmd), waiting for a change, untyped element reads and writes,
// and the control requests a mapping makes for itself (info, remove, resize).
#include "mapped_chunk.hpp"

#include "asymmetric_fence.hpp"
#include "chunk_layout.hpp"
#include "cpu_relax.hpp"
#include "futex.hpp"
#include "posix_io.hpp"

#include <mmm/detail/seqlock.hpp>
#include <mmm/error.hpp>

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

namespace mmm::detail {

ChunkSync g_empty_sync{};

namespace {

// Sleep slices of wait_for_change (see MappedChunk::wait_for_change).
constexpr std::chrono::milliseconds kShortestWatchedWait{2};
constexpr std::chrono::milliseconds kWatchedSlice{1000};
constexpr std::chrono::milliseconds kUncountedSlice{1};

// Why the kernel dropped a descriptor sent to this process (MSG_CTRUNC): it
// fails to install one when the process or the system has no file left, or
// when a security module refuses it. A probe open tells which.
[[noreturn]] void throw_dropped_descriptor(const std::string& chunk) {
    const int probe = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    const int err = probe < 0 ? errno : 0;
    if (probe >= 0) ::close(probe);
    const std::string what = "the kernel dropped the chunk's descriptor that mmmd sent: ";
    if (err == EMFILE) {
        rlimit files{};
        ::getrlimit(RLIMIT_NOFILE, &files);
        throw Error(
            Errc::limit_exceeded, chunk,
            what + "this process has as many files open as it may (RLIMIT_NOFILE " +
                std::to_string(files.rlim_cur) + ")",
            "close descriptors the process no longer needs, or raise the limit (ulimit -n)");
    }
    if (err == ENFILE)
        throw Error(Errc::limit_exceeded, chunk,
                    what + "the system has as many files open as it may (fs.file-max)",
                    "retry once other processes closed files, or raise fs.file-max");
    throw Error(Errc::permission_denied, chunk,
                what + "it refused it (a security module, or a limit that has passed since)",
                "check the system log for a denial (SELinux, AppArmor), then retry");
}

}  // namespace

int segment_fd(const Reply& reply, const std::string& chunk) {
    if (!reply.fds.empty()) return reply.fds.front().get();
    if (reply.fds_dropped) throw_dropped_descriptor(chunk);
    throw Error(Errc::protocol_error, chunk, "mmmd answered without a descriptor");
}

std::unique_ptr<MappedChunk> map_granted(std::shared_ptr<ClientCore> core, const Reply& reply,
                                         const proto::Grant& grant, bool writable, bool populate) {
    const ChunkInfo& info = grant.info;
    const SegmentGeometry& g = grant.geometry;
    const int fd = segment_fd(reply, info.name);
    // The geometry must follow from the chunk's description: mmmd computed it
    // with the same rule, so a difference is a bug or a foreign daemon.
    auto expected =
        geometry_for(info.element_size, info.element_align, info.max_count, g.record_bytes);
    if (!expected || !(*expected == g) || info.count > info.max_count ||
        info.segment_bytes != g.segment_bytes)
        throw Error(Errc::protocol_error, info.name,
                    "mmmd described a segment geometry that does not follow from the chunk",
                    proto::kVersionHint);
    // The descriptor's file is what gets mapped: it must be a file at least as
    // long as the geometry says (a writer may have cut it short; mapping it
    // would fault on the first access past its end).
    const FileStatus file = file_status(fd, info.name);
    if (!file.regular() || file.size < g.segment_bytes)
        throw Error(Errc::corrupt_header, info.name,
                    "the chunk's segment is " + std::to_string(file.size) + " bytes, not the " +
                        std::to_string(g.segment_bytes) + " of its layout",
                    "a writer truncated it; its owner should remove and re-create the chunk");
    const int prot = PROT_READ | (writable ? PROT_WRITE : 0);
    const int flags = MAP_SHARED | (populate ? MAP_POPULATE : 0);
    void* base = ::mmap(nullptr, g.segment_bytes, prot, flags, fd, 0);
    if (base == MAP_FAILED) throw_errno("mmap of the chunk segment", errno, info.name);
    ElementAccess access;
    auto* bytes = static_cast<std::byte*>(base);
    access.data = bytes + g.data_offset;
    access.sync = reinterpret_cast<ChunkSync*>(bytes + kSyncOffset);
    access.stripes =
        g.stripe_count == 0 ? nullptr : reinterpret_cast<StripeLine*>(bytes + kStripesOffset);
    access.stripe_mask = g.stripe_count == 0 ? 0 : g.stripe_count - 1;
    access.capacity = info.max_count;
    access.element_size = info.element_size;
    return std::make_unique<MappedChunk>(std::move(core), info, base, g.segment_bytes, access,
                                         writable);
}

void release_grant(ClientCore& core, const Reply& reply, const ChunkInfo& info,
                   bool writable) noexcept {
    const bool leased = writable && info.single_writer;
    bool cleared = false;
    try {
        if (leased && !reply.fds.empty()) {
            const int fd = reply.fds.front().get();
            if (read_u32_at(fd, kWriterPidOffset, info.name) == current_pid()) {
                write_u32_at(fd, kWriterPidOffset, 0, info.name);
                cleared = true;
            }
        }
    } catch (...) {
    }
    try {
        // Not cleared here (no descriptor, or the word holds this process's pid
        // as mmmd sees it, behind a PID namespace): mmmd clears it.
        core.notify(proto::CloseRequest{info.name, info.generation, writable, leased && !cleared});
    } catch (...) {
    }
}

// --- MappedChunk -----------------------------------------------------------------

MappedChunk::MappedChunk(std::shared_ptr<ClientCore> core, ChunkInfo info, void* base,
                         std::size_t length, const ElementAccess& access, bool writable)
    : core_(std::move(core)),
      info_(std::move(info)),
      base_(base),
      length_(length),
      access_(access),
      writable_(writable),
      mapper_pid_(current_pid()) {
    if (writable_ && info_.single_writer) register_single_writer_process();
}

MappedChunk::~MappedChunk() {
    if (writable_ && info_.single_writer) {
        // Hand the write lease back; mmmd also clears it when this process
        // disconnects or dies, so a crash never leaves the chunk unwritable.
        std::uint32_t me = current_pid();
        access_.sync->writer_pid.compare_exchange_strong(me, 0, std::memory_order_acq_rel);
    }
    ::munmap(base_, length_);
    if (current_pid() == mapper_pid_)
        core_->notify(proto::CloseRequest{info_.name, info_.generation, writable_, false});
}

ChunkInfo MappedChunk::info() const {
    auto reply = core_->call(proto::InfoRequest{info_.name});
    Reader r(reply.body);
    ChunkInfo info = proto::decode_info(r);
    if (info.generation != info_.generation)
        throw Error(Errc::not_found, info_.name,
                    "this chunk was deleted; the name now belongs to a new chunk",
                    "open the name again to reach the new chunk");
    return info;
}

void MappedChunk::remove() {
    if (deleted()) throw Error(Errc::not_found, info_.name, "the chunk is already deleted");
    core_->call(proto::RemoveRequest{info_.name, info_.generation});
}

bool MappedChunk::deleted() const {
    return access_.sync->state.load(std::memory_order_acquire) ==
           static_cast<std::uint32_t>(ChunkState::deleted);
}

void MappedChunk::resize(std::uint64_t new_count) {
    if (!writable_)
        throw Error(Errc::permission_denied, info_.name,
                    "a read-only mapping cannot resize the chunk", "open it writable");
    if (new_count > access_.capacity)
        throw Error(Errc::out_of_range, info_.name,
                    "cannot resize to " + std::to_string(new_count) +
                        " elements: the chunk holds " + "at most " +
                        std::to_string(access_.capacity) + " (its max_count)",
                    "create it with a larger CreateOptions::max_count");
    core_->call(proto::ResizeRequest{info_.name, info_.generation, new_count});
}

ChunkLock MappedChunk::lock(long long timeout_ns) const {
    if (!writable_)
        throw Error(Errc::permission_denied, info_.name,
                    "a read-only mapping cannot take the chunk lock", "open it writable");
    return lock_chunk(access_.sync, info_.name, timeout_ns);
}

bool MappedChunk::read_bytes(std::uint64_t index, void* out,
                             std::chrono::steady_clock::time_point deadline) const {
    const std::uint64_t n = access_.count();
    if (index >= n) throw_out_of_range(info_.name, index, n);
    return seq_read_bytes(access_, index, out, writable_, info_.name, deadline);
}

void MappedChunk::write_bytes(std::uint64_t index, const void* value) const {
    if (!writable_)
        throw Error(Errc::permission_denied, info_.name, "the chunk is mapped read-only",
                    "open it writable");
    const std::uint64_t n = access_.count();
    if (index >= n) throw_out_of_range(info_.name, index, n);
    seq_write_bytes(access_, index, value, info_.single_writer);
}

bool MappedChunk::watch() const noexcept {
    try {
        // Never queue behind another thread's request (an open may wait an hour).
        return core_->try_call(proto::WatchRequest{info_.name, info_.generation}).has_value();
    } catch (...) {
        return false;  // mmmd is away or refuses: the waiter sleeps in short slices
    }
}

void MappedChunk::unwatch() const noexcept {
    core_->notify(proto::UnwatchRequest{info_.name, info_.generation}, true);
}

std::optional<std::uint32_t> MappedChunk::wait_for_change(std::uint32_t since,
                                                          std::chrono::nanoseconds timeout,
                                                          std::chrono::nanoseconds spin) const {
    using clock = std::chrono::steady_clock;
    ChunkSync* sync = access_.sync;
    const auto deadline = clock::now() + std::max(timeout, std::chrono::nanoseconds(0));
    auto changed = [&] { return sync->version.load(std::memory_order_seq_cst) != since; };
    if (changed()) return sync->version.load(std::memory_order_acquire);
    // Spin while the peer is likely active: far cheaper than a futex round
    // trip. spin = 0 sleeps at once.
    if (spin > std::chrono::nanoseconds(0)) {
        const auto spin_end = std::min(deadline, clock::now() + spin);
        for (unsigned i = 1; clock::now() < spin_end || i == 1; ++i) {
            for (int k = 0; k < 64; ++k) {
                if (changed()) return sync->version.load(std::memory_order_acquire);
                cpu_relax();
            }
        }
    }
    // Be counted before sleeping, so that writers wake us: a writable mapping
    // counts itself in `waiters`; a read-only one asks mmmd to count it in
    // `watchers` (a round trip, so not for waits shorter than a few of them).
    // A single-writer chunk's writer stores version() without a fence: the
    // asymmetric fence makes our count visible to it (asymmetric_fence.hpp).
    // Uncounted (mmmd away, or no fence), we sleep in short slices instead.
    bool waiting = false, watching = false;
    if (writable_) {
        sync->waiters.fetch_add(1, std::memory_order_seq_cst);
        waiting = true;
    } else if (deadline - clock::now() > kShortestWatchedWait) {
        watching = watch();
    }
    if ((waiting || watching) && info_.single_writer && !asymmetric_fence()) {
        if (waiting) sync->waiters.fetch_sub(1, std::memory_order_seq_cst);
        if (watching) unwatch();
        waiting = watching = false;
    }
    // A watched sleep still wakes now and then, in case mmmd lost count.
    const clock::duration slice = waiting    ? clock::duration::max()
                                  : watching ? clock::duration(kWatchedSlice)
                                             : clock::duration(kUncountedSlice);
    while (!changed()) {
        auto left = deadline - clock::now();
        if (left <= clock::duration::zero()) break;
        futex_wait(&sync->version, since,
                   std::chrono::duration_cast<std::chrono::nanoseconds>(std::min(left, slice)));
    }
    if (waiting) sync->waiters.fetch_sub(1, std::memory_order_seq_cst);
    if (watching) unwatch();
    if (changed()) return sync->version.load(std::memory_order_acquire);
    return std::nullopt;
}

void throw_empty_handle(const char* what) {
    throw Error(Errc::invalid_argument, {},
                std::string("this ") + what + " is empty (default-constructed or moved from)",
                "use one returned by mmm::Client");
}

void throw_out_of_range(const std::string& name, std::uint64_t index, std::uint64_t size) {
    throw Error(
        Errc::out_of_range, name,
        "index " + std::to_string(index) + " is out of range (size " + std::to_string(size) + ")");
}

}  // namespace mmm::detail
