#pragma once
// Encoders: they accept only protected tables (table_result holds a disclosure::protected_table), so no raw
// internal value can reach a response through them.

#include "engine/catalog.hpp"

#include <nlohmann/json.hpp>

#include <string>

namespace smallarea::engine {

/// A period whose coverage (areas with a value / areas of the level) reaches this is "complete" for the map's
/// default-period advice.
inline constexpr double complete_coverage = 0.95;

/// What a response says when rounding dominates a figure (the uncertainty bound is at least half the value).
inline constexpr const char* rounding_suggestion =
    "rounding dominates some figures (the uncertainty is at least half the value): many small rounded cells were "
    "summed, so the figure could be of little value; use a coarser level (LSOA or local authority)";

/// Dataset metadata as served by /api/datasets: measures, periods, classification, licence, the rule in words
/// and as data.
/// With a snapshot: also each period's coverage (areas with a value / areas of the level) and the latest period
/// whose coverage is at least 95%.
nlohmann::json dataset_json(const data::dataset_info& d, const snapshot* s = nullptr);

/// For a table summed into a best-fit level (wards) from the dataset's finer level: how its figures were made ("" for
/// the exact hierarchy), so every ward figure says it is a best fit.
/// What a table moved to another boundary vintage says about its figures (empty when q is on its own vintage).
std::string crosswalk_note(const table_query& q);
std::string best_fit_note(const table_query& q);

/// Whether any row's rounding error is at least half its value (files then carry rounding_suggestion).
bool any_rounding_dominates(const table_result& t);

/// "Published (Open Government Licence v3.0)" from the dataset's licence, or "Internal MI: not for onward sharing".
std::string classification_label(const data::dataset_info& d);

/// The disclosure block every table-like response carries.
nlohmann::json disclosure_json(const data::dataset_info& d);
/// When one period's figures were published and whether they were revised: {period, first_release, release,
/// revision, revised, revised_at} (a store from before revisions were kept: first published in the dataset's release).
nlohmann::json revision_json(const data::dataset_info& d, const std::string& period);
/// The same in words for files ("as first published in release 3", "revised in release 5 (revision 1) on ...").
std::string revision_text(const data::dataset_info& d, const std::string& period);

/// One protected row as served in tables: code, name, households, value/rate/uncertainty (or percent), flags.
nlohmann::json protected_row_json(const disclosure::protected_row& r, bool percent);

/// /api/table as JSON: metadata, one row per area, the total row.
nlohmann::json table_json(const table_result& t, const snapshot& s);

/// A CSV field, quoted when it holds a comma, quote or line break; a leading = + - @ is prefixed with ' so a
/// spreadsheet never evaluates it as a formula.
std::string csv_field(const std::string& text);

/// GET /api/areas: {level, vintage, count, areas: [{code, name, level, vintage, has_boundary, parents: {level:
/// {code, name}}, households (null when unknown), residents...}]} for `areas` (indices into s.areas()).
nlohmann::json areas_json(const snapshot& s, const std::vector<std::size_t>& areas, const std::string& level, int vintage);
/// The same as CSV: code,name,level,vintage,households,residents,parents (parent codes separated by spaces).
std::string areas_csv(const snapshot& s, const std::vector<std::size_t>& areas);

} // namespace smallarea::engine
