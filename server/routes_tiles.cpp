#include "core/error.hpp"
#include "core/split.hpp"
#include "geo/tile.hpp"
#include "engine/change.hpp"
#include "engine/tile_export.hpp"
#include "server/context.hpp"
#include "server/http_util.hpp"

#include <cmath>
#include <cstdio>
#include <memory>

namespace smallarea::server {

using nlohmann::json;

namespace {

// The same extent, buffer and simplification as `smallarea tiles export` (engine/tile_export.hpp, which says why).
const geo::tile_options& tile_rendering = engine::boundary_tile_options();

// Properties a client may ask for with ?fields=a,b (as tile servers let a style pick its columns), so a style
// that only needs the value does not pay for the rest. Default: all.
enum : unsigned { field_code = 1, field_name = 2, field_households = 4, field_value = 8, field_rate = 16 };

unsigned parse_fields(const std::string& text) {
    if (text.empty()) return field_code | field_name | field_households | field_value | field_rate;
    unsigned out = 0;
    for (const auto& f : split_list(text, empty_items::keep)) {
        if (f == "code") out |= field_code;
        else if (f == "name") out |= field_name;
        else if (f == "households") out |= field_households;
        else if (f == "value" || f == "percent") out |= field_value;
        else if (f == "rate") out |= field_rate;
        else throw bad_request("InvalidParameter", "fields: unknown field \"" + f.substr(0, 20) + "\" (code, name, households, value, rate, percent)");
    }
    return out;
}

void handle_tile(context& ctx, const httplib::Request& req, httplib::Response& res) {
    const std::string level = req.matches[1];
    require_level(level);
    const auto z = static_cast<std::uint32_t>(parse_integer(req.matches[2], "zoom", 0, geo::max_zoom, "InvalidTile"));
    const long max_xy = (1L << z) - 1;
    const auto x = static_cast<std::uint32_t>(parse_integer(req.matches[3], "x", 0, max_xy, "InvalidTile"));
    const auto y = static_cast<std::uint32_t>(parse_integer(req.matches[4], "y", 0, max_xy, "InvalidTile"));
    const auto s = ctx.snap();
    const std::string dataset_id = param(req, "dataset");
    std::optional<table_query> query;
    int vintage = 0;
    if (!dataset_id.empty()) {
        query = s->make_query(dataset_id, param(req, "measure"), param(req, "period"), level, param(req, "vintage"), "");
        ctx.authorize(req, *query->dataset); // before the cache lookup and the ETag/304 (also gated in begin_request)
        vintage = query->vintage;
    } else {
        vintage = vintage_param(req, *s, level);
    }
    const tile_layer& layer = s->layer(level, vintage);
    const unsigned fields = parse_fields(param(req, "fields"));
    std::string key = "f" + std::to_string(fields) + "/" + level + "/" + std::to_string(vintage) + "/" + std::to_string(z) + "/" + std::to_string(x) + "/" +
                      std::to_string(y) + "|" + std::to_string(s->release());
    if (query) key += "|" + query->dataset->id + "|" + query->measure->id + "|" + query->period;
    // compare=PERIOD: the change since that period as extra properties (engine/change.hpp).
    std::optional<table_query> compare;
    if (const auto c = param(req, "compare"), cd = param(req, "compare_dataset"); !c.empty() || !cd.empty()) {
        if (!query) throw bad_request("InvalidParameter", "compare needs a dataset");
        compare = compare_query(*s, *query, c, cd, param(req, "compare_measure"));
        ctx.authorize(req, *compare->dataset);
        key += "|c" + compare->dataset->id + "|" + compare->measure->id + "|" + compare->period;
    }

    auto tile = ctx.tiles().get(key);
    if (!tile) {
        std::shared_ptr<const table_result> table;
        if (query) table = ctx.table_values(*s, *query);
        std::shared_ptr<const table_result> then;
        if (compare) then = ctx.table_values(*s, *compare);
        const auto& areas = s->areas();
        const bool percent = table && table->table.kind() == disclosure::measure_kind::percent_only;
        auto fresh = std::make_shared<cached_tile>();
        fresh->mvt = geo::render_mvt(
            layer.polygons, level, geo::tile_id{z, x, y},
            [&](std::uint32_t index) { return static_cast<std::uint64_t>(areas[layer.area_index[index]].id); },
            [&](std::uint32_t index, geo::feature_properties& out) {
                const auto area_index = layer.area_index[index];
                const auto& a = areas[area_index];
                if (fields & field_code) out.add("code", a.code);
                // OAs have no names (the catalogue names them by code): do not send the code twice.
                if ((fields & field_name) && a.name != a.code) out.add("name", a.name);
                const auto row_index = table ? table->row_of_area[area_index] : -1;
                const disclosure::protected_row* row_ptr =
                    row_index < 0 ? nullptr : &table->table.rows()[static_cast<std::size_t>(row_index)];
                if (fields & field_households) {
                    // With a dataset, the households of the row (the cells its value covers, rule 8), so that
                    // rate = value per households on the map as in the table; without, the area's Census count.
                    if (row_ptr) {
                        if (row_ptr->households) out.add("households", static_cast<std::int64_t>(*row_ptr->households));
                    } else if (const auto h = a.denominators.find("households"); h != a.denominators.end()) {
                        out.add("households", static_cast<std::int64_t>(h->second));
                    }
                }
                if (!row_ptr) return;
                const auto& row = *row_ptr;
                if (percent) {
                    if (row.percent && (fields & field_value)) out.add("percent", static_cast<std::int64_t>(*row.percent));
                } else {
                    if (row.value && (fields & field_value)) out.add("value", static_cast<std::int64_t>(*row.value));
                    if (row.rate_per_100_households && (fields & field_rate)) {
                        out.add("rate", *row.rate_per_100_households); // hundredths already (disclosure::set_rate)
                    }
                }
                // Flags only when set: most cells are neither, and absent reads as false in MapLibre filters.
                if (row.suppressed) out.add("suppressed", true);
                if (row.missing) out.add("missing", true);
                if (row.estimated) out.add("estimated", true);
                if (row.not_apportioned) out.add("not_apportioned", true);
                if (!then) return;
                const auto then_index = then->row_of_area[area_index];
                if (then_index < 0) return;
                const auto c = compare_rows(row, then->table.rows()[static_cast<std::size_t>(then_index)], percent);
                if (!c.comparable) return;
                if (c.value) out.add("change", *c.value);
                if (c.percent) out.add("change_percent", *c.percent);
                if (c.rate_per_100_households) out.add("change_rate", *c.rate_per_100_households);
                out.add("change_uncertainty", c.uncertainty);
                if (c.within_rounding) out.add("no_change_within_rounding", true);
            },
            tile_rendering);
        fresh->etag = "\"r" + std::to_string(s->release()) + "-" + hex(fnv1a(fresh->mvt, fnv1a(key))) + "\"";
        tile = fresh;
        ctx.tiles().put(key, tile);
    }
    // A strong ETag names one representation (RFC 9110 8.8.1), so the gzip body gets its own.
    const bool gzipped = accepts_gzip(req) && !tile->mvt.empty();
    const std::string etag = gzipped ? tile->etag.substr(0, tile->etag.size() - 1) + "-gz\"" : tile->etag;
    res.set_header("ETag", etag);
    res.set_header("Cache-Control", "public, max-age=300");
    res.set_header("Vary", "Accept-Encoding");
    if (etag_matches(req, etag)) {
        res.status = 304;
        return;
    }
    if (tile->mvt.empty()) {
        res.status = 204;
        return;
    }
    if (gzipped) {
        // Compressed on first demand, not at render: deflate costs about as much as rendering, and tile
        // clients that do not ask for gzip (GIS tools, tile seeders) should not pay for it.
        if (tile->gzip.empty()) {
            auto compressed = std::make_shared<cached_tile>(*tile);
            compressed->gzip = gzip(tile->mvt);
            tile = compressed;
            ctx.tiles().put(key, tile);
        }
        res.set_header("Content-Encoding", "gzip");
        res.set_content(tile->gzip, "application/vnd.mapbox-vector-tile");
    } else {
        res.set_content(tile->mvt, "application/vnd.mapbox-vector-tile");
    }
}

void handle_tilejson(context& ctx, const httplib::Request& req, httplib::Response& res) {
    const std::string level = req.matches[1];
    require_level(level);
    const auto s = ctx.snap();
    std::string query_string;
    int vintage = 0;
    const std::string dataset_id = param(req, "dataset");
    json fields{{"code", "String"}, {"name", "String, present only when it differs from code"}, {"households", "Number"}};
    if (!dataset_id.empty()) {
        const auto q = s->make_query(dataset_id, param(req, "measure"), param(req, "period"), level, param(req, "vintage"), "");
        ctx.authorize(req, *q.dataset);
        vintage = q.vintage;
        query_string = "?dataset=" + q.dataset->id + "&measure=" + q.measure->id + "&period=" + q.period;
        if (q.measure->kind == data::measure_kind::percent_only) {
            fields["percent"] = "Number";
        } else {
            fields["value"] = "Number";
            fields["rate"] = "Number";
        }
        // Tiles carry the flags only when true (a smaller tile; absent = false), and TileJSON says so.
        fields["suppressed"] = "Boolean, present only when true (absent = false)";
        fields["missing"] = "Boolean, present only when true (absent = false)";
        if (q.crosswalked()) {
            query_string += "&vintage=" + std::to_string(q.vintage);
            fields["estimated"] = "Boolean, present only when true: apportioned from a split or irregular older area";
            fields["not_apportioned"] = "Boolean, present only when true: internal MI that would need apportioning (no value)";
        }
        if (const auto c = param(req, "compare"), cd = param(req, "compare_dataset"); !c.empty() || !cd.empty()) {
            const auto then = compare_query(*s, q, c, cd, param(req, "compare_measure"));
            ctx.authorize(req, *then.dataset);
            query_string += "&compare=" + then.period;
            if (then.dataset != q.dataset) query_string += "&compare_dataset=" + then.dataset->id + "&compare_measure=" + then.measure->id;
            fields[q.measure->kind == data::measure_kind::percent_only ? "change_percent" : "change"] =
                "Number: this period's protected figure minus " + then.period + "'s (present only where both cover every cell)";
            if (q.measure->kind != data::measure_kind::percent_only) fields["change_rate"] = "Number: change per 100 households";
            fields["change_uncertainty"] = "Number: the sum of both periods' rounding bounds";
            fields["no_change_within_rounding"] = "Boolean, present only when true: |change| <= change_uncertainty";
        }
    } else {
        vintage = vintage_param(req, *s, level);
    }
    const tile_layer& layer = s->layer(level, vintage);
    const auto b = layer.polygons.bounds_lonlat();
    json body{{"tilejson", "3.0.0"},
              {"name", "smallarea " + level + " " + std::to_string(vintage)},
              {"tiles", json::array({base_url(req) + "/tiles/" + level + "/{z}/{x}/{y}.mvt" + query_string})},
              {"minzoom", 0},
              {"maxzoom", geo::max_zoom},
              {"bounds", json::array({b.min_x, b.min_y, b.max_x, b.max_y})},
              {"center", json::array({(b.min_x + b.max_x) / 2, (b.min_y + b.max_y) / 2, 11})},
              {"attribution", "Contains public sector information licensed under the Open Government Licence v3.0. "
                              "Contains OS data © Crown copyright and database right."},
              {"vector_layers", json::array({json{{"id", level}, {"fields", fields}, {"minzoom", 0}, {"maxzoom", geo::max_zoom}}})}};
    send_json(res, body);
}

// What boundary layers exist, so a client (the map) asks for those and never probes for a missing one, as
// tile servers such as Martin list their sources at /catalog.
void handle_catalog(context& ctx, const httplib::Request& req, httplib::Response& res) {
    const auto s = ctx.snap();
    json layers = json::array();
    for (const auto& [key, layer] : s->layers()) {
        const auto b = layer.polygons.bounds_lonlat();
        layers.push_back(json{{"level", key.level},
                              {"vintage", key.vintage},
                              {"latest", s->latest_vintage(key.level) == key.vintage},
                              {"default", s->default_vintage(key.level) == key.vintage}, // what a request without vintage gets
                              {"tilejson", base_url(req) + "/tiles/" + key.level + ".json?vintage=" + std::to_string(key.vintage)},
                              {"bounds", json::array({b.min_x, b.min_y, b.max_x, b.max_y})}});
        // A static archive of the same shapes (--boundaries-pmtiles): the map then reads geometry from it and the
        // figures from /api/values.
        if (const auto* a = ctx.archive(key.level, key.vintage)) layers.back()["pmtiles"] = base_url(req) + "/boundaries/" + a->level + ".pmtiles";
    }
    send_json(res, json{{"release", s->release()}, {"layers", std::move(layers)}});
}

// GET /boundaries/LEVEL.pmtiles: the archive as a static file with byte ranges (RFC 9110 14), which is all the
// pmtiles protocol asks of a server. Served by a content provider reading the file on demand: an archive may be
// hundreds of MB and a map reads a few KiB of it per tile, so it is never loaded whole (cpp-httplib's mount point
// would read the whole file for every request). Public: boundaries carry no dataset value.
void handle_archive(context& ctx, const httplib::Request& req, httplib::Response& res) {
    const std::string level = req.matches[1];
    const boundary_archive* a = nullptr;
    for (const auto& candidate : ctx.archives()) {
        if (candidate.level == level) a = &candidate;
    }
    if (!a) throw not_found("UnknownArchive", "no boundary archive of level \"" + level.substr(0, 20) + "\" (see /tiles/catalog)");
    res.set_header("ETag", a->etag);
    res.set_header("Cache-Control", "public, max-age=86400");
    res.set_header("Accept-Ranges", "bytes");
    if (etag_matches(req, a->etag)) {
        res.status = 304;
        return;
    }
    const auto size = static_cast<long long>(a->size);
    // cpp-httplib has parsed the header (416 itself when it is malformed) but 0.11 (Debian's) neither refuses a
    // range past the end nor cuts one that runs past it: it would send fewer bytes than its Content-Length and
    // drop the connection. So ranges are checked and cut here, in the request it reads them from (the handler's
    // request is the server's own object, alive until the response is written).
    auto& ranges = const_cast<httplib::Request&>(req).ranges;
    for (auto& [first, last] : ranges) {
        // Past the end, a zero-length suffix or an inverted range cannot be satisfied (RFC 9110 15.5.17).
        const bool unsatisfiable = (first >= 0 && first >= size) || (first < 0 && last == 0) || (first >= 0 && last >= 0 && last < first);
        if (unsatisfiable) {
            ranges.clear(); // else cpp-httplib would cut the JSON error body by the same range
            throw range_not_satisfiable(a->size);
        }
        if (first < 0 && last > size) last = size;           // a suffix longer than the file is the whole file
        if (first >= 0 && (last < 0 || last >= size)) last = size - 1; // cut at the end (RFC 9110 14.1.2)
    }
    std::shared_ptr<std::FILE> file(std::fopen(a->path.c_str(), "rb"), [](std::FILE* f) { if (f) std::fclose(f); });
    if (!file) throw error("ArchiveUnavailable", "the " + level + " boundary archive cannot be read");
    // cpp-httplib computes Content-Range and 206 from req.ranges and the length given here, and asks the provider
    // for each range's bytes.
    res.set_content_provider(static_cast<std::size_t>(a->size), "application/vnd.pmtiles",
                             [file](std::size_t offset, std::size_t length, httplib::DataSink& sink) {
                                 char buffer[65536];
                                 const std::size_t n = std::min(length, sizeof buffer);
                                 if (std::fseek(file.get(), static_cast<long>(offset), SEEK_SET) != 0) return false;
                                 const std::size_t got = std::fread(buffer, 1, n, file.get());
                                 if (got == 0) return false;
                                 return sink.write(buffer, got);
                             });
}

} // namespace

void register_tile_routes(httplib::Server& http, context& ctx) {
    http.Get("/tiles/catalog",
             wrap([&ctx](const httplib::Request& req, httplib::Response& res) { handle_catalog(ctx, req, res); }));
    http.Get(R"(/tiles/([^/]+)/([^/]+)/([^/]+)/([^/]+)\.mvt)",
             wrap([&ctx](const httplib::Request& req, httplib::Response& res) { handle_tile(ctx, req, res); }));
    http.Get(R"(/boundaries/([^/]+)\.pmtiles)",
             wrap([&ctx](const httplib::Request& req, httplib::Response& res) { handle_archive(ctx, req, res); }));
    http.Get(R"(/tiles/([^/]+)\.json)",
             wrap([&ctx](const httplib::Request& req, httplib::Response& res) { handle_tilejson(ctx, req, res); }));
}

} // namespace smallarea::server
