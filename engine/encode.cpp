#include "engine/encode.hpp"

#include <cmath>
#include <cstdio>

namespace smallarea::engine {

using nlohmann::json;

bool any_rounding_dominates(const table_result& t) {
    for (const auto& r : t.table.rows()) {
        if (r.rounding_dominates()) return true;
    }
    return false;
}

std::string classification_label(const data::dataset_info& d) {
    if (d.policy.classification == disclosure::classification::internal) return "Internal MI: not for onward sharing";
    return d.licence.empty() ? std::string("Published") : "Published (" + d.licence + ")";
}

nlohmann::json disclosure_json(const data::dataset_info& d) {
    return json{{"classification", disclosure::to_string(d.policy.classification)},
                {"label", classification_label(d)},
                {"licence", d.licence},
                {"rounding_base", d.policy.rounding_base},
                {"rounded_by", disclosure::to_string(d.policy.rounded_by)},
                {"rounding_rule", "half_up"},
                {"suppression_threshold", d.policy.suppression_threshold},
                {"percent_min_denominator", d.policy.percent_min_denominator},
                {"totals", "sum of rounded cells"},
                {"percentages", "percentage-only measures: whole percentages of the served cells' own figures, on "
                                "standard geographies only (never on bespoke or drawn areas); suppressed cells are left "
                                "out of every aggregate"},
                {"rates", "per 100 households, over the cells that have both a value and a household count"},
                {"rule", disclosure::describe(d.policy)}};
}

namespace {

data::period_revision revision_of(const data::dataset_info& d, const std::string& period) {
    const auto it = d.revisions.find(period);
    return it != d.revisions.end() ? it->second : data::period_revision{d.release, d.release, 0, ""};
}

} // namespace

json revision_json(const data::dataset_info& d, const std::string& period) {
    const auto r = revision_of(d, period);
    return json{{"period", period}, {"first_release", r.first_release}, {"release", r.release}, {"revision", r.revision},
                {"revised", r.revision > 0}, {"revised_at", r.revised_at.empty() ? json(nullptr) : json(r.revised_at)}};
}

std::string revision_text(const data::dataset_info& d, const std::string& period) {
    const auto r = revision_of(d, period);
    if (r.revision == 0) return "as first published (release " + std::to_string(r.first_release) + ")";
    return "revised in release " + std::to_string(r.release) + " (revision " + std::to_string(r.revision) + ", on " +
           r.revised_at.substr(0, 10) + "); first published in release " + std::to_string(r.first_release);
}

nlohmann::json dataset_json(const data::dataset_info& d, const snapshot* s) {
    json measures = json::array();
    for (const auto& m : d.measures) {
        if (m.kind == data::measure_kind::percent_base) continue; // never served, so not listed
        json j{{"id", m.id}, {"title", m.title}, {"unit", m.unit}, {"kind", data::to_string(m.kind)}};
        if (m.kind == data::measure_kind::count) j["denominator"] = m.denominator.empty() ? "households" : m.denominator;
        if (m.kind == data::measure_kind::percent_only) j["percent_of"] = m.percent_of;
        measures.push_back(std::move(j));
    }
    json out{{"id", d.id},
                {"title", d.title},
                {"publisher", d.publisher},
                {"licence", d.licence},
                {"attribution", d.attribution},
                {"classification", disclosure::to_string(d.policy.classification)},
                {"level", d.level},
                {"vintage", d.vintage},
                {"release", d.release},
                {"ingested_at", d.ingested_at},
                {"periods", d.periods},
                {"period_releases", [&] {
                     json list = json::array();
                     for (const auto& p : d.periods) list.push_back(revision_json(d, p));
                     return list;
                 }()},
                {"measures", std::move(measures)},
                {"disclosure", disclosure_json(d)}};
    if (s) {
        json coverage = json::array();
        json latest_complete = nullptr;
        for (const auto& c : s->coverage(d.id)) {
            const double share = c.areas > 0 ? static_cast<double>(c.areas_with_value) / static_cast<double>(c.areas) : 0.0;
            coverage.push_back(json{{"period", c.period}, {"areas", c.areas}, {"areas_with_value", c.areas_with_value},
                                    {"share", std::round(share * 10000.0) / 10000.0}});
            if (share >= complete_coverage) latest_complete = c.period;
        }
        out["coverage"] = std::move(coverage);
        out["latest_complete_period"] = latest_complete;
        // The boundary vintages its count measures can be shown on: its own, and each one a crosswalk reaches
        // (vintage=; percentage-only measures stay on its own).
        json vintages = json::array({d.vintage});
        for (const auto& [key, layer] : s->layers()) {
            (void)layer;
            if (key.level == d.level && key.vintage != d.vintage && s->crosswalk(d.level, d.vintage, key.vintage)) {
                vintages.push_back(key.vintage);
            }
        }
        out["vintages"] = std::move(vintages);
    }
    return out;
}

namespace {

json optional_number(const std::optional<std::int64_t>& v) { return v ? json(*v) : json(nullptr); }

// The rate is rounded once, to hundredths, by disclosure::set_rate: finer digits would only imply false precision.
json rate_json(const std::optional<double>& v) { return v ? json(*v) : json(nullptr); }

json row_json(const disclosure::protected_row& r, bool percent) {
    json j{{"code", r.code}, {"name", r.name}, {"households", optional_number(r.households)}};
    if (percent) {
        j["percent"] = optional_number(r.percent);
    } else {
        j["value"] = optional_number(r.value);
        j["rate_per_100_households"] = rate_json(r.rate_per_100_households);
        j["rate_households"] = optional_number(r.rate_households);
        j["rate_value"] = optional_number(r.rate_value); // a sum of protected cells: lets anyone check the rate
        j["uncertainty"] = r.uncertainty;
        j["rounding_dominates"] = r.rounding_dominates();
    }
    j["suppressed"] = r.suppressed;
    j["missing"] = r.missing;
    j["cells"] = r.cells;
    j["cells_with_value"] = r.cells_with_value;
    j["complete"] = r.complete();
    j["households_complete"] = r.households_complete();
    return j;
}

} // namespace

nlohmann::json protected_row_json(const disclosure::protected_row& r, bool percent) { return row_json(r, percent); }

std::string best_fit_note(const table_query& q) {
    if (!data::is_best_fit_level(q.level) || q.level == q.dataset->level) return {};
    return "best fit: each " + q.level + "'s figure is the sum of the protected figures of the whole " + q.dataset->level +
           "s the ONS best-fit lookup assigns to it (an area straddling a " + q.level +
           " boundary is counted whole in the " + q.level + " holding most of its population), so it may differ from a count "
           "made on the " + q.level + "'s own boundary";
}

std::string crosswalk_note(const table_query& q) {
    if (!q.crosswalked()) return {};
    const auto& d = *q.dataset;
    const std::string from = std::to_string(d.vintage), to = std::to_string(q.vintage);
    const bool apportioned = disclosure::may_apportion(d.policy);
    return "moved from " + d.level + " " + from + " to " + d.level + " " + to + " areas through the ONS crosswalk: an "
           "unchanged (U) or merged (M) area is the exact sum of the protected figures of its " + from + " areas; a piece of "
           "a split (S) or irregular (X) area " +
           (apportioned ? "is estimated from its " + from + " area's figure by Census households (estimated: true), with an "
                          "uncertainty covering any split"
                        : "would need apportioning, which internal MI never gets, so it has no value (not_apportioned: true)");
}

nlohmann::json table_json(const table_result& t, const snapshot& s) {
    const auto& d = *t.query.dataset;
    const std::string fit = best_fit_note(t.query); // a ward table from finer data: every figure says best fit
    const bool percent = t.table.kind() == disclosure::measure_kind::percent_only;
    json rows = json::array();
    for (std::size_t i = 0; i < t.table.rows().size(); ++i) {
        json row = row_json(t.table.rows()[i], percent);
        const auto& area = s.areas()[t.row_areas[i]];
        row["name"] = area.name;
        row["level"] = area.level;
        if (!fit.empty()) row["best_fit"] = true;
        if (t.query.crosswalked()) {
            const auto& r = t.table.rows()[i];
            row["estimated"] = r.estimated;
            row["not_apportioned"] = r.not_apportioned;
            if (i < t.row_change.size()) row["change"] = t.row_change[i] ? json(std::string(1, t.row_change[i])) : json(nullptr);
        }
        json parents = json::object();
        for (const auto id : area.ancestors) {
            if (const auto p = s.find_area_by_id(id)) parents[s.areas()[*p].level] = s.areas()[*p].code;
        }
        row["parents"] = std::move(parents);
        rows.push_back(std::move(row));
    }
    json out{{"dataset", json{{"id", d.id}, {"title", d.title}, {"publisher", d.publisher}, {"licence", d.licence},
                              {"attribution", d.attribution}, {"release", d.release}}},
             {"measure", json{{"id", t.query.measure->id}, {"title", t.query.measure->title},
                              {"unit", t.query.measure->unit}, {"kind", data::to_string(t.query.measure->kind)}}},
             {"period", t.query.period},
             {"revision", revision_json(d, t.query.period)},
             {"level", t.query.level},
             {"vintage", t.query.vintage},
             {"classification", disclosure::to_string(d.policy.classification)},
             {"disclosure", disclosure_json(d)},
             {"best_fit", !fit.empty()},
             {"best_fit_note", fit.empty() ? json(nullptr) : json(fit)},
             {"crosswalk", t.query.crosswalked() ? json{{"from_vintage", d.vintage}, {"to_vintage", t.query.vintage},
                                                        {"note", crosswalk_note(t.query)}}
                                                  : json(nullptr)},
             {"rows", std::move(rows)},
             {"total", row_json(t.table.total(), percent)},
             {"coverage", json{{"cells", t.table.total().cells}, {"cells_with_value", t.table.total().cells_with_value}}},
             {"rate_basis", "rates per 100 households are over the cells that have both a value and a Census household "
                            "count (rate_households); households sum the cells with a count"}};
    out["suggestion"] = any_rounding_dominates(t) ? json(rounding_suggestion) : json(nullptr);
    if (t.query.within) {
        const auto& w = s.areas()[*t.query.within];
        out["within"] = json{{"code", w.code}, {"name", w.name}, {"level", w.level}};
    }
    return out;
}

std::string csv_field(const std::string& text) {
    std::string value = text;
    if (!value.empty() && (value[0] == '=' || value[0] == '+' || value[0] == '-' || value[0] == '@')) {
        value.insert(value.begin(), '\'');
    }
    if (value.find_first_of(",\"\r\n") == std::string::npos) return value;
    std::string out = "\"";
    for (const char c : value) {
        if (c == '"') out += '"';
        out += c;
    }
    return out + "\"";
}

json areas_json(const snapshot& s, const std::vector<std::size_t>& areas, const std::string& level, int vintage) {
    json rows = json::array();
    for (const auto i : areas) {
        const auto& a = s.areas()[i];
        json parents = json::object();
        for (const auto id : a.ancestors) {
            if (const auto p = s.find_area_by_id(id)) {
                parents[s.areas()[*p].level] = json{{"code", s.areas()[*p].code}, {"name", s.areas()[*p].name}};
            }
        }
        json row{{"code", a.code}, {"name", a.name}, {"level", a.level}, {"vintage", a.vintage},
                 {"has_boundary", a.has_geometry}, {"parents", parents}};
        for (const auto& [name, value] : a.denominators) row[name] = value;
        if (!row.contains("households")) row["households"] = nullptr;
        rows.push_back(std::move(row));
    }
    return json{{"level", level}, {"vintage", vintage}, {"count", rows.size()}, {"areas", rows}};
}

std::string areas_csv(const snapshot& s, const std::vector<std::size_t>& areas) {
    std::string out = "code,name,level,vintage,households,residents,parents\n";
    for (const auto i : areas) {
        const auto& a = s.areas()[i];
        std::string parents;
        for (const auto id : a.ancestors) {
            if (const auto p = s.find_area_by_id(id)) parents += (parents.empty() ? "" : " ") + s.areas()[*p].code;
        }
        auto denominator = [&](const char* name) {
            const auto it = a.denominators.find(name);
            return it == a.denominators.end() ? std::string() : std::to_string(it->second);
        };
        out += csv_field(a.code) + "," + csv_field(a.name) + "," + a.level + "," + std::to_string(a.vintage) + "," +
               denominator("households") + "," + denominator("residents") + "," + csv_field(parents) + "\n";
    }
    return out;
}

} // namespace smallarea::engine
