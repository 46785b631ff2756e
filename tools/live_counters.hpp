// The live counters of chunks (version, waiters, recoveries: ChunkActivity),
// read through read-only mappings (ChunkInfo has none of them: they live in
// the segment). `top` keeps the mappings from tick to tick; `metrics` maps
// each chunk once.
#pragma once

#include <mmm/client.hpp>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace mmmctl {

class LiveCounters {
  public:
    // keep: leave chunks mapped for the next read (at most kMaxKept of them).
    LiveCounters(mmm::Client& client, bool keep) : client_(client), keep_(keep) {}

    // The chunk's counters, or nullopt when it cannot be mapped (a heap chunk,
    // quarantined, deleted meanwhile, not readable by this user, a limit).
    std::optional<mmm::ChunkActivity> read(const mmm::ChunkInfo& info);
    // Unmaps the chunks whose names are not in `names` (sorted).
    void keep_only(const std::vector<std::string>& names);

    static constexpr std::size_t kMaxKept = 4096;

  private:
    struct Entry {
        std::uint64_t generation = 0;
        mmm::AnyChunk chunk;  // empty: this generation could not be mapped
    };
    mmm::Client& client_;
    bool keep_;
    std::map<std::string, Entry> kept_;
};

// Versions a chunk went through from `before` to `after` (version() wraps at 2^32).
inline std::uint32_t versions_between(std::uint32_t before, std::uint32_t after) {
    return after - before;
}

}  // namespace mmmctl
