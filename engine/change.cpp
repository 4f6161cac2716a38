#include "engine/change.hpp"

#include "core/error.hpp"

#include <cmath>
#include <unordered_map>

namespace smallarea::engine {

using nlohmann::json;

namespace {

double hundredths(double x) { return std::round(x * 100.0) / 100.0; }

} // namespace

change_row compare_rows(const disclosure::protected_row& now, const disclosure::protected_row& then, bool percent) {
    change_row c;
    if (now.suppressed || then.suppressed || now.missing || then.missing || !now.complete() || !then.complete()) return c;
    if (percent) {
        if (!now.percent || !then.percent) return c;
        c.comparable = true;
        c.percent = *now.percent - *then.percent;
        c.uncertainty = 1.0; // each whole percentage is within half a point of its exact ratio
        c.within_rounding = std::abs(static_cast<double>(*c.percent)) <= c.uncertainty;
        return c;
    }
    if (!now.value || !then.value) return c;
    c.comparable = true;
    c.value = *now.value - *then.value;
    c.uncertainty = now.uncertainty + then.uncertainty;
    c.within_rounding = std::abs(static_cast<double>(*c.value)) <= c.uncertainty;
    if (now.rate_per_100_households && then.rate_per_100_households && now.rate_households && then.rate_households &&
        *now.rate_households > 0 && *then.rate_households > 0) {
        c.rate_per_100_households = hundredths(*now.rate_per_100_households - *then.rate_per_100_households);
        c.rate_uncertainty = hundredths(100.0 * now.uncertainty / static_cast<double>(*now.rate_households) +
                                        100.0 * then.uncertainty / static_cast<double>(*then.rate_households));
    }
    return c;
}

json change_json(const change_row& c, const std::string& then_period, bool percent) {
    auto number = [](const auto& v) { return v ? json(*v) : json(nullptr); };
    json j{{"period", then_period}, {"comparable", c.comparable}};
    if (percent) {
        j["percent"] = number(c.percent);
    } else {
        j["value"] = number(c.value);
        j["rate_per_100_households"] = number(c.rate_per_100_households);
        j["rate_uncertainty"] = number(c.rate_uncertainty);
    }
    j["uncertainty"] = c.comparable ? json(c.uncertainty) : json(nullptr);
    j["within_rounding"] = c.comparable ? json(c.within_rounding) : json(nullptr);
    return j;
}

void add_changes(json& doc, const table_result& now, const table_result& then) {
    const bool percent = now.table.kind() == disclosure::measure_kind::percent_only;
    std::unordered_map<std::size_t, std::size_t> then_row_of;
    for (std::size_t i = 0; i < then.row_areas.size(); ++i) then_row_of[then.row_areas[i]] = i;
    auto& rows = doc["rows"];
    for (std::size_t i = 0; i < now.table.rows().size() && i < rows.size(); ++i) {
        const auto it = then_row_of.find(now.row_areas[i]);
        const change_row c = it == then_row_of.end() ? change_row{}
                                                    : compare_rows(now.table.rows()[i], then.table.rows()[it->second], percent);
        rows[i]["change"] = change_json(c, then.query.period, percent);
    }
    doc["total"]["change"] = change_json(compare_rows(now.table.total(), then.table.total(), percent), then.query.period, percent);
    const bool other_dataset = then.query.dataset != now.query.dataset;
    if (other_dataset) {
        for (auto& row : rows) row["change"]["dataset"] = then.query.dataset->id;
        doc["total"]["change"]["dataset"] = then.query.dataset->id;
    }
    doc["compare"] = json{{"period", then.query.period},
                          {"dataset", then.query.dataset->id},
                          {"measure", then.query.measure->id},
                          {"vintage_moved", then.query.crosswalked()},
                          {"rule", "change = this period's protected figure minus the compared period's, never of raw "
                                   "figures; uncertainty = the sum of both periods' rounding bounds; within_rounding: the "
                                   "change is no larger than that, so the true figures may not have changed; only areas "
                                   "with a figure for every cell in both periods are compared"}};
}

table_query compare_query(const snapshot& s, const table_query& q, const std::string& period, const std::string& dataset_id,
                          const std::string& measure_id) {
    if (!dataset_id.empty() && dataset_id != q.dataset->id) {
        const auto& other = s.dataset(dataset_id);
        std::string measure = measure_id;
        if (measure.empty() && other.find_measure(q.measure->id)) measure = q.measure->id;
        auto then = s.make_query(other.id, measure, period, q.level, std::to_string(q.vintage), "");
        if (then.measure->kind != q.measure->kind) {
            throw bad_request("InvalidParameter", "compare_dataset: measure " + then.measure->id + " is " +
                                                      data::to_string(then.measure->kind) + ", " + q.measure->id + " is " +
                                                      data::to_string(q.measure->kind) + "; only like is compared with like");
        }
        if (other.policy.classification != q.dataset->policy.classification) {
            throw bad_request("InvalidParameter", "compare_dataset: " + other.id + " is " +
                                                      disclosure::to_string(other.policy.classification) + " and " + q.dataset->id +
                                                      " is " + disclosure::to_string(q.dataset->policy.classification) +
                                                      "; a change between them would be labelled as neither");
        }
        then.within = q.within;
        then.within_bespoke = q.within_bespoke;
        then.bespoke_reader = q.bespoke_reader;
        then.groups = q.groups;
        return then;
    }
    if (!measure_id.empty()) throw bad_request("InvalidParameter", "compare_measure needs compare_dataset");
    if (period == q.period) throw bad_request("InvalidParameter", "compare names the period itself (" + period + ")");
    auto then = s.make_query(q.dataset->id, q.measure->id, period, q.level, std::to_string(q.vintage), "");
    then.within = q.within;
    then.within_bespoke = q.within_bespoke;
    then.bespoke_reader = q.bespoke_reader;
    then.groups = q.groups;
    return then;
}

} // namespace smallarea::engine
