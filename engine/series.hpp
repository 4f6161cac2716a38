#pragma once
// Change over time for one area (GET /api/series): every period of one dataset measure for a standard area or a
// bespoke area, each period's figure taken from that period's protected table (a standard area's row of the
// level's table; a bespoke area's disclosure::aggregate of its members' protected cells), so a series says
// nothing a request for each period alone would not.

#include "engine/bespoke.hpp"
#include "engine/catalog.hpp"
#include "engine/encode_csv.hpp"
#include "engine/export.hpp"

#include <nlohmann/json.hpp>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace smallarea::engine {

/// The protected table of a query, from whatever caches it (the server's context::table_values).
using series_tables = std::function<std::shared_ptr<const table_result>(const table_query&)>;

/// One period of a series: the table it comes from (kept alive here) and the area's row in it (null when the
/// area has no row that period).
struct series_point {
    std::string period;
    std::shared_ptr<const table_result> table;
    const disclosure::protected_row* row = nullptr;
};

struct series_result {
    const data::dataset_info* dataset = nullptr;
    const data::measure_info* measure = nullptr;
    std::string code; ///< area code, or bespoke:ID
    std::string name;
    std::string level; ///< the area's level, or "bespoke"
    int vintage = 0;
    std::vector<series_point> points; ///< ascending period
};

/// The periods of d within [from, to] (each YYYY-MM or YYYY, either may be empty for an open end), ascending.
/// Throws bad_request("InvalidParameter") for a malformed bound or from > to.
std::vector<std::string> periods_between(const data::dataset_info& d, const std::string& from, const std::string& to);

/// The series of a standard area (index into s.areas(), at the dataset's level or coarser: make_query refuses
/// finer ones with LevelTooFine, other vintages with InvalidVintage).
series_result area_series(const snapshot& s, const series_tables& tables, const data::dataset_info& d, const std::string& measure,
                          std::size_t area, const std::string& from, const std::string& to);

/// The series of a bespoke area the caller may read (resolved by the caller). Percentage-only measures are
/// refused on bespoke areas (disclosure_refused("PercentageOnly")), as /api/table refuses them.
series_result bespoke_series(const snapshot& s, data::database& db, const data::dataset_info& d, const std::string& measure,
                             const bespoke_area& b, const std::string& from, const std::string& to);

/// {dataset, measure, area: {code, name, level, vintage}, classification, disclosure, periods: [{period,
/// period_name, value | percent, rate_per_100_households, uncertainty, households, suppressed, missing, cells,
/// cells_with_value, ...}]}: each period the fields of /api/table's row.
nlohmann::json series_json(const series_result& r);

/// The series as CSV (with its CSVW sidecar) or XLSX: one row per period, with the rule and classification.
export_file export_series(const series_result& r, const std::string& format, const file_options& options);

} // namespace smallarea::engine
