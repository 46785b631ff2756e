// The chunk segment header: sizes, checksum, validation and initialisation.
// validate() is the single gate every reader of a foreign header goes through,
// so it checks every field before any of them is used for arithmetic.
#include "chunk_header.hpp"

#include "names.hpp"

#include <mmm/type_name.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <limits>

namespace mmm::detail {
namespace {

constexpr std::uint64_t kFnvOffset = 0xcbf29ce484222325ull;
constexpr std::uint64_t kFnvPrime = 0x100000001b3ull;

std::uint64_t fnv1a(std::uint64_t h, const void* data, std::size_t n) {
    const auto* p = static_cast<const unsigned char*>(data);
    for (std::size_t i = 0; i < n; ++i) {
        h ^= p[i];
        h *= kFnvPrime;
    }
    return h;
}

// Rounds up without overflowing for any `to` (the result is at most max(x, to) rounded).
std::uint64_t round_up(std::uint64_t x, std::uint64_t to) {
    return (x / to + (x % to != 0 ? 1 : 0)) * to;
}

bool is_power_of_two(std::uint64_t v) {
    return v != 0 && (v & (v - 1)) == 0;
}

std::string octal(std::uint32_t v) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "0%o", v);
    return buf;
}

// Length of a NUL-terminated string stored in a fixed array, or nullopt if unterminated.
std::optional<std::size_t> terminated_length(const char* s, std::size_t capacity) {
    const void* nul = std::memchr(s, '\0', capacity);
    if (nul == nullptr) return std::nullopt;
    return static_cast<std::size_t>(static_cast<const char*>(nul) - s);
}

std::string validate_element(const HeaderSnapshot& h) {
    if (h.element_size < 1 || h.element_size > kMaxElementSize)
        return "element_size " + std::to_string(h.element_size) + " is out of range";
    if (!is_power_of_two(h.element_align) || h.element_align > kMaxElementAlign)
        return "element_align " + std::to_string(h.element_align) +
               " is not a power of two up to " + std::to_string(kMaxElementAlign);
    if (h.element_size % h.element_align != 0)
        return "element_size " + std::to_string(h.element_size) +
               " is not a multiple of element_align " + std::to_string(h.element_align);
    if (h.count < 1) return "count is 0";
    return {};
}

std::string validate_geometry(const HeaderSnapshot& h, std::uint64_t file_bytes) {
    if (h.data_offset != data_offset_for(h.element_size, h.element_align))
        return "data_offset " + std::to_string(h.data_offset) +
               " does not match element_size and element_align";
    auto expected = segment_bytes_for(h.element_size, h.element_align, h.count);
    if (!expected) return "count * element_size overflows";
    if (h.segment_bytes != *expected)
        return "segment_bytes " + std::to_string(h.segment_bytes) + " should be " +
               std::to_string(*expected);
    if (h.segment_bytes > file_bytes)
        return "segment_bytes " + std::to_string(h.segment_bytes) +
               " exceeds the segment's file size " + std::to_string(file_bytes);
    return {};
}

std::string validate_fields(const HeaderSnapshot& h) {
    if (h.mode > 0777) return "mode " + octal(h.mode) + " has bits beyond 0777";
    if (h.lifetime > static_cast<std::uint32_t>(Lifetime::session))
        return "lifetime " + std::to_string(h.lifetime) + " is unknown";
    if ((h.flags & ~kKnownFlags) != 0) return "unknown flags " + std::to_string(h.flags);
    return {};
}

std::string validate_names(const HeaderSnapshot& h) {
    auto name_len = terminated_length(h.name, kNameCapacity);
    if (!name_len) return "name is not NUL-terminated";
    std::string problem = name_problem(std::string_view(h.name, *name_len));
    if (!problem.empty()) return "name is invalid: " + problem;
    auto type_len = terminated_length(h.type_name, kTypeNameCapacity);
    if (!type_len) return "type_name is not NUL-terminated";
    std::string_view type(h.type_name, *type_len);
    if (h.type_fingerprint != fingerprint(type, h.element_size, h.element_align))
        return "type_fingerprint does not match type_name, element_size and element_align";
    return {};
}

}  // namespace

std::uint32_t header_bytes_for(std::uint64_t element_size) {
    return static_cast<std::uint32_t>(is_whole_word_size(element_size) ? kInitialHeaderBytes
                                                                       : sizeof(ChunkHeader));
}

std::uint64_t data_offset_for(std::uint64_t element_size, std::uint64_t element_align) {
    return round_up(header_bytes_for(element_size), std::max(kPageSize, element_align));
}

