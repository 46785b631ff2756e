// The byte codec under every format and the wire protocol: round trips, and
// every malformed input an mmm::Error with the reader's code (LevelDB's
// coding_test is the model). Starts no daemon.
#include "codec.hpp"
#include "protocol.hpp"

#include <mmm/error.hpp>
#include <mmm/mmm.hpp>

#include <gtest/gtest.h>

#include <limits>
#include <system_error>

namespace {

using mmm::Errc;
using mmm::detail::Reader;
using mmm::detail::Writer;
namespace proto = mmm::proto;

Errc code_of(const std::function<void()>& f) {
    try {
        f();
    } catch (const mmm::Error& e) {
        return e.code();
    }
    return Errc::ok;
}

TEST(Codec, IntegersAndStringsRoundTripLittleEndian) {
    std::vector<std::byte> bytes;
    Writer w(bytes);
    w.u8(0xab);
    w.u16(0x1234);
    w.u32(0xdeadbeef);
    w.u64(std::numeric_limits<std::uint64_t>::max() - 1);
    w.str("name");
    w.str("");
    ASSERT_EQ(bytes.size(), 1u + 2 + 4 + 8 + 2 + 4 + 2);
    EXPECT_EQ(bytes[1], std::byte{0x34});  // little-endian
    EXPECT_EQ(bytes[2], std::byte{0x12});
    Reader r(bytes);
    EXPECT_EQ(r.u8(), 0xab);
    EXPECT_EQ(r.u16(), 0x1234);
    EXPECT_EQ(r.u32(), 0xdeadbeefu);
    EXPECT_EQ(r.u64(), std::numeric_limits<std::uint64_t>::max() - 1);
    EXPECT_EQ(r.str(), "name");
    EXPECT_EQ(r.str(), "");
    EXPECT_TRUE(r.at_end());
    EXPECT_NO_THROW(r.expect_end());
}

TEST(Codec, EveryTruncationFailsWithTheReadersCode) {
    std::vector<std::byte> bytes;
    Writer w(bytes);
    w.u32(7);
    w.str("abcdef");
    w.u64(9);
    for (std::size_t cut = 0; cut < bytes.size(); ++cut) {
        SCOPED_TRACE(cut);
        std::span<const std::byte> part(bytes.data(), cut);
        for (Errc failure : {Errc::protocol_error, Errc::corrupt_header}) {
            Reader r(part, failure);
            EXPECT_EQ(code_of([&] {
                          (void)r.u32();
                          (void)r.str();
                          (void)r.u64();
                      }),
                      failure);
        }
    }
}

TEST(Codec, LimitsAreErrorsNeverCuts) {
    std::vector<std::byte> bytes;
    Writer w(bytes);
    EXPECT_EQ(code_of([&] { w.str(std::string(mmm::detail::kMaxString + 1, 'x')); }),
              Errc::internal);
    bytes.clear();
    w.u16(static_cast<std::uint16_t>(mmm::detail::kMaxString + 1));  // a length over the limit
    bytes.resize(bytes.size() + mmm::detail::kMaxString + 1);
    Reader r(bytes);
    EXPECT_EQ(code_of([&] { (void)r.str(); }), Errc::protocol_error);
    std::vector<std::byte> one{std::byte{2}};
    Reader b(one);
    EXPECT_EQ(code_of([&] { (void)b.boolean("flag"); }), Errc::protocol_error);
    std::vector<std::byte> extra{std::byte{0}, std::byte{1}};
    Reader e(extra);
    (void)e.u8();
    EXPECT_EQ(code_of([&] { e.expect_end(); }), Errc::protocol_error);
}

// Every request encodes to a frame that decodes to the same request.
TEST(Protocol, EveryRequestRoundTrips) {
    proto::CreateRequest create;
    create.name = "c";
    create.type = mmm::detail::element_type_of<double>();
    create.count = 3;
    create.max_count = 9;
    create.single_writer = true;
    create.huge_pages = mmm::HugePages::never;
    proto::OpenRequest open;
    open.name = "o";
    open.writable = false;
    open.wait_ms = 17;
    const std::vector<proto::Request> requests{
        create,
        open,
        proto::CloseRequest{"c", 5, true, true},
        proto::RemoveRequest{"r", 6},
        proto::ListRequest{"after", 12},
        proto::InfoRequest{"i"},
        proto::StatsRequest{},
        proto::PingRequest{},
        proto::WatchRequest{"w", 1},
        proto::UnwatchRequest{"u", 2},
        proto::CommitRequest{"m", 3},
        proto::ResizeRequest{"z", 4, 99},
    };
    for (const auto& request : requests) {
        SCOPED_TRACE(request.index());
        const auto frame = proto::encode_request(request, 42);
        const auto header = proto::decode_frame_header(
            std::span<const std::byte>(frame).first<proto::kFrameHeaderBytes>());
        EXPECT_EQ(proto::check_request_header(header), "");
        EXPECT_EQ(header.request_id, 42u);
        const auto decoded = proto::decode_request(
            static_cast<proto::MessageType>(header.type),
            std::span<const std::byte>(frame).subspan(proto::kFrameHeaderBytes));
        EXPECT_EQ(proto::encode_request(decoded, 42), frame);
    }
}

// decode_error knows every code up to kLastErrc and nothing beyond: a code
// appended to Errc without moving kLastErrc fails here.
TEST(Protocol, ErrorCodesDecodeUpToTheLastOneOnly) {
    const auto last = static_cast<std::uint16_t>(mmm::kLastErrc);
    for (std::uint16_t code = 0; code <= last + 1; ++code) {
        std::vector<std::byte> body;
        Writer w(body);
        w.u16(code);
        w.str("chunk");
        w.str("message");
        w.str("hint");
        Reader r(body);
        const bool known = code >= 1 && code <= last;
        EXPECT_EQ(code_of([&] { (void)proto::decode_error(r); }),
                  known ? Errc::ok : Errc::protocol_error)
            << code;
        EXPECT_EQ(mmm::to_string(static_cast<Errc>(code)) == "unknown", code > last) << code;
    }
}

// A list page names its last chunk before its chunks (the client asks for the
// next page from that name before decoding); a head that disagrees with its
// chunks, or an empty page that says more follow, is a protocol error.
TEST(Protocol, ListPageHeadNamesItsLastChunk) {
    proto::ListReply page;
    for (const char* name : {"a", "b", "c"}) {
        mmm::ChunkInfo info;
        info.name = name;
        page.chunks.push_back(info);
    }
    page.more = true;
    page.registry_chunks = 7;
    std::vector<std::byte> body;
    Writer w(body);
    proto::encode_list(w, page);

    Reader head_only(body);
    const proto::ListHead head = proto::decode_list_head(head_only);
    EXPECT_EQ(head.count, 3u);
    EXPECT_TRUE(head.more);
    EXPECT_EQ(head.chunks, 7u);
    EXPECT_EQ(head.last, "c");
    std::vector<mmm::ChunkInfo> out(1);  // appended to, not replaced
    proto::decode_list_chunks(head_only, head, out);
    EXPECT_TRUE(head_only.at_end());
    ASSERT_EQ(out.size(), 4u);
    EXPECT_EQ(out[1].name, "a");
    EXPECT_EQ(out[3].name, "c");

    Reader whole(body);
    const proto::ListReply again = proto::decode_list(whole);
    EXPECT_EQ(again.chunks.size(), 3u);
    EXPECT_TRUE(again.more);
    EXPECT_EQ(again.registry_chunks, 7u);

    // A page of `chunks` under head `h`, as the decoder sees it.
    auto page_of = [](const proto::ListHead& h, const std::vector<mmm::ChunkInfo>& chunks) {
        std::vector<std::byte> encoded;
        Writer cw(encoded);
        for (const auto& c : chunks) proto::encode_info(cw, c);
        std::vector<std::byte> bytes;
        Writer pw(bytes);
        proto::encode_list_page(pw, h, encoded);
        return bytes;
    };
    auto decoding = [](const std::vector<std::byte>& bytes) {
        return code_of([&] {
            Reader r(bytes);
            (void)proto::decode_list(r);
        });
    };
    // The head names another chunk than the page's last.
    EXPECT_EQ(decoding(page_of({1, false, 1, "z"}, {page.chunks[0]})), Errc::protocol_error);
    // An empty page that says more follow would have the client ask forever.
    EXPECT_EQ(decoding(page_of({0, true, 0, ""}, {})), Errc::protocol_error);
    // More chunks than a page may hold.
    EXPECT_EQ(decoding(page_of({proto::kMaxListLimit + 1, false, 0, ""}, {})),
              Errc::protocol_error);
}

TEST(Errors, ErrcPlugsIntoStdErrorCode) {
    std::error_code ec = Errc::busy;
    EXPECT_EQ(ec.category().name(), std::string("mmm"));
    EXPECT_EQ(ec.message(), "busy");
    EXPECT_EQ(ec, make_error_code(Errc::busy));
    EXPECT_NE(ec, std::error_code(Errc::not_found));
    const mmm::Error e(Errc::not_found, "coords", "no chunk named 'coords'", "create it first");
    EXPECT_EQ(e.error_code(), std::error_code(Errc::not_found));
    EXPECT_EQ(std::string(e.what()),
              "mmm: 'coords': no chunk named 'coords' [not_found]; create it first");
    EXPECT_FALSE(std::error_code(Errc::ok));
}

// An empty handle (default-constructed or moved from) is defined: size and
// version 0, everything else a clear Errc::invalid_argument.
TEST(Errors, EmptyHandlesAreDefined) {
    mmm::MemChunk<int> empty;
    EXPECT_FALSE(empty);
    EXPECT_EQ(empty.size(), 0u);
    EXPECT_EQ(empty.version(), 0u);
    EXPECT_TRUE(empty.span().empty());
    EXPECT_EQ(code_of([&] { (void)empty.name(); }), Errc::invalid_argument);
    EXPECT_EQ(code_of([&] { (void)empty.read(0); }), Errc::invalid_argument);
    EXPECT_EQ(code_of([&] { (void)empty.info(); }), Errc::invalid_argument);
    EXPECT_EQ(code_of([&] { empty.remove(); }), Errc::invalid_argument);
    EXPECT_EQ(code_of([&] { (void)empty.deleted(); }), Errc::invalid_argument);
    EXPECT_EQ(code_of([&] { (void)empty.wait_for_change(0, std::chrono::milliseconds(1)); }),
              Errc::invalid_argument);
    mmm::AnyChunk any;
    EXPECT_EQ(any.size(), 0u);
    EXPECT_EQ(any.version(), 0u);
    EXPECT_EQ(code_of([&] { (void)any.read_bytes(0); }), Errc::invalid_argument);
    EXPECT_EQ(code_of([&] { (void)any.schema(); }), Errc::invalid_argument);
}

}  // namespace
