// Startup: rebuild the registry from the segments this namespace left in
// /dev/shm. The headers are the truth, but nothing in them is trusted until
// validated; a segment that fails is quarantined (kept, listed, never served).
#include "registry.hpp"

#include "names.hpp"

#include <spdlog/spdlog.h>

#include <cstring>

namespace mmmd {

using mmm::ChunkState;

std::vector<Registry::Orphan> Registry::adopt_existing() {
    std::vector<Orphan> orphans;
    std::size_t before_quarantined = quarantined_count();
    auto segments = store_.scan();
    for (const std::string& segment : segments) {
        try {
            adopt_one(segment, orphans);
        } catch (const std::exception& e) {
            spdlog::warn("skipping segment {}: {}", segment, e.what());
        }
    }
    spdlog::info("adopted {} chunks ({} bytes), quarantined {}, from {} segments", chunks_, bytes_,
                 quarantined_count() - before_quarantined, segments.size());
    return orphans;
}

void Registry::adopt_one(const std::string& segment, std::vector<Orphan>& orphans) {
    auto name = mmm::detail::chunk_name_of_segment(store_.name_space(), segment);
    if (!name) {
        spdlog::warn("ignoring segment {}: its name is not a valid chunk name", segment);
        return;
    }
    Inspection seen = store_.inspect(segment);
    // mmmd creates every segment as itself: another owner means someone planted it.
    if (seen.file_uid != daemon_uid_)
        return quarantine(*name, segment, seen,
                          "the segment is owned by uid " + std::to_string(seen.file_uid) +
                              ", not by mmmd's uid " + std::to_string(daemon_uid_));
    constexpr auto kReady = static_cast<std::uint32_t>(ChunkState::ready);
    constexpr auto kDeleted = static_cast<std::uint32_t>(ChunkState::deleted);
    if (!seen.header || seen.all_zero || seen.raw_state == 0) {
        spdlog::warn("reclaimed '{}': its create was interrupted ({} bytes)", *name,
                     seen.file_bytes);
        store_.remove(segment, std::nullopt);
        return;
    }
    if (seen.raw_state == kDeleted) {
        spdlog::info("unlinked '{}': it was marked deleted", *name);
        store_.remove(segment, std::nullopt);
        return;
    }
    std::string problem = mmm::detail::validate(*seen.header, seen.file_bytes);
    if (problem.empty() &&
        std::strncmp(seen.header->name, name->c_str(), mmm::detail::kNameCapacity) != 0)
        problem = "the header names another chunk than the segment";
    if (problem.empty() && seen.raw_state != kReady)
        problem = "the header's state word is " + std::to_string(seen.raw_state);
    if (!problem.empty()) return quarantine(*name, segment, seen, problem);

    Entry entry;
    entry.header = *seen.header;
    entry.segment = segment;
    entry.id = seen.id;
    entry.segment_bytes = seen.header->segment_bytes;
    entry.file_uid = seen.file_uid;
    entry.file_mode = seen.file_mode;
    if (single_writer(entry)) entry.lease_pid = seen.raw_writer_pid;
    // Read-only waiters counted by the previous mmmd may still sleep: they stay
    // counted (writers keep waking them) until they wake and unwatch.
    entry.stale_watchers = seen.raw_watchers;
    if (entry.header.lifetime == static_cast<std::uint32_t>(mmm::Lifetime::session))
        orphans.push_back(
            {*name, entry.header.generation, static_cast<pid_t>(entry.header.creator_pid)});
    spdlog::debug("adopted '{}' ({} bytes)", *name, entry.segment_bytes);
    insert(*name, std::move(entry));
}

void Registry::quarantine(const std::string& name, const std::string& segment,
                          const Inspection& seen, std::string problem) {
    spdlog::warn("quarantined '{}' (segment {}): {}", name, segment, problem);
    Entry entry;
    entry.state = ChunkState::quarantined;
    entry.segment = segment;
    entry.id = seen.id;
    entry.segment_bytes = seen.file_bytes;
    entry.problem = std::move(problem);
    entry.file_uid = seen.file_uid;
    entry.file_mode = seen.file_mode;
    insert(name, std::move(entry));
}

}  // namespace mmmd
