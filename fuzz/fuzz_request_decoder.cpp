// Feeds arbitrary bytes to what mmmd runs on every received frame: the header
// check, then the body decoder. Anything but a clean decode or an mmm::Error
// (a crash, a hang, an overflow, an uncaught exception) is a bug.
#include "protocol.hpp"

#include <cstddef>
#include <cstdint>
#include <span>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    auto bytes = std::as_bytes(std::span(data, size));
    if (bytes.size() < mmm::proto::kFrameHeaderBytes) return 0;
    auto header = mmm::proto::decode_frame_header(bytes.first<mmm::proto::kFrameHeaderBytes>());
    auto body = bytes.subspan(mmm::proto::kFrameHeaderBytes);
    (void)mmm::proto::check_request_header(header);  // the verdict must not matter for safety
    try {
        auto request =
            mmm::proto::decode_request(static_cast<mmm::proto::MessageType>(header.type), body);
        // Whatever decodes must encode again.
        (void)mmm::proto::encode_request(request, header.request_id);
    } catch (const mmm::Error&) {
    }
    // And what a client decodes from mmmd's replies.
    try {
        mmm::proto::Reader r(body);
        (void)mmm::proto::decode_list(r);
    } catch (const mmm::Error&) {
    }
    try {
        mmm::proto::Reader r(body);
        (void)mmm::proto::decode_grant(r);
    } catch (const mmm::Error&) {
    }
    return 0;
}
