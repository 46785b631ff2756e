// The byte codec of everything mmm stores or sends: little-endian integers
// and strings (a u16 length, then the bytes), shared by the wire protocol
// (protocol.hpp), chunk records (chunk_record.hpp) and schemas
// (schema_codec.hpp). Reading is total: every read is bounds-checked and
// running off the end throws mmm::Error with the Reader's error code. Not user API.
#pragma once

#include <mmm/error.hpp>

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace mmm::detail {

inline constexpr std::size_t kMaxString = 4096;

class Writer {
  public:
    explicit Writer(std::vector<std::byte>& out) : out_(out) {}
    void u8(std::uint8_t v);
    void u16(std::uint16_t v);
    void u32(std::uint32_t v);
    void u64(std::uint64_t v);
    // At most kMaxString bytes: longer is a bug of the caller (Errc::internal),
    // never a silent cut.
    void str(std::string_view s);
    // A u32 length, then the bytes (at most `limit` of them).
    void blob(std::span<const std::byte> b, std::size_t limit);
    // Bytes already in the codec's form (a schema's cached encoding), verbatim.
    void raw(std::span<const std::byte> b) { out_.insert(out_.end(), b.begin(), b.end()); }
    std::size_t size() const { return out_.size(); }

  private:
    std::vector<std::byte>& out_;
};

class Reader {
  public:
    // `failure` is the code of a read that finds the bytes malformed:
    // protocol_error for messages, corrupt_header for stored records.
    explicit Reader(std::span<const std::byte> in, Errc failure = Errc::protocol_error)
        : in_(in), failure_(failure) {}
    std::uint8_t u8();
    std::uint16_t u16();
    std::uint32_t u32();
    std::uint64_t u64();
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
    void need(std::size_t n) const;
    std::span<const std::byte> in_;
    std::size_t pos_ = 0;
    Errc failure_;
};

void put_le32(std::byte* out, std::uint32_t v);
void put_le16(std::byte* out, std::uint16_t v);
std::uint32_t get_le32(const std::byte* in);
std::uint16_t get_le16(const std::byte* in);

}  // namespace mmm::detail
