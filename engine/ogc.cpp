#include "engine/ogc.hpp"

#include "engine/encode_csv.hpp"

#include "core/error.hpp"
#include "geo/geojson.hpp"
#include "geo/geometry_ops.hpp"

#include <algorithm>

#include <cctype>
#include <cmath>
#include <cstdio>
#include <regex>
#include <set>

namespace smallarea::engine {

using nlohmann::json;
using nlohmann::ordered_json;

namespace {

// The part of a dataset collection's description every such collection shares: classification, rule, periods,
// licence and attribution.
std::string disclosure_and_source(const data::dataset_info& d) {
    return "Classification: " + std::string(disclosure::to_string(d.policy.classification)) +
           (d.policy.classification == disclosure::classification::internal ? " (Internal MI: not for onward sharing)"
                                                                             : " (published)") +
           ". " + disclosure::describe(d.policy) + " Period: ?period=YYYY-MM or ?datetime=, default " +
           (d.periods.empty() ? std::string("none") : d.periods.back()) + ". " + d.licence + ". " + d.attribution;
}

} // namespace

std::vector<ogc_collection> ogc_collections(const snapshot& s, bool has_bespoke,
                                            const std::function<bool(const data::dataset_info&)>& visible) {
    std::vector<ogc_collection> out;
    for (const auto& [key, layer] : s.layers()) {
        ogc_collection c;
        c.type = ogc_collection::kind::boundaries;
        c.id = key.level + "-" + std::to_string(key.vintage);
        c.level = key.level;
        c.vintage = key.vintage;
        c.title = "Boundaries: " + key.level + " " + std::to_string(key.vintage);
        c.description = std::to_string(layer.polygons.size()) + " " + key.level + " " + std::to_string(key.vintage) +
                        " boundaries (EPSG:4326) with code, name, Census households and parent codes";
        out.push_back(std::move(c));
    }
    for (const auto& d : s.datasets()) {
        if (!visible(d)) continue;
        if (s.layers().find({d.level, d.vintage}) == s.layers().end()) continue; // nothing to draw it on
        for (const auto& m : d.measures) {
            if (m.kind == data::measure_kind::percent_base) continue; // never served (disclosure rule 3)
            ogc_collection c;
            c.type = ogc_collection::kind::dataset;
            c.id = d.id + "." + m.id;
            c.level = d.level;
            c.vintage = d.vintage;
            c.dataset = &d;
            c.measure = &m;
            c.title = d.title + ": " + (m.title.empty() ? m.id : m.title);
            c.description = std::string(m.kind == data::measure_kind::percent_only ? "Percentage only. " : "") +
                            "The latest period unless filtered by period= or datetime=. " + disclosure_and_source(d);
            const ogc_collection base = c;
            out.push_back(std::move(c));
            ogc_collection all = base;
            all.id = base.id + ".all-periods";
            all.title = base.title + ", every period";
            all.all_periods = true;
            all.description = "One feature per area and period (id CODE_PERIOD; period_start is the period's first day), "
                              "filterable by datetime instants and intervals and by period=: for time filters such as "
                              "QGIS's temporal controller. " + disclosure_and_source(d);
            out.push_back(std::move(all));
            if (d.periods.size() >= 2) {
                ogc_collection change = base;
                change.id = base.id + ".change";
                change.title = base.title + ", change since the period before";
                change.change = true;
                change.description = "The latest period's figures (or period=) with the change since the period before "
                                     "(or compare=): the difference of the two periods' protected figures, its rounding "
                                     "bound (the sum of both) and no_change_within_rounding; areas not covered in full in "
                                     "both periods are not comparable. " + disclosure_and_source(d);
                out.push_back(std::move(change));
            }
            for (const auto& p : d.periods) { // for clients that pick a collection and cannot pass period=
                ogc_collection one = base;
                one.id = base.id + "." + p;
                one.title = base.title + ", " + period_name(p);
                one.fixed_period = p;
                one.description = "The figures of " + period_name(p) + " only. " + disclosure_and_source(d);
                out.push_back(std::move(one));
            }
            // On another boundary vintage a crosswalk reaches (counts only: percentages stay on their own vintage).
            if (m.kind != data::measure_kind::count) continue;
            for (const auto& [key, layer] : s.layers()) {
                (void)layer;
                if (key.level != d.level || key.vintage == d.vintage || !s.crosswalk(d.level, d.vintage, key.vintage)) continue;
                ogc_collection moved = base;
                moved.id = base.id + ".v" + std::to_string(key.vintage);
                moved.vintage = key.vintage;
                moved.title = base.title + ", on " + d.level + " " + std::to_string(key.vintage) + " areas";
                moved.description = "The latest period (or period=/datetime=) moved from " + d.level + " " +
                                    std::to_string(d.vintage) + " to " + std::to_string(key.vintage) + " areas through the "
                                    "ONS crosswalk: unchanged and merged areas exact sums of protected figures, split and "
                                    "irregular pieces " + (disclosure::may_apportion(d.policy)
                                                               ? std::string("estimated by Census households (estimated)")
                                                               : std::string("withheld (not_apportioned): internal MI is never apportioned")) +
                                    "; change says how each area changed. " + disclosure_and_source(d);
                out.push_back(std::move(moved));
            }
        }
    }
    if (has_bespoke) {
        ogc_collection c;
        c.type = ogc_collection::kind::bespoke;
        c.id = "bespoke";
        c.title = "Bespoke areas";
        c.description = "Combined areas defined by users: name, member level, member count and Census households";
        out.push_back(std::move(c));
        // One dataset measure summed over the bespoke areas, like the per-level dataset collections: a GIS client
        // picks a collection, it cannot pass dataset parameters.
        for (const auto& d : s.datasets()) {
            if (!visible(d)) continue;
            for (const auto& m : d.measures) {
                // Percentages are never served on user-defined areas (rule 3), so there is no such collection.
                if (m.kind != data::measure_kind::count) continue;
                ogc_collection b;
                b.type = ogc_collection::kind::bespoke;
                b.id = d.id + "." + m.id + ".bespoke";
                b.level = d.level;
                b.vintage = d.vintage;
                b.dataset = &d;
                b.measure = &m;
                b.title = d.title + ": " + (m.title.empty() ? m.id : m.title) + " by bespoke area";
                b.description = std::string(m.kind == data::measure_kind::percent_only ? "Percentage only. " : "") +
                                "Each bespoke area's value is the sum of its members' protected values (never a "
                                "re-rounded raw sum). Only bespoke areas of " + d.level + " " +
                                std::to_string(d.vintage) + " areas or coarser are listed: finer ones are never "
                                "apportioned. " + disclosure_and_source(d);
                out.push_back(std::move(b));
            }
        }
    }
    return out;
}

namespace {

void append_value_fields(std::vector<geo::vector_field>& fields, bool percent) {
    using geo::field_type;
    fields.push_back({"dataset", field_type::string});
    fields.push_back({"measure", field_type::string});
    fields.push_back({"period", field_type::string});
    // A real date, so QGIS's temporal controller and GDAL (OFTDate) can filter and animate by period.
    fields.push_back({"period_name", field_type::string});
    fields.push_back({"period_start", field_type::date});
    if (percent) {
        fields.push_back({"percent", field_type::integer});
    } else {
        fields.push_back({"value", field_type::integer});
        fields.push_back({"rate_per_100_households", field_type::real});
        fields.push_back({"uncertainty", field_type::real});
    }
    fields.push_back({"suppressed", field_type::boolean});
    fields.push_back({"missing", field_type::boolean});
    fields.push_back({"cells", field_type::integer});
    fields.push_back({"cells_with_value", field_type::integer});
    fields.push_back({"complete", field_type::boolean});
    fields.push_back({"households_complete", field_type::boolean});
    fields.push_back({"classification", field_type::string});
}

/// The values of append_value_fields for one protected row (null row: no figure, missing).
void append_row_values(std::vector<geo::field_value>& v, const table_result& t, const disclosure::protected_row* r,
                       bool percent) {
    const auto& q = t.query;
    v.emplace_back(q.dataset->id);
    v.emplace_back(q.measure->id);
    v.emplace_back(q.period);
    v.emplace_back(period_name(q.period));
    if (const auto start = period_start(q.period); !start.empty()) {
        v.emplace_back(start);
    } else {
        v.emplace_back(std::monostate{});
    }
    auto optional = [&](const std::optional<std::int64_t>& x) {
        if (x) {
            v.emplace_back(*x);
        } else {
            v.emplace_back(std::monostate{});
        }
    };
    if (!r) {
        for (int i = 0; i < (percent ? 1 : 3); ++i) v.emplace_back(std::monostate{});
        v.emplace_back(false);
        v.emplace_back(true);
        for (int i = 0; i < 4; ++i) v.emplace_back(std::monostate{});
    } else {
        if (percent) {
            optional(r->percent);
        } else {
            optional(r->value);
            if (r->rate_per_100_households) {
                // two decimals: finer digits would only imply false precision (as /api/table)
                v.emplace_back(*r->rate_per_100_households); // hundredths already (disclosure::set_rate)
            } else {
                v.emplace_back(std::monostate{});
            }
            v.emplace_back(r->uncertainty);
        }
        v.emplace_back(r->suppressed);
        v.emplace_back(r->missing);
        v.emplace_back(static_cast<std::int64_t>(r->cells));
        v.emplace_back(static_cast<std::int64_t>(r->cells_with_value));
        v.emplace_back(r->complete());
        v.emplace_back(r->households_complete());
    }
    v.emplace_back(std::string(disclosure::to_string(q.dataset->policy.classification)));
}

} // namespace

feature_schema::feature_schema(const snapshot& s, const std::string& level, const table_result* table)
    : m_s(s), m_table(table) {
    using geo::field_type;
    m_fields = {{"code", field_type::string}, {"name", field_type::string}, {"level", field_type::string},
                {"vintage", field_type::integer}, {"households", field_type::integer}};
    for (const auto& l : data::known_levels()) {
        // The chain's levels always (a stable schema for GIS layers); a best-fit level (wards) where a lookup puts
        // this level's areas in it.
        if (l != level && data::nests_in(level, l) && (!data::is_best_fit_level(l) || s.has_parent_level(level, l))) {
            m_parent_levels.push_back(l);
            m_fields.push_back({l + "_code", field_type::string});
        }
    }
    if (!table) {
        // A LAD has no own Census count in most stores, while /api/table?level=lad sums its cells' households:
        // give boundaries the same kind of figure (the sum of the finer areas' published counts), said so.
        std::set<std::string> with_counts;
        bool own = false;
        for (const auto& a : s.areas()) {
            if (!a.denominators.count("households")) continue;
            with_counts.insert(a.level);
            own = own || a.level == level;
        }
        for (const auto& l : data::known_levels()) {
            if (data::level_rank(l) < data::level_rank(level) && with_counts.count(l)) m_households_from = l;
        }
        if (m_households_from.empty() || own) {
            m_households_from.clear();
            return;
        }
        for (std::size_t i = 0; i < s.areas().size(); ++i) {
            const auto& a = s.areas()[i];
            if (a.level != m_households_from) continue;
            const auto h = a.denominators.find("households");
            if (h == a.denominators.end()) continue;
            if (const auto p = s.ancestor_at(i, level)) m_summed_households[*p] += h->second;
        }
        m_fields.push_back({"households_basis", field_type::string});
        return;
    }
    m_percent = table->table.kind() == disclosure::measure_kind::percent_only;
    append_value_fields(m_fields, m_percent);
    m_moved = table->query.crosswalked();
    m_change_codes = m_moved && !table->row_change.empty();
    if (m_change_codes) m_fields.push_back({"change", field_type::string});
    if (m_moved) {
        m_fields.push_back({"estimated", field_type::boolean});
        m_fields.push_back({"not_apportioned", field_type::boolean});
    }
    // A table cached by context::table_values carries the map already; build it only for one-off tables.
    if (table->row_of_area.empty()) m_own_rows = rows_by_area(*table, s.areas().size());
}

std::vector<geo::field_value> feature_schema::values(std::size_t area, long row) const {
    const auto& a = m_s.areas()[area];
    std::vector<geo::field_value> v;
    v.reserve(m_fields.size());
    v.emplace_back(a.code);
    v.emplace_back(a.name);
    v.emplace_back(a.level);
    v.emplace_back(static_cast<std::int64_t>(a.vintage));
    const disclosure::protected_row* r = m_table && row >= 0 ? &m_table->table.rows()[static_cast<std::size_t>(row)] : nullptr;
    if (r) {
        // The households of the cells the row covers (rule 8), so rate = value per households here as in tables.
        if (r->households) v.emplace_back(*r->households);
        else v.emplace_back(std::monostate{});
    } else if (const auto h = a.denominators.find("households"); h != a.denominators.end()) {
        v.emplace_back(static_cast<std::int64_t>(h->second));
    } else if (const auto sum = m_summed_households.find(area); sum != m_summed_households.end()) {
        v.emplace_back(sum->second);
    } else {
        v.emplace_back(std::monostate{});
    }
    for (const auto& l : m_parent_levels) {
        const auto p = m_s.ancestor_at(area, l);
        if (p) {
            v.emplace_back(m_s.areas()[*p].code);
        } else {
            v.emplace_back(std::monostate{});
        }
    }
    if (!m_table) {
        if (!m_households_from.empty()) {
            v.emplace_back(std::string("sum of the Census households of its " + m_households_from + "s"));
        }
        return v;
    }
    append_row_values(v, *m_table, r, m_percent);
    if (m_change_codes) {
        const char c = r ? m_table->row_change.at(static_cast<std::size_t>(row)) : 0;
        if (c) v.emplace_back(std::string(1, c));
        else v.emplace_back(std::monostate{});
    }
    if (m_moved) {
        v.emplace_back(r ? r->estimated : false);
        v.emplace_back(r ? r->not_apportioned : false);
    }
    return v;
}

ordered_json properties_json(const std::vector<geo::vector_field>& fields, const std::vector<geo::field_value>& values) {
    ordered_json out = ordered_json::object();
    for (std::size_t i = 0; i < fields.size() && i < values.size(); ++i) {
        std::visit(
            [&](const auto& x) {
                using T = std::decay_t<decltype(x)>;
                if constexpr (std::is_same_v<T, std::monostate>) {
                    out[fields[i].name] = nullptr;
                } else {
                    out[fields[i].name] = x;
                }
            },
            values[i]);
    }
    return out;
}

ordered_json feature_schema::properties(std::size_t area, long row) const {
    return properties_json(m_fields, values(area, row));
}

bespoke_schema::bespoke_schema(const snapshot& s, const table_result* table) : m_s(s), m_table(table) {
    using geo::field_type;
    m_fields = {{"code", field_type::string},       {"name", field_type::string},    {"level", field_type::string},
                {"vintage", field_type::integer},   {"source", field_type::string},  {"created_at", field_type::string},
                {"members", field_type::integer},   {"households", field_type::integer}};
    if (!table) return;
    m_percent = table->table.kind() == disclosure::measure_kind::percent_only;
    append_value_fields(m_fields, m_percent);
}

std::vector<geo::field_value> bespoke_schema::values(const bespoke_area& b, std::size_t row) const {
    std::vector<geo::field_value> v;
    v.reserve(m_fields.size());
    v.emplace_back(b.record.id);
    v.emplace_back(b.record.name);
    v.emplace_back(b.record.level);
    v.emplace_back(static_cast<std::int64_t>(b.record.vintage));
    v.emplace_back(b.record.source);
    v.emplace_back(b.record.created_at);
    v.emplace_back(static_cast<std::int64_t>(b.members.size()));
    const disclosure::protected_row* r = m_table && row < m_table->table.rows().size() ? &m_table->table.rows()[row] : nullptr;
    if (m_table) {
        // The aggregate's own household count: the denominator of its rate.
        if (r && r->households) {
            v.emplace_back(*r->households);
        } else {
            v.emplace_back(std::monostate{});
        }
    } else {
        std::int64_t households = 0;
        bool any = false;
        for (const auto m : b.members) {
            const auto h = m_s.areas()[m].denominators.find("households");
            if (h != m_s.areas()[m].denominators.end()) {
                households += h->second;
                any = true;
            }
        }
        if (any) {
            v.emplace_back(households);
        } else {
            v.emplace_back(std::monostate{});
        }
    }
    if (m_table) append_row_values(v, *m_table, r, m_percent);
    return v;
}

ordered_json bespoke_schema::properties(const bespoke_area& b, std::size_t row) const {
    return properties_json(m_fields, values(b, row));
}

void append_feature(std::string& out, const std::string& id, const std::string& wkb, const ordered_json& properties) {
    out += R"({"type":"Feature","id":)";
    out += json(id).dump();
    out += R"(,"geometry":)";
    if (wkb.empty()) {
        out += "null";
    } else {
        const auto before = out.size();
        try {
            geo::append_geojson_geometry(out, reinterpret_cast<const unsigned char*>(wkb.data()), wkb.size(), 6);
        } catch (...) {
            out.resize(before);
            throw;
        }
    }
    out += R"(,"properties":)";
    out += properties.dump(-1, ' ', false, json::error_handler_t::replace);
    out += '}';
}

namespace {

int days_in_month(int year, int month) {
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (month == 2 && ((year % 4 == 0 && year % 100 != 0) || year % 400 == 0)) return 29;
    return days[month - 1];
}

/// The first and last day (YYYY-MM-DD) an instant of YYYY, YYYY-MM, YYYY-MM-DD or an RFC 3339 date-time covers.
std::pair<std::string, std::string> instant_days(const std::string& text) {
    static const std::regex pattern(
        R"(^(\d{4})(?:-(\d{2})(?:-(\d{2})(?:[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.\d+)?(?:[Zz]|[+-]\d{2}:\d{2})?)?)?)?$)");
    std::smatch m;
    if (!std::regex_match(text, m, pattern)) {
        throw bad_request("InvalidParameter", "datetime \"" + text.substr(0, 40) +
                                                  "\" is not an RFC 3339 date, date-time, YYYY-MM or YYYY (or an interval a/b)");
    }
    const int year = std::stoi(m[1]);
    if (!m[2].matched) return {m[1].str() + "-01-01", m[1].str() + "-12-31"};
    const int month = std::stoi(m[2]);
    if (month < 1 || month > 12) throw bad_request("InvalidParameter", "datetime has month " + m[2].str());
    const std::string ym = m[1].str() + "-" + m[2].str();
    if (!m[3].matched) {
        char last[4];
        std::snprintf(last, sizeof last, "%02d", days_in_month(year, month));
        return {ym + "-01", ym + "-" + last};
    }
    const int day = std::stoi(m[3]);
    if (day < 1 || day > days_in_month(year, month)) throw bad_request("InvalidParameter", "datetime has day " + m[3].str());
    // A date-time's offset could move it across midnight; periods are months or years, so the day is close enough.
    return {ym + "-" + m[3].str(), ym + "-" + m[3].str()};
}

std::pair<std::string, std::string> period_days(const std::string& period) {
    try {
        return instant_days(period);
    } catch (const bad_request&) {
        return {period, period};
    }
}

} // namespace

std::optional<std::string> period_for_datetime(const std::vector<std::string>& periods, const std::string& datetime) {
    const auto all = periods_for_datetime(periods, datetime);
    if (all.empty()) return std::nullopt;
    return all.back();
}

std::vector<std::string> periods_for_datetime(const std::vector<std::string>& periods, const std::string& datetime) {
    std::string from = "0000-00-00";
    std::string to = "9999-99-99";
    if (const auto slash = datetime.find('/'); slash != std::string::npos) {
        const std::string a = datetime.substr(0, slash);
        const std::string b = datetime.substr(slash + 1);
        if ((a.empty() || a == "..") && (b.empty() || b == "..")) {
            if (datetime.find('/', slash + 1) != std::string::npos) throw bad_request("InvalidParameter", "datetime has more than one /");
        } else {
            if (!a.empty() && a != "..") from = instant_days(a).first;
            if (!b.empty() && b != "..") to = instant_days(b).second;
            if (from > to) throw bad_request("InvalidParameter", "datetime interval ends before it starts");
        }
    } else {
        const auto days = instant_days(datetime);
        from = days.first;
        to = days.second;
    }
    std::vector<std::string> out;
    for (const auto& p : periods) {
        const auto [start, end] = period_days(p);
        if (start <= to && end >= from) out.push_back(p);
    }
    return out;
}

std::pair<std::string, std::string> period_interval(const std::string& period) {
    const auto [start, end] = period_days(period);
    if (start.size() != 10) return {period, period};
    return {start + "T00:00:00Z", end + "T23:59:59Z"};
}

std::string url_encode(const std::string& text) {
    static const char* hex_digits = "0123456789ABCDEF";
    std::string out;
    for (const unsigned char c : text) {
        if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~' || c == ',' || c == ':') {
            out += static_cast<char>(c);
        } else {
            out += '%';
            out += hex_digits[c >> 4];
            out += hex_digits[c & 15];
        }
    }
    return out;
}

} // namespace smallarea::engine
