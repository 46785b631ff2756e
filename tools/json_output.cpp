#include "json_output.hpp"

#include "text_format.hpp"

#include <chrono>
#include <iostream>

namespace mmmctl {

Json chunk_json(const mmm::ChunkInfo& info) {
    const auto created_ns =
        std::chrono::duration_cast<std::chrono::nanoseconds>(info.created.time_since_epoch());
    Json attachments = Json::array();
    for (const auto& a : info.attachments)
        attachments.push_back({{"pid", a.pid}, {"uid", a.uid}, {"writable", a.writable}});
    return {
        {"name", info.name},
        {"type_name", info.type_name},
        {"type_fingerprint", info.type_fingerprint},
        {"element_size", info.element_size},
        {"element_align", info.element_align},
        {"count", info.count},
        {"bytes", info.bytes},
        {"segment_bytes", info.segment_bytes},
        {"mode", format_mode(info.mode)},
        {"mode_numeric", info.mode},
        {"owner_uid", info.owner_uid},
        {"owner_gid", info.owner_gid},
        {"owner", user_name(info.owner_uid)},
        {"creator_pid", info.creator_pid},
        {"lifetime", std::string(mmm::to_string(info.lifetime))},
        {"single_writer", info.single_writer},
        {"writer_pid", info.writer_pid},
        {"state", std::string(mmm::to_string(info.state))},
        {"created", is_known(info.created) ? Json(iso8601_utc(info.created)) : Json(nullptr)},
        {"created_ns", created_ns.count()},
        {"generation", info.generation},
        {"segment", info.segment},
        {"problem", info.problem},
        {"attachments", std::move(attachments)},
    };
}

Json stats_json(const mmm::Stats& stats) {
    return {
        {"daemon_pid", stats.daemon_pid},
        {"runtime_dir", stats.runtime_dir},
        {"name_space", stats.name_space},
        {"chunks", stats.chunks},
        {"quarantined", stats.quarantined},
        {"bytes", stats.bytes},
        {"max_bytes", stats.max_bytes},
        {"max_chunks", stats.max_chunks},
        {"max_chunk_bytes", stats.max_chunk_bytes},
        {"connections", stats.connections},
        {"requests", stats.requests},
        {"uptime_ms", stats.uptime_ms},
    };
}

Json error_json(const mmm::Error& error) {
    return {
        {"error", std::string(mmm::to_string(error.code()))},
        {"message", error.message()},
        {"chunk", error.chunk()},
        {"hint", error.hint()},
    };
}

void print_json(const Json& value) {
    std::cout << value.dump(2, ' ', false, Json::error_handler_t::replace) << '\n';
}

}  // namespace mmmctl
