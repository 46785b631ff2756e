#include "json_output.hpp"

#include "text_format.hpp"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <iostream>
#include <string>
#include <string_view>

namespace mmmctl {

namespace {

// Appends `"key":` then the value, as JSON; strings go through nlohmann's
// serializer (escapes, invalid UTF-8 replaced).
class ObjectWriter {
  public:
    explicit ObjectWriter(std::string& out) : out_(out) { out_ += '{'; }
    void str(std::string_view key, std::string_view value) {
        start(key);
        // Names, modes and dates are plain ASCII: no escaping to do.
        bool plain = std::all_of(value.begin(), value.end(), [](char c) {
            return c >= 0x20 && c < 0x7f && c != '"' && c != '\\';
        });
        if (plain) {
            out_ += '"';
            out_ += value;
            out_ += '"';
        } else {
            out_ += Json(value).dump(-1, ' ', false, Json::error_handler_t::replace);
        }
    }
    template <class N>
    void num(std::string_view key, N value) {
        start(key);
        char digits[24];  // any 64-bit integer
        const auto end = std::to_chars(digits, digits + sizeof digits, value).ptr;
        out_.append(digits, end);
    }
    void boolean(std::string_view key, bool value) {
        start(key);
        out_ += value ? std::string_view("true") : std::string_view("false");
    }
    void null(std::string_view key) {
        start(key);
        out_ += std::string_view("null");
    }
    // `"key":`, for a value the caller writes.
    void start(std::string_view key) {
        out_ += first_ ? std::string_view("\"") : std::string_view(",\"");
        first_ = false;
        out_ += key;
        out_ += std::string_view("\":");
    }
    void close() { out_ += '}'; }

  private:
    std::string& out_;
    bool first_ = true;
};

}  // namespace

// Written directly, not through a Json tree: building nlohmann objects made
// `mmmctl list --json` of 100k chunks take seconds (docs/BENCHMARKS.md).
void append_chunk_json(std::string& out, const mmm::ChunkInfo& info) {
    const auto created_ns =
        std::chrono::duration_cast<std::chrono::nanoseconds>(info.created.time_since_epoch());
    ObjectWriter w(out);
    w.str("name", info.name);
    w.str("kind", mmm::to_string(info.kind));
    w.str("type_name", info.type_name);
    w.str("schema", info.schema.summary());
    w.num("type_fingerprint", info.type_fingerprint);
    w.num("element_size", info.element_size);
    w.num("element_align", info.element_align);
    w.num("count", info.count);
    w.num("max_count", info.max_count);
    w.num("bytes", info.bytes);
    w.num("segment_bytes", info.segment_bytes);
    w.boolean("huge_pages", info.huge_pages);
    w.str("mode", format_mode(info.mode));
    w.num("mode_numeric", info.mode);
    w.num("owner_uid", info.owner_uid);
    w.num("owner_gid", info.owner_gid);
    w.str("owner", user_name(info.owner_uid));
    w.num("creator_pid", info.creator_pid);
    w.str("lifetime", mmm::to_string(info.lifetime));
    w.boolean("single_writer", info.single_writer);
    w.num("writer_pid", info.writer_pid);
    w.str("state", mmm::to_string(info.state));
    if (is_known(info.created))
        w.str("created", iso8601_utc(info.created));
    else
        w.null("created");
    w.num("created_ns", created_ns.count());
    w.num("generation", info.generation);
    w.str("segment", info.segment);
    w.str("problem", info.problem);
    w.start("attachments");
    out += '[';
    for (std::size_t i = 0; i < info.attachments.size(); ++i) {
        const auto& a = info.attachments[i];
        if (i > 0) out += ',';
        ObjectWriter one(out);
        one.num("pid", a.pid);
        one.num("uid", a.uid);
        one.boolean("writable", a.writable);
        one.close();
    }
    out += ']';
    w.close();
}

Json chunk_json(const mmm::ChunkInfo& info) {
    std::string text;
    append_chunk_json(text, info);
    return Json::parse(text);
}

Json stats_json(const mmm::Stats& stats) {
    return {
        {"daemon_pid", stats.daemon_pid},
        {"runtime_dir", stats.runtime_dir},
        {"name_space", stats.name_space},
        {"segment_dir", stats.segment_dir},
        {"huge_dir", stats.huge_dir},
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
