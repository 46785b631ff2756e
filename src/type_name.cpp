#include <mmm/type_name.hpp>

#include <array>
#include <utility>

namespace mmm::detail {
namespace {

// Extracts "X" from "... [with T = X; ...]" (g++) or "... [T = X]" (clang++).
std::string_view extract_argument(std::string_view pretty) {
    auto start = pretty.find("T = ");
    if (start == std::string_view::npos) return pretty;
    start += 4;
    auto end = pretty.find(';', start);
    if (end == std::string_view::npos) end = pretty.rfind(']');
    if (end == std::string_view::npos || end < start) end = pretty.size();
    return pretty.substr(start, end - start);
}

bool is_ident(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

// Replaces whole-word occurrences of `from` by `to`.
void replace_words(std::string& s, std::string_view from, std::string_view to) {
    std::size_t pos = 0;
    while ((pos = s.find(from, pos)) != std::string::npos) {
        bool left_ok = pos == 0 || !is_ident(s[pos - 1]);
        bool right_ok = pos + from.size() >= s.size() || !is_ident(s[pos + from.size()]);
        if (left_ok && right_ok) {
            s.replace(pos, from.size(), to);
            pos += to.size();
        } else {
            pos += from.size();
        }
    }
}

}  // namespace

std::string normalize_type_name(std::string_view pretty) {
    std::string s(extract_argument(pretty));
    // Fundamental types: g++ and clang++ spell some differently; name integers by
    // signedness and width so that equal layouts compare equal.
    static constexpr std::array<std::pair<std::string_view, std::string_view>, 16> spellings{{
        {"long long unsigned int", "unsigned long long"},
        {"long long int", "long long"},
        {"long unsigned int", "unsigned long"},
        {"short unsigned int", "unsigned short"},
        {"long int", "long"},
        {"short int", "short"},
        {"unsigned long long", sizeof(long long) == 8 ? "uint64" : "ulonglong"},
        {"long long", sizeof(long long) == 8 ? "int64" : "longlong"},
        {"unsigned long", sizeof(long) == 8 ? "uint64" : "uint32"},
        {"unsigned int", "uint32"},
        {"unsigned short", "uint16"},
        {"signed char", "int8"},
        {"unsigned char", "uint8"},
        {"long", sizeof(long) == 8 ? "int64" : "int32"},
        {"short", "int16"},
        {"int", "int32"},
    }};
    for (const auto& [from, to] : spellings) replace_words(s, from, to);
    replace_words(s, "{anonymous}", "(anonymous namespace)");
    replace_words(s, "__cxx11", "");
    // Spacing: "int [3]" (g++) vs "int[3]" (clang++), "a, b" vs "a,b".
    std::string out;
    out.reserve(s.size());
    for (std::size_t i = 0; i < s.size(); ++i) {
        char c = s[i];
        if (c == ' ') {
            char next = i + 1 < s.size() ? s[i + 1] : '\0';
            char prev = out.empty() ? '\0' : out.back();
            if (next == '[' || next == '<' || next == '>' || next == ',' || next == '*' ||
                next == '&' || prev == ',' || prev == '<' || prev == ' ')
                continue;
        }
        out.push_back(c);
    }
    // "std::::x" produced by dropping __cxx11 collapses to "std::x".
    std::size_t p;
    while ((p = out.find("::::")) != std::string::npos) out.erase(p, 2);
    return out;
}

}  // namespace mmm::detail
