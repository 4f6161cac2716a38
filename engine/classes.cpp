#include "engine/classes.hpp"

#include "core/error.hpp"
#include "engine/encode.hpp"

#include <algorithm>

namespace smallarea::engine {

using nlohmann::json;

namespace {

const char* method_name(break_method m) {
    switch (m) {
    case break_method::equal: return "equal";
    case break_method::jenks: return "jenks";
    case break_method::quantile: break;
    }
    return "quantile";
}

} // namespace

std::string class_quantity(const data::measure_info& measure, const std::string& requested) {
    const bool percent = measure.kind == data::measure_kind::percent_only;
    std::string of = requested.empty() ? (percent ? "percent" : "rate") : requested;
    if (of != "rate" && of != "value" && of != "percent") throw bad_request("InvalidParameter", "of must be rate, value or percent");
    if (percent && of != "percent") throw disclosure_refused("PercentageOnly", "measure " + measure.id + " is served only as percentages");
    if (!percent && of == "percent") throw bad_request("InvalidParameter", "measure " + measure.id + " is a count: use of=rate or of=value");
    return of;
}

json classes_json(const table_result& t, const std::string& of, int classes, break_method method) {
    const auto& q = t.query;
    std::vector<double> values;
    std::vector<double> rounding_steps; // what one rounding step is worth in the unit of the breaks
    for (const auto& row : t.table.rows()) {
        if (of == "percent" && row.percent) values.push_back(static_cast<double>(*row.percent));
        if (of == "value" && row.value) values.push_back(static_cast<double>(*row.value));
        if (of == "rate" && row.rate_per_100_households) {
            values.push_back(*row.rate_per_100_households);
            rounding_steps.push_back(100.0 * static_cast<double>(q.dataset->policy.rounding_base) /
                                     static_cast<double>(*row.households));
        }
    }
    const auto breaks = compute_breaks(values, classes, method);
    double step = 0.0;
    if (of == "value") step = static_cast<double>(q.dataset->policy.rounding_base);
    if (of == "percent") step = 1.0;
    if (of == "rate" && !rounding_steps.empty()) {
        std::nth_element(rounding_steps.begin(), rounding_steps.begin() + static_cast<long>(rounding_steps.size() / 2), rounding_steps.end());
        step = rounding_steps[rounding_steps.size() / 2];
    }
    json classes_json = json::array();
    bool within_error = false;
    double lower = values.empty() ? 0.0 : *std::min_element(values.begin(), values.end());
    for (std::size_t i = 0; i < breaks.size(); ++i) {
        std::size_t count = 0;
        for (const double v : values) {
            if ((i == 0 ? v >= lower : v > breaks[i - 1]) && v <= breaks[i]) ++count;
        }
        const double width = breaks[i] - (i == 0 ? lower : breaks[i - 1]);
        const bool narrow = i > 0 && step > 0.0 && width < step;
        within_error = within_error || narrow;
        classes_json.push_back(json{{"min", i == 0 ? lower : breaks[i - 1]}, {"max", breaks[i]}, {"count", count},
                                    {"narrower_than_rounding", narrow}});
    }
    json body{{"dataset", q.dataset->id}, {"measure", q.measure->id}, {"period", q.period}, {"level", q.level},
              {"of", of}, {"method", method_name(method)},
              {"breaks", breaks}, {"classes", classes_json}, {"values", values.size()},
              {"rounding_step", step}, {"warning", within_error ? json("a class is narrower than the rounding error: "
                                                                       "areas either side of a break may not differ")
                                                                : json(nullptr)},
              {"classification", disclosure::to_string(q.dataset->policy.classification)},
              {"disclosure", disclosure_json(*q.dataset)}};
    return body;
}

} // namespace smallarea::engine
