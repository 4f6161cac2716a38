#include "engine/series.hpp"

#include "core/error.hpp"
#include "core/utc.hpp"
#include "engine/encode.hpp"
#include "engine/encode_xlsx.hpp"

#include <regex>

namespace smallarea::engine {

using nlohmann::json;

namespace {

bool valid_period_bound(const std::string& p) {
    static const std::regex form(R"(\d{4}(-(0[1-9]|1[0-2]))?)");
    return std::regex_match(p, form);
}

/// Periods compare as text (YYYY-MM and YYYY); a year bound covers its months: from=2017 starts at "2017",
/// which sorts before "2017-01", and to=2017 ends after "2017-12".
bool in_range(const std::string& period, const std::string& from, const std::string& to) {
    if (!from.empty() && period < from) return false;
    if (!to.empty() && period > to && period.compare(0, to.size(), to) != 0) return false;
    return true;
}

/// The dataset and measure as make_query validates them (the default measure, UnknownMeasure, the base of a
/// percentage refused).
series_result header(const snapshot& s, const data::dataset_info& d, const std::string& measure) {
    const auto q = s.make_query(d.id, measure, "", "", "", "");
    series_result r;
    r.dataset = q.dataset;
    r.measure = q.measure;
    return r;
}

} // namespace

std::vector<std::string> periods_between(const data::dataset_info& d, const std::string& from, const std::string& to) {
    for (const auto* bound : {&from, &to}) {
        if (!bound->empty() && !valid_period_bound(*bound)) {
            throw bad_request("InvalidParameter", "from and to are periods (YYYY-MM or YYYY), got \"" + bound->substr(0, 20) + "\"");
        }
    }
    if (!from.empty() && !to.empty() && from > to && from.compare(0, to.size(), to) != 0) {
        throw bad_request("InvalidParameter", "from (" + from + ") is after to (" + to + ")");
    }
    std::vector<std::string> out;
    for (const auto& p : d.periods) {
        if (in_range(p, from, to)) out.push_back(p);
    }
    return out;
}

series_result area_series(const snapshot& s, const series_tables& tables, const data::dataset_info& d, const std::string& measure,
                          std::size_t area, const std::string& from, const std::string& to) {
    const auto& a = s.areas()[area];
    auto r = header(s, d, measure);
    r.code = a.code;
    r.name = a.name;
    r.level = a.level;
    r.vintage = a.vintage;
    for (const auto& p : periods_between(d, from, to)) {
        // The whole level's table of each period (cached by the server), so a series costs lookups, not tables.
        const auto q = s.make_query(d.id, r.measure->id, p, a.level, std::to_string(a.vintage), "");
        series_point point{p, tables(q), nullptr};
        const auto& t = *point.table;
        if (!t.row_of_area.empty()) {
            const auto row = t.row_of_area[area];
            if (row >= 0) point.row = &t.table.rows()[static_cast<std::size_t>(row)];
        } else {
            for (std::size_t i = 0; i < t.row_areas.size(); ++i) {
                if (t.row_areas[i] == area) point.row = &t.table.rows()[i];
            }
        }
        r.points.push_back(std::move(point));
    }
    return r;
}

series_result bespoke_series(const snapshot& s, data::database& db, const data::dataset_info& d, const std::string& measure,
                             const bespoke_area& b, const std::string& from, const std::string& to) {
    auto r = header(s, d, measure);
    r.code = "bespoke:" + b.record.id;
    r.name = b.record.name;
    r.level = "bespoke";
    r.vintage = b.record.vintage;
    for (const auto& p : periods_between(d, from, to)) {
        auto q = s.make_query(d.id, r.measure->id, p, "", "", "");
        add_bespoke_groups(q, {&b});
        refuse_percentages_on_user_areas(q);
        series_point point{p, std::make_shared<const table_result>(s.table(db, q)), nullptr};
        if (!point.table->table.rows().empty()) point.row = &point.table->table.rows().front();
        r.points.push_back(std::move(point));
    }
    return r;
}

json series_json(const series_result& r) {
    const auto& d = *r.dataset;
    const bool percent = r.measure->kind == data::measure_kind::percent_only;
    json periods = json::array();
    for (const auto& p : r.points) {
        json row;
        if (p.row) {
            row = protected_row_json(*p.row, percent);
            row.erase("code");
            row.erase("name");
        } else {
            row = json{{"missing", true}};
        }
        row["period"] = p.period;
        row["period_name"] = period_name(p.period);
        row["revision"] = revision_json(d, p.period);
        periods.push_back(std::move(row));
    }
    return json{{"dataset", json{{"id", d.id}, {"title", d.title}, {"release", d.release}}},
                {"measure", json{{"id", r.measure->id}, {"title", r.measure->title}, {"kind", data::to_string(r.measure->kind)}}},
                {"area", json{{"code", r.code}, {"name", r.name}, {"level", r.level}, {"vintage", r.vintage}}},
                {"classification", disclosure::to_string(d.policy.classification)},
                {"disclosure", disclosure_json(d)},
                {"periods", std::move(periods)}};
}

export_file export_series(const series_result& r, const std::string& format, const file_options& options) {
    if (format != "csv" && format != "xlsx") throw unsupported_format("UnsupportedFormat", "a series exports as csv or xlsx");
    if (r.points.empty()) throw not_found("UnknownPeriod", "dataset " + r.dataset->id + " has no period in that range");
    // The encoders describe the dataset and rule from one table; the rows come from each period's table.
    const table_result& last = *r.points.back().table;
    row_layout layout;
    layout.label_header = {"code", "name", "level"};
    layout.geography = r.level == "bespoke" ? "bespoke area " + r.code + " (" + r.name + ")" : r.level + " " + r.code + " (" + r.name + ")";
    layout.first_period = r.points.front().period;
    layout.last_period = r.points.back().period;
    layout.notes.emplace_back("Series", "one row per period; each period's figure is that period's protected figure, "
                                        "as /api/table gives it");
    disclosure::protected_row none; // a period the area has no row for: missing, no figures
    none.missing = true;
    for (const auto& p : r.points) {
        layout.rows.push_back(layout_row{{r.code, r.name, r.level}, p.row ? p.row : &none, p.period});
    }
    const std::string filename = safe_name("series_" + r.dataset->id + "_" + r.measure->id + "_" + r.code + "_" + layout.first_period +
                                           "_" + layout.last_period) + "_" + utc_now_text(utc_precision::date) + "." + format;
    return layout_file(last, layout, options, format, filename, layout.rows.size());
}

} // namespace smallarea::engine
