#include "server/app.hpp"

#include "data/csv_reader.hpp"
#include "data/error.hpp"
#include "data/sqlite.hpp"
#include "data/store.hpp"
#include "geo/tile.hpp"
#include "server/breaks.hpp"
#include "server/catalog.hpp"
#include "server/encode.hpp"
#include "server/errors.hpp"
#include "server/tile_cache.hpp"

#include <httplib.h>
#include <nlohmann/json.hpp>
#include <zlib.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <functional>
#include <mutex>
#include <shared_mutex>

namespace smallarea::server {

using nlohmann::json;

namespace {

/// How often a key occurs in the raw query string. cpp-httplib 0.11 folds identical key=value pairs while
/// parsing, so its own count cannot see "?a=1&a=1".
std::size_t raw_param_count(const httplib::Request& req, const std::string& name) {
    const auto q = req.target.find('?');
    if (q == std::string::npos) return 0;
    std::size_t count = 0;
    std::size_t start = q + 1;
    while (start <= req.target.size()) {
        auto end = req.target.find('&', start);
        if (end == std::string::npos) end = req.target.size();
        const auto pair = req.target.substr(start, end - start);
        const auto key = pair.substr(0, pair.find('='));
        if (httplib::detail::decode_url(key, true) == name) ++count;
        start = end + 1;
    }
    return count;
}

/// One query parameter: absent -> "", repeated -> 400 (which one would win is not obvious to the user).
std::string param(const httplib::Request& req, const char* name) {
    const auto count = std::max(req.get_param_value_count(name), raw_param_count(req, name));
    if (count == 0) return {};
    if (count > 1) throw bad_request("RepeatedParameter", std::string("parameter \"") + name + "\" is given more than once");
    std::string value = req.get_param_value(name);
    if (!data::valid_utf8(value)) throw bad_request("InvalidParameter", std::string("parameter \"") + name + "\" is not valid UTF-8");
    if (value.size() > 256) throw bad_request("InvalidParameter", std::string("parameter \"") + name + "\" is too long");
    return value;
}

/// A whole number in [lo, hi] from a parameter or path segment; 400 otherwise.
long parse_integer(const std::string& text, const char* what, long lo, long hi, const char* code = "InvalidParameter") {
    if (text.empty() || text.size() > 10 ||
        !std::all_of(text.begin(), text.end(), [](unsigned char c) { return std::isdigit(c); })) {
        throw bad_request(code, std::string(what) + " must be a whole number, got \"" + text.substr(0, 20) + "\"");
    }
    const long value = std::stol(text);
    if (value < lo || value > hi) {
        throw bad_request(code, std::string(what) + " " + text + " is outside " + std::to_string(lo) + ".." + std::to_string(hi));
    }
    return value;
}

std::string gzip(const std::string& input) {
    z_stream z{};
    // windowBits 15 + 16 asks zlib for a gzip wrapper, which is what Content-Encoding: gzip means.
    if (deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) return {};
    std::string out;
    out.resize(deflateBound(&z, input.size()) + 32);
    z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(input.data()));
    z.avail_in = static_cast<uInt>(input.size());
    z.next_out = reinterpret_cast<Bytef*>(out.data());
    z.avail_out = static_cast<uInt>(out.size());
    deflate(&z, Z_FINISH);
    out.resize(z.total_out);
    deflateEnd(&z);
    return out;
}

std::uint64_t fnv1a(const std::string& data, std::uint64_t seed = 1469598103934665603ULL) {
    std::uint64_t h = seed;
    for (const unsigned char c : data) {
        h ^= c;
        h *= 1099511628211ULL;
    }
    return h;
}

std::string hex(std::uint64_t v) {
    char buffer[17];
    std::snprintf(buffer, sizeof buffer, "%016llx", static_cast<unsigned long long>(v));
    return buffer;
}

// 4.5 extent units (about half a pixel of a 512-px tile) keeps the mean tile no larger than geojson-vt's at its
// default tolerance although our features carry ids (measured with geo/bench/bench_tiles.cpp).
const geo::tile_options tile_rendering{4096, 64, 4.5};

bool accepts_gzip(const httplib::Request& req) {
    const auto header = req.get_header_value("Accept-Encoding");
    return header.find("gzip") != std::string::npos;
}

bool etag_matches(const httplib::Request& req, const std::string& etag) {
    const auto header = req.get_header_value("If-None-Match");
    return !header.empty() && (header == "*" || header.find(etag) != std::string::npos);
}

std::string base_url(const httplib::Request& req) {
    std::string host = req.get_header_value("Host");
    if (host.empty() || host.find_first_of(" \"<>\\") != std::string::npos) host = "127.0.0.1";
    return "http://" + host;
}

std::string format_of(const httplib::Request& req) {
    const std::string f = param(req, "format");
    if (f.empty() || f == "json") return "json";
    if (f == "csv") return "csv";
    throw unsupported_format("UnsupportedFormat", "format must be json or csv");
}

} // namespace

