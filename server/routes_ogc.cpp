// OGC API - Features Part 1 (Core, GeoJSON, OpenAPI 3.0, HTML) under /ogc, read by GDAL's OAPIF driver and QGIS.
// Collections: boundaries per level/vintage, one per dataset measure (protected values for one period), the
// bespoke areas, and one per dataset measure over the bespoke areas (sums of members' protected values).
// Feature id = area code (bespoke id for bespoke areas). CRS84 only. Also the export routes (/api/export/...).

#include "core/error.hpp"
#include "core/split.hpp"
#include "core/utc.hpp"
#include "data/ogc_queries.hpp"
#include "geo/geometry_ops.hpp"
#include "server/access.hpp"
#include "server/bespoke.hpp"
#include "server/context.hpp"
#include "engine/encode.hpp"
#include "engine/encode_csv.hpp"
#include "engine/export.hpp"
#include "server/http_util.hpp"
#include "engine/ogc.hpp"
#include "engine/styles.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <map>
#include <mutex>
#include <set>
#include <sstream>

namespace smallarea::server {

using nlohmann::json;
using nlohmann::ordered_json;

namespace {

const char* const crs84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84";
const char* const geojson_type = "application/geo+json";
const char* const openapi_type = "application/vnd.oai.openapi+json;version=3.0";
constexpr long default_limit = 100;
constexpr long max_limit = 10000;

bool wants_html(const httplib::Request& req) {
    const std::string f = param(req, "f");
    if (f == "html") return true;
    if (f == "json" || f == "geojson") return false;
    if (!f.empty()) throw unsupported_format("UnsupportedFormat", "f must be json or html");
    // Browsers ask for text/html first; GDAL and QGIS ask for JSON.
    const std::string accept = req.get_header_value("Accept");
    return accept.find("text/html") != std::string::npos && accept.find("json") == std::string::npos;
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
std::string render_html(const json& doc, const std::string& fallback_title) {
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

void send(httplib::Response& res, const httplib::Request& req, const json& doc, const char* json_type, const std::string& title) {
    if (wants_html(req)) {
        res.set_content(render_html(doc, title), "text/html; charset=utf-8");
    } else {
        send_json(res, doc, json_type);
    }
}

json link(const std::string& href, const std::string& rel, const std::string& type, const std::string& title = "") {
    json l{{"href", href}, {"rel", rel}, {"type", type}};
    if (!title.empty()) l["title"] = title;
    return l;
}


/// Whether the caller may read any stored bespoke area (public ones, its organisation's own): the bespoke
/// collections exist for it only then, so their presence says nothing about other organisations' areas.
bool has_bespoke(context& ctx, const httplib::Request& req) {
    return data::has_bespoke_areas(ctx.connection(), ctx.bespoke_reader(req));
}

std::vector<ogc_collection> visible_collections(context& ctx, const httplib::Request& req, const snapshot& s) {
    return ogc_collections(s, has_bespoke(ctx, req), [&](const data::dataset_info& d) { return ctx.visible(req, d); });
}

/// The collection named in the path. 404 UnknownCollection when there is none, and exactly the same for a
/// collection of an internal dataset the caller may not read, so a hidden dataset's collections cannot be told
/// from names that do not exist. Key problems (401/403) are answered for both alike.
ogc_collection find_collection(context& ctx, const httplib::Request& req, const snapshot& s, const std::string& id) {
    for (auto& c : ogc_collections(s, has_bespoke(ctx, req), [](const data::dataset_info&) { return true; })) {
        if (c.id != id) continue;
        if (c.dataset && !ctx.access().readable(req, c.dataset, c.dataset->id)) break;
        return c;
    }
    ctx.access().require_usable_key(req); // the 401/403 a hidden collection would give for this key
    throw not_found("UnknownCollection", "no collection \"" + id.substr(0, 100) + "\" (see /ogc/collections)");
}

json collection_json(const ogc_collection& c, const snapshot& s, const std::string& base) {
    const std::string self = base + "/ogc/collections/" + c.id;
    json j{{"id", c.id},
           {"title", c.title},
           {"description", c.description},
           {"itemType", "feature"},
           {"crs", json::array({crs84})},
           {"storageCrs", crs84},
           {"links", json::array({link(self, "self", "application/json", "this collection"),
                                  link(self + "?f=html", "alternate", "text/html", "this collection as HTML"),
                                  link(self + "/items", "items", geojson_type, "the features"),
                                  link(self + "/items?f=html", "items", "text/html", "the features as HTML")})}};
    if (c.type != ogc_collection::kind::bespoke) {
        const auto b = s.layer(c.level, c.vintage).polygons.bounds_lonlat();
        j["extent"]["spatial"] = json{{"bbox", json::array({json::array({b.min_x, b.min_y, b.max_x, b.max_y})})}, {"crs", crs84}};
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

/// bbox=minx,miny,maxx,maxy (or 6 numbers with heights), CRS84 degrees.
geo::bbox parse_bbox(const std::string& text) {
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

void check_crs(const httplib::Request& req) {
    for (const char* name : {"crs", "bbox-crs"}) {
        const auto v = param(req, name);
        if (!v.empty() && v != crs84 && v != std::string("[OGC:CRS84]")) {
            throw bad_request("InvalidParameter", std::string(name) + ": only " + crs84 + " is supported");
        }
    }
}

std::vector<std::string> split_codes(const std::string& text) { return split_list(text, empty_items::drop); }

/// The query string of this request without the given keys (for next/prev links).
std::string query_without(const httplib::Request& req, const std::set<std::string>& drop) {
    std::string out;
    for (const auto& [key, value] : req.params) {
        if (drop.count(key)) continue;
        out += (out.empty() ? "" : "&") + url_encode(key) + "=" + url_encode(value);
    }
    return out;
}

/// What an items request selects, after validation.
struct item_selection {
    long limit = default_limit;
    long offset = 0;
    std::optional<geo::bbox> bbox;
    std::vector<std::string> codes;
    std::optional<std::size_t> within;
    std::optional<table_query> query; ///< dataset collections (all-periods: the latest chosen, for the headers)
    std::vector<table_query> queries; ///< all-periods collections: one per chosen period, ascending
    bool empty_period = false;        ///< datetime matched no period: no features
};

item_selection parse_selection(const httplib::Request& req, const snapshot& s, const ogc_collection& c, bool paging) {
    item_selection sel;
    check_crs(req);
    if (paging) {
        if (const auto l = param(req, "limit"); !l.empty()) sel.limit = parse_integer(l, "limit", 1, max_limit);
        if (const auto o = param(req, "offset"); !o.empty()) sel.offset = parse_integer(o, "offset", 0, 1000000000L);
        if (const auto b = param(req, "bbox"); !b.empty() || req.has_param("bbox")) sel.bbox = parse_bbox(b);
        if (const auto codes = param(req, "code"); !codes.empty()) sel.codes = split_codes(codes);
    }
    if (const auto w = param(req, "within"); !w.empty() && paging) {
        sel.within = s.find_area(w, c.vintage);
        if (!sel.within) throw not_found("UnknownArea", "no area \"" + w + "\"");
    }
    const auto period = param(req, "period");
    const auto datetime = param(req, "datetime");
    if (c.dataset) {
        if (!period.empty() && !datetime.empty()) throw bad_request("InvalidParameter", "give period or datetime, not both");
        const auto& d = *c.dataset;
        auto query_for = [&](const std::string& p) { return s.make_query(d.id, c.measure->id, p, "", "", ""); };
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
        }
    } else if (!period.empty() || (!datetime.empty() && c.type != ogc_collection::kind::bespoke)) {
        // Boundaries have no time: a datetime filter matches all of them (OGC: no temporal property = no filter).
        if (!period.empty()) throw bad_request("InvalidParameter", "period applies to dataset collections only");
    }
    return sel;
}

/// Areas of a level/vintage with a boundary, by code, cached per snapshot: a client paging through a national
/// collection (GDAL asks 10 at a time by default) would otherwise scan and sort every area on each page.
std::shared_ptr<const std::vector<std::size_t>> areas_with_boundary(const std::shared_ptr<const snapshot>& s,
                                                                    const std::string& level, int vintage) {
    static std::mutex mutex;
    static std::weak_ptr<const snapshot> cached_for;
    static std::map<std::pair<std::string, int>, std::shared_ptr<const std::vector<std::size_t>>> lists;
    std::lock_guard<std::mutex> lock(mutex);
    if (cached_for.lock() != s) {
        lists.clear();
        cached_for = s;
    }
    auto& entry = lists[{level, vintage}];
    if (!entry) {
        auto list = s->areas_of(level, vintage, std::nullopt);
        list.erase(std::remove_if(list.begin(), list.end(), [&](std::size_t i) { return !s->areas()[i].has_geometry; }),
                   list.end());
        entry = std::make_shared<const std::vector<std::size_t>>(std::move(list));
    }
    return entry;
}

/// Features of an area collection (boundaries or dataset), ordered by code.
std::vector<std::size_t> matching_areas(const std::shared_ptr<const snapshot>& snap, const ogc_collection& c,
                                        const item_selection& sel) {
    const snapshot& s = *snap;
    if (!sel.bbox && sel.codes.empty() && !sel.within) return *areas_with_boundary(snap, c.level, c.vintage);
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

/// The features of a bespoke collection: every stored bespoke area (ordered by id) that passes the filters and,
/// for a dataset collection, that the dataset can be summed over (bespoke_fits).
std::vector<bespoke_area> matching_bespoke(context& ctx, const httplib::Request& req, const snapshot& s, const ogc_collection& c,
                                           const item_selection& sel) {
    std::vector<char> hits;
    if (sel.bbox) {
        hits.assign(s.areas().size(), 0);
        for (const auto& [key, layer] : s.layers()) {
            (void)key;
            for (const auto index : geo::query_bbox(layer.polygons, *sel.bbox)) hits[layer.area_index[index]] = 1;
        }
    }
    std::vector<bespoke_area> out;
    for (auto& record : data::load_bespoke_areas(ctx.connection(), ctx.bespoke_reader(req))) {
        if (!sel.codes.empty() && std::find(sel.codes.begin(), sel.codes.end(), record.id) == sel.codes.end()) continue;
        auto b = resolve_members(s, std::move(record));
        if (sel.bbox && !bespoke_in_bbox(b, hits)) continue;
        if (c.dataset && !bespoke_fits(b, *c.dataset)) continue;
        out.push_back(std::move(b));
    }
    return out;
}

/// Appends the GeoJSON features of bespoke areas; with a dataset query their values are the protected table of
/// exactly these areas (one group each), so a page costs one aggregate of its own members.
void append_bespoke_features(std::string& out, context& ctx, const snapshot& s, const std::vector<const bespoke_area*>& page,
                             const std::optional<table_query>& query) {
    std::optional<table_result> table;
    if (query && !page.empty()) {
        auto q = *query;
        add_bespoke_groups(q, page);
        table = s.table(ctx.connection(), q);
    }
    bespoke_schema schema(s, table ? &*table : nullptr);
    for (std::size_t i = 0; i < page.size(); ++i) {
        if (i) out += ',';
        append_feature(out, page[i]->record.id, bespoke_outline(ctx.connection(), s, *page[i]), schema.properties(*page[i], i));
    }
}

void handle_items(context& ctx, const httplib::Request& req, httplib::Response& res) {
    const auto s = ctx.snap();
    const std::string id = req.matches[1];
    const auto c = find_collection(ctx, req, *s, id);
    const auto sel = parse_selection(req, *s, c, true);
    const std::string base = base_url(req);
    const std::string self = base + "/ogc/collections/" + c.id + "/items";
    auto& db = ctx.connection();

    std::string features;
    std::size_t matched = 0;
    std::size_t returned = 0;
    const auto first = static_cast<std::size_t>(sel.offset);
    const auto limit = static_cast<std::size_t>(sel.limit);
    if (c.type == ogc_collection::kind::bespoke) {
        if (!sel.empty_period) {
            const auto chosen = matching_bespoke(ctx, req, *s, c, sel);
            matched = chosen.size();
            std::vector<const bespoke_area*> page;
            for (std::size_t i = first; i < chosen.size() && page.size() < limit; ++i) page.push_back(&chosen[i]);
            returned = page.size();
            append_bespoke_features(features, ctx, *s, page, sel.query);
        }
    } else if (c.all_periods) {
        if (!sel.empty_period) {
            // Features run period by period, each in area-code order: index k is area k % n of period k / n.
            const auto areas = matching_areas(s, c, sel);
            const std::size_t n = areas.size();
            matched = n * sel.queries.size();
            const std::size_t last = std::min(matched, first + limit);
            std::vector<std::int64_t> ids;
            for (std::size_t k = first; k < last; ++k) ids.push_back(s->areas()[areas[k % n]].id);
            const auto geometries = data::load_geometry_map(db, ids);
            std::vector<std::shared_ptr<const table_result>> tables(sel.queries.size());
            std::vector<std::optional<feature_schema>> schemas(sel.queries.size());
            static const std::string none;
            for (std::size_t k = first; k < last; ++k, ++returned) {
                const std::size_t p = k / n;
                if (!schemas[p]) {
                    tables[p] = ctx.table_values(*s, sel.queries[p]);
                    schemas[p].emplace(*s, c.level, tables[p].get());
                }
                const auto area = areas[k % n];
                const auto g = geometries.find(s->areas()[area].id);
                if (returned) features += ',';
                append_feature(features, s->areas()[area].code + "_" + sel.queries[p].period,
                               g == geometries.end() ? none : g->second, schemas[p]->properties(area, schemas[p]->row_of_area()[area]));
            }
        }
    } else if (!sel.empty_period) {
        const auto areas = matching_areas(s, c, sel);
        matched = areas.size();
        std::shared_ptr<const table_result> table;
        if (sel.query) table = ctx.table_values(*s, *sel.query);
        feature_schema schema(*s, c.level, table.get());
        std::vector<std::int64_t> ids;
        for (std::size_t i = first; i < areas.size() && ids.size() < limit; ++i) ids.push_back(s->areas()[areas[i]].id);
        const auto geometries = data::load_geometry_map(db, ids);
        static const std::string none;
        features.reserve(ids.size() * 2048);
        for (std::size_t i = first; i < areas.size() && returned < limit; ++i, ++returned) {
            const auto area = areas[i];
            const auto g = geometries.find(s->areas()[area].id);
            const long row = table ? schema.row_of_area()[area] : -1;
            if (returned) features += ',';
            append_feature(features, s->areas()[area].code, g == geometries.end() ? none : g->second, schema.properties(area, row));
        }
    }

    const std::string rest = query_without(req, {"offset", "limit", "f"});
    auto page_url = [&](std::size_t offset, const std::string& f) {
        std::string q = "limit=" + std::to_string(limit) + "&offset=" + std::to_string(offset);
        if (!rest.empty()) q += "&" + rest;
        if (!f.empty()) q += "&f=" + f;
        return self + "?" + q;
    };
    json links = json::array({link(page_url(first, ""), "self", geojson_type, "this page"),
                              link(page_url(first, "html"), "alternate", "text/html", "this page as HTML"),
                              link(base + "/ogc/collections/" + c.id, "collection", "application/json", "the collection")});
    if (first + returned < matched) links.push_back(link(page_url(first + returned, ""), "next", geojson_type, "next page"));
    if (first > 0) links.push_back(link(page_url(first > limit ? first - limit : 0, ""), "prev", geojson_type, "previous page"));

    json head{{"type", "FeatureCollection"}, {"numberMatched", matched}, {"numberReturned", returned},
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
        res.set_header("X-Smallarea-Classification", disclosure::to_string(sel.query->dataset->policy.classification));
    }
    if (wants_html(req)) {
        json doc = head;
        doc["title"] = c.title;
        doc["features"] = json::parse("[" + features + "]");
        res.set_content(render_html(doc, c.title), "text/html; charset=utf-8");
        return;
    }
    std::string body = head.dump(-1, ' ', false, json::error_handler_t::replace);
    body.pop_back(); // reopen the object to append the features without re-parsing them
    body += R"(,"features":[)" + features + "]}";
    res.set_content(body, geojson_type);
}

void handle_item(context& ctx, const httplib::Request& req, httplib::Response& res) {
    const auto s = ctx.snap();
    const std::string id = req.matches[1];
    const std::string feature_id = req.matches[2];
    const auto c = find_collection(ctx, req, *s, id);
    const auto sel = parse_selection(req, *s, c, false);
    const std::string base = base_url(req);
    auto& db = ctx.connection();
    std::string body;
    auto unknown = [&] {
        return not_found("UnknownFeature", "collection " + c.id + " has no feature \"" + feature_id.substr(0, 60) + "\"");
    };
    if (c.type == ogc_collection::kind::bespoke) {
        // Through the one resolver (404 UnknownBespoke alike for unknown and other organisations' private areas
        // would name the wrong thing here: a feature of this collection, so answer UnknownFeature for both).
        std::optional<data::bespoke_record> record;
        try {
            record = resolve_bespoke_record(ctx, req, ctx.bespoke_reader(req), feature_id, true);
        } catch (const not_found&) {
            throw unknown();
        }
        if (sel.empty_period) throw unknown();
        const auto b = resolve_members(*s, std::move(*record));
        if (c.dataset && !bespoke_fits(b, *c.dataset)) throw unknown();
        append_bespoke_features(body, ctx, *s, {&b}, sel.query);
        if (sel.query) res.set_header("X-Smallarea-Classification", disclosure::to_string(sel.query->dataset->policy.classification));
    } else {
        std::string code = feature_id;
        std::optional<table_query> query = sel.query;
        if (c.all_periods) { // CODE_PERIOD, the period among those the filter lets through
            const auto underscore = feature_id.rfind('_');
            if (underscore == std::string::npos) throw unknown();
            code = feature_id.substr(0, underscore);
            const std::string period = feature_id.substr(underscore + 1);
            query.reset();
            for (const auto& q : sel.queries) {
                if (q.period == period) query = q;
            }
            if (!query) throw unknown();
        }
        const auto area = s->find_area(code, c.vintage);
        if (!area || s->areas()[*area].level != c.level || s->areas()[*area].vintage != c.vintage ||
            !s->areas()[*area].has_geometry || sel.empty_period) {
            throw unknown();
        }
        std::shared_ptr<const table_result> table;
        if (query) table = ctx.table_values(*s, *query);
        feature_schema schema(*s, c.level, table.get());
        append_feature(body, feature_id, data::load_geometry(db, s->areas()[*area].id),
                       schema.properties(*area, table ? schema.row_of_area()[*area] : -1));
        if (query) res.set_header("X-Smallarea-Classification", disclosure::to_string(query->dataset->policy.classification));
    }
    const std::string self = base + "/ogc/collections/" + c.id + "/items/" + url_encode(feature_id);
    json links = json::array({link(self, "self", geojson_type), link(self + "?f=html", "alternate", "text/html"),
                              link(base + "/ogc/collections/" + c.id, "collection", "application/json")});
    if (wants_html(req)) {
        json doc = json::parse(body);
        doc["title"] = c.title + ": " + feature_id;
        doc["links"] = links;
        res.set_content(render_html(doc, feature_id), "text/html; charset=utf-8");
        return;
    }
    body.pop_back();
    body += R"(,"links":)" + links.dump() + "}";
    res.set_content(body, geojson_type);
}

json parameter_ref(const std::string& name) { return json{{"$ref", "#/components/parameters/" + name}}; }

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
                   {"schema", {{"type", "integer"}, {"minimum", 1}, {"maximum", max_limit}, {"default", default_limit}}}}},
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
        {"/api", get("this OpenAPI document", "getAPI", json::array(), openapi_type)},
        {"/collections", get("the collections", "getCollections", json::array({parameter_ref("f")}), "application/json")},
        {"/collections/{collectionId}", get("one collection", "describeCollection",
                                            json::array({parameter_ref("collectionId"), parameter_ref("f")}), "application/json")},
        {"/collections/{collectionId}/items",
         get("features of a collection", "getFeatures",
             json::array({parameter_ref("collectionId"), parameter_ref("limit"), parameter_ref("offset"), parameter_ref("bbox"),
                          parameter_ref("datetime"), parameter_ref("period"), parameter_ref("code"), parameter_ref("within"),
                          parameter_ref("f")}),
             geojson_type)},
        {"/collections/{collectionId}/items/{featureId}",
         get("one feature", "getFeature",
             json::array({parameter_ref("collectionId"), parameter_ref("featureId"), parameter_ref("datetime"),
                          parameter_ref("period"), parameter_ref("f")}),
             geojson_type)}};
    return json{{"openapi", "3.0.3"},
                {"info", {{"title", "smallarea OGC API - Features"},
                          {"version", "1.0.0"},
                          {"description", "Small-area boundaries and disclosure-protected statistics (UK Output Areas, LSOAs)"},
                          {"license", {{"name", "Open Government Licence v3.0 (published data); internal MI under agreement"}}}}},
                {"servers", json::array({{{"url", base + "/ogc"}}})},
                {"paths", paths},
                {"components", {{"parameters", params}}}};
}

const std::vector<std::string>& conformance_classes() {
    static const std::vector<std::string> classes{
        "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
        "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
        "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
        "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/html"};
    return classes;
}

} // namespace

void register_ogc_routes(httplib::Server& http, context& ctx) {
    auto landing = wrap([](const httplib::Request& req, httplib::Response& res) {
        const std::string base = base_url(req) + "/ogc";
        json doc{{"title", "smallarea: OGC API - Features"},
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
                                        link(base + "/api", "service-desc", openapi_type, "the API definition"),
                                        link(base + "/api", "service-doc", "application/json", "the API documentation"),
                                        link(base + "/conformance", "conformance", "application/json", "conformance classes"),
                                        link(base + "/collections", "data", "application/json", "the collections")})}};
        send(res, req, doc, "application/json", "smallarea");
    });
    http.Get("/ogc", landing);
    http.Get("/ogc/", landing);
    http.Get("/ogc/conformance", wrap([](const httplib::Request& req, httplib::Response& res) {
        send(res, req, json{{"title", "Conformance"}, {"conformsTo", conformance_classes()}}, "application/json", "Conformance");
    }));
    http.Get("/ogc/api", wrap([](const httplib::Request& req, httplib::Response& res) {
        send_json(res, openapi_document(base_url(req)), openapi_type);
    }));
    http.Get("/ogc/collections", wrap([&ctx](const httplib::Request& req, httplib::Response& res) {
        const auto s = ctx.snap();
        const std::string base = base_url(req);
        json list = json::array();
        for (const auto& c : visible_collections(ctx, req, *s)) list.push_back(collection_json(c, *s, base));
        json doc{{"title", "Collections"},
                 {"links", json::array({link(base + "/ogc/collections", "self", "application/json", "this document"),
                                        link(base + "/ogc/collections?f=html", "alternate", "text/html", "this document as HTML")})},
                 {"collections", list}};
        send(res, req, doc, "application/json", "Collections");
    }));
    http.Get(R"(/ogc/collections/([^/]+))", wrap([&ctx](const httplib::Request& req, httplib::Response& res) {
        const auto s = ctx.snap();
        const auto c = find_collection(ctx, req, *s, req.matches[1]);
        send(res, req, collection_json(c, *s, base_url(req)), "application/json", c.title);
    }));
    http.Get(R"(/ogc/collections/([^/]+)/items)", wrap([&ctx](const httplib::Request& req, httplib::Response& res) {
        handle_items(ctx, req, res);
    }));
    // Styles with the web map's classes and colours, for GIS clients (OGC API - Styles style of links).
    http.Get(R"(/ogc/collections/([^/]+)/styles)", wrap([&ctx](const httplib::Request& req, httplib::Response& res) {
        const auto s = ctx.snap();
        const auto c = find_collection(ctx, req, *s, req.matches[1]);
        if (c.type != ogc_collection::kind::dataset) throw not_found("UnknownStyle", "collection " + c.id + " has no styles (dataset collections have)");
        const std::string base = base_url(req) + "/ogc/collections/" + c.id + "/styles/default";
        json doc{{"styles", json::array({json{{"id", "default"}, {"title", "the web map's classes (quantile, ColorBrewer YlGnBu)"},
                                              {"links", json::array({link(base + "?f=qml", "stylesheet", "application/vnd.qgis.qml", "QGIS style (QML)"),
                                                                     link(base + "?f=sld", "stylesheet", "application/vnd.ogc.sld+xml", "OGC SLD 1.0"),
                                                                     link(base + "?f=mapbox", "stylesheet", "application/vnd.mapbox.style+json",
                                                                          "MapLibre style for the vector tiles")})}}})},
                 {"default", "default"}};
        send_json(res, doc);
    }));
    http.Get(R"(/ogc/collections/([^/]+)/styles/default)", wrap([&ctx](const httplib::Request& req, httplib::Response& res) {
        const auto s = ctx.snap();
        const auto c = find_collection(ctx, req, *s, req.matches[1]);
        if (c.type != ogc_collection::kind::dataset) throw not_found("UnknownStyle", "collection " + c.id + " has no styles (dataset collections have)");
        const std::string f = param(req, "f").empty() ? std::string("qml") : param(req, "f");
        if (f != "qml" && f != "sld" && f != "mapbox") throw unsupported_format("UnsupportedFormat", "f must be qml, sld or mapbox");
        auto sel = parse_selection(req, *s, c, false);
        // Breaks of the collection's period (the latest for the others), from the protected table only.
        const auto q = sel.query ? *sel.query : s->make_query(c.dataset->id, c.measure->id, "", "", "", "");
        const auto table = ctx.table_values(*s, q);
        const auto classes = table_style(*table);
        res.set_header("X-Smallarea-Classification", disclosure::to_string(c.dataset->policy.classification));
        if (f == "qml") {
            res.set_header("Content-Disposition", "attachment; filename=\"" + c.id + "_" + q.period + ".qml\"");
            res.set_content(style_qml(classes), "application/vnd.qgis.qml");
        } else if (f == "sld") {
            res.set_header("Content-Disposition", "attachment; filename=\"" + c.id + "_" + q.period + ".sld\"");
            res.set_content(style_sld(classes, c.id), "application/vnd.ogc.sld+xml");
        } else {
            const std::string tiles = base_url(req) + "/tiles/" + c.level + "/{z}/{x}/{y}.mvt?dataset=" + url_encode(c.dataset->id) +
                                      "&measure=" + url_encode(c.measure->id) + "&period=" + url_encode(q.period);
            send_json(res, style_maplibre(classes, tiles, c.level, c.dataset->attribution), "application/vnd.mapbox.style+json");
        }
    }));
    http.Get(R"(/ogc/collections/([^/]+)/items/([^/]+))", wrap([&ctx](const httplib::Request& req, httplib::Response& res) {
        handle_item(ctx, req, res);
    }));
}

