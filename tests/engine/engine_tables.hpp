#pragma once
// Small protected tables made in memory for the engine's unit tests: a dataset description and raw rows passed
// through disclosure::protect, as snapshot::table does, without a store.

#include "data/disclosure/table.hpp"
#include "data/store.hpp"
#include "engine/catalog.hpp"

#include <memory>
#include <string>
#include <vector>

namespace engine_tables {

namespace data = smallarea::data;
namespace disclosure = smallarea::disclosure;
namespace engine = smallarea::engine;

/// An internal OA dataset rounded to 20 by smallarea (the sample's SYNTHETIC work programme, in miniature), with
/// a count measure, a percentage-only measure and its base.
inline data::dataset_info internal_dataset(const std::string& level = "oa") {
    data::dataset_info d;
    d.id = "mi";
    d.title = "Work programme";
    d.publisher = "A provider";
    d.licence = "";
    d.attribution = "Provider MI";
    d.level = level;
    d.vintage = 2011;
    d.policy.classification = disclosure::classification::internal;
    d.policy.rounded_by = disclosure::rounded_by::smallarea;
    d.policy.rounding_base = 20;
    d.policy.percent_min_denominator = 10;
    d.release = 7;
    d.periods = {"2017-09", "2017-10"};
    data::measure_info referrals;
    referrals.id = "referrals";
    referrals.title = "Referrals";
    referrals.unit = "people";
    referrals.denominator = "households";
    data::measure_info group_a;
    group_a.id = "job_outcomes_group_a";
    group_a.title = "Job outcomes, group A";
    group_a.kind = data::measure_kind::percent_only;
    group_a.percent_of = "job_outcomes_total";
    data::measure_info total;
    total.id = "job_outcomes_total";
    total.title = "Job outcomes";
    total.kind = data::measure_kind::percent_base;
    total.sum_of = {"job_outcomes_group_a"};
    d.measures = {referrals, group_a, total};
    return d;
}

/// A published LSOA dataset rounded to 5 by its publisher (the claimant count, in miniature).
inline data::dataset_info published_dataset() {
    data::dataset_info d;
    d.id = "claimants";
    d.title = "Claimant count";
    d.publisher = "DWP / ONS via Nomis";
    d.licence = "Open Government Licence v3.0";
    d.attribution = "Contains public sector information licensed under the Open Government Licence v3.0.";
    d.level = "lsoa";
    d.vintage = 2011;
    d.policy.classification = disclosure::classification::published;
    d.policy.rounded_by = disclosure::rounded_by::publisher;
    d.policy.rounding_base = 5;
    d.release = 3;
    d.periods = {"2017-09"};
    data::measure_info m;
    m.id = "claimants";
    m.title = "Claimants";
    m.unit = "people";
    m.denominator = "households";
    d.measures = {m};
    return d;
}

/// A protected table of measure `measure` of d from raw rows (row_areas 0..n-1); d must outlive it.
inline engine::table_result protect(const data::dataset_info& d, const std::string& measure,
                                    const std::vector<disclosure::raw_row>& rows, const std::string& period = "2017-10") {
    engine::table_query q;
    q.dataset = &d;
    q.measure = d.find_measure(measure);
    q.period = period;
    q.level = d.level;
    q.vintage = d.vintage;
    disclosure::raw_table raw;
    raw.kind = q.measure->kind == data::measure_kind::percent_only ? disclosure::measure_kind::percent_only
                                                                   : disclosure::measure_kind::count;
    raw.rows = rows;
    std::vector<std::size_t> row_areas;
    for (std::size_t i = 0; i < rows.size(); ++i) row_areas.push_back(i);
    return engine::table_result{q, disclosure::protect(raw, d.policy), row_areas, {}};
}

} // namespace engine_tables
