#include "element_reader.hpp"

#include <mmm/detail/seqlock.hpp>

#include <atomic>
#include <chrono>
#include <cstring>
#include <thread>

namespace mmmctl {
namespace {

// Long enough for any live writer of one element; short enough that a dump
// touching many stuck stripes still returns promptly.
constexpr auto kStripePatience = std::chrono::milliseconds(50);

template <class W>
ElementSnapshot& whole(ElementSnapshot& out, W word) {
    std::memcpy(out.bytes.data(), &word, sizeof word);
    return out;
}

}  // namespace

ElementSnapshot ElementReader::read(std::uint64_t index) {
    const std::uint64_t size = chunk_.element_size();
    const auto* source = static_cast<const std::byte*>(chunk_.data()) + index * size;
    ElementSnapshot out{std::vector<std::byte>(size), true};
    // Elements of 1, 2, 4 or 8 bytes take no stripe (detail::kWholeWord): one
    // atomic load of the right width reads them whole.
    switch (size) {  // the sizes of mmm::detail::is_whole_word_size
        case 1:
            return whole(out,
                         mmm::detail::word_load(reinterpret_cast<const std::uint8_t*>(source)));
        case 2:
            return whole(out,
                         mmm::detail::word_load(reinterpret_cast<const std::uint16_t*>(source)));
        case 4:
            return whole(out,
                         mmm::detail::word_load(reinterpret_cast<const std::uint32_t*>(source)));
        case 8:
            return whole(out,
                         mmm::detail::word_load(reinterpret_cast<const std::uint64_t*>(source)));
        default:
            break;
    }
    const std::size_t stripe_index = index % mmm::detail::kStripeCount;
    auto& stripe = mmm::detail::stripe_for(chunk_.sync(), index);

    const auto deadline = std::chrono::steady_clock::now() + kStripePatience;
    bool first = true;
    while (first || (!given_up_[stripe_index] && std::chrono::steady_clock::now() < deadline)) {
        first = false;
        // Same protocol as detail::seq_read, but on bytes of a runtime size.
        const std::uint64_t before = stripe.word.load(std::memory_order_acquire);
        if (before & 1u) {
            std::this_thread::yield();
            continue;
        }
        mmm::detail::racy_copy(out.bytes.data(), source, size);
        std::atomic_thread_fence(std::memory_order_acquire);
        if (stripe.word.load(std::memory_order_relaxed) == before) return out;
    }
    given_up_[stripe_index] = true;
    mmm::detail::racy_copy(out.bytes.data(), source, size);
    out.consistent = false;
    return out;
}

}  // namespace mmmctl
