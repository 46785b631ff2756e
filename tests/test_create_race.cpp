// Racing creates of one name from many processes: exactly one wins, every
// other one gets already_exists, and exactly one segment exists afterwards.
#include "daemon_test.hpp"
#include "shared_types.hpp"

#include <mmm/mmm.hpp>

#include <fcntl.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

namespace {

using namespace std::chrono_literals;
using mmm_test::Coordinate;

constexpr int kRacers = 8;
constexpr int kRounds = 3;

class CreateRaceTest : public mmm::test::DaemonTest {};

TEST_F(CreateRaceTest, ExactlyOneOfManyProcessesWins) {
    for (int round = 0; round < kRounds; ++round) {
        SCOPED_TRACE("round " + std::to_string(round));
        const std::string name = "race-" + std::to_string(round);

        // All racers read the same pipe: closing its write end releases them at once.
        int gate[2];
        ASSERT_EQ(::pipe2(gate, O_CLOEXEC), 0);
        std::vector<mmm::test::ChildProcess> racers;
        for (int i = 0; i < kRacers; ++i) {
            mmm::test::ChildOptions options;
            options.stdin_fd = gate[0];
            racers.push_back(start_helper("typed_helper", {"create-race", name}, options));
        }
        ::close(gate[0]);
        // Every racer has its connection before the gate opens.
        bool all_connected = true;
        for (auto& racer : racers) {
            auto line = racer.read_line(10s);
            if (line != "connected") {
                all_connected = false;
                ADD_FAILURE() << "racer " << racer.pid() << ": " << line.value_or("<nothing>");
            }
        }
        ::close(gate[1]);  // go
        if (!all_connected) return;

        int won = 0, lost = 0;
        pid_t winner = -1;
        for (auto& racer : racers) {
            auto status = racer.wait_for_exit(15s);
            ASSERT_FALSE(status.timed_out) << "racer " << racer.pid() << " hung";
            ASSERT_TRUE(status.exited) << status.describe();
            if (status.code == 0 && racer.out().find("won") != std::string::npos) {
                ++won;
                winner = racer.pid();
            } else if (status.code == 1 &&
                       racer.out().find("already_exists") != std::string::npos) {
                ++lost;
            } else {
                ADD_FAILURE() << "racer " << racer.pid() << " " << status.describe() << ": "
                              << racer.out();
            }
        }
        EXPECT_EQ(won, 1);
        EXPECT_EQ(lost, kRacers - 1);

        // The survivor is the winner's chunk, whole and ready.
        auto info = client().info(name);
        EXPECT_EQ(info.state, mmm::ChunkState::ready);
        EXPECT_EQ(info.creator_pid, winner);
        EXPECT_EQ(client().open<Coordinate>(name).read(0).x, winner);
        EXPECT_TRUE(segment_exists(name));
    }
    auto all = client().list();
    EXPECT_EQ(all.size(), static_cast<std::size_t>(kRounds));
    EXPECT_EQ(segments().size(), static_cast<std::size_t>(kRounds)) << mmm::test::join(segments());
}

}  // namespace
