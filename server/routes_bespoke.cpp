// Bespoke (combined) areas, the target-area finder and the zone builder:
//   POST /api/bespoke, GET /api/bespoke/{id}[.geojson], DELETE /api/bespoke/{id},
//   GET /api/targets, POST /api/zones.
// Values always come from snapshot::table (protected cells) and disclosure::aggregate (sums of protected cells);
// the finder and the zone builder themselves are engine/finder.hpp, bespoke areas engine/bespoke.hpp.

#include "data/access_store.hpp"
#include "core/error.hpp"
#include "data/ogc_queries.hpp"
#include "geo/bespoke_geometry.hpp"
#include "server/access.hpp"
#include "server/bespoke.hpp"
#include "server/context.hpp"
#include "engine/encode.hpp"
#include "engine/export.hpp"
#include "engine/finder.hpp"
#include "server/http_util.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <optional>
#include <cstdio>

namespace smallarea::server {

using nlohmann::json;

namespace {

json parse_body(const httplib::Request& req) {
    auto body = json::parse(req.body, nullptr, false);
    if (body.is_discarded()) throw bad_request("InvalidJson", "the request body is not valid JSON");
    if (!body.is_object()) throw bad_request("InvalidJson", "the request body must be a JSON object");
    return body;
}

std::string string_field(const json& body, const char* name, const std::string& fallback = "") {
    if (!body.contains(name) || body[name].is_null()) return fallback;
    if (!body[name].is_string()) throw bad_request("InvalidParameter", std::string(name) + " must be a string");
    return body[name].get<std::string>();
}

// A whole number from a JSON body (a number or a numeric string, as query parameters are), within [lo, hi].
long integer_field(const json& body, const char* name, long fallback, long lo, long hi) {
    if (!body.contains(name) || body[name].is_null()) return fallback;
    if (body[name].is_number_integer()) {
        const auto v = body[name].get<long>();
        if (v < lo || v > hi) {
            throw bad_request("InvalidParameter", std::string(name) + " must be between " + std::to_string(lo) + " and " + std::to_string(hi));
        }
        return v;
    }
    if (body[name].is_string()) return parse_integer(body[name].get<std::string>(), name, lo, hi);
    throw bad_request("InvalidParameter", std::string(name) + " must be a whole number");
}

// Members of a POST /api/bespoke body: codes (one level and vintage) or a drawn polygon (areas whose point on
// surface lies inside it).
std::vector<std::size_t> members_from_body(context& ctx, const snapshot& s, const json& body, std::string& source) {
    const std::string level = string_field(body, "level");
    if (level.empty()) throw bad_request("MissingParameter", "level is required (oa, lsoa, msoa or lad)");
    require_level(level);
    const int vintage = static_cast<int>(integer_field(body, "vintage", s.default_vintage(level), 1971, 2100));
    const bool has_codes = body.contains("codes") && !body["codes"].is_null();
    const bool has_polygon = body.contains("polygon") && !body["polygon"].is_null();
    if (has_codes == has_polygon) {
        throw bad_request("InvalidParameter", "give either codes (a list of area codes) or polygon (a GeoJSON geometry)");
    }
    if (has_codes) {
        source = "codes";
        if (!body["codes"].is_array()) throw bad_request("InvalidParameter", "codes must be a list of area codes");
        std::vector<std::string> codes;
        for (const auto& c : body["codes"]) {
            if (!c.is_string()) throw bad_request("InvalidParameter", "codes must be strings");
            codes.push_back(c.get<std::string>());
        }
        return members_from_codes(s, level, vintage, codes, ctx.config().max_bespoke_members);
    }
    source = "polygon";
    if (!body["polygon"].is_object()) throw bad_request("InvalidPolygon", "polygon must be a GeoJSON geometry object");
    return members_in_polygon(ctx.connection(), s, level, vintage, body["polygon"].dump());
}

// The rows a finder or zone build works on: the dataset-level protected cells inside `within` (a code or
// bespoke:ID; empty = everywhere).
table_result cells_within(context& ctx, const snapshot& s, const httplib::Request& req, const std::string& dataset,
                          const std::string& measure, const std::string& period, const std::string& within) {
    // Resolved before anything else about it, so a hidden dataset answers as an unknown one (the zone builder
    // takes it from the body, where the access gate does not look).
    if (!dataset.empty()) ctx.dataset(req, s, dataset);
    // vintage= is read so that a request for another vintage is refused (targets rank the dataset's own areas),
    // never silently answered on the dataset's.
    auto q = s.make_query(dataset, measure, period, "", param(req, "vintage"), within);
    refuse_crosswalked(q, "targets and zones");
    ctx.authorize(req, *q.dataset);
    q.bespoke_reader = ctx.bespoke_reader(req);
    // within=bespoke:ID from a body: the one resolver, as the gate does for query parameters.
    if (!q.within_bespoke.empty()) resolve_bespoke_record(ctx, req, q.bespoke_reader, q.within_bespoke, false);
    return s.table(ctx.connection(), q);
}

// "public": true|false of a body; nullopt when absent.
std::optional<bool> public_field(const json& body) {
    if (!body.contains("public") || body["public"].is_null()) return std::nullopt;
    if (!body["public"].is_boolean()) throw bad_request("InvalidParameter", "public must be true or false");
    return body["public"].get<bool>();
}

// Whether a name given with a key mentions an internal dataset the key can read: only datasets this caller may
// read are compared, so the answer cannot be used to probe for other organisations' dataset ids.
bool names_readable_internal_dataset(context& ctx, const httplib::Request& req, const snapshot& s, const std::string& name) {
    std::vector<const data::dataset_info*> readable;
    for (const auto& d : s.datasets()) {
        if (d.policy.classification == disclosure::classification::internal && ctx.visible(req, d)) readable.push_back(&d);
    }
    return names_internal_dataset(name, readable);
}

/// GET /api/targets, parsed.
struct targets_params {
    std::string dataset, measure, period, within;
    household_band band;
    long limit = 20;
    std::string format; ///< json | csv | csvw | xlsx
    file_options options;
};

targets_params parse_targets(const httplib::Request& req) {
    targets_params p;
    p.dataset = param(req, "dataset");
    p.measure = param(req, "measure");
    p.period = param(req, "period");
    p.within = param(req, "within");
    p.band = band_param(req);
    if (const auto limit = param(req, "limit"); !limit.empty()) p.limit = parse_integer(limit, "limit", 1, 1000);
    p.format = param(req, "format") == "xlsx" ? std::string("xlsx") : format_of(req);
    if (p.format != "json") p.options = parse_file_options(param(req, "totals"), param(req, "preamble"));
    return p;
}

/// POST /api/zones, parsed from its JSON body.
struct zones_request {
    std::string dataset, measure, period;
    zone_params zones;
};

zones_request parse_zones(const json& body) {
    zones_request r;
    r.zones.min_households = integer_field(body, "min_households", r.zones.min_households, 0, 1000000);
    r.zones.max_households = integer_field(body, "max_households", r.zones.max_households, 0, 1000000);
    r.zones.max_zones = static_cast<std::size_t>(integer_field(body, "max_zones", 20, 1, 500));
    check_household_band(r.zones.min_households, r.zones.max_households);
    r.zones.contiguity = string_field(body, "contiguity", "rook");
    if (r.zones.contiguity != "rook" && r.zones.contiguity != "queen") {
        throw bad_request("InvalidParameter", "contiguity must be rook or queen");
    }
    r.zones.within = string_field(body, "within");
    if (r.zones.within.empty()) throw bad_request("MissingParameter", "within is required (an area code or bespoke:ID)");
    r.dataset = string_field(body, "dataset");
    r.measure = string_field(body, "measure");
    r.period = string_field(body, "period");
    return r;
}

void create_bespoke(context& ctx, const httplib::Request& req, httplib::Response& res) {
    const auto s = ctx.snap();
    const auto body = parse_body(req);
    std::string name = string_field(body, "name", "Bespoke area");
    if (name.empty() || name.size() > 200) throw bad_request("InvalidParameter", "name must be 1 to 200 characters");
    const auto want_public = public_field(body);
    std::string source;
    auto members = members_from_body(ctx, *s, body, source);
    const bool about_internal_mi = req.has_header("Authorization") && names_readable_internal_dataset(ctx, req, *s, name);
    const auto ownership = ownership_for(ctx, req, want_public, about_internal_mi);
    const std::string token = new_owner_token();
    const auto record = save_bespoke_areas(ctx, *s, {bespoke_draft{name, std::move(members), source}},
                                           data::hash_key(token), ownership).front();
    const auto saved = load_bespoke_area(ctx, req, *s, record.id, true);
    json out = bespoke_json(*s, saved, false, ctx.bespoke_reader(req).owns(saved.record));
    out["owner_token"] = token; // returned once; only its hash is stored
    res.status = 201;
    res.set_header("Location", "/api/bespoke/" + record.id);
    send_json(res, out);
}

void get_bespoke_geojson(context& ctx, const httplib::Request& req, httplib::Response& res) {
    const auto s = ctx.snap();
    const auto b = load_bespoke_area(ctx, req, *s, req.matches[1], true);
    const std::string members = param(req, "members");
    if (!members.empty() && members != "true" && members != "false") {
        throw bad_request("InvalidParameter", "members must be true or false");
    }
    send_json(res, bespoke_geojson(ctx.connection(), *s, b, members == "true"), "application/geo+json");
}

void get_bespoke(context& ctx, const httplib::Request& req, httplib::Response& res) {
    const auto s = ctx.snap();
    const auto b = load_bespoke_area(ctx, req, *s, req.matches[1], true);
    send_json(res, bespoke_json(*s, b, true, ctx.bespoke_reader(req).owns(b.record)));
}

// {"public": true|false} with a key of the owning organisation (engine::check_may_publish).
void publish_bespoke(context& ctx, const httplib::Request& req, httplib::Response& res) {
    const auto s = ctx.snap();
    const auto b = load_bespoke_area(ctx, req, *s, req.matches[1], true);
    const auto body = parse_body(req);
    for (const auto& [key, value] : body.items()) {
        (void)value;
        if (key != "public") throw bad_request("InvalidParameter", "only \"public\" can be changed (got \"" + key.substr(0, 40) + "\")");
    }
    const auto want_public = public_field(body);
    if (!want_public) throw bad_request("MissingParameter", "give {\"public\": true} or {\"public\": false}");
    ctx.access().require_usable_key(req);
    check_may_publish(b.record, ctx.bespoke_reader(req).owns(b.record), *want_public);
    ctx.with_writer([&](data::database& db) { data::set_bespoke_public(db, b.record.id, *want_public); });
    auto updated = b;
    updated.record.is_public = *want_public;
    send_json(res, bespoke_json(*s, updated, false, true));
}

// The owner token given at creation, or a key of the owning organisation (engine::check_may_delete).
void delete_bespoke(context& ctx, const httplib::Request& req, httplib::Response& res) {
    const auto s = ctx.snap();
    const auto b = load_bespoke_area(ctx, req, *s, req.matches[1], false);
    check_may_delete(b.record, ctx.bespoke_reader(req).owns(b.record), bespoke_owner(req));
    ctx.with_writer([&](data::database& db) { data::delete_bespoke(db, b.record.id); });
    res.status = 204;
}

void find_targets(context& ctx, const httplib::Request& req, httplib::Response& res) {
    const auto s = ctx.snap();
    const auto p = parse_targets(req);
    const auto t = cells_within(ctx, *s, req, p.dataset, p.measure, p.period, p.within);
    // One ranking for the API, the files and the CLI (engine/export.cpp).
    const target_selection sel = select_targets(*s, t, p.band.min, p.band.max, p.limit, p.within);
    res.set_header("X-Smallarea-Classification", disclosure::to_string(t.query.dataset->policy.classification));
    if (p.format != "json") { // files for planners, with the disclosure statement (CSV + its CSVW sidecar, XLSX)
        const auto file = export_targets(ctx.connection(), *s, t, sel, p.format == "xlsx" ? "xlsx" : "csv", p.options);
        send_table_file(res, file, p.format == "csvw", url_with_format(req, req.path, "csv"), url_with_format(req, req.path, "csvw"));
        return;
    }
    send_json(res, targets_json(ctx.connection(), *s, t, sel));
}

void build_zones(context& ctx, const httplib::Request& req, httplib::Response& res) {
    const auto s = ctx.snap();
    const auto r = parse_zones(parse_body(req));
    const auto t = cells_within(ctx, *s, req, r.dataset, r.measure, r.period, r.zones.within);
    const auto plan = plan_zones(ctx.connection(), *s, t, r.zones, ctx.config().max_bespoke_members);
    // Zones are always private to the organisation whose key built them: their names and members follow the
    // dataset's values (zone 1 is seeded where it peaks). Without a key (published data only) they are public.
    const auto ownership = ownership_for(ctx, req, std::nullopt, true);
    const std::string token = new_owner_token();
    const auto records = plan.drafts.empty() ? std::vector<data::bespoke_record>{}
                                             : save_bespoke_areas(ctx, *s, plan.drafts, data::hash_key(token), ownership);
    json out = zones_json(ctx.connection(), *s, t, r.zones, plan, records, ownership.is_public);
    if (!records.empty()) out["owner_token"] = token;
    out["visibility"] = ownership.is_public ? "public" : "private";
    if (ownership.organisation) {
        // The builder is the owner: it is told which organisation the zones belong to.
        for (const auto& o : data::list_organisations(ctx.connection())) {
            if (o.id == *ownership.organisation) out["organisation"] = o.name;
        }
    }
    res.status = 201;
    send_json(res, out);
}

} // namespace

void register_bespoke_routes(httplib::Server& http, context& ctx) {
    auto route = [&ctx](void (*handler)(context&, const httplib::Request&, httplib::Response&)) {
        return wrap([&ctx, handler](const httplib::Request& req, httplib::Response& res) { handler(ctx, req, res); });
    };
    http.Post("/api/bespoke", route(create_bespoke));
    http.Get(R"(/api/bespoke/([^/.]+)\.geojson)", route(get_bespoke_geojson));
    http.Get(R"(/api/bespoke/([^/.]+))", route(get_bespoke));
    http.Patch(R"(/api/bespoke/([^/.]+))", route(publish_bespoke));
    http.Delete(R"(/api/bespoke/([^/.]+))", route(delete_bespoke));
    http.Get("/api/targets", route(find_targets));
    http.Post("/api/zones", route(build_zones));
}

} // namespace smallarea::server
