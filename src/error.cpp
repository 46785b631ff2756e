#include <mmm/error.hpp>
#include <mmm/options.hpp>

namespace mmm {
namespace {

std::string compose(Errc code, const std::string& chunk, const std::string& message,
                    const std::string& hint) {
    std::string out = "mmm: ";
    if (!chunk.empty()) out += "'" + chunk + "': ";
    out += message;
    out += " [";
    out += to_string(code);
    out += "]";
    if (!hint.empty()) out += "; " + hint;
    return out;
}

}  // namespace

Error::Error(Errc code, std::string chunk, std::string message, std::string hint)
    : std::runtime_error(compose(code, chunk, message, hint)),
      code_(code),
      chunk_(std::move(chunk)),
      message_(std::move(message)),
      hint_(std::move(hint)) {}

std::string_view to_string(Errc code) noexcept {
    switch (code) {
        case Errc::ok:
            return "ok";
        case Errc::invalid_name:
            return "invalid_name";
        case Errc::invalid_argument:
            return "invalid_argument";
        case Errc::size_overflow:
            return "size_overflow";
        case Errc::not_found:
            return "not_found";
        case Errc::already_exists:
            return "already_exists";
        case Errc::type_mismatch:
            return "type_mismatch";
        case Errc::permission_denied:
            return "permission_denied";
        case Errc::daemon_unavailable:
            return "daemon_unavailable";
        case Errc::protocol_error:
            return "protocol_error";
        case Errc::no_space:
            return "no_space";
        case Errc::quota_exceeded:
            return "quota_exceeded";
        case Errc::corrupt_header:
            return "corrupt_header";
        case Errc::timeout:
            return "timeout";
        case Errc::limit_exceeded:
            return "limit_exceeded";
        case Errc::out_of_range:
            return "out_of_range";
        case Errc::owner_died:
            return "owner_died";
        case Errc::io_error:
            return "io_error";
        case Errc::internal:
            return "internal";
        case Errc::busy:
            return "busy";
    }
    return "unknown";
}

std::string_view to_string(ChunkState state) noexcept {
    switch (state) {
        case ChunkState::creating:
            return "creating";
        case ChunkState::ready:
            return "ready";
        case ChunkState::deleted:
            return "deleted";
        case ChunkState::quarantined:
            return "quarantined";
    }
    return "unknown";
}

std::string_view to_string(Lifetime lifetime) noexcept {
    return lifetime == Lifetime::session ? "session" : "persistent";
}

std::string_view to_string(ChunkKind kind) noexcept {
    return kind == ChunkKind::heap ? "heap" : "array";
}

std::string_view to_string(HugePages huge_pages) noexcept {
    switch (huge_pages) {
        case HugePages::automatic:
            return "automatic";
        case HugePages::never:
            return "never";
        case HugePages::always:
            return "always";
    }
    return "unknown";
}

namespace {

class ErrcCategory final : public std::error_category {
  public:
    const char* name() const noexcept override { return "mmm"; }
    std::string message(int code) const override {
        return std::string(to_string(static_cast<Errc>(code)));
    }
};

}  // namespace

const std::error_category& error_category() noexcept {
    static const ErrcCategory category;
    return category;
}

}  // namespace mmm
