// Startup: rebuild the registry from the registry log, the truth, and match
// it with the segment files of the namespace's private directories. Nothing
// in a segment decides a chunk's fate: a writer can scribble on its header,
// not on the log.
//
//  - a record with its file: adopted (a `creating` one, whose creator never
//    committed, is reclaimed; a `resizing` one gets its count published);
//  - a record without its file: forgotten (the file was removed, or a remove
//    was cut short after its unlink);
//  - a file without a record: an interrupted create or remove, reclaimed; but
//    when the log itself was damaged, kept and quarantined instead, since its
//    record may be what was lost.
#include "registry.hpp"

#include <mmm/detail/text.hpp>
#include "posix_io.hpp"

#include <spdlog/spdlog.h>

#include <map>

namespace mmmd {

using mmm::ChunkState;
namespace detail = mmm::detail;

std::vector<Registry::Orphan> Registry::adopt() {
    std::vector<Orphan> orphans;
    RegistryLog::Replayed replayed = log_.replay();
    for (const std::string& problem : replayed.problems)
        spdlog::error("registry log {}/.registry: {}", store_.dir(false), problem);
    std::map<std::pair<bool, std::string>, SegmentStore::Found> files;
    for (SegmentStore::Found& f : store_.scan()) {
        auto key = std::pair{f.huge, f.name};
        files.emplace(std::move(key), std::move(f));
    }
    for (auto& [name, record] : replayed.records) {
        auto file = files.find({record.huge_pages, name});
        if (file == files.end()) {
            spdlog::warn("forgot '{}': its segment file is gone", name);
            log_.erase(name, record.generation);
            continue;
        }
        adopt_record(record, file->second, orphans);
        files.erase(file);
    }
    for (auto& [key, file] : files) {
        if (replayed.problems.empty()) {
            spdlog::warn("reclaimed {}: it has no record (an interrupted create or remove)",
                         store_.path_of(file.name, file.huge));
            store_.discard(file.name, file.huge);
        } else {
            quarantine_orphan(file, "it has no record: the registry log was damaged (" +
                                        replayed.problems.front() + ")");
        }
    }
    migrate_legacy_segments();
    if (log_.wants_compaction()) {
        log_.compact([this](const auto& put) {
            for (const auto& [name, e] : entries_)
                if (e.recorded) put(record_of(name, e));
        });
    }
    spdlog::info("adopted {} chunks ({} bytes), {} quarantined, from a registry log of {} bytes",
                 chunks_, bytes_, quarantined_count(), log_.bytes());
    return orphans;
}

void Registry::adopt_record(const detail::ChunkRecord& record, const SegmentStore::Found& file,
                            std::vector<Orphan>& orphans) {
    const std::string& name = record.name;
    if (record.state == ChunkState::creating) {
        spdlog::warn("reclaimed '{}': its creator never reserved its memory", name);
        store_.discard(name, record.huge_pages);
        log_.erase(name, record.generation);
        return;
    }
    Entry e = entry_of(record);
    e.record_bytes = static_cast<std::uint32_t>(detail::record_bytes(record).size());
    e.id = file.id;
    if (!file.regular && e.state != ChunkState::quarantined) {
        e.state = ChunkState::quarantined;
        e.problem = "its segment is not a regular file";
    }
    const bool live = e.state == ChunkState::ready;
    if (live && (record.resizing || e.single_writer)) {
        try {
            auto opened = store_.open(name, e.huge_pages, true, e.id);
            if (record.resizing) {
                if (!store_.publish_count(opened.fd.get(), e.count)) {
                    e.state = ChunkState::quarantined;
                    e.problem = "its segment was cut short by a writer";
                } else {
                    spdlog::info("'{}': finished a resize to {} elements cut short by a restart",
                                 name, e.count);
                }
            }
            if (e.single_writer)
                e.lease_pid = detail::read_u32_at(opened.fd.get(), detail::kWriterPidOffset, name);
        } catch (const mmm::Error& err) {
            e.state = ChunkState::quarantined;
            e.problem = "its segment could not be read: " + err.message();
        }
    }
    if (e.lifetime == mmm::Lifetime::session && e.state == ChunkState::ready)
        orphans.push_back({name, e.generation, static_cast<pid_t>(e.creator_pid)});
    const bool rewrite = record.resizing || e.state != record.state;
    insert(name, std::move(e));
    if (rewrite) log_.put(record_of(name, entries_.find(name)->second));
}

void Registry::quarantine_orphan(const SegmentStore::Found& file, std::string problem) {
    spdlog::warn("quarantined {}: {}", store_.path_of(file.name, file.huge), problem);
    Entry e;
    e.recorded = false;
    e.state = ChunkState::quarantined;
    e.problem = std::move(problem);
    e.huge_pages = file.huge;
    e.id = file.id;
    e.type = intern(detail::ElementType{{}, 1, 1, mmm::Schema::opaque(1, 1)});
    insert(file.name, std::move(e));
}

}  // namespace mmmd
