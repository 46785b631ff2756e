#include "codec.hpp"

namespace mmm::detail {
void put_le32(std::byte* out, std::uint32_t v) {
    put_le(out, v);
}
void put_le16(std::byte* out, std::uint16_t v) {
    put_le(out, v);
}
std::uint32_t get_le32(const std::byte* in) {
    return get_le<std::uint32_t>(in);
}
std::uint16_t get_le16(const std::byte* in) {
    return get_le<std::uint16_t>(in);
}

void Writer::str(std::string_view s) {
    if (s.size() > kMaxString)
        throw Error(Errc::internal, {},
                    "a string of " + std::to_string(s.size()) +
                        " bytes exceeds the codec's limit of " + std::to_string(kMaxString));
    u16(static_cast<std::uint16_t>(s.size()));
    const auto* p = reinterpret_cast<const std::byte*>(s.data());
    out_.insert(out_.end(), p, p + s.size());
}

void Writer::blob(std::span<const std::byte> b, std::size_t limit) {
    if (b.size() > limit)
        throw Error(Errc::internal, {},
                    "a blob of " + std::to_string(b.size()) + " bytes exceeds its limit of " +
                        std::to_string(limit));
    u32(static_cast<std::uint32_t>(b.size()));
    out_.insert(out_.end(), b.begin(), b.end());
}

void Reader::fail(const std::string& what) const {
    throw Error(failure_, {}, what,
                failure_ == Errc::protocol_error
                    ? "the client and mmmd may be different versions; upgrade both"
                    : "");
}

std::string Reader::str() {
    std::size_t n = u16();
    if (n > kMaxString) fail("string of " + std::to_string(n) + " bytes exceeds the limit");
    need(n);
    std::string s(reinterpret_cast<const char*>(in_.data() + pos_), n);
    pos_ += n;
    return s;
}

std::vector<std::byte> Reader::blob(std::size_t limit) {
    std::size_t n = u32();
    if (n > limit)
        fail("blob of " + std::to_string(n) + " bytes exceeds its limit of " +
             std::to_string(limit));
    need(n);
    std::vector<std::byte> b(in_.begin() + static_cast<std::ptrdiff_t>(pos_),
                             in_.begin() + static_cast<std::ptrdiff_t>(pos_ + n));
    pos_ += n;
    return b;
}

bool Reader::boolean(const char* field) {
    std::uint8_t v = u8();
    if (v > 1) fail(std::string("invalid boolean in field '") + field + "'");
    return v == 1;
}

void Reader::expect_end() const {
    if (!at_end()) fail(std::to_string(in_.size() - pos_) + " unexpected trailing bytes");
}

}  // namespace mmm::detail
