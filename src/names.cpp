#include "names.hpp"

#include "fnv1a.hpp"

#include <mmm/error.hpp>

#include <unistd.h>

#include <climits>
#include <cstdio>
#include <cstdlib>
#include <memory>

namespace mmm::detail {

std::string name_problem(std::string_view name) {
    if (name.empty()) return "a chunk name must not be empty";
    if (name.size() > kMaxNameLength)
        return "a chunk name has at most " + std::to_string(kMaxNameLength) + " characters (got " +
               std::to_string(name.size()) + ")";
    if (name.front() == '.') return "a chunk name must not start with '.'";
    for (char c : name) {
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '.' || c == '_' || c == '-';
        if (!ok) {
            char buf[8];
            std::snprintf(buf, sizeof buf, "0x%02x", static_cast<unsigned char>(c));
            return std::string("a chunk name may only hold [A-Za-z0-9._-]; found byte ") + buf;
        }
    }
    return {};
}

void require_valid_name(std::string_view name) {
    if (auto problem = name_problem(name); !problem.empty()) {
        // Never echo an invalid name verbatim: it may hold control bytes.
        throw Error(Errc::invalid_name, {}, problem,
                    "use 1 to 128 of [A-Za-z0-9._-], not starting with '.'");
    }
}

std::string default_runtime_dir() {
    if (const char* dir = std::getenv("MMM_RUNTIME_DIR"); dir && *dir) return dir;
    if (const char* xdg = std::getenv("XDG_RUNTIME_DIR"); xdg && *xdg)
        return std::string(xdg) + "/mmm";
    return "/tmp/mmm-" + std::to_string(::geteuid());
}

std::vector<std::string> runtime_dir_candidates() {
    if (const char* dir = std::getenv("MMM_RUNTIME_DIR"); dir && *dir) return {dir};
    std::vector<std::string> out{default_runtime_dir()};
    if (out.front() != kSystemRuntimeDir) out.emplace_back(kSystemRuntimeDir);
    return out;
}

std::string socket_path(const std::string& runtime_dir) {
    return runtime_dir + "/mmmd.sock";
}

std::string namespace_for(const std::string& runtime_dir) {
    std::unique_ptr<char, decltype(&std::free)> real(::realpath(runtime_dir.c_str(), nullptr),
                                                     &std::free);
    std::string canonical = real ? real.get() : runtime_dir;
    // The fingerprint of earlier releases (name, then size and alignment 0),
    // so that a new mmmd finds the namespace an older one used.
    std::uint64_t h = fnv1a_u64(fnv1a_u64(fnv1a(kFnvOffset, canonical), 0), 0);
    char buf[17];
    std::snprintf(buf, sizeof buf, "%012llx",
                  static_cast<unsigned long long>(h & 0xffffffffffffull));
    return buf;
}

std::string segment_dir_for(const std::string& root, std::string_view name_space) {
    return root + "/mmm." + std::string(name_space);
}

}  // namespace mmm::detail
