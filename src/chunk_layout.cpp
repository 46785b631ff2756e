#include "chunk_layout.hpp"

#include <algorithm>
#include <bit>
#include <cstring>
#include <limits>

namespace mmm::detail {
namespace {

// Rounds up without overflowing for any `to` (the result is at most max(x, to) rounded).
std::uint64_t round_up(std::uint64_t x, std::uint64_t to) {
    return (x / to + (x % to != 0 ? 1 : 0)) * to;
}

}  // namespace

std::uint32_t stripe_count_for(std::uint64_t element_size, std::uint64_t max_count) {
    if (is_whole_word_size(element_size)) return 0;
    return static_cast<std::uint32_t>(
        std::bit_ceil(std::clamp<std::uint64_t>(max_count, 1, kMaxStripes)));
}

std::optional<SegmentGeometry> geometry_for(std::uint64_t element_size, std::uint64_t element_align,
                                            std::uint64_t max_count, std::uint64_t record_bytes) {
    if (element_size == 0 || element_align == 0 || record_bytes > UINT32_MAX) return std::nullopt;
    SegmentGeometry g;
    g.stripe_count = stripe_count_for(element_size, max_count);
    g.record_bytes = static_cast<std::uint32_t>(record_bytes);
    g.header_bytes =
        kStripesOffset + std::uint64_t{g.stripe_count} * sizeof(StripeLine) + record_bytes;
    g.data_offset = round_up(g.header_bytes, std::max(kPageSize, element_align));
    std::uint64_t data = 0;
    if (__builtin_mul_overflow(element_size, max_count, &data)) return std::nullopt;
    if (__builtin_add_overflow(g.data_offset, data, &g.segment_bytes)) return std::nullopt;
    // ftruncate and mmap take signed offsets.
    if (g.segment_bytes > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
        return std::nullopt;
    return g;
}

std::optional<SegmentGeometry> geometry_for(const ChunkRecord& r, std::uint64_t record_bytes) {
    return geometry_for(r.type.size, r.type.align, r.max_count, record_bytes);
}

std::vector<std::byte> initial_header(const ChunkRecord& r, const SegmentGeometry& g,
                                      const std::vector<std::byte>& record) {
    std::vector<std::byte> out(g.header_bytes);
    SegmentPrefix prefix{};
    prefix.magic = kSegmentMagic;
    prefix.layout_version = kLayoutVersion;
    prefix.stripe_count = g.stripe_count;
    prefix.header_bytes = g.header_bytes;
    prefix.data_offset = g.data_offset;
    prefix.segment_bytes = g.segment_bytes;
    prefix.element_size = r.type.size;
    prefix.generation = r.generation;
    prefix.record_bytes = g.record_bytes;
    std::memcpy(out.data(), &prefix, sizeof prefix);

    // The sync words are plain integers in memory (lock-free atomics, see
    // chunk_sync.hpp): version, waiters and the recovery counters stay zero.
    auto put32 = [&](std::uint64_t offset, std::uint32_t v) {
        std::memcpy(out.data() + offset, &v, sizeof v);
    };
    put32(kStateOffset, static_cast<std::uint32_t>(ChunkState::creating));
    // A single-writer chunk starts with its creator holding the write lease.
    if (r.single_writer) put32(kWriterPidOffset, r.creator_pid);
    const std::uint64_t count = r.count;
    std::memcpy(out.data() + kCountOffset, &count, sizeof count);

    // A lock in shared memory must be process-shared, and robust so that a
    // process dying while holding it never leaves it held for everyone else.
    // Initialised in a local object that is never locked, then copied: an
    // unlocked process-shared mutex holds no addresses (the robust list is
    // per thread and only joined on lock), so its bytes are valid anywhere.
    pthread_mutex_t lock;
    pthread_mutexattr_t attr;
    pthread_mutexattr_init(&attr);
    pthread_mutexattr_setpshared(&attr, PTHREAD_PROCESS_SHARED);
    pthread_mutexattr_setrobust(&attr, PTHREAD_MUTEX_ROBUST);
    pthread_mutex_init(&lock, &attr);
    pthread_mutexattr_destroy(&attr);
    std::memcpy(out.data() + kSyncOffset + offsetof(ChunkSync, lock), &lock, sizeof lock);

    std::memcpy(out.data() + g.header_bytes - record.size(), record.data(), record.size());
    return out;
}

}  // namespace mmm::detail
