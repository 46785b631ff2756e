// DaemonTest: a GoogleTest fixture with a real mmmd on a fresh runtime
// directory (so a namespace of its own) and a connected mmm::Client.
//
// TearDown closes the client, stops mmmd (SIGTERM, SIGKILL after 5 s) and
// unlinks every /dev/shm segment of the fixture's namespace, so no test leaks
// processes or segments whatever it does. Tests that must not leave segments
// behind assert it with expect_no_segments().
#pragma once

#include "child_process.hpp"
#include "daemon_process.hpp"
#include "segment_words.hpp"
#include "temp_dir.hpp"

#include <mmm/mmm.hpp>

#include <gtest/gtest.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace mmm::test {

class DaemonTest : public ::testing::Test {
  protected:
    void SetUp() override;
    void TearDown() override;

    // Extra mmmd arguments (quotas, ...) for fixtures that derive from this one.
    virtual std::vector<std::string> daemon_args() const { return {}; }
    // A command mmmd runs under (DaemonProcess::set_command_prefix), for
    // fixtures that give it a mount namespace of its own.
    virtual std::vector<std::string> daemon_prefix() const { return {}; }

    const std::string& runtime_dir() const { return dir_->path(); }
    const std::string& name_space() const { return name_space_; }
    DaemonProcess& daemon() { return *daemon_; }
    mmm::Client& client() { return *client_; }
    // A new, separate connection to this fixture's daemon.
    mmm::Client new_client() const;

    // Runs a helper from tests/helpers/ with MMM_RUNTIME_DIR set to this fixture's.
    ChildProcess start_helper(const std::string& helper, const std::vector<std::string>& args,
                              ChildOptions options = {}) const;
    // Same for an explicit binary path (the clang++-built helper).
    ChildProcess start_program(const std::string& path, const std::vector<std::string>& args,
                               ChildOptions options = {}) const;

    // The segments of this fixture's namespace in /dev/shm.
    std::vector<std::string> segments() const;
    bool segment_exists(const std::string& chunk) const;
    // A mapping of the chunk's header words (SegmentWords).
    std::unique_ptr<SegmentWords> words_of(const std::string& chunk) const;
    void expect_no_segments() const;

  private:
    std::unique_ptr<TempDir> dir_;
    std::string name_space_;
    std::unique_ptr<DaemonProcess> daemon_;
    std::optional<mmm::Client> client_;
};

// "mmm.<ns>.a, mmm.<ns>.b" for failure messages.
std::string join(const std::vector<std::string>& items, const std::string& separator = ", ");

}  // namespace mmm::test