struct app::impl {
    server_config config;
    httplib::Server http;
    tile_cache tiles;
    std::shared_mutex snapshot_mutex;
    std::shared_ptr<const snapshot> current;
    std::mutex reload_mutex;
    std::atomic<std::int64_t> last_check_ms{0};
    // Protected value tables for tiles, keyed like tiles minus z/x/y. Small: one per dataset/measure/period/level.
    std::mutex values_mutex;
    std::map<std::string, std::shared_ptr<const table_result>> value_tables;

    explicit impl(server_config c) : config(std::move(c)), tiles(config.tile_cache_bytes) {
        data::database& db = connection();
        current = std::make_shared<const snapshot>(db);
    }

    /// One read-only connection per thread (cpp-httplib's pool): SQLite handles are not shared across threads.
    data::database& connection() {
        thread_local std::unique_ptr<data::database> db;
        thread_local std::string path;
        if (!db || path != config.db_path) {
            db = std::make_unique<data::database>(data::open_store(config.db_path, false));
            path = config.db_path;
        }
        return *db;
    }

    /// The current snapshot; at most every 500 ms it checks whether an ingest made a new release and, if so,
    /// builds the new snapshot while requests keep using the old one.
    std::shared_ptr<const snapshot> snap() {
        const auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
                             std::chrono::steady_clock::now().time_since_epoch())
                             .count();
        auto last = last_check_ms.load();
        if (now - last > 500 && last_check_ms.compare_exchange_strong(last, now)) {
            const auto release = data::data_release(connection());
            std::shared_ptr<const snapshot> old;
            {
                std::shared_lock<std::shared_mutex> lock(snapshot_mutex);
                old = current;
            }
            if (release != old->release()) {
                std::unique_lock<std::mutex> reload(reload_mutex, std::try_to_lock);
                if (reload.owns_lock()) {
                    auto fresh = std::make_shared<const snapshot>(connection());
                    std::unique_lock<std::shared_mutex> lock(snapshot_mutex);
                    current = std::move(fresh);
                    std::lock_guard<std::mutex> values_lock(values_mutex);
                    value_tables.clear();
                }
            }
        }
        std::shared_lock<std::shared_mutex> lock(snapshot_mutex);
        return current;
    }

    template <typename Handler>
    httplib::Server::Handler wrap(Handler handler) {
        return [this, handler](const httplib::Request& req, httplib::Response& res) {
            try {
                handler(req, res);
            } catch (...) {
                write_error(res, std::current_exception());
            }
        };
    }

    void send_json(httplib::Response& res, const json& body) {
        res.set_content(body.dump(-1, ' ', false, json::error_handler_t::replace), "application/json");
    }

    void routes();
    void handle_tile(const httplib::Request& req, httplib::Response& res);
    void handle_tilejson(const httplib::Request& req, httplib::Response& res);
    std::shared_ptr<const table_result> tile_values(const snapshot& s, const table_query& q);
};

std::shared_ptr<const table_result> app::impl::tile_values(const snapshot& s, const table_query& q) {
    const std::string key = q.dataset->id + "|" + q.measure->id + "|" + q.period + "|" + q.level + "|" +
                            std::to_string(s.release());
    {
        std::lock_guard<std::mutex> lock(values_mutex);
        if (const auto it = value_tables.find(key); it != value_tables.end()) return it->second;
    }
    auto result = std::make_shared<const table_result>(s.table(connection(), q));
    std::lock_guard<std::mutex> lock(values_mutex);
    value_tables[key] = result;
    return result;
}

