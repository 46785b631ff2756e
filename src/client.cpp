#include <mmm/client.hpp>

#include "chunk_header.hpp"
#include "client_core.hpp"
#include "memory_reservation.hpp"
#include "names.hpp"
#include "sync_word_io.hpp"
#include "system_error.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <limits>

namespace mmm {
namespace {

using detail::ElementType;

proto::TypeDescriptor descriptor_of(const ElementType& t) {
    return proto::TypeDescriptor{t.name, t.fingerprint, t.size, t.align};
}

std::string describe(std::string_view name, std::uint64_t size, std::uint64_t align) {
    return std::string(name) + " (" + std::to_string(size) + " bytes, align " +
           std::to_string(align) + ")";
}

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

// The segment descriptor mmmd attached to its reply.
int segment_fd(const detail::Reply& reply, const std::string& chunk) {
    if (!reply.fds.empty()) return reply.fds.front().get();
    if (reply.fds_dropped) throw_dropped_descriptor(chunk);
    throw Error(Errc::protocol_error, chunk, "mmmd answered without a descriptor");
}

// The immutable part of a segment's header, read from its descriptor.
detail::HeaderSnapshot read_snapshot(int fd, const std::string& chunk) {
    detail::HeaderSnapshot h;
    auto* bytes = reinterpret_cast<unsigned char*>(&h);
    std::size_t got = 0;
    while (got < sizeof h) {
        ssize_t n = ::pread(fd, bytes + got, sizeof h - got, static_cast<off_t>(got));
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) detail::throw_errno("reading the chunk header", errno, chunk);
        if (n == 0)
            throw Error(Errc::corrupt_header, chunk, "the segment is smaller than a chunk header");
        got += static_cast<std::size_t>(n);
    }
    return h;
}

// Maps a descriptor handed over by mmmd and checks its header against what the
// daemon said and what the caller's type is. The header is never trusted.
std::unique_ptr<detail::MappedChunk> map_described(std::shared_ptr<detail::ClientCore> core,
                                                   const detail::Reply& reply,
                                                   const ChunkInfo& info, const ElementType& type,
                                                   bool writable, bool populate) {
    const int fd = segment_fd(reply, info.name);
    struct stat st {};
    if (::fstat(fd, &st) != 0) detail::throw_errno("fstat of the chunk segment", errno, info.name);
    auto file_bytes = static_cast<std::uint64_t>(st.st_size);
    if (file_bytes < detail::kInitialHeaderBytes)
        throw Error(Errc::corrupt_header, info.name, "the segment is smaller than a chunk header");
    // Validated before anything is mapped, from a copy read with pread: a
    // rejected segment is never mapped, and an accepted one is mapped without
    // being touched (a first touch then munmap costs 60-140 us on VMs,
    // docs/BENCHMARKS.md). Equivalent to reading it through the mapping: the
    // snapshot never changes after create, and either way only the validated
    // copy is used, never the shared bytes.
    detail::HeaderSnapshot h = read_snapshot(fd, info.name);
    if (auto problem = detail::validate(h, file_bytes); !problem.empty()) {
        throw Error(Errc::corrupt_header, info.name, "the chunk header is invalid: " + problem,
                    "ask the owner to re-create the chunk; mmmctl info shows it");
    }
    if (h.generation != info.generation) {
        throw Error(Errc::not_found, info.name, "the chunk was replaced while opening it",
                    "retry the open");
    }
    if (type.size != 0 && (h.type_fingerprint != type.fingerprint || h.element_size != type.size ||
                           h.element_align != type.align)) {
        throw Error(Errc::type_mismatch, info.name,
                    "the chunk holds " + describe(h.type_name, h.element_size, h.element_align) +
                        " but was opened as " + describe(type.name, type.size, type.align),
                    "open it with the creator's element type");
    }
    int prot = PROT_READ | (writable ? PROT_WRITE : 0);
    int flags = MAP_SHARED | (populate ? MAP_POPULATE : 0);
    void* base = ::mmap(nullptr, file_bytes, prot, flags, fd, 0);
    if (base == MAP_FAILED) detail::throw_errno("mmap of the chunk segment", errno, info.name);
    return std::make_unique<detail::MappedChunk>(
        std::move(core), info.name, h.generation, base, file_bytes, h.data_offset, h.count,
        h.element_size, writable, (h.flags & detail::kFlagSingleWriter) != 0);
}

// mmmd counted a mapping, and gave a writable one of a single-writer chunk the
// write lease, before it answered. When the mapping does not come about, this
// lets go of both as a MemChunk's destructor would: the lease through the
// descriptor, there being no mapping, or, when it cannot, by asking mmmd in
// its close. Best effort, never throws: what it cannot undo (the close does not
// get out) stays until the process disconnects (the count) or exits (the
// lease). Like that destructor, it waits for a connection another thread of
// the Client may be using.
void release_grant(detail::ClientCore& core, const detail::Reply& reply, const ChunkInfo& info,
                   bool writable) noexcept {
    const bool leased = writable && info.single_writer;
    bool cleared = false;
    try {
        if (leased && !reply.fds.empty()) {
            const int fd = reply.fds.front().get();
            if (detail::read_sync_word(fd, detail::kWriterPidOffset, info.name) ==
                detail::current_pid()) {
                detail::write_sync_word(fd, detail::kWriterPidOffset, 0, info.name);
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

std::unique_ptr<detail::MappedChunk> map_chunk(const std::shared_ptr<detail::ClientCore>& core,
                                               const detail::Reply& reply, const ChunkInfo& info,
                                               const ElementType& type, bool writable,
                                               bool populate) {
    try {
        return map_described(core, reply, info, type, writable, populate);
    } catch (...) {
        release_grant(*core, reply, info, writable);
        throw;
    }
}

ChunkInfo info_of(const detail::Reply& reply) {
    proto::Reader r(reply.body);
    return proto::decode_info(r);
}

// A create that throws leaves no chunk behind (a retry must not find it):
// removes this incarnation of it. False when that failed too; the first
// error is the one the caller reports.
template <class Call>
bool remove_created(Call&& call, const ChunkInfo& info) noexcept {
    try {
        call(proto::RemoveRequest{info.name, info.generation});
        return true;
    } catch (...) {
        return false;
    }
}

// mmmd left a large chunk `creating` for us to reserve its memory on this CPU
// (detail::kClientReserveMinBytes); nobody else can open it until we commit.
// `call` sends on the connection that made the create (it alone may commit).
template <class Call>
void reserve_and_commit(Call& call, const ChunkInfo& info, const detail::Reply& reply) {
    try {
        detail::reserve_memory(segment_fd(reply, info.name), info.segment_bytes, info.name);
    } catch (const Error&) {
        // If that fails, mmmd deletes it when this connection closes or at its next start.
        remove_created(call, info);
        throw;
    }
    // A commit mmmd refuses deletes the chunk there.
    call(proto::CommitRequest{info.name, info.generation});
}

}  // namespace

Client::Client() : Client(ClientOptions{}) {}
Client::Client(ClientOptions options)
    : core_(std::make_shared<detail::ClientCore>(std::move(options))) {}
Client::~Client() = default;
Client::Client(Client&&) noexcept = default;
Client& Client::operator=(Client&&) noexcept = default;

const std::string& Client::runtime_dir() const {
    return core_->runtime_dir();
}

void Client::check_count(std::string_view name, std::size_t count, std::size_t element_size) {
    detail::require_valid_name(name);
    if (count == 0)
        throw Error(Errc::invalid_argument, std::string(name), "a chunk needs at least 1 element",
                    "pass a count >= 1");
    if (!detail::segment_bytes_for(element_size, 1, count) ||
        count > static_cast<std::size_t>(std::numeric_limits<std::ptrdiff_t>::max()) / element_size)
        throw Error(Errc::size_overflow, std::string(name),
                    "count x sizeof(T) = " + std::to_string(count) + " x " +
                        std::to_string(element_size) + " overflows",
                    "ask for fewer elements");
}

std::unique_ptr<detail::MappedChunk> Client::create_mapped(std::string_view name, std::size_t count,
                                                           const ElementType& type,
                                                           const CreateOptions& options) {
    proto::CreateRequest request{std::string(name), descriptor_of(type), count,
                                 options.mode,      options.lifetime,    options.single_writer};
    ChunkInfo info;
    auto reply = core_->exclusively([&](auto&& call) {
        auto created = call(request);
        info = info_of(created);
        if (info.state == ChunkState::creating) reserve_and_commit(call, info, created);
        return created;
    });
    try {
        return map_described(core_, reply, info, type, true, options.populate);
    } catch (...) {
        // Removed while this process still holds the lease: nobody else can
        // have written to it; opens served since see deleted(). When the remove
        // fails, the chunk stays like any whose creator went away.
        if (!remove_created([&](const proto::Request& r) { return core_->call(r); }, info))
            release_grant(*core_, reply, info, true);
        throw;
    }
}

std::unique_ptr<detail::MappedChunk> Client::open_mapped(std::string_view name,
                                                         const ElementType& type, bool writable,
                                                         const OpenOptions& options) {
    detail::require_valid_name(name);
    if (options.wait.count() < 0 || options.wait > std::chrono::hours(1))
        throw Error(Errc::invalid_argument, std::string(name),
                    "open wait must be between 0 and 1 hour");
    proto::OpenRequest request{std::string(name), descriptor_of(type), writable,
                               static_cast<std::uint32_t>(options.wait.count())};
    auto reply = core_->call(request, options.wait);
    return map_chunk(core_, reply, info_of(reply), type, writable, options.populate);
}

std::unique_ptr<detail::MappedChunk> Client::open_untyped(std::string_view name, bool writable) {
    return open_mapped(name, ElementType{}, writable, OpenOptions{});
}

void Client::remove(std::string_view name) {
    detail::require_valid_name(name);
    core_->call(proto::RemoveRequest{std::string(name)});
}

std::vector<ChunkInfo> Client::list() {
    std::vector<ChunkInfo> all;
    proto::ListRequest request{{}, proto::kMaxListLimit};
    for (;;) {
        auto reply = core_->call(request);
        proto::Reader r(reply.body);
        auto page = proto::decode_list(r);
        for (auto& c : page.chunks) all.push_back(std::move(c));
        if (!page.more || all.empty()) return all;
        request.after = all.back().name;
    }
}

ChunkInfo Client::info(std::string_view name) {
    detail::require_valid_name(name);
    auto reply = core_->call(proto::InfoRequest{std::string(name)});
    proto::Reader r(reply.body);
    return proto::decode_info(r);
}

Stats Client::stats() {
    auto reply = core_->call(proto::StatsRequest{});
    proto::Reader r(reply.body);
    return proto::decode_stats(r);
}

}  // namespace mmm
