#pragma once
// The tabular file model shared by CSV, its CSV on the Web (CSVW) sidecar and the XLSX Data sheet: one column
// list for all three, so the sidecar always describes exactly the columns written. Like every encoder it reads
// figures only from a protected table (each layout row points at a disclosure::protected_row of it).

#include "engine/catalog.hpp"
#include "engine/table_layout.hpp"

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace smallarea::engine {

/// How a table file is written. Defaults are what GIS tools and spreadsheets read cleanly: the header on line 1,
/// one row per area, metadata in the sidecar / About sheet.
struct file_options {
    bool totals = false;   ///< append the total row (the sum of the rows' protected cells); a GIS would class it as an area
    bool comments = false; ///< CSV only: the older '#' metadata preamble before the header (dialect commentPrefix "#")
    /// CSV/XLSX of a table: one column set per period, in this order (periods=all|FROM/TO|P1,P2). Empty: one period.
    std::vector<std::string> period_columns;
};

/// The periods of `periods=` on a table file: "all", an inclusive range "FROM/TO" (YYYY-MM or YYYY bounds), or a
/// comma list of the dataset's periods. Throws bad_request("InvalidParameter") / not_found("UnknownPeriod").
std::vector<std::string> parse_period_columns(const data::dataset_info& d, const std::string& text);

/// Whether a file's figures include one whose rounding error is at least half its value (it then says so, rule 8).
bool rounding_dominates_in(const row_layout& layout);

/// A period as it goes into a column name: 2017-09 -> 2017_09.
std::string period_suffix(const std::string& period);

/// One column of a table file: its name (CSV header), a human title, a CSVW datatype (string, integer, decimal,
/// boolean, date) and what it holds.
struct file_column {
    std::string name;
    std::string title;
    std::string datatype;
    std::string description;
};

/// The measure's column name ("claimants"; "referrals"), or measure_percent for a percentage-only measure.
/// A measure id that would clash with a fixed column is prefixed "value_".
std::string value_column(const table_result& t);

/// "2017-09" -> "September 2017"; "2017" -> "2017"; anything else unchanged.
std::string period_name(const std::string& period);
/// "2017-09" -> "2017-09-01", "2017" -> "2017-01-01" (the ISO date a period starts); "" when not a period.
std::string period_start(const std::string& period);
/// The first day after the period ("2017-09" -> "2017-10-01"); "" when not a period.
std::string period_end(const std::string& period);

/// Query option parsing for table files: totals=true|false (default false, or true with preamble=comments,
/// as the older files were), preamble=comments|none. Throws bad_request("InvalidParameter").
file_options parse_file_options(const std::string& totals, const std::string& preamble);

/// The columns of a file: the layout's leading cells, period, period_name, classification, households, the
/// measure (and its rate per 100 households and uncertainty) or its percent, then the rule-8 flags.
std::vector<file_column> file_columns(const table_result& t, const row_layout& layout);

/// The CSV: header on line 1 (unless options.comments), one line per layout row; numbers unquoted, empty for null.
std::string layout_csv(const table_result& t, const row_layout& layout, const file_options& options = {});

/// /api/table as CSV: layout_csv of table_layout (parent codes; the total row only with options.totals).
std::string table_csv(const table_result& t, const snapshot& s, const file_options& options = {});

/// The W3C CSV on the Web metadata (application/csvm+json) describing layout_csv's output at `csv_url`: title,
/// publisher, licence, attribution, classification, rounding rule, period, geography, and every column with its
/// datatype.
nlohmann::json csv_metadata(const table_result& t, const row_layout& layout, const file_options& options,
                            const std::string& csv_url);

/// The licence's URL where it is a known one (Open Government Licence v3.0), else "".
std::string licence_url(const std::string& licence);

} // namespace smallarea::engine
