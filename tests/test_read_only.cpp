// open<const T> is a read-only mapping enforced by the kernel: write() does
// not compile, and a write through a const_cast pointer kills the process
// with SIGSEGV instead of changing the chunk.
#include "daemon_test.hpp"
#include "shared_types.hpp"

#include <mmm/mmm.hpp>

#include <unistd.h>

#include <gtest/gtest.h>

#include <csignal>
#include <cstdlib>
#include <string>

namespace {

using mmm_test::Coordinate;
using namespace std::chrono_literals;

template <class T>
concept can_write = requires(mmm::MemChunk<T>& c, const std::remove_const_t<T>& v) {
    c.write(0, v);
};
template <class T>
concept can_lock = requires(mmm::MemChunk<T>& c) {
    c.lock();
};

// The checks can fail: they accept the mutable chunk.
static_assert(can_write<int>);
static_assert(can_write<Coordinate>);
static_assert(can_lock<int>);
static_assert(!can_write<const int>, "write() must not compile for MemChunk<const T>");
static_assert(!can_write<const Coordinate>, "write() must not compile for MemChunk<const T>");
static_assert(!can_lock<const Coordinate>, "lock() must not compile for MemChunk<const T>");
// (A bare `static_assert(!requires(MemChunk<const int>& c) { c.write(0, 1); })`
// outside a template is a hard error in g++ 12, not `false`: hence the concepts.)
static_assert(
    std::is_same_v<decltype(std::declval<mmm::MemChunk<const int>&>().pointer(0)), const int*>);
static_assert(mmm::MemChunk<const int>::read_only && !mmm::MemChunk<int>::read_only);

// Sanitizers would turn the SIGSEGV into a report and exit(1): let it kill.
std::string with_segv_unhandled(const char* variable) {
    const char* old = std::getenv(variable);
    std::string value = old && *old ? std::string(old) + ":" : std::string();
    return value + "handle_segv=0";
}

class ReadOnlyTest : public mmm::test::DaemonTest {
  protected:
    mmm::MemChunk<Coordinate> make_chunk() {
        auto chunk = client().create<Coordinate>("ro", 2);
        chunk.write(0, Coordinate{10, 20});
        chunk.write(1, Coordinate{30, 40});
        return chunk;
    }
};

TEST_F(ReadOnlyTest, ReadOnlyOpenReadsTheValues) {
    auto chunk = make_chunk();
    auto ro = client().open<const Coordinate>("ro");
    EXPECT_EQ(ro.size(), 2u);
    EXPECT_EQ(ro.read(1).y, 40);
    chunk.write(1, Coordinate{31, 41});
    EXPECT_EQ(ro.read(1).x, 31) << "a read-only mapping sees later writes";
    EXPECT_EQ(ro[0].x, 10);
}

TEST_F(ReadOnlyTest, WriteThroughConstCastInAnotherProgramDiesOfSigsegv) {
    auto chunk = make_chunk();
    mmm::test::ChildOptions options;
    options.env["ASAN_OPTIONS"] = with_segv_unhandled("ASAN_OPTIONS");
    options.env["TSAN_OPTIONS"] = with_segv_unhandled("TSAN_OPTIONS");
    options.env["UBSAN_OPTIONS"] = with_segv_unhandled("UBSAN_OPTIONS");
    auto helper = start_helper("typed_helper", {"ro-write", "ro"}, options);
    auto mapped = helper.read_line(10s);
    ASSERT_TRUE(mapped.has_value()) << helper.out();
    ASSERT_EQ(*mapped, "mapped 10 20 30 40") << "the helper could not map the chunk read-only";
    auto status = helper.wait_for_exit(10s);
    EXPECT_TRUE(status.signaled(SIGSEGV)) << status.describe() << "\n" << helper.out();
    EXPECT_EQ(helper.out().find("wrote"), std::string::npos) << "the write went through";
    EXPECT_EQ(chunk.read(0).x, 10) << "the chunk changed under a read-only mapping";
}

TEST_F(ReadOnlyTest, WriteThroughConstCastInAForkedChildDiesOfSigsegv) {
    auto chunk = make_chunk();
    auto ro = client().open<const Coordinate>("ro");
    auto* target = const_cast<Coordinate*>(ro.pointer(1));

    pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
        // Child: default action for SIGSEGV (sanitizers install handlers).
        struct sigaction dfl {};
        dfl.sa_handler = SIG_DFL;
        ::sigaction(SIGSEGV, &dfl, nullptr);
        ::sigaction(SIGBUS, &dfl, nullptr);
        *static_cast<volatile int*>(&target->y) = -1;
        ::_exit(0);  // reached only if the mapping was writable
    }
    auto status = mmm::test::wait_for_pid(pid, 10s);
    EXPECT_TRUE(status.signaled(SIGSEGV))
        << status.describe() << (status.exited ? " (the write went through)" : "");
    EXPECT_EQ(chunk.read(1).y, 40);
}

TEST_F(ReadOnlyTest, WritableOpenOfTheSameChunkStillWrites) {
    auto chunk = make_chunk();
    auto ro = client().open<const Coordinate>("ro");
    auto rw = client().open<Coordinate>("ro");
    rw.write(0, Coordinate{5, 6});
    EXPECT_EQ(ro.read(0).x, 5);
    EXPECT_EQ(chunk.read(0).y, 6);
}

}  // namespace
