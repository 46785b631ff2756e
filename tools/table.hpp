// A plain-text table with aligned columns, as `mmmctl list` prints it.
#pragma once

#include <iosfwd>
#include <string>
#include <vector>

namespace mmmctl {

class Table {
  public:
    enum class Align { left, right };
    struct Column {
        std::string title;
        Align align = Align::left;
    };

    explicit Table(std::vector<Column> columns);
    // Missing cells print empty; extra cells are ignored.
    void add_row(std::vector<std::string> cells);
    void print(std::ostream& out) const;

  private:
    std::vector<Column> columns_;
    std::vector<std::vector<std::string>> rows_;
};

}  // namespace mmmctl
