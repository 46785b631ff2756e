#include "prometheus_text.hpp"

#include <charconv>
#include <cmath>

namespace mmmctl {

std::string escape_label_value(std::string_view value) {
    std::string out;
    out.reserve(value.size());
    for (char c : value) {
        if (c == '\\')
            out += "\\\\";
        else if (c == '"')
            out += "\\\"";
        else if (c == '\n')
            out += "\\n";
        else
            out += c;
    }
    return out;
}

std::string escape_help(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (char c : text) {
        if (c == '\\')
            out += "\\\\";
        else if (c == '\n')
            out += "\\n";
        else
            out += c;
    }
    return out;
}

void PrometheusText::family(std::string_view name, std::string_view type, std::string_view help) {
    text_ += "# HELP ";
    text_ += name;
    text_ += ' ';
    text_ += escape_help(help);
    text_ += "\n# TYPE ";
    text_ += name;
    text_ += ' ';
    text_ += type;
    text_ += '\n';
}

void PrometheusText::labels(const Labels& labels) {
    if (labels.empty()) return;
    text_ += '{';
    for (std::size_t i = 0; i < labels.size(); ++i) {
        if (i > 0) text_ += ',';
        text_ += labels[i].first;
        text_ += "=\"";
        text_ += escape_label_value(labels[i].second);
        text_ += '"';
    }
    text_ += '}';
}

void PrometheusText::sample(std::string_view name, const Labels& l, std::uint64_t value) {
    text_ += name;
    labels(l);
    text_ += ' ';
    text_ += std::to_string(value);
    text_ += '\n';
}

void PrometheusText::sample(std::string_view name, const Labels& l, double value) {
    text_ += name;
    labels(l);
    text_ += ' ';
    if (std::isnan(value)) {
        text_ += "NaN";
    } else if (std::isinf(value)) {
        text_ += value > 0 ? "+Inf" : "-Inf";
    } else {
        // The shortest text that reads back as the same double.
        char buf[64];
        const auto end = std::to_chars(buf, buf + sizeof buf, value).ptr;
        text_.append(buf, end);
    }
    text_ += '\n';
}

}  // namespace mmmctl