void app::impl::handle_tile(const httplib::Request& req, httplib::Response& res) {
    const std::string level = req.matches[1];
    if (data::level_rank(level) < 0) throw not_found("UnknownLevel", "no level \"" + level.substr(0, 20) + "\"");
    const auto z = static_cast<std::uint32_t>(parse_integer(req.matches[2], "zoom", 0, geo::max_zoom, "InvalidTile"));
    const long max_xy = (1L << z) - 1;
    const auto x = static_cast<std::uint32_t>(parse_integer(req.matches[3], "x", 0, max_xy, "InvalidTile"));
    const auto y = static_cast<std::uint32_t>(parse_integer(req.matches[4], "y", 0, max_xy, "InvalidTile"));
    const auto s = snap();
    const std::string dataset_id = param(req, "dataset");
    std::optional<table_query> query;
    int vintage = 0;
    if (!dataset_id.empty()) {
        query = s->make_query(dataset_id, param(req, "measure"), param(req, "period"), level, param(req, "vintage"), "");
        vintage = query->vintage;
    } else {
        const auto v = param(req, "vintage");
        vintage = v.empty() ? s->latest_vintage(level) : static_cast<int>(parse_integer(v, "vintage", 1971, 2100));
    }
    const tile_layer& layer = s->layer(level, vintage);
    std::string key = level + "/" + std::to_string(vintage) + "/" + std::to_string(z) + "/" + std::to_string(x) + "/" +
                      std::to_string(y) + "|" + std::to_string(s->release());
    if (query) key += "|" + query->dataset->id + "|" + query->measure->id + "|" + query->period;

    auto tile = tiles.get(key);
    if (!tile) {
        std::shared_ptr<const table_result> table;
        std::vector<std::int32_t> row_of_area; // area index -> row, -1 when none
        if (query) {
            table = tile_values(*s, *query);
            row_of_area.assign(s->areas().size(), -1);
            for (std::size_t i = 0; i < table->row_areas.size(); ++i) {
                row_of_area[table->row_areas[i]] = static_cast<std::int32_t>(i);
            }
        }
        const auto& areas = s->areas();
        const bool percent = table && table->table.kind() == disclosure::measure_kind::percent_only;
        auto fresh = std::make_shared<cached_tile>();
        fresh->mvt = geo::render_mvt(
            layer.polygons, level, geo::tile_id{z, x, y},
            [&](std::uint32_t index) { return static_cast<std::uint64_t>(areas[layer.area_index[index]].id); },
            [&](std::uint32_t index, geo::feature_properties& out) {
                const auto area_index = layer.area_index[index];
                const auto& a = areas[area_index];
                out.add("code", a.code);
                // OAs have no names (the catalogue names them by code): do not send the code twice.
                if (a.name != a.code) out.add("name", a.name);
                if (const auto h = a.denominators.find("households"); h != a.denominators.end()) {
                    out.add("households", static_cast<std::int64_t>(h->second));
                }
                if (!table) return;
                const auto row_index = row_of_area[area_index];
                if (row_index < 0) return;
                const auto& row = table->table.rows()[static_cast<std::size_t>(row_index)];
                if (percent) {
                    if (row.percent) out.add("percent", static_cast<std::int64_t>(*row.percent));
                } else {
                    if (row.value) out.add("value", static_cast<std::int64_t>(*row.value));
                    if (row.rate_per_100_households) {
                        out.add("rate", std::round(*row.rate_per_100_households * 100.0) / 100.0);
                    }
                }
                out.add("suppressed", row.suppressed);
                out.add("missing", row.missing);
            },
            tile_rendering);
        if (!fresh->mvt.empty()) fresh->gzip = gzip(fresh->mvt);
        fresh->etag = "\"r" + std::to_string(s->release()) + "-" + hex(fnv1a(fresh->mvt, fnv1a(key))) + "\"";
        tile = fresh;
        tiles.put(key, tile);
    }
    res.set_header("ETag", tile->etag);
    res.set_header("Cache-Control", "public, max-age=300");
    res.set_header("Vary", "Accept-Encoding");
    res.set_header("Access-Control-Allow-Origin", "*");
    if (etag_matches(req, tile->etag)) {
        res.status = 304;
        return;
    }
    if (tile->mvt.empty()) {
        res.status = 204;
        return;
    }
    if (accepts_gzip(req) && !tile->gzip.empty()) {
        res.set_header("Content-Encoding", "gzip");
        res.set_content(tile->gzip, "application/vnd.mapbox-vector-tile");
    } else {
        res.set_content(tile->mvt, "application/vnd.mapbox-vector-tile");
    }
}

