#include "daemon_test.hpp"

#include "names.hpp"
#include "shm_segments.hpp"
#include "test_paths.hpp"

#include <csignal>

namespace mmm::test {

std::string join(const std::vector<std::string>& items, const std::string& separator) {
    std::string out;
    for (const auto& item : items) {
        if (!out.empty()) out += separator;
        out += item;
    }
    return out;
}

void DaemonTest::SetUp() {
    dir_ = std::make_unique<TempDir>("mmm-test");
    name_space_ = detail::namespace_for(dir_->path());
    // A namespace is a hash: make sure nothing of an earlier crashed run is in the way.
    remove_segments_of(name_space_);
    daemon_ = std::make_unique<DaemonProcess>(dir_->path(), daemon_args());
    daemon_->set_command_prefix(daemon_prefix());
    daemon_->start();
    client_.emplace(mmm::ClientOptions{.runtime_dir = dir_->path()});
}

void DaemonTest::TearDown() {
    client_.reset();
    if (daemon_) {
        auto status = daemon_->stop();
        // mmmd must go on SIGTERM within the grace period, not need SIGKILL.
        if (status) {
            EXPECT_FALSE(status->signaled(SIGKILL)) << "mmmd on SIGTERM: " << status->describe();
        }
        daemon_.reset();
    }
    remove_segments_of(name_space_);
    dir_.reset();
}

mmm::Client DaemonTest::new_client() const {
    return mmm::Client(mmm::ClientOptions{.runtime_dir = dir_->path()});
}

ChildProcess DaemonTest::start_helper(const std::string& helper,
                                      const std::vector<std::string>& args,
                                      ChildOptions options) const {
    return start_program(helper_path(helper), args, std::move(options));
}

ChildProcess DaemonTest::start_program(const std::string& path,
                                       const std::vector<std::string>& args,
                                       ChildOptions options) const {
    options.env["MMM_RUNTIME_DIR"] = dir_->path();
    return ChildProcess(path, args, std::move(options));
}

std::vector<std::string> DaemonTest::segments() const {
    return segments_of(name_space_);
}

bool DaemonTest::segment_exists(const std::string& chunk) const {
    return mmm::test::segment_exists(name_space_, chunk);
}

std::unique_ptr<SegmentWords> DaemonTest::words_of(const std::string& chunk) const {
    return std::make_unique<SegmentWords>(name_space_, chunk);
}

void DaemonTest::expect_no_segments() const {
    auto left = segments();
    EXPECT_TRUE(left.empty()) << "segments left in /dev/shm: " << join(left);
}

}  // namespace mmm::test
