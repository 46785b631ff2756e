// The Errc a callable throws, or Errc::ok when it returns: lets a test state
// the expected failure in one EXPECT_EQ.
#pragma once

#include <mmm/error.hpp>

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

}  // namespace mmm::test
