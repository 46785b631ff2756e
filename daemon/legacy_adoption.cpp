// Segments of layout version 2 (mmm before the private segment directories),
// adopted once: /dev/shm/mmm.<ns>.<chunk> files of mmmd's own user with a
// valid version-2 header are copied into a new segment of the current layout
// with a record in the log, then marked deleted and unlinked, and the log
// says so. Processes that still map an old segment see deleted() turn true,
// as after a remove; its writes from then on are not in the new chunk.
//
// Files there of another user are never adopted, unlinked or allowed to hold a
// name: anyone may create a file in /dev/shm.
#include "registry.hpp"

#include <mmm/detail/text.hpp>
#include "chunk_layout.hpp"
#include "element_type.hpp"
#include "fnv1a.hpp"
#include "futex.hpp"
#include "names.hpp"
#include "posix_io.hpp"
#include "segment_marks.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <optional>

namespace mmmd {

using mmm::ChunkState;
namespace detail = mmm::detail;

namespace {

// The immutable header of layout 2 (512 bytes), then its sync words.
struct HeaderV2 {
    std::uint64_t magic;
    std::uint32_t layout_version;
    std::uint32_t header_bytes;
    std::uint64_t data_offset;
    std::uint64_t segment_bytes;
    std::uint64_t type_fingerprint;
    std::uint64_t element_size;
    std::uint64_t element_align;
    std::uint64_t count;
    std::uint64_t generation;
    std::int64_t created_ns;
    std::uint32_t owner_uid;
    std::uint32_t owner_gid;
    std::uint32_t creator_pid;
    std::uint32_t mode;
    std::uint32_t lifetime;
    std::uint32_t flags;
    std::uint64_t checksum;
    char name[136];
    char type_name[256];
    std::uint8_t padding[8];
};
static_assert(sizeof(HeaderV2) == 512);
constexpr std::uint64_t kMagicV2 = 0x314b4e48434d4d4dull;
constexpr std::size_t kHeaderBytesV2 = 640;  // the snapshot and the first sync lines
constexpr std::size_t kVersionOffsetV2 = 512;
constexpr std::size_t kStateOffsetV2 = 520;

std::uint64_t round_up(std::uint64_t x, std::uint64_t to) {
    return (x + to - 1) / to * to;
}

// Empty when `h` is a sound layout-2 header of the chunk `name` for a file of
// `file_bytes`; otherwise why not.
std::string problem_v2(const HeaderV2& h, const std::string& name, std::uint64_t file_bytes) {
    if (h.magic != kMagicV2 || h.layout_version != 2) return "it is not a layout-2 chunk segment";
    const std::uint64_t size = h.element_size;
    const std::uint64_t align = h.element_align;
    if (size < 1 || size > (1ull << 30) || align == 0 || (align & (align - 1)) != 0 ||
        align > 4096 || size % align != 0 || h.count < 1)
        return "its element size, alignment or count is invalid";
    const std::uint64_t header = detail::is_whole_word_size(size) ? 640 : 17024;
    std::uint64_t data = 0, total = 0;
    if (h.header_bytes != header ||
        h.data_offset != round_up(header, std::max<std::uint64_t>(4096, align)) ||
        __builtin_mul_overflow(size, h.count, &data) ||
        __builtin_add_overflow(h.data_offset, data, &total) || total != h.segment_bytes ||
        total > file_bytes)
        return "its geometry does not add up";
    if (h.mode > 0777 || (h.mode & 0600) != 0600 || h.lifetime > 1 || (h.flags & ~1u) != 0)
        return "its mode, lifetime or flags are invalid";
    if (::strnlen(h.name, sizeof h.name) == sizeof h.name ||
        ::strnlen(h.type_name, sizeof h.type_name) == sizeof h.type_name)
        return "a name in it is not terminated";
    if (name != h.name) return "it names another chunk";
    std::uint64_t sum = detail::fnv1a(detail::kFnvOffset, &h, offsetof(HeaderV2, checksum));
    sum = detail::fnv1a(sum, h.name, sizeof h.name);
    sum = detail::fnv1a(sum, h.type_name, sizeof h.type_name);
    if (sum != h.checksum) return "its checksum does not match";
    return {};
}

// Marks an old segment deleted for whoever still maps it, as layout 2 did.
void mark_deleted_v2(int fd) {
    void* page = ::mmap(nullptr, detail::kPageSize, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (page == MAP_FAILED) return;
    (void)mmmd::mark_deleted_v2(page, kStateOffsetV2, kVersionOffsetV2);
    ::munmap(page, detail::kPageSize);
}

}  // namespace

void Registry::migrate_legacy_segments() {
    const std::string& root = store_.shm_root();
    const std::string prefix = "mmm." + store_.name_space() + ".";
    struct CloseDir {
        void operator()(DIR* d) const { ::closedir(d); }
    };
    std::unique_ptr<DIR, CloseDir> dir(::opendir(root.c_str()));
    if (!dir) return;
    std::vector<std::string> legacy;
    while (dirent* e = ::readdir(dir.get()))
        if (std::strncmp(e->d_name, prefix.c_str(), prefix.size()) == 0)
            legacy.emplace_back(e->d_name);
    for (const std::string& file : legacy) {
        std::string path = root;
        path.append("/").append(file);
        const std::string name = file.substr(prefix.size());
        detail::UniqueFd fd(::open(path.c_str(), O_RDWR | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC));
        if (!fd) {
            spdlog::warn("ignored {} (layout 2): {}", path, std::strerror(errno));
            continue;
        }
        try {
            const detail::FileStatus st = detail::file_status(fd.get(), name);
            if (!st.regular() || st.uid != daemon_uid_) {
                spdlog::warn(
                    "ignored {}: not a file of mmmd's user (uid {}); anyone can put files "
                    "in {}, so mmmd never adopts or removes it",
                    path, st.uid, root);
                continue;
            }
            if (!detail::name_problem(name).empty()) {
                spdlog::warn("ignored {} (layout 2): its name is not a chunk name", path);
                continue;
            }
            unsigned char bytes[kHeaderBytesV2] = {};
            HeaderV2 h{};
            std::uint32_t state = 0;
            if (st.size >= kHeaderBytesV2) {
                detail::read_exact_at(fd.get(), bytes, sizeof bytes, 0, name);
                std::memcpy(&h, bytes, sizeof h);
                std::memcpy(&state, bytes + kStateOffsetV2, sizeof state);
            }
            if (auto it = entries_.find(name); it != entries_.end()) {
                // A migration cut short after the new chunk was recorded: finish it.
                if (it->second.generation == h.generation) {
                    mark_deleted_v2(fd.get());
                    ::unlink(path.c_str());
                    spdlog::warn("finished migrating '{}' from layout 2: removed {}", name, path);
                } else {
                    spdlog::warn("ignored {} (layout 2): a chunk of that name exists", path);
                }
                continue;
            }
            if (state != static_cast<std::uint32_t>(ChunkState::ready)) {
                spdlog::warn("reclaimed {} (layout 2): its create or remove was cut short", path);
                ::unlink(path.c_str());
                continue;
            }
            if (std::string problem = problem_v2(h, name, st.size); !problem.empty()) {
                spdlog::warn("left {} (layout 2) alone: {}; remove it by hand", path, problem);
                continue;
            }
            // The chunk again, in the current layout; its type as it was named.
            detail::ChunkRecord r;
            r.name = name;
            r.type = detail::ElementType{h.type_name, h.element_size, h.element_align,
                                         mmm::Schema::opaque(h.element_size, h.element_align)};
            if (!detail::type_problem(r.type).empty()) r.type.name = detail::printable(h.type_name);
            r.count = r.max_count = h.count;
            r.generation = h.generation;
            r.created_ns = h.created_ns;
            r.owner_uid = h.owner_uid;
            r.owner_gid = h.owner_gid;
            r.creator_pid = h.creator_pid;
            r.mode = h.mode;
            r.lifetime = static_cast<mmm::Lifetime>(h.lifetime);
            r.single_writer = (h.flags & 1u) != 0;
            r.state = ChunkState::ready;
            const std::vector<std::byte> record = detail::record_bytes(r);
            const detail::SegmentGeometry g = *detail::geometry_for(r, record.size());
            const std::uint64_t data = h.count * h.element_size;
            auto created = store_.create(name, false, g.segment_bytes, g.data_offset + data,
                                         detail::initial_header(r, g, record),
                                         SegmentStore::Reservation::by_mmmd);
            try {
                std::vector<std::byte> buffer(std::min<std::uint64_t>(data, 1 << 20));
                for (std::uint64_t done = 0; done < data;) {
                    const std::size_t n = static_cast<std::size_t>(
                        std::min<std::uint64_t>(buffer.size(), data - done));
                    detail::read_exact_at(fd.get(), buffer.data(), n, h.data_offset + done, name);
                    detail::write_all_at(created.fd.get(), buffer.data(), n, g.data_offset + done,
                                         name);
                    done += n;
                }
                // Its lease holder maps the old copy: the new one starts free.
                detail::write_u32_at(created.fd.get(), detail::kWriterPidOffset, 0, name);
                log_.put(r);
                store_.publish_ready(created.fd.get(), name);
            } catch (...) {
                store_.discard(name, false);
                throw;
            }
            Entry e = entry_of(r);
            e.record_bytes = static_cast<std::uint32_t>(record.size());
            e.id = created.id;
            insert(name, std::move(e));
            mark_deleted_v2(fd.get());
            ::unlink(path.c_str());
            spdlog::warn(
                "migrated '{}' from layout 2 ({}) to {}: processes that still map the "
                "old segment see it deleted and should open it again",
                name, path, store_.path_of(name, false));
        } catch (const mmm::Error& err) {
            spdlog::error("could not migrate {} (layout 2): {}", path, err.what());
        }
    }
}

}  // namespace mmmd
