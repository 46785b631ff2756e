// mmm::AnyChunk: the runtime-typed face of a mapping; everything it does is
// MappedChunk's (src/mapped_chunk.cpp).
#include <mmm/any_chunk.hpp>
#include <mmm/error.hpp>

#include <utility>

namespace mmm {
namespace {

void check_size(const detail::MappedChunk& m, std::size_t got) {
    if (got != m.access().element_size)
        throw Error(Errc::invalid_argument, m.name(),
                    "a buffer of " + std::to_string(got) + " bytes for elements of " +
                        std::to_string(m.access().element_size));
}

}  // namespace

AnyChunk::AnyChunk(std::unique_ptr<detail::MappedChunk> mapped)
    : mapped_(std::move(mapped)), access_(mapped_->access()) {}
AnyChunk::AnyChunk(AnyChunk&& o) noexcept
    : mapped_(std::move(o.mapped_)), access_(std::exchange(o.access_, detail::empty_access())) {}
AnyChunk& AnyChunk::operator=(AnyChunk&& o) noexcept {
    if (this != &o) {
        mapped_ = std::move(o.mapped_);
        access_ = std::exchange(o.access_, detail::empty_access());
    }
    return *this;
}
AnyChunk::~AnyChunk() = default;

const detail::MappedChunk& AnyChunk::mapped() const {
    if (!mapped_) detail::throw_empty_handle("AnyChunk");
    return *mapped_;
}

const std::string& AnyChunk::name() const {
    return mapped().name();
}
const Schema& AnyChunk::schema() const {
    return mapped().mapped_info().schema;
}
const std::string& AnyChunk::type_name() const {
    return mapped().mapped_info().type_name;
}
ChunkKind AnyChunk::kind() const {
    return mapped().mapped_info().kind;
}
bool AnyChunk::read_only() const {
    return !mapped().writable();
}
bool AnyChunk::single_writer() const {
    return mapped().single_writer();
}

void AnyChunk::read_bytes(std::size_t i, std::span<std::byte> out) const {
    check_size(mapped(), out.size());
    mapped_->read_bytes(i, out.data());
}

std::vector<std::byte> AnyChunk::read_bytes(std::size_t i) const {
    std::vector<std::byte> out(mapped().access().element_size);
    mapped_->read_bytes(i, out.data());
    return out;
}

bool AnyChunk::try_read_bytes(std::size_t i, std::span<std::byte> out,
                              std::chrono::nanoseconds patience) const {
    check_size(mapped(), out.size());
    return mapped_->read_bytes(i, out.data(), std::chrono::steady_clock::now() + patience);
}

void AnyChunk::write_bytes(std::size_t i, std::span<const std::byte> value) {
    check_size(mapped(), value.size());
    mapped_->write_bytes(i, value.data());
}

ChunkInfo AnyChunk::info() const {
    return mapped().info();
}
void AnyChunk::remove() {
    if (!mapped_) detail::throw_empty_handle("AnyChunk");
    mapped_->remove();
}
bool AnyChunk::deleted() const {
    return mapped().deleted();
}
void AnyChunk::resize(std::size_t new_count) {
    if (!mapped_) detail::throw_empty_handle("AnyChunk");
    mapped_->resize(new_count);
}

std::optional<std::uint32_t> AnyChunk::wait_for_change(std::uint32_t since,
                                                       std::chrono::nanoseconds timeout,
                                                       std::chrono::nanoseconds spin) const {
    return mapped().wait_for_change(since, timeout, spin);
}

ChunkLock AnyChunk::lock() {
    return mapped().lock(-1);
}
ChunkLock AnyChunk::try_lock_for(std::chrono::nanoseconds timeout) {
    return mapped().lock(timeout.count());
}

}  // namespace mmm
