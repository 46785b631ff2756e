#include "segment_words.hpp"

#include "shm_segments.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <stdexcept>

namespace mmm::test {

SegmentWords::SegmentWords(const std::string& name_space, const std::string& chunk) {
    const std::string path = segment_path(name_space, chunk);
    const int fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
    if (fd < 0) throw std::runtime_error("open " + path + " failed");
    detail::SegmentPrefix prefix{};
    if (::pread(fd, &prefix, sizeof prefix, 0) != static_cast<ssize_t>(sizeof prefix) ||
        prefix.magic != detail::kSegmentMagic) {
        ::close(fd);
        throw std::runtime_error(path + " is not a chunk segment of this layout");
    }
    stripes_ = prefix.stripe_count;
    length_ = detail::kStripesOffset + stripes_ * sizeof(detail::StripeLine);
    base_ = ::mmap(nullptr, length_, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    ::close(fd);
    if (base_ == MAP_FAILED) throw std::runtime_error("mmap " + path + " failed");
}

SegmentWords::~SegmentWords() {
    ::munmap(base_, length_);
}

detail::ChunkSync* SegmentWords::sync() const {
    return reinterpret_cast<detail::ChunkSync*>(static_cast<std::byte*>(base_) +
                                                detail::kSyncOffset);
}

detail::StripeLine& SegmentWords::stripe(std::size_t s) const {
    if (s >= stripes_) throw std::out_of_range("stripe " + std::to_string(s));
    return reinterpret_cast<detail::StripeLine*>(static_cast<std::byte*>(base_) +
                                                 detail::kStripesOffset)[s];
}

}  // namespace mmm::test
