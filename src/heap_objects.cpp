// The record of what was constructed under each name of a heap: a named char
// array "mmm.type:<name>" holding "<sizeof>:<type name>". Kept as ordinary
// named objects so that it is as crash-safe as the rest of the segment and
// covered by the same consistency check (src/heap.cpp) after a holder dies.
#include <mmm/heap.hpp>

#include <algorithm>
#include <charconv>
#include <string>

namespace mmm {
namespace {

std::string record_name(std::string_view name) {
    std::string r(heap::type_record_prefix);
    r += name;
    return r;
}

std::string record_text(std::string_view type, std::size_t element_size) {
    return std::to_string(element_size) + ":" + std::string(type);
}

bool is_record(std::string_view name) {
    return name.starts_with(heap::type_record_prefix);
}

// Parses "<sizeof>:<type>"; false when it is not one (a user's own object
// under the prefix).
bool parse_record(std::string_view text, std::size_t& element_size, std::string_view& type) {
    const auto colon = text.find(':');
    if (colon == std::string_view::npos || colon == 0) return false;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + colon, element_size);
    if (ec != std::errc() || end != text.data() + colon || element_size == 0) return false;
    type = text.substr(colon + 1);
    return !type.empty();
}

// The closing '>' of the template argument list that opens at `open`.
std::size_t closing_bracket(std::string_view s, std::size_t open) {
    int depth = 0;
    for (std::size_t i = open; i < s.size(); ++i) {
        if (s[i] == '<') ++depth;
        if (s[i] == '>' && --depth == 0) return i;
    }
    return std::string_view::npos;
}

// Replaces every "<from>ARGS>" whose ARGS end with `suffix` by "<to>ARGS'>",
// ARGS' being ARGS without the suffix (or "<to>" alone when ARGS' is empty and
// `to` names a whole type).
std::string rewrite(std::string s, std::string_view from, std::string_view suffix,
                    std::string_view to, bool keep_args) {
    for (std::size_t at = s.find(from); at != std::string::npos; at = s.find(from, at + 1)) {
        const std::size_t open = at + from.size() - 1;
        const std::size_t close = closing_bracket(s, open);
        if (close == std::string::npos) break;
        const std::string_view args(s.data() + open + 1, close - open - 1);
        if (!args.ends_with(suffix)) continue;
        std::string shorter(to);
        if (keep_args) shorter.append(args.substr(0, args.size() - suffix.size())).append(">");
        s.replace(at, close + 1 - at, shorter);
    }
    return s;
}

// mmm::type_name of a type over a heap, with the segment manager, the
// allocator and the string spelled as include/mmm/heap.hpp names them: the
// full names run to kilobytes.
std::string short_type_name(std::string_view type) {
    static const std::string manager = type_name<heap::segment_manager>();
    std::string s(type);
    for (std::size_t at = s.find(manager); at != std::string::npos; at = s.find(manager, at))
        s.replace(at, manager.size(), "mmm::heap::segment_manager");
    s = rewrite(std::move(s), "boost::interprocess::allocator<", ",mmm::heap::segment_manager",
                "mmm::heap::allocator<", true);
    s = rewrite(std::move(s), "boost::container::basic_string<",
                "char,std::char_traits<char>,mmm::heap::allocator<char>", "mmm::heap::string",
                false);
    return s;
}

}  // namespace

namespace detail {

void record_heap_object(heap::segment_manager& manager, const char* name, std::string_view type,
                        std::size_t element_size) noexcept {
    try {
        const std::string key = record_name(name);
        const std::string text = record_text(short_type_name(type), element_size);
        const auto [found, length] = manager.find<char>(key.c_str());
        if (found) {
            if (std::string_view(found, length) == text) return;
            manager.destroy<char>(key.c_str());
        }
        char* made = manager.construct<char>(key.c_str(), std::nothrow)[text.size()](0);
        // Length-delimited: the array's own count says where the text ends.
        if (made) std::copy(text.begin(), text.end(), made);
    } catch (...) {
        // The type goes unrecorded; the object the caller made stays.
    }
}

void forget_heap_object(heap::segment_manager& manager, const char* name) noexcept {
    try {
        manager.destroy<char>(record_name(name).c_str());
    } catch (...) {
    }
}

}  // namespace detail

std::vector<HeapObject> HeapLock::objects(std::size_t limit) const {
    heap::segment& segment = held();
    std::vector<HeapObject> out;
    for (auto it = segment.named_begin(); it != segment.named_end() && out.size() < limit; ++it) {
        const std::string_view name(it->name(), it->name_length());
        if (is_record(name)) continue;
        HeapObject object;
        object.name = std::string(name);
        object.bytes = it->m_val->get_block_header()->value_bytes();
        const auto [text, length] = segment.find<char>(record_name(name).c_str());
        std::size_t element_size = 0;
        std::string_view type;
        if (text && parse_record(std::string_view(text, length), element_size, type) &&
            object.bytes % element_size == 0) {
            object.type_name = std::string(type);
            object.count = object.bytes / element_size;
        }
        out.push_back(std::move(object));
    }
    std::sort(out.begin(), out.end(),
              [](const HeapObject& a, const HeapObject& b) { return a.name < b.name; });
    return out;
}

}  // namespace mmm
