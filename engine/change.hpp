#pragma once
// Change between two periods of one dataset measure (compare=PERIOD on tables and tiles): the difference of the
// protected figures of the same area in both periods, never of raw ones, with its uncertainty (the sum of both
// periods' rounding bounds). A difference no larger than that uncertainty is "no change within rounding": the
// true figures may not have moved at all.

#include "engine/catalog.hpp"

#include <nlohmann/json.hpp>

#include <optional>
#include <string>

namespace smallarea::engine {

struct change_row {
    /// false when either period has no figure (missing, suppressed) or does not cover every cell of the area
    /// (rule 8: a partial aggregate in either period would make the difference one of coverage); then every
    /// figure below is unset.
    bool comparable = false;
    std::optional<std::int64_t> value;            ///< counts: value now - value then
    std::optional<double> rate_per_100_households; ///< counts: rate now - rate then (hundredths)
    std::optional<std::int64_t> percent;          ///< percentage-only: percentage points now - then
    double uncertainty = 0;                       ///< bound on |change| from rounding: the sum of both bounds
    std::optional<double> rate_uncertainty;       ///< the same in rate units (each bound per 100 households)
    bool within_rounding = false;                 ///< |change| <= uncertainty
};

/// The change from `then` to `now` of one area's protected rows (rows of two protected tables of the same
/// dataset, measure and level).
change_row compare_rows(const disclosure::protected_row& now, const disclosure::protected_row& then, bool percent);

/// {"period": then_period, "comparable", "value"|"percent", "rate_per_100_households", "uncertainty",
/// "rate_uncertainty", "within_rounding"} (figures null when not comparable).
nlohmann::json change_json(const change_row& c, const std::string& then_period, bool percent);

/// The query of the period to compare with: q at `period` (same dataset, measure, level, vintage, within).
/// Throws as make_query (404 UnknownPeriod) and bad_request("InvalidParameter") when it is q's own period.
///
/// With `dataset_id` (compare_dataset=): that dataset's `measure_id` (default: q's measure id when it has one, else
/// its first) at `period` (default: its latest), on q's level and vintage (moved there through a crosswalk when it
/// is on another vintage: IoD 2019 on 2011 LSOAs against IoD 2025 on 2021 ones). Refused with
/// bad_request("InvalidParameter") when the measures are of different kinds (a count against a percentage) or the
/// datasets of different classifications (a change of internal against published figures would be labelled as
/// neither). The caller must authorize the compared dataset as it does q's.
table_query compare_query(const snapshot& s, const table_query& q, const std::string& period,
                          const std::string& dataset_id = "", const std::string& measure_id = "");

/// Adds to a /api/table document of `now` (table_json) the change since `then`: "change" on each row (the same
/// area's row of `then`; not comparable when it has none) and on the total, and a top-level "compare" block.
void add_changes(nlohmann::json& table_doc, const table_result& now, const table_result& then);

} // namespace smallarea::engine
