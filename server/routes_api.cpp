#include "core/error.hpp"
#include "server/bespoke.hpp"
#include "engine/breaks.hpp"
#include "engine/change.hpp"
#include "engine/classes.hpp"
#include "server/context.hpp"
#include "engine/encode.hpp"
#include "engine/export.hpp"
#include "engine/series.hpp"
#include "engine/values.hpp"
#include "server/http_util.hpp"

#include <algorithm>

namespace smallarea::server {

using nlohmann::json;

namespace {

/// GET /api/series?dataset&measure&area=CODE|bespoke:ID[&from&to][&format=csv|csvw|xlsx]: every period of one area.
void serve_series(context& ctx, const httplib::Request& req, httplib::Response& res) {
    const auto s = ctx.snap();
    const std::string dataset_id = param(req, "dataset");
    if (dataset_id.empty()) throw bad_request("MissingParameter", "dataset is required");
    const auto& d = ctx.dataset(req, *s, dataset_id);
    const std::string area = param(req, "area");
    if (area.empty()) throw bad_request("MissingParameter", "area is required (an area code or bespoke:ID)");
    const std::string format = param(req, "format") == "xlsx" ? std::string("xlsx") : format_of(req);
    const file_options options = format == "json" ? file_options{} : parse_file_options(param(req, "totals"), param(req, "preamble"));
    series_result series;
    if (area.rfind("bespoke:", 0) == 0) {
        const auto b = load_bespoke_area(ctx, req, *s, area.substr(8), false);
        series = bespoke_series(*s, ctx.connection(), d, param(req, "measure"), b, param(req, "from"), param(req, "to"));
    } else {
        const auto index = s->find_area(area, d.vintage);
        if (!index) throw not_found("UnknownArea", "no area \"" + area.substr(0, 60) + "\"");
        series = area_series(*s, [&](const table_query& q) { return ctx.table_values(*s, q); }, d, param(req, "measure"), *index,
                             param(req, "from"), param(req, "to"));
    }
    res.set_header("X-Smallarea-Classification", disclosure::to_string(d.policy.classification));
    if (format != "json") {
        const auto file = export_series(series, format == "xlsx" ? "xlsx" : "csv", options);
        send_table_file(res, file, format == "csvw", url_with_format(req, req.path, "csv"), url_with_format(req, req.path, "csvw"));
        return;
    }
    send_json(res, series_json(series));
}

/// GET /api/values?dataset&measure&period&level[&vintage][&classes&method&of]: the compact values document
/// (engine/values.hpp) a map joins to boundaries from a static archive.
void serve_values(context& ctx, const httplib::Request& req, httplib::Response& res) {
    const auto s = ctx.snap();
    if (!param(req, "within").empty()) throw bad_request("InvalidParameter", "/api/values covers every area of the level (no within=)");
    if (!param(req, "compare").empty()) throw bad_request("InvalidParameter", "/api/values has no compare= (a change map reads /tiles)");
    const auto q = s->make_query(param(req, "dataset"), param(req, "measure"), param(req, "period"), param(req, "level"),
                                 param(req, "vintage"), "");
    ctx.authorize(req, *q.dataset); // before the ETag/304, so a refused caller learns nothing from it
    values_classes how;
    how.method = parse_break_method(param(req, "method"));
    const auto classes_text = param(req, "classes");
    how.classes = classes_text.empty() ? 5 : static_cast<int>(parse_integer(classes_text, "classes", 3, 9));
    how.of = class_quantity(*q.measure, param(req, "of"));
    // The document is a function of the release and the resolved query (defaults filled in), so the ETag is too
    // and a 304 costs no table: a new ingest (release) changes every ETag. "v1": the document's layout.
    const std::string key = "values-v1|" + std::to_string(s->release()) + "|" + q.dataset->id + "|" + q.measure->id + "|" + q.period +
                            "|" + q.level + "|" + std::to_string(q.vintage) + "|" + how.of + "|" + std::to_string(how.classes) + "|" +
                            std::to_string(static_cast<int>(how.method));
    const std::string etag = "\"r" + std::to_string(s->release()) + "-" + hex(fnv1a(key)) + "\"";
    res.set_header("X-Smallarea-Classification", disclosure::to_string(q.dataset->policy.classification));
    res.set_header("ETag", etag);
    // As tiles: shared caches may keep published figures for 5 minutes; context::end_request makes internal MI
    // "private, no-cache" (no proxy or CDN keeps it, the browser revalidates with the ETag).
    res.set_header("Cache-Control", "public, max-age=300");
    if (etag_matches(req, etag)) {
        res.status = 304;
        return;
    }
    send_json(res, values_json(*ctx.table_values(*s, q), how, s->release()));
}

} // namespace

void register_api_routes(httplib::Server& http, context& ctx) {
    http.Get("/health", wrap([&ctx](const httplib::Request& req, httplib::Response& res) {
        const auto s = ctx.snap();
        // Only the datasets this caller may see: a count including internal ones would say they exist.
        std::size_t datasets = 0;
        for (const auto& d : s->datasets()) datasets += ctx.visible(req, d) ? 1 : 0;
        const auto store = ctx.status();
        // 200 either way: a replica that lost its store still serves its last snapshot (the published figures
        // in it are as protected as ever); "current": false says so to a monitor.
        json body{{"status", store.current ? "ok" : "degraded"}, {"release", s->release()}, {"datasets", datasets},
                  {"areas", s->areas().size()}, {"tile_cache_bytes", ctx.tiles().bytes()},
                  {"store", {{"engine", store.engine}, {"reachable", store.reachable}, {"current", store.current},
                             {"release", store.store_release}, {"checked_ms_ago", store.checked_ms_ago}}}};
        if (store.engine == "postgresql") {
            body["store"]["listening"] = store.listening;
            body["store"]["notifications"] = store.notifications;
            body["store"]["reconnections"] = store.reconnections;
        }
        send_json(res, body);
    }));
    http.Get("/api/datasets", wrap([&ctx](const httplib::Request& req, httplib::Response& res) {
        const auto s = ctx.snap();
        json list = json::array();
        for (const auto& d : s->datasets()) {
            if (ctx.visible(req, d)) list.push_back(dataset_json(d, s.get())); // internal MI is not even listed to others
        }
        send_json(res, json{{"datasets", list}});
    }));
    http.Get(R"(/api/datasets/([^/]+))", wrap([&ctx](const httplib::Request& req, httplib::Response& res) {
        const auto s = ctx.snap();
        const auto& d = s->dataset(req.matches[1]);
        // Indistinguishable from an unknown id for those who may not see it.
        if (!ctx.visible(req, d)) throw not_found("UnknownDataset", "no dataset \"" + d.id + "\"");
        send_json(res, dataset_json(d, s.get()));
    }));
    http.Get("/api/areas", wrap([&ctx](const httplib::Request& req, httplib::Response& res) {
        const auto s = ctx.snap();
        const std::string level = param(req, "level");
        if (level.empty()) throw bad_request("MissingParameter", "level is required (oa, lsoa, msoa or lad)");
        require_level(level);
        const int vintage = vintage_param(req, *s, level);
        std::optional<std::size_t> within;
        if (const auto w = param(req, "within"); !w.empty()) {
            within = s->find_area(w, vintage);
            if (!within) throw not_found("UnknownArea", "no area \"" + w + "\"");
        }
        const auto list = s->areas_of(level, vintage, within);
        const std::string format = format_of(req);
        if (format == "csvw") throw unsupported_format("UnsupportedFormat", "/api/areas has json and csv (no CSVW sidecar)");
        if (format == "csv") {
            res.set_content(areas_csv(*s, list), "text/csv; charset=utf-8");
            return;
        }
        send_json(res, areas_json(*s, list, level, vintage));
    }));
    http.Get("/api/table", wrap([&ctx](const httplib::Request& req, httplib::Response& res) {
        if (param(req, "level") == "bespoke") return serve_bespoke_table(ctx, req, res); // server/bespoke.cpp
        const auto s = ctx.snap();
        auto q = s->make_query(param(req, "dataset"), param(req, "measure"), param(req, "period"),
                               param(req, "level"), param(req, "vintage"), param(req, "within"));
        ctx.authorize(req, *q.dataset);
        q.bespoke_reader = ctx.bespoke_reader(req); // within=bespoke:ID (checked in the gate, read in table())
        const std::string format = param(req, "format") == "xlsx" ? std::string("xlsx") : format_of(req);
        res.set_header("X-Smallarea-Classification", disclosure::to_string(q.dataset->policy.classification));
        if (format != "json") {
            // Files (server/export.cpp): the workbook, the CSV, or the CSV's CSVW sidecar; dated names, options
            // totals=, preamble= and periods= (one column set per period).
            auto options = parse_file_options(param(req, "totals"), param(req, "preamble"));
            options.period_columns = parse_period_columns(*q.dataset, param(req, "periods"));
            const auto file = export_table(*s, ctx.connection(), q, format == "xlsx" ? "xlsx" : "csv",
                                           ctx.config().max_export_rows, options);
            send_table_file(res, file, format == "csvw", url_with_format(req, req.path, "csv"),
                            url_with_format(req, req.path, "csvw"));
            return;
        }
        if (!param(req, "periods").empty()) {
            throw bad_request("InvalidParameter", "periods= (one column per period) is for format=csv or xlsx; in JSON, "
                                                  "/api/series gives an area's periods");
        }
        const auto result = s->table(ctx.connection(), q);
        auto doc = table_json(result, *s);
        const auto compare = param(req, "compare");
        const auto compare_dataset = param(req, "compare_dataset");
        if (!compare.empty() || !compare_dataset.empty() || !param(req, "compare_measure").empty()) {
            auto then = compare_query(*s, q, compare, compare_dataset, param(req, "compare_measure"));
            ctx.authorize(req, *then.dataset); // the compared figures are served too
            then.bespoke_reader = q.bespoke_reader;
            add_changes(doc, result, s->table(ctx.connection(), then));
        }
        send_json(res, doc);
    }));
    http.Get("/api/breaks", wrap([&ctx](const httplib::Request& req, httplib::Response& res) {
        const auto s = ctx.snap();
        const auto q = s->make_query(param(req, "dataset"), param(req, "measure"), param(req, "period"),
                                     param(req, "level"), param(req, "vintage"), param(req, "within"));
        ctx.authorize(req, *q.dataset);
        const auto method = parse_break_method(param(req, "method"));
        const auto classes_text = param(req, "classes");
        const int classes = classes_text.empty() ? 5 : static_cast<int>(parse_integer(classes_text, "classes", 3, 9));
        const auto of = class_quantity(*q.measure, param(req, "of"));
        send_json(res, classes_json(*ctx.table_values(*s, q), of, classes, method));
    }));
    http.Get("/api/values", wrap([&ctx](const httplib::Request& req, httplib::Response& res) { serve_values(ctx, req, res); }));
    http.Get("/api/series", wrap([&ctx](const httplib::Request& req, httplib::Response& res) { serve_series(ctx, req, res); }));
    http.Get("/api/config", wrap([&ctx](const httplib::Request&, httplib::Response& res) {
        send_json(res, json{{"basemap_url", ctx.config().basemap_url.empty() ? json(nullptr) : json(ctx.config().basemap_url)}});
    }));
}

} // namespace smallarea::server
