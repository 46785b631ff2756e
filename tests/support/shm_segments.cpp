#include "shm_segments.hpp"

#include "names.hpp"

#include <sys/mman.h>

#include <algorithm>
#include <filesystem>
#include <system_error>

namespace mmm::test {

std::string segment_path(const std::string& name_space, const std::string& chunk) {
    return "/dev/shm/" + detail::segment_name(name_space, chunk);
}

bool segment_exists(const std::string& name_space, const std::string& chunk) {
    std::error_code ec;
    return std::filesystem::exists(segment_path(name_space, chunk), ec);
}

std::vector<std::string> segments_of(const std::string& name_space) {
    std::vector<std::string> out;
    if (name_space.empty()) return out;
    const std::string prefix = detail::segment_name(name_space, "");  // "mmm.<ns>."
    std::error_code ec;
    std::filesystem::directory_iterator it("/dev/shm", ec), end;
    for (int n = 0; !ec && it != end && n < 1'000'000; it.increment(ec), ++n) {
        std::string file = it->path().filename().string();
        if (file.compare(0, prefix.size(), prefix) == 0) out.push_back(file);
    }
    std::sort(out.begin(), out.end());
    return out;
}

std::vector<std::string> remove_segments_of(const std::string& name_space) {
    auto found = segments_of(name_space);
    for (const auto& file : found) ::shm_unlink(("/" + file).c_str());
    return found;
}

}  // namespace mmm::test
