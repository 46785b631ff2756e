// Issue #4: resource limits against a hostile (or buggy) local client:
// --max-connections-per-uid and --max-open-per-connection.
#include "daemon_test.hpp"
#include "error_of.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <thread>

namespace {

using mmm::Errc;
using namespace std::chrono_literals;

using mmm::test::error_of;

// Waits (bounded) until the daemon counts `n` connections: the fixture's
// readiness probes may not be accounted as closed yet.
void wait_connections(mmm::Client& c, std::uint64_t n) {
    auto deadline = std::chrono::steady_clock::now() + 5s;
    for (int i = 0; i < 5000 && std::chrono::steady_clock::now() < deadline; ++i) {
        if (c.stats().connections == n) return;
        std::this_thread::sleep_for(1ms);  // bounded condition poll
    }
    FAIL() << "mmmd still counts " << c.stats().connections << " connections, expected " << n;
}

class SecurityConnectionLimit : public mmm::test::DaemonTest {
  protected:
    std::vector<std::string> daemon_args() const override {
        return {"--max-connections-per-uid", "2"};
    }
};

TEST_F(SecurityConnectionLimit, ThirdConnectionOfAUidIsRefused) {
    wait_connections(client(), 1);
    auto second = new_client();
    EXPECT_NO_THROW(second.list());
    EXPECT_EQ(error_of([&] {
                  auto third = new_client();
                  third.list();
              }),
              Errc::limit_exceeded);
    // The first two are unharmed.
    EXPECT_NO_THROW(client().create<int>("still-works", 1));
    EXPECT_EQ(second.list().size(), 1u);
    client().remove("still-works");
    // Once one goes, a new one is let in again.
    { auto gone = std::move(second); }
    wait_connections(client(), 1);
    auto again = new_client();
    EXPECT_NO_THROW(again.list());
}

class SecurityOpenLimit : public mmm::test::DaemonTest {
  protected:
    std::vector<std::string> daemon_args() const override {
        return {"--max-open-per-connection", "2"};
    }
};

TEST_F(SecurityOpenLimit, ThirdOpenOnOneConnectionIsRefused) {
    auto a = client().create<int>("a", 1);
    auto b = client().create<int>("b", 1);
    EXPECT_EQ(error_of([&] { client().create<int>("c", 1); }), Errc::limit_exceeded);
    EXPECT_FALSE(segment_exists("c"));
    EXPECT_EQ(error_of([&] { client().open<int>("a"); }), Errc::limit_exceeded);
    // Another connection has its own budget.
    auto other = new_client();
    auto a2 = other.open<int>("a");
    auto b2 = other.open<const int>("b");
    a2.write(0, 5);
    EXPECT_EQ(a.read(0), 5);
    EXPECT_EQ(error_of([&] { other.open<int>("a"); }), Errc::limit_exceeded);
    client().remove("a");
    client().remove("b");
}

}  // namespace
