// Places: GET /api/search and GET /api/labels (engine/places.cpp). They read place data only (postcodes, codes,
// names), never figures, so they need no key; each answers from the store this server serves.

#include "core/error.hpp"
#include "engine/places.hpp"
#include "server/context.hpp"
#include "server/http_util.hpp"

namespace smallarea::server {

namespace {

/// GET /api/search?q=TEXT[&limit=10], parsed.
struct search_params {
    std::string q;
    long limit = 10;
};

search_params parse_search(const httplib::Request& req) {
    search_params p;
    p.q = param(req, "q");
    if (const auto limit = param(req, "limit"); !limit.empty()) p.limit = parse_integer(limit, "limit", 1, 50);
    return p;
}

void search(context& ctx, const httplib::Request& req, httplib::Response& res) {
    const auto p = parse_search(req);
    const auto s = ctx.snap();
    send_json(res, nlohmann::json{{"q", p.q}, {"results", engine::search_places(ctx.connection(), *s, p.q, p.limit)}});
}

/// GET /api/labels?bbox=w,s,e,n[&kinds=...], parsed.
struct labels_params {
    engine::label_box box;
    std::string kinds;
};

labels_params parse_labels(const httplib::Request& req) {
    const std::string bbox = param(req, "bbox");
    if (bbox.empty()) throw bad_request("MissingParameter", "bbox is required: west,south,east,north in degrees");
    return labels_params{engine::parse_label_box(bbox), param(req, "kinds")};
}

void labels(context& ctx, const httplib::Request& req, httplib::Response& res) {
    const auto p = parse_labels(req);
    const auto s = ctx.snap();
    send_json(res, engine::labels_json(ctx.connection(), *s, p.box, p.kinds));
}

} // namespace

void register_places_routes(httplib::Server& http, context& ctx) {
    auto route = [&ctx](void (*handler)(context&, const httplib::Request&, httplib::Response&)) {
        return wrap([&ctx, handler](const httplib::Request& req, httplib::Response& res) { handler(ctx, req, res); });
    };
    http.Get("/api/search", route(search));
    http.Get("/api/labels", route(labels));
}

} // namespace smallarea::server
