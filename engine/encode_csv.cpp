#include "engine/encode_csv.hpp"

#include "core/error.hpp"
#include "core/split.hpp"
#include "engine/series.hpp"
#include "engine/encode.hpp"
#include "engine/encode_xlsx.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdio>

namespace smallarea::engine {

using nlohmann::json;

namespace {

/// Columns every file has after the layout's own; a measure id equal to one of them gets a "value_" prefix.
const std::vector<std::string>& fixed_names() {
    static const std::vector<std::string> names{
        "code", "name", "level", "period", "period_name", "classification", "households", "uncertainty", "suppressed",
        "missing", "cells", "cells_with_value", "complete", "households_complete", "rounding_dominates"};
    return names;
}

bool valid_month(const std::string& p) {
    if (p.size() != 7 || p[4] != '-') return false;
    for (const std::size_t i : {0u, 1u, 2u, 3u, 5u, 6u}) {
        if (!std::isdigit(static_cast<unsigned char>(p[i]))) return false;
    }
    const int month = std::stoi(p.substr(5, 2));
    return month >= 1 && month <= 12;
}

bool valid_year(const std::string& p) {
    return p.size() == 4 && std::all_of(p.begin(), p.end(), [](unsigned char c) { return std::isdigit(c) != 0; });
}

std::string two_decimals(double v) {
    char buffer[32];
    std::snprintf(buffer, sizeof buffer, "%.2f", v);
    return buffer;
}

std::string label_type(const row_layout& layout, std::size_t column) {
    // The first row with a non-empty cell decides; labels of one column are all of one kind.
    for (const auto& line : layout.rows) {
        if (column >= line.labels.size()) continue;
        const auto& label = line.labels[column];
        if (std::holds_alternative<std::int64_t>(label)) return "integer";
        if (std::holds_alternative<double>(label) || std::holds_alternative<degrees_label>(label)) return "decimal";
        const auto& text = std::get<std::string>(label);
        if (text == "true" || text == "false") return "boolean";
        if (!text.empty()) return "string";
    }
    return "string";
}

std::string label_description(const std::string& name) {
    if (name == "code") return "area code (GSS), or the bespoke area id";
    if (name == "name") return "area name";
    if (name == "level") return "geography level of the row (" + data::known_levels_text() + ")";
    if (name == "area_households") return "Census households of the area to walk (code)";
    if (name == "figure_for") return "whose figure the row carries: the value for the whole coarser area the patch lies in, never apportioned";
    if (name == "figure_area_code") return "code of the area whose protected figure the row carries";
    if (name == "figure_area_name") return "name of the area whose protected figure the row carries";
    if (name == "lat" || name == "lon") return name + " (WGS 84) of a point inside the area (point on surface)";
    if (name == "easting" || name == "northing") return name + " in metres, British National Grid (EPSG:27700), of that point";
    if (name == "grid_ref") return "OS grid reference of that point, 8 figures (a 10 m square)";
    if (name.size() > 5 && name.compare(name.size() - 5, 5, "_name") == 0) {
        return "name of the " + name.substr(0, name.size() - 5) + " containing the area (ONS lookup)";
    }
    if (name.size() > 5 && name.compare(name.size() - 5, 5, "_code") == 0) {
        return "code of the " + name.substr(0, name.size() - 5) + " containing the area (ONS lookup)";
    }
    if (name == "change") return "how the area changed between boundary vintages (ONS change code: U unchanged, M merged, S split, X irregular)";
    if (name == "estimated") return "the figure is estimated: a share of a split or irregular older area, apportioned by Census households";
    if (name == "not_apportioned") return "no figure: the area would need apportioning, which internal MI never gets";
    if (name == "rank") return "position in the ranking (1 = highest)";
    if (name == "band") return "rows sharing a band are within the rounding error of each other";
    if (name == "members") return "number of member areas";
    if (name == "member_level") return "level of the member areas";
    return name;
}

} // namespace

std::string value_column(const table_result& t) {
    const bool percent = t.table.kind() == disclosure::measure_kind::percent_only;
    std::string id = t.query.measure->id;
    for (auto& c : id) {
        const bool ok = std::isalnum(static_cast<unsigned char>(c)) || c == '_';
        if (!ok) c = '_';
    }
    const auto& fixed = fixed_names();
    if (id.empty() || std::find(fixed.begin(), fixed.end(), id) != fixed.end()) id = "value_" + id;
    return percent ? id + "_percent" : id;
}

std::string period_name(const std::string& period) {
    static const std::array<const char*, 12> months{"January", "February", "March",     "April",   "May",      "June",
                                                     "July",    "August",   "September", "October", "November", "December"};
    if (valid_month(period)) return std::string(months[static_cast<std::size_t>(std::stoi(period.substr(5, 2)) - 1)]) + " " + period.substr(0, 4);
    return period;
}

std::string period_start(const std::string& period) {
    if (valid_month(period)) return period + "-01";
    if (valid_year(period)) return period + "-01-01";
    return "";
}

std::string period_end(const std::string& period) {
    char buffer[32];
    if (valid_month(period)) {
        int year = std::stoi(period.substr(0, 4));
        int month = std::stoi(period.substr(5, 2)) + 1;
        if (month == 13) {
            month = 1;
            ++year;
        }
        std::snprintf(buffer, sizeof buffer, "%04d-%02d-01", year, month);
        return buffer;
    }
    if (valid_year(period)) {
        std::snprintf(buffer, sizeof buffer, "%04d-01-01", std::stoi(period) + 1);
        return buffer;
    }
    return "";
}

file_options parse_file_options(const std::string& totals, const std::string& preamble) {
    file_options o;
    if (preamble == "comments") {
        o.comments = true;
        o.totals = true; // the older files' shape, for whoever relies on it
    } else if (!preamble.empty() && preamble != "none") {
        throw bad_request("InvalidParameter", "preamble must be comments or none");
    }
    if (totals == "true") {
        o.totals = true;
    } else if (totals == "false") {
        o.totals = false;
    } else if (!totals.empty()) {
        throw bad_request("InvalidParameter", "totals must be true or false");
    }
    return o;
}

std::string licence_url(const std::string& licence) {
    std::string lower = licence;
    std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (lower.find("open government licence") != std::string::npos && lower.find("3") != std::string::npos) {
        return "https://www.nationalarchives.gov.uk/doc/open-government-licence/version/3/";
    }
    return "";
}

std::string period_suffix(const std::string& period) {
    std::string out = period;
    std::replace(out.begin(), out.end(), '-', '_');
    return out;
}

std::vector<std::string> parse_period_columns(const data::dataset_info& d, const std::string& text) {
    if (text.empty()) return {};
    std::vector<std::string> out;
    if (text == "all") {
        out = d.periods;
    } else if (const auto slash = text.find('/'); slash != std::string::npos) {
        out = periods_between(d, text.substr(0, slash), text.substr(slash + 1));
    } else {
        for (const auto& p : split_list(text, empty_items::keep)) {
            if (std::find(d.periods.begin(), d.periods.end(), p) == d.periods.end()) {
                throw not_found("UnknownPeriod", "dataset " + d.id + " has no period \"" + p.substr(0, 20) + "\"");
            }
            if (std::find(out.begin(), out.end(), p) != out.end()) {
                throw bad_request("InvalidParameter", "periods lists " + p + " twice");
            }
            out.push_back(p);
        }
    }
    if (out.empty()) throw bad_request("InvalidParameter", "periods=" + text.substr(0, 40) + " selects no period of dataset " + d.id);
    return out;
}

std::vector<file_column> file_columns(const table_result& t, const row_layout& layout) {
    const bool percent = t.table.kind() == disclosure::measure_kind::percent_only;
    const auto& m = *t.query.measure;
    std::vector<file_column> out;
    for (std::size_t i = 0; i < layout.label_header.size(); ++i) {
        const auto& name = layout.label_header[i];
        out.push_back({name, name, label_type(layout, i), label_description(name)});
    }
    if (!layout.column_periods.empty()) {
        // Wide: the figures of each period side by side, each exactly the one-period table's protected figure.
        out.push_back({"classification", "Classification", "string", "published (with its licence) or Internal MI: not for onward sharing"});
        out.push_back({"households", "Households", "integer", "Census households of the cells with a count (null when unknown)"});
        const std::string v = value_column(t);
        const std::string empty = " (empty: suppressed or no value; the one-period file says which)";
        for (const auto& p : layout.column_periods) {
            const std::string s = "_" + period_suffix(p);
            const std::string when = period_name(p);
            if (percent) {
                out.push_back({v + s, m.title + " (%), " + when, "integer", "whole percent of " + m.percent_of + ", " + when + empty});
            } else {
                out.push_back({v + s, m.title + ", " + when, "integer", m.title + ", " + when + ": protected value" + empty});
                out.push_back({v + "_per_100_households" + s, m.title + " per 100 households, " + when, "decimal",
                               "rate per 100 households, " + when});
                out.push_back({"uncertainty" + s, "Uncertainty (+/-), " + when, "decimal", "the true value lies within +/- this (rounding), " + when});
            }
        }
        return out;
    }
    out.push_back({"period", "Period", "string", "period of the figures (YYYY-MM or YYYY)"});
    out.push_back({"period_name", "Period name", "string", "the period in words, e.g. September 2017"});
    out.push_back({"classification", "Classification", "string", "published (with its licence) or Internal MI: not for onward sharing"});
    out.push_back({"households", "Households", "integer", "Census households of the cells with a count (null when unknown)"});
    const std::string v = value_column(t);
    if (percent) {
        out.push_back({v, m.title + " (%)", "integer",
                       "whole percent of " + m.percent_of + " (percentage-only measure: no volumes are released)"});
    } else {
        out.push_back({v, m.title, "integer",
                       m.title + (m.unit.empty() ? "" : " (" + m.unit + ")") + ": protected value (rounded per the disclosure rule; totals are sums of rounded cells)"});
        out.push_back({v + "_per_100_households", m.title + " per 100 households", "decimal",
                       "rate per 100 households over the cells with both a value and a household count"});
        out.push_back({"uncertainty", "Uncertainty (+/-)", "decimal", "the true value lies within +/- this of the value (rounding)"});
    }
    out.push_back({"suppressed", "Suppressed", "boolean", "the value is withheld (below the suppression threshold)"});
    out.push_back({"missing", "Missing", "boolean", "the source has no value for the area"});
    out.push_back({"cells", "Cells", "integer", "cells (areas of the dataset's level) in the row"});
    out.push_back({"cells_with_value", "Cells with a value", "integer", "cells that have a value"});
    out.push_back({"complete", "Complete", "boolean", "every cell has a value"});
    out.push_back({"households_complete", "Households complete", "boolean", "every cell has a Census household count"});
    if (!percent) out.push_back({"rounding_dominates", "Rounding dominates", "boolean", "the uncertainty is at least half the value"});
    return out;
}

// Whether the file holds a figure whose rounding error is at least half its value: it then says so (rule 8).
bool rounding_dominates_in(const row_layout& layout) {
    for (const auto& line : layout.rows) {
        if (line.row && line.row->rounding_dominates()) return true;
        for (const auto* r : line.period_rows) {
            if (r && r->rounding_dominates()) return true;
        }
    }
    return false;
}

std::string layout_periods_text(const table_result& t, const row_layout& layout) {
    if (layout.first_period.empty()) return period_name(t.query.period);
    if (layout.first_period == layout.last_period) return period_name(layout.first_period);
    return period_name(layout.first_period) + " to " + period_name(layout.last_period);
}

std::string layout_periods_data(const table_result& t, const row_layout& layout) {
    if (layout.first_period.empty()) return t.query.period;
    if (layout.first_period == layout.last_period) return layout.first_period;
    return layout.first_period + "/" + layout.last_period;
}

std::string layout_csv(const table_result& t, const row_layout& layout, const file_options& options) {
    const auto& d = *t.query.dataset;
    const bool percent = t.table.kind() == disclosure::measure_kind::percent_only;
    std::string out;
    if (options.comments) {
        auto meta = [&](std::string key, const std::string& value) {
            std::transform(key.begin(), key.end(), key.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
            std::string line = value;
            std::replace(line.begin(), line.end(), '\n', ' ');
            out += "# " + key + ": " + line + "\n";
        };
        meta("dataset", d.title + " (" + d.id + ", release " + std::to_string(d.release) + ")");
        meta("measure", t.query.measure->title + (percent ? " (percentage only)" : ""));
        meta("period", layout_periods_data(t, layout));
        if (layout.first_period.empty()) meta("revision", revision_text(d, t.query.period));
        meta("geography", layout.geography);
        for (const auto& [key, value] : layout.notes) meta(key, value);
        meta("classification", disclosure::to_string(d.policy.classification) + std::string(": ") + classification_label(d));
        meta("disclosure", disclosure::describe(d.policy));
        meta("rounding base", std::to_string(d.policy.rounding_base));
        meta("uncertainty", uncertainty_note(t));
        meta("publisher", d.publisher);
        meta("licence", d.licence);
        meta("attribution", d.attribution);
        if (rounding_dominates_in(layout)) meta("note", rounding_suggestion);
    }
    const auto columns = file_columns(t, layout);
    for (std::size_t i = 0; i < columns.size(); ++i) out += (i ? "," : "") + columns[i].name;
    out += "\n";
    const std::string table_period = csv_field(t.query.period) + "," + csv_field(period_name(t.query.period));
    const std::string label = csv_field(classification_label(d));
    auto number = [](const std::optional<std::int64_t>& v) { return v ? std::to_string(*v) : std::string(); };
    auto flag = [](bool b) { return std::string(b ? "true" : "false"); };
    for (const auto& line : layout.rows) {
        for (std::size_t i = 0; i < line.labels.size(); ++i) {
            if (i) out += ',';
            if (const auto* text = std::get_if<std::string>(&line.labels[i])) {
                out += csv_field(*text);
            } else if (const auto* whole = std::get_if<std::int64_t>(&line.labels[i])) {
                out += std::to_string(*whole);
            } else if (const auto* position = std::get_if<degrees_label>(&line.labels[i])) {
                char degrees[32];
                std::snprintf(degrees, sizeof degrees, "%.6f", position->value);
                out += degrees;
            } else {
                out += two_decimals(std::get<double>(line.labels[i]));
            }
        }
        if (!layout.column_periods.empty()) {
            out += (line.labels.empty() ? "" : ",") + label + "," + number(line.row ? line.row->households : std::nullopt);
            for (const auto* r : line.period_rows) {
                if (percent) {
                    out += "," + (r ? number(r->percent) : std::string());
                } else if (r) {
                    out += "," + number(r->value) + "," + (r->rate_per_100_households ? two_decimals(*r->rate_per_100_households) : "") +
                           "," + (r->value ? two_decimals(r->uncertainty) : "");
                } else {
                    out += ",,,";
                }
            }
            out += "\n";
            continue;
        }
        const auto& r = *line.row;
        const std::string period = line.period.empty() ? table_period : csv_field(line.period) + "," + csv_field(period_name(line.period));
        out += (line.labels.empty() ? "" : ",") + period + "," + label + "," + number(r.households) + ",";
        if (percent) {
            out += number(r.percent) + ",";
        } else {
            out += number(r.value) + "," + (r.rate_per_100_households ? two_decimals(*r.rate_per_100_households) : "") + "," +
                   two_decimals(r.uncertainty) + ",";
        }
        out += flag(r.suppressed) + "," + flag(r.missing) + "," + std::to_string(r.cells) + "," +
               std::to_string(r.cells_with_value) + "," + flag(r.complete()) + "," + flag(r.households_complete());
        if (!percent) out += "," + flag(r.rounding_dominates());
        out += "\n";
    }
    return out;
}

std::string table_csv(const table_result& t, const snapshot& s, const file_options& options) {
    return layout_csv(t, table_layout(t, s, options.totals), options);
}

nlohmann::json csv_metadata(const table_result& t, const row_layout& layout, const file_options& options,
                            const std::string& csv_url) {
    const auto& d = *t.query.dataset;
    const auto& m = *t.query.measure;
    (void)options;
    // Whether the layout ends with the total (bespoke and target layouts never have one, whatever was asked).
    const bool has_total = !layout.rows.empty() && layout.rows.back().row == &t.table.total();
    json columns = json::array();
    for (const auto& c : file_columns(t, layout)) {
        columns.push_back(json{{"name", c.name}, {"titles", c.title}, {"datatype", c.datatype},
                               {"dc:description", c.description}, {"null", ""}});
    }
    // CSVW allows only the RDFa initial-context prefixes (dc, rdfs, schema...), so the rule as data goes into
    // rdfs:comment lines rather than a private vocabulary.
    json notes = json::array();
    notes.push_back(std::string("classification: ") + disclosure::to_string(d.policy.classification) + ": " + classification_label(d));
    notes.push_back("rounding base: " + std::to_string(d.policy.rounding_base) + " (" + std::string(disclosure::to_string(d.policy.rounded_by)) +
                    ", halves up)");
    notes.push_back(std::string("totals: ") + (has_total ? "the last row is the total, the sum of the rows' rounded cells"
                                                              : "no total row (ask totals=true)"));
    notes.push_back("licence: " + d.licence);
    notes.push_back("release: " + std::to_string(d.release));
    if (layout.first_period.empty()) notes.push_back("revision: " + revision_text(d, t.query.period));
    for (const auto& [key, value] : layout.notes) notes.push_back(key + ": " + value);
    if (rounding_dominates_in(layout)) notes.push_back(std::string("note: ") + rounding_suggestion);
    json out{{"@context", "http://www.w3.org/ns/csvw"},
             {"url", csv_url},
             {"dc:title", d.title + ": " + m.title + ", " + layout_periods_text(t, layout) + ", " + layout.geography},
             {"dc:identifier", d.id + "." + m.id},
             {"dc:publisher", d.publisher},
             {"dc:rights", d.attribution},
             {"dc:accessRights", classification_label(d)},
             {"dc:temporal", layout_periods_data(t, layout)},
             {"dc:spatial", layout.geography},
             {"dc:description", disclosure::describe(d.policy) + " " + uncertainty_note(t)},
             {"dialect", json{{"header", true}, {"commentPrefix", "#"}, {"skipBlankRows", false}}},
             {"tableSchema", json{{"columns", std::move(columns)}}}};
    if (!has_total) out["tableSchema"]["primaryKey"] = "code";
    // "dc:license" is a link where the licence has a known URL, else its name.
    const std::string url = licence_url(d.licence);
    out["dc:license"] = url.empty() ? json(d.licence) : json{{"@id", url}};
    out["rdfs:comment"] = std::move(notes);
    return out;
}

} // namespace smallarea::engine
