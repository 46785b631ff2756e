// The byte codec of everything mmm stores or sends: little-endian integers
// and strings (a u16 length, then the bytes), shared by the wire protocol
// (protocol.hpp), chunk records (chunk_record.hpp) and schemas
// (schema_codec.hpp). Reading is total: every read is bounds-checked and
// running off the end throws mmm::Error with the Reader's error code. Not user API.
#pragma once

#include <mmm/error.hpp>

#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace mmm::detail {

inline constexpr std::size_t kMaxString = 4096;

// Little-endian, whatever the host. Inline: a list of a million chunks
// encodes and decodes some thirty million of them.
template <class T>
void put_le(std::byte* out, T v) {
    static_assert(std::is_unsigned_v<T>);
    if constexpr (std::endian::native == std::endian::little) {
        std::memcpy(out, &v, sizeof v);
    } else {
        for (std::size_t i = 0; i < sizeof(T); ++i)
            out[i] = static_cast<std::byte>((v >> (8 * i)) & 0xffu);
    }
}

template <class T>
T get_le(const std::byte* in) {
    static_assert(std::is_unsigned_v<T>);
    T v = 0;
    if constexpr (std::endian::native == std::endian::little) {
        std::memcpy(&v, in, sizeof v);
    } else {
        for (std::size_t i = 0; i < sizeof(T); ++i)
            v = static_cast<T>(v | (static_cast<T>(std::to_integer<unsigned>(in[i])) << (8 * i)));
    }
    return v;
}

class Writer {
  public:
    explicit Writer(std::vector<std::byte>& out) : out_(out) {}
    void u8(std::uint8_t v) { out_.push_back(static_cast<std::byte>(v)); }
    void u16(std::uint16_t v) { append(v); }
    void u32(std::uint32_t v) { append(v); }
    void u64(std::uint64_t v) { append(v); }
    // At most kMaxString bytes: longer is a bug of the caller (Errc::internal),
    // never a silent cut.
    void str(std::string_view s);
    // A u32 length, then the bytes (at most `limit` of them).
    void blob(std::span<const std::byte> b, std::size_t limit);
    // Bytes already in the codec's form (a schema's cached encoding), verbatim.
    void raw(std::span<const std::byte> b) { out_.insert(out_.end(), b.begin(), b.end()); }
    std::size_t size() const { return out_.size(); }

  private:
    template <class T>
    void append(T v) {
        const std::size_t at = out_.size();
        out_.resize(at + sizeof(T));
        put_le(out_.data() + at, v);
    }
    std::vector<std::byte>& out_;
};

class Reader {
  public:
    // `failure` is the code of a read that finds the bytes malformed:
    // protocol_error for messages, corrupt_header for stored records.
    explicit Reader(std::span<const std::byte> in, Errc failure = Errc::protocol_error)
        : in_(in), failure_(failure) {}
    std::uint8_t u8() {
        need(1);
        return std::to_integer<std::uint8_t>(in_[pos_++]);
    }
    std::uint16_t u16() { return take<std::uint16_t>(); }
    std::uint32_t u32() { return take<std::uint32_t>(); }
    std::uint64_t u64() { return take<std::uint64_t>(); }
    std::string str();
    std::vector<std::byte> blob(std::size_t limit);
    bool boolean(const char* field);
    bool at_end() const { return pos_ == in_.size(); }
    std::size_t position() const { return pos_; }
    // The bytes not read yet, and moving past n of them.
    std::span<const std::byte> rest() const { return in_.subspan(pos_); }
    void skip(std::size_t n) {
        need(n);
        pos_ += n;
    }
    void expect_end() const;
    [[noreturn]] void fail(const std::string& what) const;

  private:
    void need(std::size_t n) const {
        if (n > in_.size() - pos_) fail("message is truncated");
    }
    template <class T>
    T take() {
        need(sizeof(T));
        const T v = get_le<T>(in_.data() + pos_);
        pos_ += sizeof(T);
        return v;
    }
    std::span<const std::byte> in_;
    std::size_t pos_ = 0;
    Errc failure_;
};

void put_le32(std::byte* out, std::uint32_t v);
void put_le16(std::byte* out, std::uint16_t v);
std::uint32_t get_le32(const std::byte* in);
std::uint16_t get_le16(const std::byte* in);

}  // namespace mmm::detail
