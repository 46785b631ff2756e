// Chunk names, type-name normalisation (g++ and clang++ must agree), the
// pinned names of mmm::type_name_v, text escaping. Starts no daemon.
#include "names.hpp"

#include <mmm/detail/text.hpp>
#include <mmm/mmm.hpp>

#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <map>
#include <string>

namespace unitnames {
struct Tick {
    std::int64_t at;
    double price;
};
struct Pinned {
    int v;
};
}  // namespace unitnames

// The documented customisation point: a stable name whatever the compiler says.
template <>
inline constexpr std::string_view mmm::type_name_v<unitnames::Pinned> = "my::Pinned/v2";

namespace {

using mmm::detail::name_problem;
using mmm::detail::normalize_type_name;

TEST(Names, ValidChunkNames) {
    for (const std::string& ok : {std::string("a"), std::string("coords"), std::string("A-b_c.9"),
                                  std::string(128, 'x'), std::string("x..y")})
        EXPECT_EQ(name_problem(ok), "") << ok;
    for (const std::string& bad : {std::string(), std::string(129, 'x'), std::string(".hidden"),
                                   std::string("a/b"), std::string("../up"), std::string("sp ace"),
                                   std::string("nul\0x", 5), std::string("\xc3\xa9t\xc3\xa9")})
        EXPECT_NE(name_problem(bad), "") << bad;
    // The reason never echoes the name (it may hold control bytes).
    EXPECT_EQ(name_problem("a\x1b").find('\x1b'), std::string::npos);
}

TEST(Names, NamespacesAndSegmentDirectories) {
    const std::string ns = mmm::detail::namespace_for("/no/such/dir");
    EXPECT_EQ(ns.size(), 12u);
    EXPECT_EQ(ns, mmm::detail::namespace_for("/no/such/dir"));
    EXPECT_NE(ns, mmm::detail::namespace_for("/no/such/other"));
    EXPECT_EQ(mmm::detail::segment_dir_for("/dev/shm", ns), "/dev/shm/mmm." + ns);
    EXPECT_EQ(mmm::detail::socket_path("/run/mmm"), "/run/mmm/mmmd.sock");
}

// What g++ and clang++ print for the same types normalises to one name.
TEST(TypeNames, CompilerSpellingsAgree) {
    const std::map<std::string, std::string> pairs{
        {"std::string_view f() [with T = long unsigned int]", "uint64"},
        {"std::string_view f() [T = unsigned long]", "uint64"},
        {"std::string_view f() [with T = std::array<long unsigned int, 3>; ...]",
         "std::array<uint64,3>"},
        {"std::string_view f() [T = std::array<unsigned long, 3>]", "std::array<uint64,3>"},
        {"std::string_view f() [with T = {anonymous}::Coordinate]",
         "(anonymous namespace)::Coordinate"},
        {"std::string_view f() [T = (anonymous namespace)::Coordinate]",
         "(anonymous namespace)::Coordinate"},
        {"std::string_view f() [with T = int [3]]", "int32[3]"},
        {"std::string_view f() [T = int[3]]", "int32[3]"},
        {"std::string_view f() [with T = short int]", "int16"},
        {"std::string_view f() [T = signed char]", "int8"},
    };
    for (const auto& [pretty, name] : pairs) EXPECT_EQ(normalize_type_name(pretty), name) << pretty;
}

TEST(TypeNames, DerivedAndPinned) {
    EXPECT_EQ(mmm::type_name<std::uint32_t>(), "uint32");
    EXPECT_EQ(mmm::type_name<unitnames::Tick>(), "unitnames::Tick");
    EXPECT_EQ(mmm::type_name<unitnames::Pinned>(), "my::Pinned/v2");
    EXPECT_EQ(mmm::detail::element_type_of<unitnames::Pinned>().name, "my::Pinned/v2");
}

TEST(Text, PrintableEscapesEveryByteATerminalWouldAct) {
    EXPECT_EQ(mmm::detail::printable("plain text 123"), "plain text 123");
    EXPECT_EQ(mmm::detail::printable("a\x1b[31mb"), "a\\x1b[31mb");
    EXPECT_EQ(mmm::detail::printable(std::string("n\0l", 3)), "n\\x00l");
    EXPECT_EQ(mmm::detail::printable("back\\slash"), "back\\x5cslash");
    EXPECT_EQ(mmm::detail::printable("\xc3\xa9\x9b\x07"), "\\xc3\\xa9\\x9b\\x07");
    EXPECT_EQ(mmm::detail::octal(0640), "0640");
    EXPECT_TRUE(mmm::detail::is_printable_ascii("Coordinate<int32,2>"));
    EXPECT_FALSE(mmm::detail::is_printable_ascii("tab\there"));
}

}  // namespace
