#include "table.hpp"

#include <algorithm>
#include <ostream>

namespace mmmctl {

Table::Table(std::vector<Column> columns) : columns_(std::move(columns)) {}

void Table::add_row(std::vector<std::string> cells) {
    cells.resize(columns_.size());
    rows_.push_back(std::move(cells));
}

void Table::print(std::ostream& out) const {
    std::vector<std::size_t> widths(columns_.size());
    for (std::size_t c = 0; c < columns_.size(); ++c) {
        widths[c] = columns_[c].title.size();
        for (const auto& row : rows_) widths[c] = std::max(widths[c], row[c].size());
    }
    auto print_row = [&](auto cell_of) {
        std::string line;
        for (std::size_t c = 0; c < columns_.size(); ++c) {
            const std::string& cell = cell_of(c);
            std::string pad(widths[c] - cell.size(), ' ');
            if (c > 0) line += "  ";
            line += columns_[c].align == Align::right ? pad + cell : cell + pad;
        }
        // No trailing blanks: the last column is left-aligned padding only.
        line.erase(line.find_last_not_of(' ') + 1);
        out << line << '\n';
    };
    print_row([&](std::size_t c) -> const std::string& { return columns_[c].title; });
    for (const auto& row : rows_)
        print_row([&](std::size_t c) -> const std::string& { return row[c]; });
}

}  // namespace mmmctl
