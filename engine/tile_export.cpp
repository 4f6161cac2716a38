#include "engine/tile_export.hpp"

#include "core/error.hpp"
#include "data/store.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <atomic>
#include <exception>
#include <mutex>
#include <thread>
#include <unordered_map>

namespace smallarea::engine {

namespace {

// 4.5 extent units (about half a pixel of a 512-px tile) keeps the mean tile no larger than geojson-vt's at its
// default tolerance although our features carry ids (measured with geo/bench/bench_tiles.cpp).
const geo::tile_options boundary_options{4096, 64, 4.5};

std::uint32_t parse_zoom(const std::string& text, const char* what, std::uint32_t fallback) {
    if (text.empty()) return fallback;
    // Digits only (std::stol would take " 3" and "+3"), at most two of them.
    const bool digits = text.size() <= 2 && std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
    const long v = digits ? std::stol(text) : -1;
    if (v < 0 || v > static_cast<long>(geo::max_zoom)) {
        throw bad_request("InvalidZoom", std::string(what) + " must be a whole number from 0 to " + std::to_string(geo::max_zoom) +
                                             ", got \"" + text.substr(0, 20) + "\"");
    }
    return static_cast<std::uint32_t>(v);
}

int parse_vintage(const std::string& text) { // 0: the level's latest
    if (text.empty()) return 0;
    try {
        std::size_t used = 0;
        const int v = std::stoi(text, &used);
        if (used == text.size() && v >= 1971 && v <= 2100) return v;
    } catch (const std::exception&) {
    }
    throw bad_request("InvalidParameter", "vintage must be a year, got \"" + text.substr(0, 20) + "\"");
}

struct ranked_tile {
    std::uint64_t id;
    geo::tile_id tile;
};

// Renders and compresses tiles[i] into out[i] on `threads` threads (render_mvt only reads the layer, so the
// threads share it). An exception on any thread stops the others and is rethrown here.
void render_batch(const std::vector<ranked_tile>& tiles, std::size_t first, std::size_t count, std::vector<std::string>& out,
                  unsigned threads, const std::function<std::string(const geo::tile_id&)>& render) {
    std::atomic<std::size_t> next{0};
    std::atomic<bool> failed{false};
    std::exception_ptr error;
    std::mutex error_mutex;
    auto work = [&] {
        for (;;) {
            const std::size_t i = next.fetch_add(1);
            if (i >= count || failed) return;
            try {
                out[i] = render(tiles[first + i].tile);
            } catch (...) {
                std::lock_guard<std::mutex> lock(error_mutex);
                if (!error) error = std::current_exception();
                failed = true;
                return;
            }
        }
    };
    std::vector<std::thread> pool;
    for (unsigned t = 1; t < threads; ++t) pool.emplace_back(work);
    work();
    for (auto& t : pool) t.join();
    if (error) std::rethrow_exception(error);
}

} // namespace

const geo::tile_options& boundary_tile_options() noexcept { return boundary_options; }

std::uint64_t stable_feature_id(std::string_view code) noexcept {
    std::uint64_t h = 14695981039346656037ULL;
    for (const unsigned char c : code) {
        h ^= c;
        h *= 1099511628211ULL;
    }
    return h & ((std::uint64_t{1} << 53) - 1);
}

zoom_range parse_zoom_range(const std::string& min_text, const std::string& max_text) {
    zoom_range z;
    z.min = parse_zoom(min_text, "--minzoom", 0);
    z.max = parse_zoom(max_text, "--maxzoom", std::max<std::uint32_t>(14, z.min));
    if (z.min > z.max) {
        throw bad_request("InvalidZoom", "--minzoom " + std::to_string(z.min) + " is above --maxzoom " + std::to_string(z.max));
    }
    return z;
}

pmtiles_summary write_pmtiles(const snapshot& s, const std::string& level, const std::string& vintage_text, const zoom_range& zooms,
                              geo::pmtiles::writer& out, unsigned threads, const std::function<void(const std::string&)>& progress) {
    require_level(level);
    int vintage = parse_vintage(vintage_text);
    if (vintage == 0) vintage = s.default_vintage(level);
    const tile_layer& layer = s.layer(level, vintage); // not_found("UnknownLevel") when the store has none
    if (threads == 0) threads = std::max(1U, std::thread::hardware_concurrency());
    const auto& areas = s.areas();
    const auto& options = boundary_tile_options();

    // Ids once per feature, checked unique: a collision would make feature-state (hover, values joined by id)
    // paint one area with another's figure, so refuse it rather than ship it.
    std::vector<std::uint64_t> ids(layer.polygons.size());
    std::unordered_map<std::uint64_t, std::size_t> seen;
    seen.reserve(ids.size());
    for (std::size_t i = 0; i < ids.size(); ++i) {
        const auto& code = areas[layer.area_index[i]].code;
        ids[i] = stable_feature_id(code);
        const auto [it, fresh] = seen.emplace(ids[i], i);
        if (!fresh) {
            throw error("FeatureIdCollision", "areas " + areas[layer.area_index[it->second]].code + " and " + code +
                                                  " have the same stable feature id " + std::to_string(ids[i]));
        }
    }

    const auto render = [&](const geo::tile_id& t) {
        std::string mvt = geo::render_mvt(
            layer.polygons, level, t, [&](std::uint32_t index) { return ids[index]; },
            [&](std::uint32_t index, geo::feature_properties& props) {
                // Only what identifies the area (as /tiles with fields=code,name): no dataset value, no households.
                const auto& a = areas[layer.area_index[index]];
                props.add_string("code", a.code);
                if (a.name != a.code) props.add_string("name", a.name); // OAs have no names: not the code twice
            },
            options);
        return mvt.empty() ? mvt : geo::pmtiles::gzip(mvt);
    };

    pmtiles_summary sum;
    sum.level = level;
    sum.vintage = vintage;
    sum.zooms = zooms;
    sum.features = layer.polygons.size();
    sum.tiles_per_zoom.assign(zooms.max + 1, 0);

    std::vector<ranked_tile> current;
    if (geo::tile_has_features(layer.polygons, geo::tile_id{0, 0, 0}, options)) current.push_back({0, geo::tile_id{0, 0, 0}});
    constexpr std::size_t batch = 512; // tiles rendered before they are written: bounds memory, keeps both cores busy
    std::vector<std::string> rendered(batch);
    for (std::uint32_t z = 0; z <= zooms.max && !current.empty(); ++z) {
        sum.tiles_visited += current.size();
        if (z >= zooms.min) {
            for (std::size_t first = 0; first < current.size(); first += batch) {
                const std::size_t count = std::min(batch, current.size() - first);
                render_batch(current, first, count, rendered, threads, render);
                for (std::size_t i = 0; i < count; ++i) {
                    if (rendered[i].empty()) continue; // bounds reach the tile, the shapes do not (or are too small)
                    out.add_gzipped_tile(current[first + i].tile, rendered[i]);
                    ++sum.tiles_per_zoom[z];
                    rendered[i].clear();
                }
            }
            if (progress) {
                progress("zoom " + std::to_string(z) + ": " + std::to_string(sum.tiles_per_zoom[z]) + " tiles of " +
                         std::to_string(current.size()) + " visited");
            }
        }
        if (z == zooms.max) break;
        // The next zoom: children of this zoom's tiles that some feature's bounds reach. A child's buffered box
        // lies inside its parent's, so nothing outside this list can have a feature.
        std::vector<ranked_tile> next;
        for (const auto& parent : current) {
            for (std::uint32_t dy = 0; dy < 2; ++dy) {
                for (std::uint32_t dx = 0; dx < 2; ++dx) {
                    const geo::tile_id child{z + 1, parent.tile.x * 2 + dx, parent.tile.y * 2 + dy};
                    if (geo::tile_has_features(layer.polygons, child, options)) next.push_back({geo::pmtiles::tile_id_of(child), child});
                }
            }
        }
        std::sort(next.begin(), next.end(), [](const ranked_tile& a, const ranked_tile& b) { return a.id < b.id; });
        current = std::move(next);
    }
    if (out.tiles_added() == 0) {
        throw bad_request("EmptyArchive", "no " + level + " " + std::to_string(vintage) + " feature draws in zooms " +
                                              std::to_string(zooms.min) + " to " + std::to_string(zooms.max));
    }

    const auto b = layer.polygons.bounds_lonlat();
    geo::pmtiles::archive_info info;
    info.min_zoom = static_cast<std::uint8_t>(zooms.min);
    info.max_zoom = static_cast<std::uint8_t>(zooms.max);
    info.bounds_lonlat = b;
    info.center_lon = (b.min_x + b.max_x) / 2;
    info.center_lat = (b.min_y + b.max_y) / 2;
    info.center_zoom = static_cast<std::uint8_t>(std::clamp<std::uint32_t>(11, zooms.min, zooms.max)); // as TileJSON
    const std::string title = "smallarea " + level + " " + std::to_string(vintage) + " boundaries";
    // No timestamp and no data release: the same boundaries give the same bytes, so a CDN copy never goes stale
    // while the boundaries stay as they are, whatever datasets are ingested meanwhile.
    nlohmann::json meta{
        {"name", title},
        {"description", "Boundaries of " + level + " " + std::to_string(vintage) +
                            " areas with their codes and names only: no dataset values (fetch those from the smallarea API "
                            "and join them by feature id or code)"},
        {"version", "1"},
        {"type", "overlay"},
        {"format", "pbf"},
        {"minzoom", zooms.min},
        {"maxzoom", zooms.max},
        {"bounds", nlohmann::json::array({b.min_x, b.min_y, b.max_x, b.max_y})},
        {"center", nlohmann::json::array({info.center_lon, info.center_lat, info.center_zoom})},
        {"vector_layers", nlohmann::json::array({nlohmann::json{
                              {"id", level},
                              {"description", title},
                              {"minzoom", zooms.min},
                              {"maxzoom", zooms.max},
                              {"fields", {{"code", "String"}, {"name", "String, present only when it differs from code"}}}}})},
        {"smallarea", {{"level", level},
                       {"vintage", vintage},
                       {"features", sum.features},
                       {"feature_id", "FNV-1a 64 of the area code, low 53 bits (stable across exports and stores)"},
                       {"tile_options", {{"extent", options.extent}, {"buffer", options.buffer}, {"tolerance", options.tolerance}}}}}};
    info.metadata_json = meta.dump();
    sum.archive = out.finish(info);
    return sum;
}

pmtiles_summary export_pmtiles_to_path(const std::string& db_path, const std::string& level, const std::string& vintage,
                                       const std::string& minzoom, const std::string& maxzoom, const std::string& out_path,
                                       unsigned threads, const std::function<void(const std::string&)>& progress) {
    // Everything that can be checked without the store first, so a typo costs no snapshot load.
    const auto zooms = parse_zoom_range(minzoom, maxzoom);
    require_level(level);
    parse_vintage(vintage);
    geo::pmtiles::writer out(out_path);
    auto db = data::open_store(db_path, false);
    const snapshot s(db, true);
    return write_pmtiles(s, level, vintage, zooms, out, threads, progress);
}

} // namespace smallarea::engine
