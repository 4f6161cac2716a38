#include "engine/ogc_api.hpp"

#include "core/error.hpp"
#include "core/split.hpp"
#include "core/utc.hpp"
#include "data/ogc_queries.hpp"
#include "engine/bespoke.hpp"
#include "engine/change.hpp"
#include "engine/encode.hpp"
#include "engine/encode_csv.hpp"

#include <algorithm>
#include <cmath>
#include <set>

namespace smallarea::engine {

using nlohmann::json;

namespace {

json link(const std::string& href, const std::string& rel, const std::string& type, const std::string& title = "") {
    json l{{"href", href}, {"rel", rel}, {"type", type}};
    if (!title.empty()) l["title"] = title;
    return l;
}

std::string html_escape(const std::string& text) {
    std::string out;
    for (const char c : text) {
        switch (c) {
        case '&': out += "&amp;"; break;
        case '<': out += "&lt;"; break;
        case '>': out += "&gt;"; break;
        case '"': out += "&quot;"; break;
        default: out += c;
        }
    }
    return out;
}

std::string html_value(const json& v) {
    if (v.is_string()) return html_escape(v.get<std::string>());
    if (v.is_null()) return "";
    return html_escape(v.dump());
}

/// A plain HTML view of any of the JSON documents (the html conformance class): title, description, links,
/// and a table of collections or features.
} // namespace

std::string ogc_html(const json& doc, const std::string& fallback_title) {
    std::string title = doc.contains("title") && doc["title"].is_string() ? doc["title"].get<std::string>() : fallback_title;
    std::string out = "<!doctype html><html><head><meta charset=\"utf-8\"><title>" + html_escape(title) +
                      "</title><style>body{font-family:sans-serif;margin:1em 2em}table{border-collapse:collapse}"
                      "td,th{border:1px solid #ccc;padding:2px 6px;text-align:left}</style></head><body><h1>" +
                      html_escape(title) + "</h1>";
    if (doc.contains("description") && doc["description"].is_string()) out += "<p>" + html_escape(doc["description"]) + "</p>";
    if (doc.contains("numberMatched")) {
        out += "<p>" + html_value(doc["numberReturned"]) + " of " + html_value(doc["numberMatched"]) + " features</p>";
    }
    if (doc.contains("links") && doc["links"].is_array()) {
        out += "<ul>";
        for (const auto& l : doc["links"]) {
            out += "<li><a href=\"" + html_value(l.value("href", "")) + "\">" + html_value(l.value("title", l.value("rel", ""))) +
                   "</a> (" + html_value(l.value("rel", "")) + ", " + html_value(l.value("type", "")) + ")</li>";
        }
        out += "</ul>";
    }
    if (doc.contains("conformsTo")) {
        out += "<h2>Conforms to</h2><ul>";
        for (const auto& c : doc["conformsTo"]) out += "<li>" + html_value(c) + "</li>";
        out += "</ul>";
    }
    if (doc.contains("collections")) {
        out += "<table><tr><th>id</th><th>title</th><th>description</th></tr>";
        for (const auto& c : doc["collections"]) {
            out += "<tr><td><a href=\"collections/" + html_value(c["id"]) + "?f=html\">" + html_value(c["id"]) + "</a></td><td>" +
                   html_value(c["title"]) + "</td><td>" + html_value(c.value("description", "")) + "</td></tr>";
        }
        out += "</table>";
    }
    const json* features = nullptr;
    json single = json::array();
    if (doc.contains("features")) {
        features = &doc["features"];
    } else if (doc.value("type", "") == "Feature") {
        single.push_back(doc);
        features = &single;
    }
    if (features && !features->empty()) {
        out += "<table><tr><th>id</th>";
        const auto& first = (*features)[0]["properties"];
        for (const auto& [key, value] : first.items()) {
            (void)value;
            out += "<th>" + html_escape(key) + "</th>";
        }
        out += "</tr>";
        for (const auto& f : *features) {
            out += "<tr><td>" + html_value(f["id"]) + "</td>";
            for (const auto& [key, value] : f["properties"].items()) {
                (void)key;
                out += "<td>" + html_value(value) + "</td>";
            }
            out += "</tr>";
        }
        out += "</table>";
    }
    return out + "</body></html>";
}


json collection_document(const ogc_collection& c, const snapshot& s, const std::string& base) {
    const std::string self = base + "/ogc/collections/" + c.id;
    json j{{"id", c.id},
           {"title", c.title},
           {"description", c.description},
           {"itemType", "feature"},
           {"crs", json::array({ogc_crs84})},
           {"storageCrs", ogc_crs84},
           {"links", json::array({link(self, "self", "application/json", "this collection"),
                                  link(self + "?f=html", "alternate", "text/html", "this collection as HTML"),
                                  link(self + "/items", "items", geojson_media_type, "the features"),
                                  link(self + "/items?f=html", "items", "text/html", "the features as HTML")})}};
    if (c.type != ogc_collection::kind::bespoke) {
        const auto b = s.layer(c.level, c.vintage).polygons.bounds_lonlat();
        j["extent"]["spatial"] = json{{"bbox", json::array({json::array({b.min_x, b.min_y, b.max_x, b.max_y})})}, {"crs", ogc_crs84}};
    }
    if (c.dataset) {
        const auto& d = *c.dataset;
        const std::string first = c.fixed_period.empty() ? (d.periods.empty() ? "" : d.periods.front()) : c.fixed_period;
        const std::string last = c.fixed_period.empty() ? (d.periods.empty() ? "" : d.periods.back()) : c.fixed_period;
        if (!first.empty()) {
            j["extent"]["temporal"] = json{{"interval", json::array({json::array({period_interval(first).first,
                                                                                 period_interval(last).second})})},
                                           {"trs", "http://www.opengis.net/def/uom/ISO-8601/0/Gregorian"}};
        }
        if (!c.fixed_period.empty()) j["period"] = c.fixed_period;
        if (c.all_periods) j["temporal_property"] = "period_start";
        // Where GIS clients read licence and attribution (OGC API Records / Features Part 1 link relations),
        // not only inside the description.
        if (const auto url = licence_url(d.licence); !url.empty()) {
            j["links"].push_back(link(url, "license", "text/html", d.licence));
        }
        if (c.type == ogc_collection::kind::dataset) {
            j["links"].push_back(link(self + "/styles", "styles", "application/json", "map styles (QGIS QML, SLD, MapLibre)"));
        }
        j["license"] = d.licence;
        j["rights"] = d.attribution;
        j["attribution"] = d.attribution;
        j["dataset"] = d.id;
        j["measure"] = c.measure->id;
        j["periods"] = d.periods;
        j["classification"] = disclosure::to_string(d.policy.classification);
        j["disclosure"] = disclosure_json(d);
        j["licence"] = d.licence;
        j["attribution"] = d.attribution;
    }
    return j;
}


json collections_document(const std::vector<ogc_collection>& collections, const snapshot& s, const std::string& base) {
    json list = json::array();
    for (const auto& c : collections) list.push_back(collection_document(c, s, base));
    return json{{"title", "Collections"},
                {"links", json::array({link(base + "/ogc/collections", "self", "application/json", "this document"),
                                       link(base + "/ogc/collections?f=html", "alternate", "text/html", "this document as HTML")})},
                {"collections", list}};
}

json styles_document(const ogc_collection& c, const std::string& base) {
    if (c.type != ogc_collection::kind::dataset) throw not_found("UnknownStyle", "collection " + c.id + " has no styles (dataset collections have)");
    const std::string self = base + "/ogc/collections/" + c.id + "/styles/default";
    return json{{"styles", json::array({json{{"id", "default"}, {"title", "the web map's classes (quantile, ColorBrewer YlGnBu)"},
                                             {"links", json::array({link(self + "?f=qml", "stylesheet", "application/vnd.qgis.qml", "QGIS style (QML)"),
                                                                    link(self + "?f=sld", "stylesheet", "application/vnd.ogc.sld+xml", "OGC SLD 1.0"),
                                                                    link(self + "?f=mapbox", "stylesheet", "application/vnd.mapbox.style+json",
                                                                         "MapLibre style for the vector tiles")})}}})},
                {"default", "default"}};
}

geo::bbox parse_bbox_crs84(const std::string& text) {
    std::vector<double> v;
    for (const auto& part : split_list(text, empty_items::keep)) {
        try {
            std::size_t used = 0;
            const double x = std::stod(part, &used);
            if (used != part.size() || !std::isfinite(x)) throw std::invalid_argument("");
            v.push_back(x);
        } catch (const std::exception&) {
            throw bad_request("InvalidParameter", "bbox must be 4 (or 6) comma-separated numbers, got \"" + text.substr(0, 60) + "\"");
        }
    }
    if (!text.empty() && text.back() == ',') v.clear();
    if (v.size() != 4 && v.size() != 6) {
        throw bad_request("InvalidParameter", "bbox must be 4 (or 6) comma-separated numbers: minlon,minlat,maxlon,maxlat");
    }
    const std::size_t k = v.size() / 2;
    geo::bbox b{v[0], v[1], v[k], v[k + 1]};
    if (b.min_y < -90 || b.max_y > 90 || b.min_x < -180 || b.max_x > 180) {
        throw bad_request("InvalidParameter", "bbox is outside CRS84 longitude/latitude");
    }
    if (b.min_x > b.max_x || b.min_y > b.max_y) {
        throw bad_request("InvalidParameter", "bbox minimum is above its maximum (bboxes across the antimeridian are not supported)");
    }
    return b;
}

item_selection select_items(const snapshot& s, const ogc_collection& c, const ogc_item_request& r) {
    item_selection sel;
    sel.limit = r.limit;
    sel.offset = r.offset;
    sel.bbox = r.bbox;
    sel.codes = r.codes;
    if (!r.within.empty()) {
        sel.within = s.find_area(r.within, c.vintage);
        if (!sel.within) throw not_found("UnknownArea", "no area \"" + r.within.substr(0, 60) + "\"");
    }
    const std::string& period = r.period;
    const std::string& datetime = r.datetime;
    if (c.dataset) {
        if (!period.empty() && !datetime.empty()) throw bad_request("InvalidParameter", "give period or datetime, not both");
        const auto& d = *c.dataset;
        // A ".v2021" collection is the dataset moved to that vintage through a crosswalk.
        const std::string vintage = c.vintage != d.vintage ? std::to_string(c.vintage) : std::string();
        auto query_for = [&](const std::string& p) { return s.make_query(d.id, c.measure->id, p, "", vintage, ""); };
        if (!period.empty()) query_for(period); // an unknown period is 404 UnknownPeriod on every dataset collection
        if (c.all_periods) {
            std::vector<std::string> chosen = d.periods;
            if (!period.empty()) chosen = {period};
            if (!datetime.empty()) chosen = periods_for_datetime(d.periods, datetime);
            for (const auto& p : chosen) sel.queries.push_back(query_for(p));
            sel.empty_period = chosen.empty();
            if (!chosen.empty()) sel.query = sel.queries.back();
        } else if (!c.fixed_period.empty()) {
            // A filter that excludes this collection's one period selects nothing (not another period).
            bool match = period.empty() || period == c.fixed_period;
            if (!datetime.empty()) {
                const auto overlapping = periods_for_datetime(d.periods, datetime);
                match = match && std::find(overlapping.begin(), overlapping.end(), c.fixed_period) != overlapping.end();
            }
            sel.empty_period = !match;
            if (match) sel.query = query_for(c.fixed_period);
        } else {
            std::string chosen = period;
            if (!datetime.empty()) {
                const auto p = period_for_datetime(d.periods, datetime);
                if (!p) {
                    sel.empty_period = true;
                } else {
                    chosen = *p;
                }
            }
            if (!sel.empty_period) sel.query = query_for(chosen);
            if (c.change && sel.query) {
                std::string then = r.compare;
                if (then.empty()) {
                    const auto it = std::find(d.periods.begin(), d.periods.end(), sel.query->period);
                    if (it == d.periods.begin()) {
                        sel.empty_period = true; // the first period has nothing before it
                    } else {
                        then = *(it - 1);
                    }
                }
                if (!then.empty()) sel.compare = compare_query(s, *sel.query, then);
            }
        }
    } else if (!period.empty() || (!datetime.empty() && c.type != ogc_collection::kind::bespoke)) {
        // Boundaries have no time: a datetime filter matches all of them (OGC: no temporal property = no filter).
        if (!period.empty()) throw bad_request("InvalidParameter", "period applies to dataset collections only");
    }
    if (!r.compare.empty() && !c.change) throw bad_request("InvalidParameter", "compare applies to the .change collections only");
    return sel;
}


namespace {

/// Features of an area collection (boundaries or dataset), ordered by code.
std::vector<std::size_t> matching_areas(const snapshot& s, const ogc_collection& c, const item_selection& sel) {
    if (!sel.bbox && sel.codes.empty() && !sel.within) return s.layer(c.level, c.vintage).areas_by_code;
    const auto& layer = s.layer(c.level, c.vintage);
    std::vector<char> in_bbox;
    if (sel.bbox) {
        in_bbox.assign(s.areas().size(), 0);
        for (const auto index : geo::query_bbox(layer.polygons, *sel.bbox)) in_bbox[layer.area_index[index]] = 1;
    }
    std::vector<std::size_t> out;
    if (!sel.codes.empty()) {
        std::set<std::size_t> found;
        for (const auto& code : sel.codes) {
            const auto i = s.find_area(code, c.vintage);
            if (i && s.areas()[*i].level == c.level && s.areas()[*i].vintage == c.vintage) found.insert(*i);
        }
        for (const auto i : s.areas_of(c.level, c.vintage, sel.within)) {
            if (found.count(i)) out.push_back(i);
        }
    } else {
        out = s.areas_of(c.level, c.vintage, sel.within);
    }
    out.erase(std::remove_if(out.begin(), out.end(),
                             [&](std::size_t i) { return !s.areas()[i].has_geometry || (sel.bbox && !in_bbox[i]); }),
              out.end());
    return out;
}

bool bespoke_in_bbox(const bespoke_area& b, const std::vector<char>& hits) {
    for (const auto i : b.members) {
        if (hits[i]) return true;
    }
    return false;
}

/// Appends the GeoJSON features of bespoke areas; with a dataset query their values are the protected table of
/// exactly these areas (one group each), so a page costs one aggregate of its own members.
void append_bespoke_features(std::string& out, data::database& db, const snapshot& s, const std::vector<const bespoke_area*>& page,
                             const std::optional<table_query>& query) {
    std::optional<table_result> table;
    if (query && !page.empty()) {
        auto q = *query;
        add_bespoke_groups(q, page);
        table = s.table(db, q);
    }
    bespoke_schema schema(s, table ? &*table : nullptr);
    for (std::size_t i = 0; i < page.size(); ++i) {
        if (i) out += ',';
        append_feature(out, page[i]->record.id, bespoke_outline(db, s, *page[i]), schema.properties(*page[i], i));
    }
}


} // namespace

namespace {

/// The features of a bespoke collection: every stored bespoke area `who` may read (ordered by id) that passes the
/// filters and, for a dataset collection, that the dataset can be summed over (bespoke_fits).
std::vector<bespoke_area> matching_bespoke(const snapshot& s, data::database& db, const ogc_collection& c,
                                           const item_selection& sel, const data::bespoke_reader& who) {
    std::vector<char> hits;
    if (sel.bbox) {
        hits.assign(s.areas().size(), 0);
        for (const auto& [key, layer] : s.layers()) {
            (void)key;
            for (const auto index : geo::query_bbox(layer.polygons, *sel.bbox)) hits[layer.area_index[index]] = 1;
        }
    }
    std::vector<bespoke_area> out;
    for (auto& record : data::load_bespoke_areas(db, who)) {
        if (!sel.codes.empty() && std::find(sel.codes.begin(), sel.codes.end(), record.id) == sel.codes.end()) continue;
        auto b = resolve_members(s, std::move(record));
        if (sel.bbox && !bespoke_in_bbox(b, hits)) continue;
        if (c.dataset && !bespoke_fits(b, *c.dataset)) continue;
        out.push_back(std::move(b));
    }
    return out;
}

} // namespace

feature_page bespoke_features(const snapshot& s, data::database& db, const ogc_collection& c, const item_selection& sel,
                              const data::bespoke_reader& who) {
    feature_page page;
    if (sel.empty_period) return page;
    const auto chosen = matching_bespoke(s, db, c, sel, who);
    page.matched = chosen.size();
    std::vector<const bespoke_area*> members;
    const auto limit = static_cast<std::size_t>(sel.limit);
    for (auto i = static_cast<std::size_t>(sel.offset); i < chosen.size() && members.size() < limit; ++i) members.push_back(&chosen[i]);
    page.returned = members.size();
    append_bespoke_features(page.features, db, s, members, sel.query);
    return page;
}

namespace {

/// The change of one area in a change collection, under the names tiles use for compare=PERIOD (change or
/// change_percent, change_rate, change_uncertainty, no_change_within_rounding) plus compare_period and
/// comparable; from the two periods' protected rows only (engine/change).
struct change_properties {
    std::shared_ptr<const table_result> then;
    std::vector<std::int32_t> then_rows;
    change_properties(const snapshot& s, const table_source& tables, const item_selection& sel) {
        if (!sel.compare) return;
        then = tables(*sel.compare);
        then_rows = rows_by_area(*then, s.areas().size());
    }
    void add(nlohmann::ordered_json& props, const table_result* now, std::size_t area, long row) const {
        if (!then || !now) return;
        const bool percent = now->table.kind() == disclosure::measure_kind::percent_only;
        change_row c;
        const auto then_row = then_rows[area];
        if (row >= 0 && then_row >= 0) {
            c = compare_rows(now->table.rows()[static_cast<std::size_t>(row)], then->table.rows()[static_cast<std::size_t>(then_row)], percent);
        }
        props["compare_period"] = then->query.period;
        props["comparable"] = c.comparable;
        if (percent) {
            props["change_percent"] = c.percent ? nlohmann::ordered_json(*c.percent) : nlohmann::ordered_json(nullptr);
        } else {
            props["change"] = c.value ? nlohmann::ordered_json(*c.value) : nlohmann::ordered_json(nullptr);
            props["change_rate"] = c.rate_per_100_households ? nlohmann::ordered_json(*c.rate_per_100_households) : nlohmann::ordered_json(nullptr);
        }
        props["change_uncertainty"] = c.comparable ? nlohmann::ordered_json(c.uncertainty) : nlohmann::ordered_json(nullptr);
        props["no_change_within_rounding"] = c.comparable && c.within_rounding;
    }
};

} // namespace

feature_page area_features(const snapshot& s, data::database& db, const table_source& tables, const ogc_collection& c,
                           const item_selection& sel) {
    feature_page page;
    if (sel.empty_period) return page;
    const auto first = static_cast<std::size_t>(sel.offset);
    const auto limit = static_cast<std::size_t>(sel.limit);
    static const std::string no_geometry;
    const auto areas = matching_areas(s, c, sel);
    if (c.all_periods) {
        // Features run period by period, each in area-code order: index k is area k % n of period k / n.
        const std::size_t n = areas.size();
        page.matched = n * sel.queries.size();
        const std::size_t last = std::min(page.matched, first + limit);
        std::vector<std::int64_t> ids;
        for (std::size_t k = first; k < last; ++k) ids.push_back(s.areas()[areas[k % n]].id);
        const auto geometries = data::load_geometry_map(db, ids);
        std::vector<std::shared_ptr<const table_result>> period_tables(sel.queries.size());
        std::vector<std::optional<feature_schema>> schemas(sel.queries.size());
        for (std::size_t k = first; k < last; ++k, ++page.returned) {
            const std::size_t p = k / n;
            if (!schemas[p]) {
                period_tables[p] = tables(sel.queries[p]);
                schemas[p].emplace(s, c.level, period_tables[p].get());
            }
            const auto area = areas[k % n];
            const auto g = geometries.find(s.areas()[area].id);
            if (page.returned) page.features += ',';
            append_feature(page.features, s.areas()[area].code + "_" + sel.queries[p].period,
                           g == geometries.end() ? no_geometry : g->second, schemas[p]->properties(area, schemas[p]->row_of_area()[area]));
        }
        return page;
    }
    page.matched = areas.size();
    std::shared_ptr<const table_result> table;
    if (sel.query) table = tables(*sel.query);
    feature_schema schema(s, c.level, table.get());
    const change_properties changes(s, tables, sel);
    std::vector<std::int64_t> ids;
    for (std::size_t i = first; i < areas.size() && ids.size() < limit; ++i) ids.push_back(s.areas()[areas[i]].id);
    const auto geometries = data::load_geometry_map(db, ids);
    page.features.reserve(ids.size() * 2048);
    for (std::size_t i = first; i < areas.size() && page.returned < limit; ++i, ++page.returned) {
        const auto area = areas[i];
        const auto g = geometries.find(s.areas()[area].id);
        const long row = table ? schema.row_of_area()[area] : -1;
        if (page.returned) page.features += ',';
        auto props = schema.properties(area, row);
        changes.add(props, table.get(), area, row);
        append_feature(page.features, s.areas()[area].code, g == geometries.end() ? no_geometry : g->second, props);
    }
    return page;
}

not_found unknown_feature(const ogc_collection& c, const std::string& feature_id) {
    return not_found("UnknownFeature", "collection " + c.id + " has no feature \"" + feature_id.substr(0, 60) + "\"");
}

std::pair<std::string, std::optional<table_query>> area_feature(const snapshot& s, data::database& db, const table_source& tables,
                                                                const ogc_collection& c, const item_selection& sel,
                                                                const std::string& feature_id) {
    std::string code = feature_id;
    std::optional<table_query> query = sel.query;
    if (c.all_periods) { // CODE_PERIOD, the period among those the filter lets through
        const auto underscore = feature_id.rfind('_');
        if (underscore == std::string::npos) throw unknown_feature(c, feature_id);
        code = feature_id.substr(0, underscore);
        const std::string period = feature_id.substr(underscore + 1);
        query.reset();
        for (const auto& q : sel.queries) {
            if (q.period == period) query = q;
        }
        if (!query) throw unknown_feature(c, feature_id);
    }
    const auto area = s.find_area(code, c.vintage);
    if (!area || s.areas()[*area].level != c.level || s.areas()[*area].vintage != c.vintage || !s.areas()[*area].has_geometry ||
        sel.empty_period) {
        throw unknown_feature(c, feature_id);
    }
    std::shared_ptr<const table_result> table;
    if (query) table = tables(*query);
    feature_schema schema(s, c.level, table.get());
    const long row = table ? schema.row_of_area()[*area] : -1;
    auto props = schema.properties(*area, row);
    change_properties(s, tables, sel).add(props, table.get(), *area, row);
    std::string body;
    append_feature(body, feature_id, data::load_geometry(db, s.areas()[*area].id), props);
    return {std::move(body), query};
}

std::string bespoke_feature(const snapshot& s, data::database& db, const ogc_collection& c, const item_selection& sel,
                            data::bespoke_record record) {
    const std::string id = record.id;
    if (sel.empty_period) throw unknown_feature(c, id);
    const auto b = resolve_members(s, std::move(record));
    if (c.dataset && !bespoke_fits(b, *c.dataset)) throw unknown_feature(c, id);
    std::string body;
    append_bespoke_features(body, db, s, {&b}, sel.query);
    return body;
}

json items_head(const ogc_collection& c, const item_selection& sel, const feature_page& page, const std::string& base,
                const std::string& query) {
    const std::string self = base + "/ogc/collections/" + c.id + "/items";
    const auto first = static_cast<std::size_t>(sel.offset);
    const auto limit = static_cast<std::size_t>(sel.limit);
    auto page_url = [&](std::size_t offset, const std::string& f) {
        std::string q = "limit=" + std::to_string(limit) + "&offset=" + std::to_string(offset);
        if (!query.empty()) q += "&" + query;
        if (!f.empty()) q += "&f=" + f;
        return self + "?" + q;
    };
    json links = json::array({link(page_url(first, ""), "self", geojson_media_type, "this page"),
                              link(page_url(first, "html"), "alternate", "text/html", "this page as HTML"),
                              link(base + "/ogc/collections/" + c.id, "collection", "application/json", "the collection")});
    if (first + page.returned < page.matched) links.push_back(link(page_url(first + page.returned, ""), "next", geojson_media_type, "next page"));
    if (first > 0) links.push_back(link(page_url(first > limit ? first - limit : 0, ""), "prev", geojson_media_type, "previous page"));

    json head{{"type", "FeatureCollection"}, {"numberMatched", page.matched}, {"numberReturned", page.returned},
              {"timeStamp", utc_now_text(utc_precision::seconds)}, {"links", links}};
    if (c.all_periods) {
        json periods = json::array();
        for (const auto& q : sel.queries) periods.push_back(q.period);
        head["periods"] = std::move(periods);
    }
    if (sel.query) {
        if (!c.all_periods) head["period"] = sel.query->period;
        head["classification"] = disclosure::to_string(sel.query->dataset->policy.classification);
        head["disclosure"] = disclosure_json(*sel.query->dataset);
    }
    return head;
}

json item_links(const ogc_collection& c, const std::string& feature_id, const std::string& base) {
    const std::string self = base + "/ogc/collections/" + c.id + "/items/" + url_encode(feature_id);
    return json::array({link(self, "self", geojson_media_type), link(self + "?f=html", "alternate", "text/html"),
                        link(base + "/ogc/collections/" + c.id, "collection", "application/json")});
}

json landing_document(const std::string& server) {
    const std::string base = server + "/ogc";
    return json{{"title", "smallarea: OGC API - Features"},
                {"description", "Boundaries of UK Output Areas and LSOAs with disclosure-protected statistics. "
                                "Dataset collections {dataset}.{measure} give the latest period; filter with "
                                "?period=YYYY-MM or ?datetime= (instant or interval a/b), e.g. " + base +
                                "/collections/claimant_count.claimants/items?period=2017-09. For clients that "
                                "cannot filter, {dataset}.{measure}.{period} is one period's collection, and "
                                "{dataset}.{measure}.all-periods has one feature per area and period (period_start, "
                                "an ISO date, for time filters such as QGIS's temporal controller)."},
                {"periods_help", json{{"latest", base + "/collections/{dataset}.{measure}/items"},
                                      {"one_period", base + "/collections/{dataset}.{measure}/items?period={YYYY-MM}"},
                                      {"one_period_collection", base + "/collections/{dataset}.{measure}.{YYYY-MM}/items"},
                                      {"every_period", base + "/collections/{dataset}.{measure}.all-periods/items?datetime={start}/{end}"}}},
                {"links", json::array({link(base, "self", "application/json", "this document"),
                                       link(base + "?f=html", "alternate", "text/html", "this document as HTML"),
                                       link(base + "/api", "service-desc", openapi_media_type, "the API definition"),
                                       link(base + "/api", "service-doc", "application/json", "the API documentation"),
                                       link(base + "/conformance", "conformance", "application/json", "conformance classes"),
                                       link(base + "/collections", "data", "application/json", "the collections")})}};
}

namespace {

json parameter_ref(const std::string& name) { return json{{"$ref", "#/components/parameters/" + name}}; }

} // namespace

json openapi_document(const std::string& base) {
    auto response = [](const std::string& description, const std::string& type) {
        return json{{"description", description}, {"content", {{type, {{"schema", {{"type", "object"}}}}}}}};
    };
    auto error_responses = [&](json responses) {
        responses["400"] = response("invalid parameter: {code, message}", "application/json");
        responses["404"] = response("unknown collection or feature: {code, message}", "application/json");
        return responses;
    };
    json params{
        {"f", {{"name", "f"}, {"in", "query"}, {"required", false}, {"schema", {{"type", "string"}, {"enum", {"json", "html"}}}}}},
        {"collectionId", {{"name", "collectionId"}, {"in", "path"}, {"required", true}, {"schema", {{"type", "string"}}}}},
        {"featureId", {{"name", "featureId"}, {"in", "path"}, {"required", true}, {"description", "the area code"},
                       {"schema", {{"type", "string"}}}}},
        {"limit", {{"name", "limit"}, {"in", "query"}, {"required", false}, {"style", "form"}, {"explode", false},
                   {"schema", {{"type", "integer"}, {"minimum", 1}, {"maximum", ogc_max_limit}, {"default", ogc_default_limit}}}}},
        {"offset", {{"name", "offset"}, {"in", "query"}, {"required", false},
                    {"schema", {{"type", "integer"}, {"minimum", 0}, {"default", 0}}}}},
        {"bbox", {{"name", "bbox"}, {"in", "query"}, {"required", false}, {"style", "form"}, {"explode", false},
                  {"description", "minlon,minlat,maxlon,maxlat in CRS84"},
                  {"schema", {{"type", "array"}, {"minItems", 4}, {"maxItems", 6}, {"items", {{"type", "number"}}}}}}},
        {"datetime", {{"name", "datetime"}, {"in", "query"}, {"required", false}, {"style", "form"}, {"explode", false},
                      {"description", "RFC 3339 instant or interval (a/b, .. for open): selects the latest period of a dataset collection within it"},
                      {"schema", {{"type", "string"}}}}},
        {"period", {{"name", "period"}, {"in", "query"}, {"required", false},
                    {"description", "a dataset period (YYYY-MM or YYYY); default the latest"}, {"schema", {{"type", "string"}}}}},
        {"code", {{"name", "code"}, {"in", "query"}, {"required", false}, {"description", "area codes, comma-separated"},
                  {"schema", {{"type", "string"}}}}},
        {"within", {{"name", "within"}, {"in", "query"}, {"required", false}, {"description", "an ancestor area code (e.g. a LAD)"},
                    {"schema", {{"type", "string"}}}}}};
    auto get = [&](const std::string& summary, const std::string& op, json parameters, const std::string& type) {
        return json{{"get", {{"summary", summary}, {"operationId", op}, {"parameters", std::move(parameters)},
                             {"responses", error_responses(json{{"200", response(summary, type)}})}}}};
    };
    json paths{
        {"/", get("landing page", "getLandingPage", json::array({parameter_ref("f")}), "application/json")},
        {"/conformance", get("conformance classes", "getConformanceDeclaration", json::array({parameter_ref("f")}), "application/json")},
        {"/api", get("this OpenAPI document", "getAPI", json::array(), openapi_media_type)},
        {"/collections", get("the collections", "getCollections", json::array({parameter_ref("f")}), "application/json")},
        {"/collections/{collectionId}", get("one collection", "describeCollection",
                                            json::array({parameter_ref("collectionId"), parameter_ref("f")}), "application/json")},
        {"/collections/{collectionId}/items",
         get("features of a collection", "getFeatures",
             json::array({parameter_ref("collectionId"), parameter_ref("limit"), parameter_ref("offset"), parameter_ref("bbox"),
                          parameter_ref("datetime"), parameter_ref("period"), parameter_ref("code"), parameter_ref("within"),
                          parameter_ref("f")}),
             geojson_media_type)},
        {"/collections/{collectionId}/items/{featureId}",
         get("one feature", "getFeature",
             json::array({parameter_ref("collectionId"), parameter_ref("featureId"), parameter_ref("datetime"),
                          parameter_ref("period"), parameter_ref("f")}),
             geojson_media_type)}};
    return json{{"openapi", "3.0.3"},
                {"info", {{"title", "smallarea OGC API - Features"},
                          {"version", "1.0.0"},
                          {"description", "Small-area boundaries and disclosure-protected statistics (UK Output Areas, LSOAs)"},
                          {"license", {{"name", "Open Government Licence v3.0 (published data); internal MI under agreement"}}}}},
                {"servers", json::array({{{"url", base + "/ogc"}}})},
                {"paths", paths},
                {"components", {{"parameters", params}}}};
}


json conformance_document() {
    static const std::vector<std::string> classes{
        "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
        "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
        "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
        "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/html"};
    return json{{"title", "Conformance"}, {"conformsTo", classes}};
}

} // namespace smallarea::engine
