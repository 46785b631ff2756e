#include "live_counters.hpp"

#include <mmm/any_chunk.hpp>
#include <mmm/error.hpp>

#include <algorithm>

namespace mmmctl {

std::optional<mmm::ChunkActivity> LiveCounters::read(const mmm::ChunkInfo& info) {
    if (info.kind != mmm::ChunkKind::array || info.state != mmm::ChunkState::ready)
        return std::nullopt;
    if (auto it = kept_.find(info.name); it != kept_.end()) {
        if (it->second.generation == info.generation) {
            if (!it->second.chunk) return std::nullopt;  // failed before: do not ask again
            return it->second.chunk.activity();
        }
        kept_.erase(it);  // re-created under the same name
    }
    mmm::AnyChunk chunk;
    try {
        chunk = client_.open_any(info.name, mmm::Access::read_only);
    } catch (const mmm::Error& e) {
        // Not ours to map; a limit is worth retrying next time, the rest is not.
        if (keep_ && kept_.size() < kMaxKept && e.code() != mmm::Errc::limit_exceeded)
            kept_.emplace(info.name, Entry{info.generation, mmm::AnyChunk()});
        return std::nullopt;
    }
    std::optional<mmm::ChunkActivity> activity;
    // A chunk deleted and re-created between list() and open_any is another one.
    try {
        if (chunk.info().generation == info.generation) activity = chunk.activity();
    } catch (const mmm::Error&) {
        return std::nullopt;  // deleted meanwhile
    }
    if (keep_ && kept_.size() < kMaxKept && activity)
        kept_.emplace(info.name, Entry{info.generation, std::move(chunk)});
    return activity;
}

void LiveCounters::keep_only(const std::vector<std::string>& names) {
    for (auto it = kept_.begin(); it != kept_.end();) {
        if (std::binary_search(names.begin(), names.end(), it->first))
            ++it;
        else
            it = kept_.erase(it);
    }
}

}  // namespace mmmctl
