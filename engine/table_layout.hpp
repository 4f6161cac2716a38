#pragma once
// How the rows of a protected table are laid out in a file (XLSX, CSV) when they are not simply "one row per
// area of snapshot::areas": bespoke areas (one row per group) and the target finder (the top N, ranked).
// The statistics of every row still come from a disclosure::protected_row of the table; the layout only adds
// descriptive leading cells (code, name, rank, member count), so no raw figure can be put into a file this way.

#include "engine/catalog.hpp"

#include <cstdint>
#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace smallarea::engine {

/// A position in degrees, written with 6 decimal places (~0.1 m) where other decimals get 2.
struct degrees_label {
    double value = 0;
};

/// A descriptive leading cell: text, a whole number (rank, member count, band, metres on the National Grid), a
/// decimal derived only from the row's protected figures (a target's rate interval) or a position in degrees.
/// Never a raw statistic.
using layout_label = std::variant<std::string, std::int64_t, double, degrees_label>;

struct layout_row {
    std::vector<layout_label> labels;             ///< one per row_layout::label_header
    /// a row (or the total) of the table the layout is used with, or of the table of this row's `period` (a series)
    const disclosure::protected_row* row = nullptr;
    std::string period = {}; ///< the period of this row when rows span periods (a series); empty: the table's
    /// One column set per period (row_layout::column_periods): this area's row of each period's table (nullptr:
    /// no row that period). `row` is then the last period's, for what is said once per row.
    std::vector<const disclosure::protected_row*> period_rows = {};
};

struct row_layout {
    std::vector<std::string> label_header; ///< names of the leading cells, e.g. {"code", "name", "level"}
    std::vector<layout_row> rows;
    std::string geography;                 ///< what the rows are, in words (About "Geography", CSV "# geography")
    std::vector<std::pair<std::string, std::string>> notes; ///< further About lines / CSV metadata (selection, ranking)
    /// When rows span periods (a series): the first and last period. Empty: every row is the table's period.
    std::string first_period, last_period;
    /// One column set per period, in this order (a wide table on request: periods=all). Empty: one period.
    std::vector<std::string> column_periods;
};

/// The period(s) a layout's rows are for, in words for titles ("September 2017", "September 2017 to October
/// 2017") and as data (YYYY-MM, or an ISO 8601 interval YYYY-MM/YYYY-MM).
std::string layout_periods_text(const table_result& t, const row_layout& layout);
std::string layout_periods_data(const table_result& t, const row_layout& layout);

} // namespace smallarea::engine
