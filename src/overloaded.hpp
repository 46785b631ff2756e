// The visitor helper for std::visit over a set of lambdas. Not user API.
#pragma once

namespace mmm::detail {

template <class... F>
struct Overloaded : F... {
    using F::operator()...;
};
template <class... F>
Overloaded(F...) -> Overloaded<F...>;

}  // namespace mmm::detail