std::optional<std::uint64_t> segment_bytes_for(std::uint64_t element_size,
                                               std::uint64_t element_align, std::uint64_t count) {
    std::uint64_t data = 0;
    std::uint64_t total = 0;
    if (__builtin_mul_overflow(element_size, count, &data)) return std::nullopt;
    if (__builtin_add_overflow(data_offset_for(element_size, element_align), data, &total))
        return std::nullopt;
    // ftruncate and mmap take signed offsets.
    if (total > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
        return std::nullopt;
    return total;
}

std::uint64_t header_checksum(const HeaderSnapshot& h) {
    std::uint64_t sum = fnv1a(kFnvOffset, &h, offsetof(HeaderSnapshot, checksum));
    sum = fnv1a(sum, h.name, sizeof h.name);
    return fnv1a(sum, h.type_name, sizeof h.type_name);
}

HeaderSnapshot snapshot_of(const ChunkHeader* shared) {
    HeaderSnapshot copy;
    std::memcpy(&copy, &shared->fixed, sizeof copy);
    return copy;
}

std::string validate(const HeaderSnapshot& h, std::uint64_t file_bytes) {
    if (h.magic != kChunkMagic) return "magic is wrong (not an mmm chunk segment)";
    if (h.layout_version != kLayoutVersion)
        return "layout_version " + std::to_string(h.layout_version) +
               " is not supported (expected " + std::to_string(kLayoutVersion) + ")";
    for (auto check : {validate_element, validate_fields, validate_names}) {
        std::string problem = check(h);
        if (!problem.empty()) return problem;
    }
    if (h.header_bytes != header_bytes_for(h.element_size))
        return "header_bytes " + std::to_string(h.header_bytes) + " should be " +
               std::to_string(header_bytes_for(h.element_size)) + " for elements of " +
               std::to_string(h.element_size) + " bytes";
    std::string problem = validate_geometry(h, file_bytes);
    if (!problem.empty()) return problem;
    if (h.checksum != header_checksum(h)) return "checksum does not match the header's contents";
    return {};
}

ChunkState load_state(const ChunkHeader* shared) {
    std::uint32_t state = shared->sync.state.load(std::memory_order_acquire);
    if (state > static_cast<std::uint32_t>(ChunkState::quarantined)) return ChunkState::quarantined;
    return static_cast<ChunkState>(state);
}

InitialHeader initial_header(const HeaderSnapshot& fixed) {
    InitialHeader out;
    std::memset(out.bytes, 0, sizeof out.bytes);
    HeaderSnapshot copy = fixed;
    copy.checksum = header_checksum(copy);
    std::memcpy(out.bytes, &copy, sizeof copy);

    // The sync words are plain integers in memory (lock-free atomics, see
    // chunk_sync.hpp): version, waiters and the recovery counters stay zero.
    const auto creating = static_cast<std::uint32_t>(ChunkState::creating);
    std::memcpy(out.bytes + kStateOffset, &creating, sizeof creating);
    // A single-writer chunk starts with its creator holding the write lease.
    if ((fixed.flags & kFlagSingleWriter) != 0) {
        const std::uint32_t holder = fixed.creator_pid;
        std::memcpy(out.bytes + offsetof(ChunkHeader, sync) + offsetof(ChunkSync, writer_pid),
                    &holder, sizeof holder);
    }

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
    std::memcpy(out.bytes + offsetof(ChunkHeader, sync) + offsetof(ChunkSync, lock), &lock,
                sizeof lock);
    return out;
}

ChunkInfo info_from(const HeaderSnapshot& h, ChunkState state) {
    ChunkInfo info;
    info.name.assign(h.name, terminated_length(h.name, kNameCapacity).value_or(kNameCapacity));
    info.type_name.assign(h.type_name,
                          terminated_length(h.type_name, kTypeNameCapacity).value_or(0));
    info.type_fingerprint = h.type_fingerprint;
    info.element_size = h.element_size;
    info.element_align = h.element_align;
    info.count = h.count;
    info.bytes = h.count * h.element_size;  // validated: cannot overflow
    info.segment_bytes = h.segment_bytes;
    info.mode = h.mode;
    info.owner_uid = static_cast<uid_t>(h.owner_uid);
    info.owner_gid = static_cast<gid_t>(h.owner_gid);
    info.creator_pid = static_cast<pid_t>(h.creator_pid);
    info.lifetime = h.lifetime == 1 ? Lifetime::session : Lifetime::persistent;
    info.single_writer = (h.flags & kFlagSingleWriter) != 0;
    info.state = state;
    info.created = std::chrono::system_clock::time_point(
        std::chrono::duration_cast<std::chrono::system_clock::duration>(
            std::chrono::nanoseconds(h.created_ns)));
    info.generation = h.generation;
    return info;
}

}  // namespace mmm::detail