void register_export_routes(httplib::Server& http, context& ctx) {
    // Areas (and optionally one dataset's protected values) as files for GIS and spreadsheets; the same code
    // serves `smallarea export` (server/export.cpp). level=bespoke&ids=... exports bespoke areas, as
    // /api/table?level=bespoke&ids=... tabulates them; /api/export/bespoke.{ext}?ids=... says the same.
    auto handler = [&ctx](bool bespoke) {
        return wrap([&ctx, bespoke](const httplib::Request& req, httplib::Response& res) {
            const auto s = ctx.snap();
            export_request r;
            r.dataset = param(req, "dataset");
            r.measure = param(req, "measure");
            r.period = param(req, "period");
            r.level = param(req, "level");
            r.ids = param(req, "ids");
            r.vintage = param(req, "vintage");
            r.within = param(req, "within");
            const bool sidecar = req.matches[1] == "csv-metadata.json";
            r.format = sidecar ? "csv" : std::string(req.matches[1]);
            r.max_rows = ctx.config().max_export_rows;
            r.options = parse_file_options(param(req, "totals"), param(req, "preamble"));
            if (bespoke) {
                if (!r.level.empty() && r.level != "bespoke") {
                    throw bad_request("InvalidParameter", "/api/export/bespoke exports bespoke areas: leave out level");
                }
                r.level = "bespoke";
            }
            if (!r.dataset.empty()) ctx.authorize(req, ctx.dataset(req, *s, r.dataset));
            r.bespoke = ctx.bespoke_reader(req);
            const auto file = export_any(*s, ctx.connection(), r);
            if (!r.dataset.empty()) {
                res.set_header("X-Smallarea-Classification", disclosure::to_string(s->dataset(r.dataset).policy.classification));
            }
            const std::string stem = bespoke ? "/api/export/bespoke." : "/api/export/areas.";
            send_table_file(res, file, sidecar, url_with_format(req, stem + "csv", param(req, "format")),
                            url_with_format(req, stem + "csv-metadata.json", param(req, "format")));
        });
    };
    http.Get(R"(/api/export/areas\.(geojson|gpkg|csv-metadata\.json|csv|xlsx))", handler(false));
    http.Get(R"(/api/export/bespoke\.(geojson|gpkg|csv-metadata\.json|csv|xlsx))", handler(true));
}

} // namespace smallarea::server
