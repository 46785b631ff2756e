#include "crash_point.hpp"

#include <spdlog/spdlog.h>

#include <csignal>
#include <cstdlib>
#include <string>

namespace mmmd {
namespace {

const std::string& setting() {
    static const std::string value = [] {
        const char* v = std::getenv("MMMD_CRASH_POINT");
        return std::string(v != nullptr ? v : "");
    }();
    return value;
}

}  // namespace

void crash_point(const char* point) {
    if (!setting().empty() && setting() == point) ::raise(SIGKILL);
}

void crash_point_announce() {
    if (!setting().empty())
        spdlog::warn("test hook MMMD_CRASH_POINT={} is set: mmmd will kill itself there",
                     setting());
}

}  // namespace mmmd
