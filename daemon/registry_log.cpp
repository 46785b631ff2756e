#include "registry_log.hpp"

#include "codec.hpp"
#include "fnv1a.hpp"
#include "posix_io.hpp"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace mmmd {

using mmm::Errc;
using mmm::Error;
namespace detail = mmm::detail;

namespace {

constexpr const char* kLogName = ".registry";
constexpr const char* kCompactingName = ".registry.new";
constexpr std::uint8_t kPut = 1;
constexpr std::uint8_t kErase = 2;
constexpr std::uint64_t kMinCompactionBytes = 1 << 20;

std::uint32_t checksum(const std::byte* data, std::size_t n) {
    return static_cast<std::uint32_t>(detail::fnv1a(detail::kFnvOffset, data, n));
}

detail::UniqueFd open_log(int dir_fd, const char* name, int flags) {
    for (;;) {
        detail::UniqueFd fd(::openat(dir_fd, name, flags | O_NOFOLLOW | O_CLOEXEC, 0600));
        if (fd || errno != EINTR) return fd;
    }
}

}  // namespace

std::vector<std::byte> frame_log_payload(const std::vector<std::byte>& payload) {
    std::vector<std::byte> out(8 + payload.size());
    detail::put_le32(out.data(), static_cast<std::uint32_t>(payload.size()));
    detail::put_le32(out.data() + 4, checksum(payload.data(), payload.size()));
    std::memcpy(out.data() + 8, payload.data(), payload.size());
    return out;
}

std::vector<std::byte> encode_log_entry(const LogEntry& entry) {
    std::vector<std::byte> payload;
    detail::Writer w(payload);
    if (entry.put) {
        w.u8(kPut);
        detail::encode_record(w, entry.record);
    } else {
        w.u8(kErase);
        w.str(entry.name);
        w.u64(entry.generation);
    }
    return frame_log_payload(payload);
}

std::vector<LogEntry> decode_log(std::span<const std::byte> file, std::uint64_t& valid_bytes,
                                 std::vector<std::string>& problems) {
    std::vector<LogEntry> entries;
    valid_bytes = 0;
    if (file.size() < sizeof kLogMagic ||
        std::memcmp(file.data(), kLogMagic, sizeof kLogMagic) != 0) {
        if (!file.empty()) problems.push_back("the registry log does not start with its magic");
        return entries;
    }
    std::size_t pos = sizeof kLogMagic;
    valid_bytes = pos;
    while (pos < file.size()) {
        if (file.size() - pos < 8) {
            problems.push_back("the last entry is cut short");
            break;
        }
        const std::uint32_t length = detail::get_le32(file.data() + pos);
        const std::uint32_t sum = detail::get_le32(file.data() + pos + 4);
        if (length > detail::kMaxRecordBytes + 16 || file.size() - pos - 8 < length) {
            problems.push_back("the entry at byte " + std::to_string(pos) + " is cut short");
            break;
        }
        const std::byte* payload = file.data() + pos + 8;
        if (checksum(payload, length) != sum) {
            problems.push_back("the entry at byte " + std::to_string(pos) + " fails its checksum");
            break;
        }
        try {
            detail::Reader r(std::span<const std::byte>(payload, length), Errc::corrupt_header);
            LogEntry entry;
            const std::uint8_t op = r.u8();
            if (op == kPut) {
                entry.record = detail::decode_record(r);
            } else if (op == kErase) {
                entry.put = false;
                entry.name = r.str();
                entry.generation = r.u64();
            } else {
                r.fail("unknown entry type " + std::to_string(op));
            }
            r.expect_end();
            entries.push_back(std::move(entry));
        } catch (const Error& e) {
            problems.push_back("the entry at byte " + std::to_string(pos) +
                               " does not decode: " + e.message());
            break;
        }
        pos += 8 + length;
        valid_bytes = pos;
    }
    return entries;
}

