#include "engine/values.hpp"

#include "engine/classes.hpp"
#include "engine/encode.hpp"

namespace smallarea::engine {

using nlohmann::json;

int class_index(const std::vector<double>& breaks, double v) {
    if (breaks.empty()) return -1;
    for (std::size_t i = 0; i < breaks.size(); ++i) {
        if (v <= breaks[i]) return static_cast<int>(i);
    }
    return static_cast<int>(breaks.size()) - 1; // not reached: the last break is the maximum
}

json values_json(const table_result& t, const values_classes& how, std::int64_t release) {
    const auto& q = t.query;
    const bool percent = t.table.kind() == disclosure::measure_kind::percent_only;
    // The legend's own document, so the classes here are /api/breaks' to the last digit (one code path).
    json classed = classes_json(t, how.of, how.classes, how.method);
    const auto breaks = classed["breaks"].get<std::vector<double>>();

    // Columnar, not one object per area: the keys are said once instead of once per area (0.25x the bytes on the
    // sample's LSOAs, README), and a client walks parallel arrays straight into setFeatureState. Flags are index
    // lists for the same reason: most areas have none set.
    json codes = json::array(), value = json::array(), rate = json::array(), pct = json::array(), cls = json::array();
    json suppressed = json::array(), missing = json::array(), estimated = json::array(), not_apportioned = json::array();
    const auto& rows = t.table.rows();
    for (std::size_t i = 0; i < rows.size(); ++i) {
        const auto& r = rows[i];
        codes.push_back(r.code);
        std::optional<double> quantity;
        if (percent) {
            pct.push_back(r.percent ? json(*r.percent) : json(nullptr));
            if (r.percent) quantity = static_cast<double>(*r.percent);
        } else {
            value.push_back(r.value ? json(*r.value) : json(nullptr));
            rate.push_back(r.rate_per_100_households ? json(*r.rate_per_100_households) : json(nullptr));
            if (how.of == "value" && r.value) quantity = static_cast<double>(*r.value);
            if (how.of == "rate" && r.rate_per_100_households) quantity = *r.rate_per_100_households;
        }
        cls.push_back(quantity ? class_index(breaks, *quantity) : -1);
        if (r.suppressed) suppressed.push_back(i);
        if (r.missing) missing.push_back(i);
        if (r.estimated) estimated.push_back(i);
        if (r.not_apportioned) not_apportioned.push_back(i);
    }
    json body{{"dataset", q.dataset->id},
              {"measure", q.measure->id},
              {"kind", data::to_string(q.measure->kind)},
              {"period", q.period},
              {"level", q.level},
              {"vintage", q.vintage},
              {"release", release},
              {"classification", disclosure::to_string(q.dataset->policy.classification)},
              {"disclosure", disclosure_json(*q.dataset)},
              {"count", rows.size()},
              {"codes", std::move(codes)}};
    if (percent) {
        body["percent"] = std::move(pct);
    } else {
        body["value"] = std::move(value);
        body["rate"] = std::move(rate);
    }
    body["class"] = std::move(cls);
    body["of"] = classed["of"];
    body["method"] = classed["method"];
    body["breaks"] = classed["breaks"];
    body["classes"] = classed["classes"];
    body["rounding_step"] = classed["rounding_step"];
    body["warning"] = classed["warning"];
    body["suppressed"] = std::move(suppressed);
    body["missing"] = std::move(missing);
    body["estimated"] = std::move(estimated);
    body["not_apportioned"] = std::move(not_apportioned);
    return body;
}

} // namespace smallarea::engine
