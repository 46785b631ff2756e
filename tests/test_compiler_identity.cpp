// The same struct is the same mmm type whichever compiler built the process
// (DESIGN.md: "The same struct built by g++ and by clang++ must match").
// typed_helper_clang is tests/helpers/typed_helper.cpp built by clang++
// against the g++-built libmmm; this test binary is built by g++.
#include "daemon_test.hpp"
#include "error_of.hpp"
#include "shared_types.hpp"
#include "test_paths.hpp"

#include <mmm/mmm.hpp>

#include <gtest/gtest.h>

#include <map>
#include <sstream>
#include <string>

namespace {

using namespace std::chrono_literals;
using mmm_test::Coordinate;
using mmm_test::Reading;
using mmm_test::ReadingV2;
using mmm_test::Sample;
using mmm_test::Triple;

constexpr std::size_t kCount = 5;

class CompilerIdentityTest : public mmm::test::DaemonTest,
                             public ::testing::WithParamInterface<std::string> {
  protected:
    // The helper binary for the parameter: "project" (control) or "clang".
    std::string helper() {
        if (GetParam() == "project") return mmm::test::helper_path("typed_helper");
        return mmm::test::clang_helper_path();
    }
    bool skip_without_clang() {
        if (GetParam() == "clang" && mmm::test::clang_helper_path().empty()) return true;
        return false;
    }

    void create_here(const std::string& prefix) {
        auto coords = client().create<Coordinate>(prefix + ".coord", kCount);
        auto samples = client().create<Sample>(prefix + ".sample", kCount);
        auto triples = client().create<Triple>(prefix + ".triple", kCount);
        auto readings = client().create<Reading>(prefix + ".reading", kCount);
        for (std::size_t i = 0; i < kCount; ++i) {
            coords.write(i, mmm_test::coordinate_at(i));
            samples.write(i, mmm_test::sample_at(i));
            triples.write(i, mmm_test::triple_at(i));
            readings.write(i, mmm_test::reading_at(i));
        }
    }
};

TEST_P(CompilerIdentityTest, HelperNamesTypesLikeThisBuild) {
    if (skip_without_clang()) GTEST_SKIP() << mmm::test::clang_helper_skip_reason();
    auto child = start_program(helper(), {"type-names"});
    auto status = child.wait_for_exit(10s);
    ASSERT_TRUE(status.ok()) << status.describe() << "\n" << child.out();
    std::map<std::string, std::string> names;
    std::istringstream in(child.out());
    std::string key, value;
    for (int i = 0; i < 16 && in >> key && std::getline(in >> std::ws, value); ++i)
        names[key] = value;
    EXPECT_EQ(names["Coordinate"], mmm::type_name<Coordinate>());
    EXPECT_EQ(names["Sample"], mmm::type_name<Sample>());
    EXPECT_EQ(names["Triple"], mmm::type_name<Triple>());
    EXPECT_EQ(names["Reading"], "mmm_test::Reading");
}

TEST_P(CompilerIdentityTest, HelperOpensChunksCreatedHere) {
    if (skip_without_clang()) GTEST_SKIP() << mmm::test::clang_helper_skip_reason();
    create_here("here");
    auto child = start_program(helper(), {"check-types", "here", std::to_string(kCount)});
    auto status = child.wait_for_exit(10s);
    EXPECT_TRUE(status.ok()) << status.describe() << "\n" << child.out();
    EXPECT_NE(child.out().find("mismatches 0"), std::string::npos) << child.out();
}

TEST_P(CompilerIdentityTest, ChunksCreatedByHelperOpenHere) {
    if (skip_without_clang()) GTEST_SKIP() << mmm::test::clang_helper_skip_reason();
    auto child = start_program(helper(), {"create-types", "there", std::to_string(kCount)});
    auto status = child.wait_for_exit(10s);
    ASSERT_TRUE(status.ok()) << status.describe() << "\n" << child.out();

    auto coords = client().open<const Coordinate>("there.coord");
    auto samples = client().open<const Sample>("there.sample");
    auto triples = client().open<const Triple>("there.triple");
    // A described struct: the helper's compiler laid it out, this one checks
    // the schema field by field, and it agrees.
    auto readings = client().open<const Reading>("there.reading");
    ASSERT_EQ(readings.size(), kCount);
    ASSERT_EQ(coords.size(), kCount);
    ASSERT_EQ(samples.size(), kCount);
    ASSERT_EQ(triples.size(), kCount);
    for (std::size_t i = 0; i < kCount; ++i) {
        SCOPED_TRACE(i);
        EXPECT_TRUE(coords.read(i) == mmm_test::coordinate_at(i));
        EXPECT_TRUE(samples.read(i) == mmm_test::sample_at(i));
        EXPECT_EQ(triples.read(i), mmm_test::triple_at(i));
        EXPECT_TRUE(readings.read(i) == mmm_test::reading_at(i));
    }
    // The helper's type is still distinguished from a different one.
    using SixUnsigned = std::array<unsigned int, 6>;  // same size, other type
    EXPECT_THROW(client().open<SixUnsigned>("there.triple"), mmm::Error);
}

// A writer with one version of a struct and a reader with another (the same
// type name, pinned with type_name_v): the reader is told which field differs,
// in both directions, whichever compiler built the writer.
TEST_P(CompilerIdentityTest, AnotherVersionOfAStructGetsTheFieldThatDiffers) {
    if (skip_without_clang()) GTEST_SKIP() << mmm::test::clang_helper_skip_reason();
    auto writer = start_program(helper(), {"create-reading-v2", "v2"});
    ASSERT_TRUE(writer.wait_for_exit(10s).ok()) << writer.out();
    auto e = mmm::test::thrown([&] { client().open<const Reading>("v2"); });
    ASSERT_TRUE(e);
    EXPECT_EQ(e->code(), mmm::Errc::type_mismatch);
    EXPECT_NE(std::string(e->what()).find("field 'value' is float32 at offset 24 in the chunk, "
                                          "float64 in mmm_test::Reading"),
              std::string::npos)
        << e->what();
    // The other way round: this process writes each version, the helper reads
    // version 1: fine for version 1, the field-level error for version 2.
    client().remove("v2");
    auto v1 = client().create<Reading>("v1", 2);
    auto ok = start_program(helper(), {"open-reading", "v1"});
    EXPECT_TRUE(ok.wait_for_exit(10s).ok()) << ok.out();
    auto v2 = client().create<ReadingV2>("v2", 2);
    auto bad = start_program(helper(), {"open-reading", "v2"});
    auto status = bad.wait_for_exit(10s);
    EXPECT_EQ(status.code, 64 + static_cast<int>(mmm::Errc::type_mismatch)) << bad.out();
    EXPECT_NE(bad.out().find("field 'value' is float32 at offset 24 in the chunk, float64 in "
                             "mmm_test::Reading"),
              std::string::npos)
        << bad.out();
    v1.remove();
    v2.remove();
}

INSTANTIATE_TEST_SUITE_P(Compilers, CompilerIdentityTest, ::testing::Values("project", "clang"),
                         [](const auto& param_info) { return param_info.param; });

}  // namespace