void app::impl::handle_tilejson(const httplib::Request& req, httplib::Response& res) {
    const std::string level = req.matches[1];
    if (data::level_rank(level) < 0) throw not_found("UnknownLevel", "no level \"" + level.substr(0, 20) + "\"");
    const auto s = snap();
    std::string query_string;
    int vintage = 0;
    const std::string dataset_id = param(req, "dataset");
    json fields{{"code", "String"}, {"name", "String"}, {"households", "Number"}};
    if (!dataset_id.empty()) {
        const auto q = s->make_query(dataset_id, param(req, "measure"), param(req, "period"), level, param(req, "vintage"), "");
        vintage = q.vintage;
        query_string = "?dataset=" + q.dataset->id + "&measure=" + q.measure->id + "&period=" + q.period;
        if (q.measure->kind == data::measure_kind::percent_only) {
            fields["percent"] = "Number";
        } else {
            fields["value"] = "Number";
            fields["rate"] = "Number";
        }
        fields["suppressed"] = "Boolean";
        fields["missing"] = "Boolean";
    } else {
        const auto v = param(req, "vintage");
        vintage = v.empty() ? s->latest_vintage(level) : static_cast<int>(parse_integer(v, "vintage", 1971, 2100));
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
    res.set_header("Access-Control-Allow-Origin", "*");
    send_json(res, body);
}

void app::impl::routes() {
    http.set_payload_max_length(config.max_body_bytes);
    // Without TCP_NODELAY small responses on a kept-alive connection wait ~40 ms for a delayed ACK (Nagle).
    http.set_tcp_nodelay(true);
    http.Get("/health", wrap([this](const httplib::Request&, httplib::Response& res) {
        const auto s = snap();
        send_json(res, json{{"status", "ok"}, {"release", s->release()}, {"datasets", s->datasets().size()},
                            {"areas", s->areas().size()}, {"tile_cache_bytes", tiles.bytes()}});
    }));
    http.Get("/api/datasets", wrap([this](const httplib::Request&, httplib::Response& res) {
        const auto s = snap();
        json list = json::array();
        for (const auto& d : s->datasets()) list.push_back(dataset_json(d));
        send_json(res, json{{"datasets", list}});
    }));
    http.Get(R"(/api/datasets/([^/]+))", wrap([this](const httplib::Request& req, httplib::Response& res) {
        const auto s = snap();
        send_json(res, dataset_json(s->dataset(req.matches[1])));
    }));
    http.Get("/api/areas", wrap([this](const httplib::Request& req, httplib::Response& res) {
        const auto s = snap();
        const std::string level = param(req, "level");
        if (level.empty()) throw bad_request("MissingParameter", "level is required (oa, lsoa, msoa or lad)");
        if (data::level_rank(level) < 0) throw not_found("UnknownLevel", "no level \"" + level.substr(0, 20) + "\" (oa, lsoa, msoa, lad)");
        const auto v = param(req, "vintage");
        const int vintage = v.empty() ? s->latest_vintage(level) : static_cast<int>(parse_integer(v, "vintage", 1971, 2100));
        std::optional<std::size_t> within;
        if (const auto w = param(req, "within"); !w.empty()) {
            within = s->find_area(w, vintage);
            if (!within) throw not_found("UnknownArea", "no area \"" + w + "\"");
        }
        const auto list = s->areas_of(level, vintage, within);
        const std::string format = format_of(req);
        if (format == "csv") {
            std::string out = "code,name,level,vintage,households,residents,parents\n";
            for (const auto i : list) {
                const auto& a = s->areas()[i];
                std::string parents;
                for (const auto id : a.ancestors) {
                    if (const auto p = s->find_area_by_id(id)) parents += (parents.empty() ? "" : " ") + s->areas()[*p].code;
                }
                auto denominator = [&](const char* name) {
                    const auto it = a.denominators.find(name);
                    return it == a.denominators.end() ? std::string() : std::to_string(it->second);
                };
                out += csv_field(a.code) + "," + csv_field(a.name) + "," + a.level + "," + std::to_string(a.vintage) + "," +
                       denominator("households") + "," + denominator("residents") + "," + csv_field(parents) + "\n";
            }
            res.set_content(out, "text/csv; charset=utf-8");
            return;
        }
        json rows = json::array();
        for (const auto i : list) {
            const auto& a = s->areas()[i];
            json parents = json::object();
            for (const auto id : a.ancestors) {
                if (const auto p = s->find_area_by_id(id)) {
                    parents[s->areas()[*p].level] = json{{"code", s->areas()[*p].code}, {"name", s->areas()[*p].name}};
                }
            }
            json row{{"code", a.code}, {"name", a.name}, {"level", a.level}, {"vintage", a.vintage},
                     {"has_boundary", a.has_geometry}, {"parents", parents}};
            for (const auto& [name, value] : a.denominators) row[name] = value;
            if (!row.contains("households")) row["households"] = nullptr;
            rows.push_back(std::move(row));
        }
        send_json(res, json{{"level", level}, {"vintage", vintage}, {"count", rows.size()}, {"areas", rows}});
    }));
    http.Get("/api/table", wrap([this](const httplib::Request& req, httplib::Response& res) {
        const auto s = snap();
        const auto q = s->make_query(param(req, "dataset"), param(req, "measure"), param(req, "period"),
                                     param(req, "level"), param(req, "vintage"), param(req, "within"));
        const std::string format = format_of(req);
        const auto result = s->table(connection(), q);
        res.set_header("X-Smallarea-Classification", disclosure::to_string(q.dataset->policy.classification));
        if (format == "csv") {
            std::string name = q.dataset->id + "_" + q.measure->id + "_" + q.period + "_" + q.level +
                               (q.within ? "_" + s->areas()[*q.within].code : "") + ".csv";
            res.set_header("Content-Disposition", "attachment; filename=\"" + name + "\"");
            res.set_content(table_csv(result, *s), "text/csv; charset=utf-8");
            return;
        }
        send_json(res, table_json(result, *s));
    }));
    http.Get("/api/breaks", wrap([this](const httplib::Request& req, httplib::Response& res) {
        const auto s = snap();
        const auto q = s->make_query(param(req, "dataset"), param(req, "measure"), param(req, "period"),
                                     param(req, "level"), param(req, "vintage"), param(req, "within"));
        const auto method = parse_break_method(param(req, "method"));
        const auto classes_text = param(req, "classes");
        const int classes = classes_text.empty() ? 5 : static_cast<int>(parse_integer(classes_text, "classes", 3, 9));
        const bool percent = q.measure->kind == data::measure_kind::percent_only;
        std::string of = param(req, "of");
        if (of.empty()) of = percent ? "percent" : "rate";
        if (of != "rate" && of != "value" && of != "percent") throw bad_request("InvalidParameter", "of must be rate, value or percent");
        if (percent && of != "percent") throw disclosure_refused("PercentageOnly", "measure " + q.measure->id + " is served only as percentages");
        if (!percent && of == "percent") throw bad_request("InvalidParameter", "measure " + q.measure->id + " is a count: use of=rate or of=value");
        const auto result = tile_values(*s, q);
        std::vector<double> values;
        std::vector<double> rounding_steps; // what one rounding step is worth in the unit of the breaks
        for (const auto& row : result->table.rows()) {
            if (of == "percent" && row.percent) values.push_back(static_cast<double>(*row.percent));
            if (of == "value" && row.value) values.push_back(static_cast<double>(*row.value));
            if (of == "rate" && row.rate_per_100_households) {
                values.push_back(*row.rate_per_100_households);
                rounding_steps.push_back(100.0 * static_cast<double>(q.dataset->policy.rounding_base) /
                                         static_cast<double>(*row.households));
            }
        }
        const auto breaks = compute_breaks(values, classes, method);
        double step = 0.0;
        if (of == "value") step = static_cast<double>(q.dataset->policy.rounding_base);
        if (of == "percent") step = 1.0;
        if (of == "rate" && !rounding_steps.empty()) {
            std::nth_element(rounding_steps.begin(), rounding_steps.begin() + static_cast<long>(rounding_steps.size() / 2), rounding_steps.end());
            step = rounding_steps[rounding_steps.size() / 2];
        }
        json classes_json = json::array();
        bool within_error = false;
        double lower = values.empty() ? 0.0 : *std::min_element(values.begin(), values.end());
        for (std::size_t i = 0; i < breaks.size(); ++i) {
            std::size_t count = 0;
            for (const double v : values) {
                if ((i == 0 ? v >= lower : v > breaks[i - 1]) && v <= breaks[i]) ++count;
            }
            const double width = breaks[i] - (i == 0 ? lower : breaks[i - 1]);
            const bool narrow = i > 0 && step > 0.0 && width < step;
            within_error = within_error || narrow;
            classes_json.push_back(json{{"min", i == 0 ? lower : breaks[i - 1]}, {"max", breaks[i]}, {"count", count},
                                        {"narrower_than_rounding", narrow}});
        }
        json body{{"dataset", q.dataset->id}, {"measure", q.measure->id}, {"period", q.period}, {"level", q.level},
                  {"of", of}, {"method", param(req, "method").empty() ? "quantile" : param(req, "method")},
                  {"breaks", breaks}, {"classes", classes_json}, {"values", values.size()},
                  {"rounding_step", step}, {"warning", within_error ? json("a class is narrower than the rounding error: "
                                                                           "areas either side of a break may not differ")
                                                                    : json(nullptr)},
                  {"classification", disclosure::to_string(q.dataset->policy.classification)},
                  {"disclosure", disclosure_json(*q.dataset)}};
        send_json(res, body);
    }));
    http.Get(R"(/tiles/([^/]+)/([^/]+)/([^/]+)/([^/]+)\.mvt)",
             wrap([this](const httplib::Request& req, httplib::Response& res) { handle_tile(req, res); }));
    http.Get(R"(/tiles/([^/]+)\.json)",
             wrap([this](const httplib::Request& req, httplib::Response& res) { handle_tilejson(req, res); }));
    http.Get("/api/config", wrap([this](const httplib::Request&, httplib::Response& res) {
        send_json(res, json{{"basemap_url", config.basemap_url.empty() ? json(nullptr) : json(config.basemap_url)}});
    }));
    if (!config.web_root.empty()) {
        // cpp-httplib's mount point refuses paths that climb out of the folder ("..", encoded or not).
        http.set_mount_point("/", config.web_root);
    }
    http.set_error_handler([this](const httplib::Request& req, httplib::Response& res) {
        if (res.status == 404 && res.body.empty()) {
            write_error(res, 404, "NotFound", "no such resource: " + req.path.substr(0, 200));
        } else if (res.status == 413) {
            write_error(res, 413, "TooLarge", "request body is larger than " + std::to_string(config.max_body_bytes) + " bytes");
        } else if (res.status == 400 && res.body.empty()) {
            write_error(res, 400, "BadRequest", "malformed request");
        }
    });
    http.set_exception_handler([](const httplib::Request&, httplib::Response& res, std::exception_ptr ep) {
        write_error(res, ep);
    });
}

app::app(server_config config) : m_impl(std::make_unique<impl>(std::move(config))) { m_impl->routes(); }

app::~app() = default;

int app::bind() {
    const int port = m_impl->config.port == 0 ? m_impl->http.bind_to_any_port(m_impl->config.host)
                                              : (m_impl->http.bind_to_port(m_impl->config.host, m_impl->config.port)
                                                     ? m_impl->config.port
                                                     : -1);
    if (port < 0) {
        throw error("BindFailed", "cannot listen on " + m_impl->config.host + ":" + std::to_string(m_impl->config.port) +
                                      " (in use, or not an address of this machine)");
    }
    return port;
}

void app::serve() { m_impl->http.listen_after_bind(); }

void app::run() {
    bind();
    serve();
}

void app::stop() { m_impl->http.stop(); }

} // namespace smallarea::server