RegistryLog::RegistryLog(int dir_fd) : dir_fd_(dir_fd) {
    fd_ = open_log(dir_fd_, kLogName, O_RDWR | O_CREAT);
    if (!fd_) detail::throw_errno("opening the registry log", errno);
    const detail::FileStatus st = detail::file_status(fd_.get(), {});
    if (!st.regular()) throw Error(Errc::io_error, {}, "the registry log is not a regular file");
    size_ = st.size;
    if (size_ == 0) {
        detail::write_all_at(fd_.get(), kLogMagic, sizeof kLogMagic, 0, {});
        size_ = sizeof kLogMagic;
    }
    size_after_compaction_ = size_;
}

RegistryLog::Replayed RegistryLog::replay() {
    Replayed out;
    std::vector<std::byte> file(size_);
    if (size_ > 0) detail::read_exact_at(fd_.get(), file.data(), file.size(), 0, {});
    std::uint64_t valid = 0;
    for (LogEntry& e : decode_log(file, valid, out.problems)) {
        if (e.put) {
            std::string name = e.record.name;
            out.records.insert_or_assign(std::move(name), std::move(e.record));
        } else if (auto it = out.records.find(e.name);
                   it != out.records.end() && it->second.generation == e.generation) {
            out.records.erase(it);
        }
    }
    if (valid < sizeof kLogMagic) {
        // Not a log at all: keep it aside for a person to look at, start afresh.
        out.problems.push_back("the registry log was unreadable; it is kept as .registry.bad");
        ::renameat(dir_fd_, kLogName, dir_fd_, ".registry.bad");
        fd_ = open_log(dir_fd_, kLogName, O_RDWR | O_CREAT | O_TRUNC);
        if (!fd_) detail::throw_errno("re-creating the registry log", errno);
        detail::write_all_at(fd_.get(), kLogMagic, sizeof kLogMagic, 0, {});
        valid = sizeof kLogMagic;
    } else if (valid < size_) {
        detail::set_length(fd_.get(), valid, {});
    }
    size_ = valid;
    size_after_compaction_ = size_;
    return out;
}

void RegistryLog::append(const std::vector<std::byte>& entry) {
    detail::write_all_at(fd_.get(), entry.data(), entry.size(), size_, {});
    size_ += entry.size();
}

void RegistryLog::put(const detail::ChunkRecord& record) {
    append(encode_log_entry(LogEntry{true, record, {}, 0}));
}

void RegistryLog::erase(const std::string& name, std::uint64_t generation) {
    append(encode_log_entry(LogEntry{false, {}, name, generation}));
}

bool RegistryLog::wants_compaction() const {
    return size_ > kMinCompactionBytes && size_ > 2 * size_after_compaction_;
}

void RegistryLog::compact(const EachRecord& each) {
    detail::UniqueFd fresh = open_log(dir_fd_, kCompactingName, O_RDWR | O_CREAT | O_TRUNC);
    if (!fresh) detail::throw_errno("creating the compacted registry log", errno);
    std::vector<std::byte> buffer(sizeof kLogMagic);
    std::memcpy(buffer.data(), kLogMagic, sizeof kLogMagic);
    std::uint64_t written = 0;
    auto flush = [&] {
        detail::write_all_at(fresh.get(), buffer.data(), buffer.size(), written, {});
        written += buffer.size();
        buffer.clear();
    };
    each([&](const detail::ChunkRecord& r) {
        const auto entry = encode_log_entry(LogEntry{true, r, {}, 0});
        buffer.insert(buffer.end(), entry.begin(), entry.end());
        if (buffer.size() >= (1u << 20)) flush();
    });
    flush();
    if (::renameat(dir_fd_, kCompactingName, dir_fd_, kLogName) != 0)
        detail::throw_errno("replacing the registry log", errno);
    spdlog::debug("registry log compacted from {} to {} bytes", size_, written);
    fd_ = std::move(fresh);
    size_ = written;
    size_after_compaction_ = written;
}

}  // namespace mmmd
