#include <mmm/detail/mapped_chunk.hpp>
#include <mmm/error.hpp>

#include "asymmetric_fence.hpp"
#include "chunk_header.hpp"
#include "client_core.hpp"

#include <mmm/detail/seqlock.hpp>

#include <sys/mman.h>

namespace mmm::detail {

MappedChunk::MappedChunk(std::shared_ptr<ClientCore> core, std::string name,
                         std::uint64_t generation, void* base, std::size_t length,
                         std::uint64_t data_offset, std::uint64_t count, std::uint64_t element_size,
                         bool writable, bool single_writer)
    : core_(std::move(core)),
      name_(std::move(name)),
      generation_(generation),
      base_(base),
      length_(length),
      data_(static_cast<std::byte*>(base) + data_offset),
      sync_(&static_cast<ChunkHeader*>(base)->sync),
      count_(count),
      element_size_(element_size),
      writable_(writable),
      single_writer_(single_writer),
      mapper_pid_(current_pid()) {
    if (writable_ && single_writer_) register_single_writer_process();
}

MappedChunk::~MappedChunk() {
    if (writable_ && single_writer_) {
        // Hand the write lease back; mmmd also clears it when this process
        // disconnects or dies, so a crash never leaves the chunk unwritable.
        std::uint32_t me = current_pid();
        sync_->writer_pid.compare_exchange_strong(me, 0, std::memory_order_acq_rel);
    }
    ::munmap(base_, length_);
    if (current_pid() == mapper_pid_)
        core_->notify(proto::CloseRequest{name_, generation_, writable_});
}

ChunkInfo MappedChunk::info() const {
    auto reply = core_->call(proto::InfoRequest{name_});
    proto::Reader r(reply.body);
    ChunkInfo info = proto::decode_info(r);
    if (info.generation != generation_)
        throw Error(Errc::not_found, name_,
                    "this chunk was deleted; the name now belongs to a new chunk",
                    "open the name again to reach the new chunk");
    return info;
}

void MappedChunk::remove() {
    if (deleted()) throw Error(Errc::not_found, name_, "the chunk is already deleted");
    core_->call(proto::RemoveRequest{name_, generation_});
}

bool MappedChunk::watch() const noexcept {
    try {
        // Never queue behind another thread's request (an open may wait an hour).
        return core_->try_call(proto::WatchRequest{name_, generation_}).has_value();
    } catch (...) {
        return false;  // mmmd is away or refuses: the waiter sleeps in short slices
    }
}

void MappedChunk::unwatch() const noexcept {
    core_->notify(proto::UnwatchRequest{name_, generation_}, true);
}

bool MappedChunk::deleted() const {
    return load_state(reinterpret_cast<ChunkHeader*>(base_)) == ChunkState::deleted;
}

void throw_out_of_range(const std::string& name, std::size_t index, std::uint64_t size) {
    throw Error(
        Errc::out_of_range, name,
        "index " + std::to_string(index) + " is out of range (size " + std::to_string(size) + ")");
}

}  // namespace mmm::detail
