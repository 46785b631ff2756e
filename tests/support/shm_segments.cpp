#include "shm_segments.hpp"

#include "names.hpp"

#include <algorithm>
#include <filesystem>
#include <system_error>

namespace mmm::test {

std::string segment_dir(const std::string& name_space) {
    return detail::segment_dir_for("/dev/shm", name_space);
}

std::string segment_path(const std::string& name_space, const std::string& chunk) {
    return segment_dir(name_space) + "/" + chunk;
}

bool segment_exists(const std::string& name_space, const std::string& chunk) {
    std::error_code ec;
    return std::filesystem::exists(segment_path(name_space, chunk), ec);
}

std::vector<std::string> segments_of(const std::string& name_space) {
    std::vector<std::string> out;
    if (name_space.empty()) return out;
    std::error_code ec;
    std::filesystem::directory_iterator it(segment_dir(name_space), ec), end;
    for (int n = 0; !ec && it != end && n < 1'000'000; it.increment(ec), ++n) {
        std::string file = it->path().filename().string();
        if (!file.empty() && file.front() != '.') out.push_back(file);
    }
    std::sort(out.begin(), out.end());
    return out;
}

std::vector<std::string> remove_segments_of(const std::string& name_space) {
    auto found = segments_of(name_space);
    if (name_space.empty()) return found;
    std::error_code ec;
    std::filesystem::remove_all(segment_dir(name_space), ec);
    const std::string legacy = "mmm." + name_space + ".";
    std::filesystem::directory_iterator it("/dev/shm", ec), end;
    std::vector<std::filesystem::path> old;
    for (int n = 0; !ec && it != end && n < 1'000'000; it.increment(ec), ++n)
        if (it->path().filename().string().compare(0, legacy.size(), legacy) == 0)
            old.push_back(it->path());
    for (const auto& p : old) std::filesystem::remove(p, ec);
    return found;
}

}  // namespace mmm::test
