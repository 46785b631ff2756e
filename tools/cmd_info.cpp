#include "commands.hpp"
#include "json_output.hpp"
#include "text_format.hpp"

#include <mmm/detail/text.hpp>
#include <mmm/heap.hpp>

#include <chrono>
#include <cstdio>
#include <iostream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

namespace mmmctl {
namespace {

std::string hex64(std::uint64_t v) {
    char buf[24];
    std::snprintf(buf, sizeof buf, "0x%016llx", static_cast<unsigned long long>(v));
    return buf;
}

// "alice (uid 1000)", or "1000" when the uid has no name.
std::string user_and_id(uid_t uid) {
    std::string name = user_name(uid);
    return name == std::to_string(uid) ? name : name + " (uid " + std::to_string(uid) + ")";
}

std::string attachment_line(const mmm::Attachment& a) {
    char buf[160];
    std::snprintf(buf, sizeof buf, "  pid %-8d %-24s %s", static_cast<int>(a.pid),
                  user_and_id(a.uid).c_str(), a.writable ? "rw" : "ro");
    return buf;
}

std::string with_human_bytes(std::uint64_t bytes) {
    return std::to_string(bytes) + " (" + format_bytes(bytes) + ")";
}

// What mmmctl tells of a heap chunk. `state`: "ok", "corrupt: <why>", or
// "unknown (<code>)" when it cannot be opened. Free bytes and the named
// objects are read under the heap's lock, which takes a writable open; when
// mmmctl may not write the chunk (or the lock stays busy for a second) they
// stay unknown and the state comes from a read-only open, which reads the
// heap_state word only.
struct HeapReport {
    std::string state;
    std::optional<std::uint64_t> free_bytes;
    std::vector<mmm::HeapObject> objects;  // named objects, at most kMaxHeapObjects
    bool more_objects = false;
};

constexpr std::size_t kMaxHeapObjects = 1000;

std::string unknown(mmm::Errc code) {
    return "unknown (" + std::string(mmm::to_string(code)) + ")";
}

HeapReport heap_report(mmm::Client& client, const mmm::ChunkInfo& c) {
    HeapReport r;
    if (c.state != mmm::ChunkState::ready) {
        r.state = "unknown (" + std::string(mmm::to_string(c.state)) + ")";
        return r;
    }
    try {
        auto heap = client.open_heap(c.name);
        r.state = "ok";
        if (auto h = heap.try_lock_for(std::chrono::seconds(1))) {
            r.free_bytes = h->get_free_memory();
            r.objects = h.objects(kMaxHeapObjects + 1);
            if (r.objects.size() > kMaxHeapObjects) {
                r.objects.pop_back();
                r.more_objects = true;
            }
        }
        return r;
    } catch (const mmm::Error& e) {
        if (e.code() == mmm::Errc::corrupt_header) {
            r.state = std::string("corrupt: ") + e.what();
            return r;
        }
        if (e.code() != mmm::Errc::permission_denied && e.code() != mmm::Errc::busy) {
            r.state = unknown(e.code());
            return r;
        }
    }
    try {
        (void)client.open_heap(c.name, mmm::Access::read_only);
        r.state = "ok";
    } catch (const mmm::Error& e) {
        r.state = e.code() == mmm::Errc::corrupt_header ? std::string("corrupt: ") + e.what()
                                                        : unknown(e.code());
    }
    return r;
}

// "<name>: <type> x <count>, <bytes>", or "<name>: type not recorded, <bytes>".
std::string heap_object_line(const mmm::HeapObject& o) {
    using mmm::detail::printable;
    std::string line = printable(o.name);
    if (o.count) {
        line.append(": ").append(printable(o.type_name)).append(" x ");
        line.append(std::to_string(*o.count));
    } else {
        line.append(": type not recorded");
    }
    return line.append(", ").append(format_bytes(o.bytes));
}

}  // namespace

void run_info(mmm::Client& client, const Invocation& inv) {
    const mmm::ChunkInfo c = client.info(inv.name);
    const bool heap = c.kind == mmm::ChunkKind::heap;
    if (inv.json) {
        Json j = chunk_json(c);
        if (heap) {
            const HeapReport r = heap_report(client, c);
            j["heap_bytes"] = c.bytes;
            j["heap_state"] = r.state;
            j["heap_free_bytes"] = or_null(r.free_bytes);
            Json objects = Json::array();
            for (const auto& o : r.objects)
                objects.push_back({{"name", o.name},
                                   {"type", o.type_name.empty() ? Json() : Json(o.type_name)},
                                   {"count", o.count ? Json(*o.count) : Json()},
                                   {"bytes", o.bytes}});
            j["heap_objects"] = std::move(objects);
            j["heap_objects_truncated"] = r.more_objects;
        }
        print_json(j);
        return;
    }
    using std::to_string;
    auto& out = std::cout;
    const auto age = std::chrono::system_clock::now() - c.created;
    using mmm::detail::printable;
    print_field(out, "name", printable(c.name));
    print_field(out, "kind", std::string(mmm::to_string(c.kind)));
    print_field(out, "type_name", c.type_name.empty() ? "-" : printable(c.type_name));
    print_field(out, "type_fingerprint", hex64(c.type_fingerprint));
    print_field(out, "element_size", to_string(c.element_size));
    print_field(out, "element_align", to_string(c.element_align));
    print_field(out, "count", to_string(c.count));
    print_field(out, "max_count",
                to_string(c.max_count) + (c.max_count > c.count ? " (growable)" : ""));
    print_field(out, "bytes", with_human_bytes(c.bytes));
    print_field(out, "segment_bytes", with_human_bytes(c.segment_bytes));
    if (heap) {
        print_field(out, "heap_bytes", with_human_bytes(c.bytes));
        const HeapReport r = heap_report(client, c);
        print_field(out, "heap_state", printable(r.state));
        print_field(out, "heap_free",
                    r.free_bytes ? with_human_bytes(*r.free_bytes)
                                 : std::string("unknown (needs the lock: write permission)"));
        print_field(out, "heap_objects",
                    !r.free_bytes ? std::string("-")
                                  : to_string(r.objects.size()) + (r.more_objects ? "+" : ""));
        for (const auto& o : r.objects) print_field(out, "heap_object", heap_object_line(o));
        if (r.more_objects)
            print_field(out, "heap_object",
                        "... (only the first " + to_string(kMaxHeapObjects) + " are shown)");
    }
    print_field(out, "mode", format_mode(c.mode));
    print_field(out, "owner", user_and_id(c.owner_uid) + ", gid " + to_string(c.owner_gid));
    print_field(out, "creator_pid", to_string(c.creator_pid));
    print_field(out, "lifetime", std::string(mmm::to_string(c.lifetime)));
    print_field(out, "writers",
                !c.single_writer    ? std::string("many")
                : c.writer_pid == 0 ? std::string("single (lease free)")
                                    : "single (lease held by pid " + to_string(c.writer_pid) + ")");
    print_field(out, "state", std::string(mmm::to_string(c.state)));
    if (!c.problem.empty()) print_field(out, "problem", printable(c.problem));
    print_field(out, "created",
                is_known(c.created) ? iso8601_utc(c.created) + " (" + format_age(age) + " ago)"
                                    : "unknown");
    print_field(out, "generation", to_string(c.generation));
    print_field(out, "segment", c.segment.empty() ? "-" : printable(c.segment));
    print_field(out, "huge_pages", c.huge_pages ? "yes" : "no");
    print_field(out, "attachments", to_string(c.attachments.size()));
    for (const auto& a : c.attachments) out << attachment_line(a) << '\n';
    // The schema last: it may take many lines.
    std::istringstream schema(c.schema.to_string());
    std::string line;
    bool first = true;
    while (std::getline(schema, line)) {
        if (first)
            print_field(out, "schema", printable(line));
        else
            out << std::string(18, ' ') << printable(line) << '\n';
        first = false;
    }
}

}  // namespace mmmctl
