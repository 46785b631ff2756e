// The Errc a callable throws, or Errc::ok when it returns: lets a test state
// the expected failure in one EXPECT_EQ.
#pragma once

#include <mmm/error.hpp>

#include <optional>

namespace mmm::test {

template <class F>
Errc error_of(F&& f) {
    try {
        f();
    } catch (const Error& e) {
        return e.code();
    }
    return Errc::ok;
}

// The whole mmm::Error a callable throws (code, chunk, message), or nullopt.
template <class F>
std::optional<Error> thrown(F&& f) {
    try {
        f();
    } catch (const Error& e) {
        return e;
    }
    return std::nullopt;
}

}  // namespace mmm::test
