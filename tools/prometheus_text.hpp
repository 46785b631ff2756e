// The Prometheus text exposition format (version 0.0.4), as `mmmctl metrics`
// writes it for node_exporter's textfile collector: one HELP and one TYPE line
// per metric family, then its samples.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace mmmctl {

// A label value with backslash, double quote and newline escaped (\\, \", \n).
std::string escape_label_value(std::string_view value);
// HELP text with backslash and newline escaped.
std::string escape_help(std::string_view text);

class PrometheusText {
  public:
    using Labels = std::vector<std::pair<std::string, std::string>>;

    // Starts a family: `type` is "gauge" or "counter". Samples follow with sample().
    void family(std::string_view name, std::string_view type, std::string_view help);
    // A sample of the current family (`name` is the family's, or with a suffix
    // such as _total for a counter).
    void sample(std::string_view name, const Labels& labels, double value);
    void sample(std::string_view name, const Labels& labels, std::uint64_t value);

    const std::string& text() const { return text_; }

  private:
    void labels(const Labels& labels);
    std::string text_;
};

}  // namespace mmmctl
