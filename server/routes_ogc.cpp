// OGC API - Features under /ogc, read by GDAL's OAPIF driver and QGIS: each route parses its request, decides
// what the caller may see (internal datasets, bespoke areas of other organisations), asks engine/ogc_api for the
// document or feature page, and sends it as JSON/GeoJSON or HTML.

#include "core/error.hpp"
#include "core/split.hpp"
#include "server/access.hpp"
#include "server/bespoke.hpp"
#include "server/context.hpp"
#include "server/http_util.hpp"
#include "engine/ogc_api.hpp"
#include "engine/styles.hpp"

#include <set>

namespace smallarea::server {

using nlohmann::json;

namespace {

bool wants_html(const httplib::Request& req) {
    const std::string f = param(req, "f");
    if (f == "html") return true;
    if (f == "json" || f == "geojson") return false;
    if (!f.empty()) throw unsupported_format("UnsupportedFormat", "f must be json or html");
    // Browsers ask for text/html first; GDAL and QGIS ask for JSON.
    const std::string accept = req.get_header_value("Accept");
    return accept.find("text/html") != std::string::npos && accept.find("json") == std::string::npos;
}

void send(httplib::Response& res, const httplib::Request& req, const json& doc, const char* json_type, const std::string& title) {
    if (wants_html(req)) {
        res.set_content(ogc_html(doc, title), "text/html; charset=utf-8");
    } else {
        send_json(res, doc, json_type);
    }
}

void send_classification(httplib::Response& res, const std::optional<table_query>& query) {
    if (query) res.set_header("X-Smallarea-Classification", disclosure::to_string(query->dataset->policy.classification));
}

/// Whether the caller may read any stored bespoke area (public ones, its organisation's own): the bespoke
/// collections exist for it only then, so their presence says nothing about other organisations' areas.
bool has_bespoke(context& ctx, const httplib::Request& req) {
    return data::has_bespoke_areas(ctx.connection(), ctx.bespoke_reader(req));
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

void check_crs(const httplib::Request& req) {
    for (const char* name : {"crs", "bbox-crs"}) {
        const auto v = param(req, name);
        if (!v.empty() && v != ogc_crs84 && v != std::string("[OGC:CRS84]")) {
            throw bad_request("InvalidParameter", std::string(name) + ": only " + ogc_crs84 + " is supported");
        }
    }
}

/// The query string of this request without the given keys (for next/prev links).
std::string query_without(const httplib::Request& req, const std::set<std::string>& drop) {
    std::string out;
    for (const auto& [key, value] : req.params) {
        if (drop.count(key)) continue;
        out += (out.empty() ? "" : "&") + url_encode(key) + "=" + url_encode(value);
    }
    return out;
}

/// The items request of a page (paging: limit, offset, bbox, code, within) or of one feature (period, datetime only).
ogc_item_request parse_item_request(const httplib::Request& req, bool paging) {
    check_crs(req);
    ogc_item_request r;
    if (paging) {
        if (const auto l = param(req, "limit"); !l.empty()) r.limit = parse_integer(l, "limit", 1, ogc_max_limit);
        if (const auto o = param(req, "offset"); !o.empty()) r.offset = parse_integer(o, "offset", 0, 1000000000L);
        if (const auto b = param(req, "bbox"); !b.empty() || req.has_param("bbox")) r.bbox = parse_bbox_crs84(b);
        if (const auto codes = param(req, "code"); !codes.empty()) r.codes = split_list(codes, empty_items::drop);
        r.within = param(req, "within");
    }
    r.period = param(req, "period");
    r.datetime = param(req, "datetime");
    r.compare = param(req, "compare");
    return r;
}

table_source tables_of(context& ctx, const snapshot& s) {
    return [&ctx, &s](const table_query& q) { return ctx.table_values(s, q); };
}

void handle_items(context& ctx, const httplib::Request& req, httplib::Response& res) {
    const auto s = ctx.snap();
    const auto c = find_collection(ctx, req, *s, req.matches[1]);
    const auto sel = select_items(*s, c, parse_item_request(req, true));
    const auto page = c.type == ogc_collection::kind::bespoke
                          ? bespoke_features(*s, ctx.connection(), c, sel, ctx.bespoke_reader(req))
                          : area_features(*s, ctx.connection(), tables_of(ctx, *s), c, sel);
    json head = items_head(c, sel, page, base_url(req), query_without(req, {"offset", "limit", "f"}));
    send_classification(res, sel.query);
    if (wants_html(req)) {
        head["title"] = c.title;
        head["features"] = json::parse("[" + page.features + "]");
        res.set_content(ogc_html(head, c.title), "text/html; charset=utf-8");
        return;
    }
    std::string body = head.dump(-1, ' ', false, json::error_handler_t::replace);
    body.pop_back(); // reopen the object to append the features without re-parsing them
    body += R"(,"features":[)" + page.features + "]}";
    res.set_content(body, geojson_media_type);
}

void handle_item(context& ctx, const httplib::Request& req, httplib::Response& res) {
    const auto s = ctx.snap();
    const auto c = find_collection(ctx, req, *s, req.matches[1]);
    const std::string feature_id = req.matches[2];
    const auto sel = select_items(*s, c, parse_item_request(req, false));
    std::string body;
    if (c.type == ogc_collection::kind::bespoke) {
        // Through the one resolver, which audits the read; an unknown id and another organisation's private area
        // both answer UnknownFeature, the name of what this route looks for.
        std::optional<data::bespoke_record> record;
        try {
            record = resolve_bespoke_record(ctx, req, ctx.bespoke_reader(req), feature_id, true);
        } catch (const not_found&) {
            throw unknown_feature(c, feature_id);
        }
        body = bespoke_feature(*s, ctx.connection(), c, sel, std::move(*record));
        send_classification(res, sel.query);
    } else {
        auto [feature, query] = area_feature(*s, ctx.connection(), tables_of(ctx, *s), c, sel, feature_id);
        body = std::move(feature);
        send_classification(res, query);
    }
    const json links = item_links(c, feature_id, base_url(req));
    if (wants_html(req)) {
        json doc = json::parse(body);
        doc["title"] = c.title + ": " + feature_id;
        doc["links"] = links;
        res.set_content(ogc_html(doc, feature_id), "text/html; charset=utf-8");
        return;
    }
    body.pop_back();
    body += R"(,"links":)" + links.dump() + "}";
    res.set_content(body, geojson_media_type);
}

/// A dataset collection's default style (QGIS QML, SLD, or MapLibre for the vector tiles), with the breaks of the
/// collection's period (the latest for the others), from the protected table only.
void handle_style(context& ctx, const httplib::Request& req, httplib::Response& res) {
    const auto s = ctx.snap();
    const auto c = find_collection(ctx, req, *s, req.matches[1]);
    styles_document(c, base_url(req)); // refuses collections without styles
    const std::string f = param(req, "f").empty() ? std::string("qml") : param(req, "f");
    if (f != "qml" && f != "sld" && f != "mapbox") throw unsupported_format("UnsupportedFormat", "f must be qml, sld or mapbox");
    const auto sel = select_items(*s, c, parse_item_request(req, false));
    const auto q = sel.query ? *sel.query
                             : s->make_query(c.dataset->id, c.measure->id, "", "",
                                             c.vintage != c.dataset->vintage ? std::to_string(c.vintage) : std::string(), "");
    const auto classes = table_style(*ctx.table_values(*s, q));
    send_classification(res, q);
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
}

} // namespace

void register_ogc_routes(httplib::Server& http, context& ctx) {
    auto landing = wrap([](const httplib::Request& req, httplib::Response& res) {
        send(res, req, landing_document(base_url(req)), "application/json", "smallarea");
    });
    http.Get("/ogc", landing);
    http.Get("/ogc/", landing);
    http.Get("/ogc/conformance", wrap([](const httplib::Request& req, httplib::Response& res) {
        send(res, req, conformance_document(), "application/json", "Conformance");
    }));
    http.Get("/ogc/api", wrap([](const httplib::Request& req, httplib::Response& res) {
        send_json(res, openapi_document(base_url(req)), openapi_media_type);
    }));
    http.Get("/ogc/collections", wrap([&ctx](const httplib::Request& req, httplib::Response& res) {
        const auto s = ctx.snap();
        const auto visible = ogc_collections(*s, has_bespoke(ctx, req), [&](const data::dataset_info& d) { return ctx.visible(req, d); });
        send(res, req, collections_document(visible, *s, base_url(req)), "application/json", "Collections");
    }));
    http.Get(R"(/ogc/collections/([^/]+))", wrap([&ctx](const httplib::Request& req, httplib::Response& res) {
        const auto s = ctx.snap();
        const auto c = find_collection(ctx, req, *s, req.matches[1]);
        send(res, req, collection_document(c, *s, base_url(req)), "application/json", c.title);
    }));
    http.Get(R"(/ogc/collections/([^/]+)/items)", wrap([&ctx](const httplib::Request& req, httplib::Response& res) {
        handle_items(ctx, req, res);
    }));
    // Styles with the web map's classes and colours, for GIS clients (OGC API - Styles style of links).
    http.Get(R"(/ogc/collections/([^/]+)/styles)", wrap([&ctx](const httplib::Request& req, httplib::Response& res) {
        const auto s = ctx.snap();
        send_json(res, styles_document(find_collection(ctx, req, *s, req.matches[1]), base_url(req)));
    }));
    http.Get(R"(/ogc/collections/([^/]+)/styles/default)", wrap([&ctx](const httplib::Request& req, httplib::Response& res) {
        handle_style(ctx, req, res);
    }));
    http.Get(R"(/ogc/collections/([^/]+)/items/([^/]+))", wrap([&ctx](const httplib::Request& req, httplib::Response& res) {
        handle_item(ctx, req, res);
    }));
}

} // namespace smallarea::server
