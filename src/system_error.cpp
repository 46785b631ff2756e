#include "system_error.hpp"

#include <cstring>

namespace mmm::detail {

void throw_errno(const std::string& what, int err, const std::string& chunk, Errc code) {
    throw Error(code, chunk, what + ": " + std::strerror(err));
}

}  // namespace mmm::detail
