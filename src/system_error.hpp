// Turns a failed system call into an mmm::Error at the wrapper.
#pragma once

#include <mmm/error.hpp>

#include <string>

namespace mmm::detail {

// "<what>: <strerror(err)>" as Errc::io_error (or `code` when given).
[[noreturn]] void throw_errno(const std::string& what, int err, const std::string& chunk = {},
                              Errc code = Errc::io_error);

}  // namespace mmm::detail
