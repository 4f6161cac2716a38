// Postcodes: the ONS Postcode Directory (ONSPD) as downloaded, or a publisher's extract of it (the layout of
// ../shared/data/postcodes/trafford_postcodes_onspd_2025-02.csv), each postcode assigned to one Output Area of the
// source's vintage and stored with its centroid, dates, ward and neighbourhood (MSOA) name.
//
// The national directory is ~2.7 M rows, so the file is streamed row by row through the strict CSV reader and only
// postcodes inside the store's OAs are kept. The OA comes from the file's own OA column of the vintage (oa11/oa21)
// when it has one, else from the OA boundary that contains the centroid (point in polygon, as ONS assigns them):
// a packed R-tree over the OA boxes picks the candidates and GEOS prepared geometries decide, preparing only the
// OAs some postcode falls near. Rows outside every OA are counted and the first few named in the notes.

#include "data/ingest/readers.hpp"

#include "core/error.hpp"
#include "data/csv_reader.hpp"
#include "data/postcodes.hpp"
#include "data/store.hpp"
#include "data/text.hpp"
#include "geo/bespoke_geometry.hpp"
#include "geo/geos_context.hpp"
#include "geo/spatial_index.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace smallarea::data::ingest {

using text::lower;
using text::trim;

namespace {

struct postcode_columns {
    int postcode = -1, lat = -1, lon = -1, oa = -1, introduced = -1, terminated = -1;
    int ward_code = -1, ward_name = -1, msoa_code = -1, msoa_name = -1;
};

/// The first header among candidates (case-insensitive), or -1.
int first_column(const csv_reader& csv, std::initializer_list<const char*> candidates) {
    for (const char* c : candidates) {
        if (const int i = csv.column(c); i >= 0) return i;
    }
    return -1;
}

postcode_columns detect_columns(const csv_reader& csv, const postcode_source& source) {
    const std::string v = std::to_string(source.vintage % 100);
    postcode_columns c;
    // ONSPD names first, then the extract's; an OA, LSOA or MSOA column must carry the vintage's year (oa11 in a
    // 2021 source is another set of areas, as in the lookups).
    c.postcode = first_column(csv, {"pcds", "postcode", "pcd", "pcd2"});
    c.lat = first_column(csv, {"lat", "latitude"});
    c.lon = first_column(csv, {"long", "lon", "longitude", "lng"});
    c.oa = first_column(csv, {("oa" + v).c_str(), ("oa" + v + "cd").c_str()});
    c.introduced = first_column(csv, {"dointr"});
    c.terminated = first_column(csv, {"doterm"});
    c.ward_code = first_column(csv, {"osward", "ward_code", "wd24cd", "wd23cd"});
    c.ward_name = first_column(csv, {"ward_name", "wd24nm", "wd23nm"});
    c.msoa_code = first_column(csv, {("msoa" + v).c_str(), ("msoa" + v + "cd").c_str(), "msoa_code"});
    c.msoa_name = first_column(csv, {"msoa_hcl_name", ("msoa" + v + "hclnm").c_str(), "msoa_name"});
    if (source.vintage == 2011 && c.msoa_code >= 0 && lower(csv.header()[static_cast<std::size_t>(c.msoa_code)]) == "msoa_code") {
        // The extract's msoa_code and msoa_hcl_name are 2021 MSOAs; a 2011 store gets the names, never the codes.
        c.msoa_code = -1;
    }
    for (const auto& [role, column] : source.columns) {
        const int index = csv.column(column);
        if (index < 0) throw ingest_error(source.path, 1, "no column \"" + column + "\" (columns." + role + ")");
        if (role == "postcode") c.postcode = index;
        else if (role == "lat") c.lat = index;
        else if (role == "lon") c.lon = index;
        else if (role == "oa") c.oa = index;
        else if (role == "introduced") c.introduced = index;
        else if (role == "terminated") c.terminated = index;
        else if (role == "ward_code") c.ward_code = index;
        else if (role == "ward_name") c.ward_name = index;
        else if (role == "msoa_name") c.msoa_name = index;
    }
    std::string seen;
    for (const auto& h : csv.header()) seen += (seen.empty() ? "" : ", ") + h;
    if (c.postcode < 0) throw ingest_error(source.path, 1, "no postcode column (looked for pcds, postcode, pcd); the header has " + seen + "; set \"columns\": {\"postcode\": ...}");
    if (c.lat < 0 || c.lon < 0) {
        throw ingest_error(source.path, 1, std::string("no ") + (c.lat < 0 ? "lat" : "long") +
                                               " column (a postcode needs its centroid: ONSPD's lat and long); the header has " + seen);
    }
    if (source.layout == "onspd" && c.terminated < 0) {
        throw ingest_error(source.path, 1, "layout \"onspd\" needs the directory's doterm column (the header has " + seen +
                                               "); use \"layout\": \"auto\" for an extract without termination dates");
    }
    return c;
}

/// A coordinate cell: nullopt when empty or ONSPD's "no grid reference" marker (lat 99.999999); throws when not a
/// number or out of range.
std::optional<double> coordinate(const std::string& cell, bool is_lat, const std::string& file, long line) {
    const std::string t = trim(cell);
    if (t.empty()) return std::nullopt;
    char* end = nullptr;
    const double v = std::strtod(t.c_str(), &end);
    if (end != t.c_str() + t.size() || !std::isfinite(v)) {
        throw ingest_error(file, line, std::string(is_lat ? "lat" : "long") + " \"" + t + "\" is not a number");
    }
    if (is_lat && std::fabs(v - 99.999999) < 1e-9) return std::nullopt; // ONSPD: no grid reference for this postcode
    if (std::fabs(v) > (is_lat ? 90.0 : 180.0)) {
        throw ingest_error(file, line, std::string(is_lat ? "lat" : "long") + " " + t + " is outside " +
                                           (is_lat ? "-90..90" : "-180..180") + " (coordinates must be WGS 84 degrees)");
    }
    return v;
}

/// ONSPD dates are YYYYMM ("198001"); kept as "1980-01". Other text is kept as written.
std::string month(const std::string& cell) {
    const std::string t = trim(cell);
    if (t.size() == 6 && std::all_of(t.begin(), t.end(), [](unsigned char c) { return std::isdigit(c); })) {
        return t.substr(0, 4) + "-" + t.substr(4);
    }
    return t;
}

/// The store's OA boundaries of one vintage, for point in polygon: boxes in an R-tree, each GEOS geometry parsed
/// and prepared the first time a point falls in its box.
class oa_locator {
public:
    oa_locator(database& db, int vintage) : m_geometries(load_geometries(db, "oa", vintage)) {
        std::vector<geo::bbox> boxes;
        for (const auto& [id, wkb] : m_geometries) {
            const auto b = geo::wkb_bounds(wkb);
            boxes.push_back(geo::bbox{b.minx, b.miny, b.maxx, b.maxy});
            m_extent.min_x = std::min(m_extent.min_x, b.minx);
            m_extent.min_y = std::min(m_extent.min_y, b.miny);
            m_extent.max_x = std::max(m_extent.max_x, b.maxx);
            m_extent.max_y = std::max(m_extent.max_y, b.maxy);
        }
        m_tree.build(boxes);
        m_prepared.resize(m_geometries.size());
    }
    ~oa_locator() {
        for (auto& p : m_prepared) {
            if (p.prepared) GEOSPreparedGeom_destroy_r(m_ctx.handle(), p.prepared);
        }
    }
    oa_locator(const oa_locator&) = delete;
    oa_locator& operator=(const oa_locator&) = delete;

    bool empty() const { return m_geometries.empty(); }

    /// The area id of the OA containing (lon, lat): the interior first; a point on a shared edge goes to the
    /// lowest-id OA that covers it (deterministic, and it stays inside one OA). nullopt when outside every OA.
    std::optional<std::int64_t> locate(double lon, double lat) {
        if (lon < m_extent.min_x || lon > m_extent.max_x || lat < m_extent.min_y || lat > m_extent.max_y) return std::nullopt;
        m_candidates.clear();
        m_tree.visit(geo::bbox{lon, lat, lon, lat}, [&](std::uint32_t i) { m_candidates.push_back(i); });
        if (m_candidates.empty()) return std::nullopt;
        std::sort(m_candidates.begin(), m_candidates.end());
        auto* h = m_ctx.handle();
        geo::geometry_ptr point(GEOSGeom_createPointFromXY_r(h, lon, lat), geo::geometry_deleter{h});
        for (const auto i : m_candidates) {
            if (GEOSPreparedContains_r(h, prepared(i), point.get()) == 1) return m_geometries[i].first;
        }
        for (const auto i : m_candidates) {
            if (GEOSPreparedCovers_r(h, prepared(i), point.get()) == 1) return m_geometries[i].first;
        }
        return std::nullopt;
    }

private:
    struct slot {
        geo::geometry_ptr geometry;
        const GEOSPreparedGeometry* prepared = nullptr;
    };
    const GEOSPreparedGeometry* prepared(std::uint32_t i) {
        auto& s = m_prepared[i];
        if (!s.prepared) {
            const auto& wkb = m_geometries[i].second;
            s.geometry = geo::read_wkb(m_ctx, reinterpret_cast<const unsigned char*>(wkb.data()), wkb.size());
            s.prepared = GEOSPrepare_r(m_ctx.handle(), s.geometry.get());
            if (!s.prepared) m_ctx.fail("GeometryError", "cannot prepare an OA boundary");
        }
        return s.prepared;
    }

    geo::geos_context& m_ctx = geo::thread_geos();
    std::vector<std::pair<std::int64_t, std::string>> m_geometries;
    geo::bbox m_extent{1e9, 1e9, -1e9, -1e9};
    geo::detail::packed_rtree m_tree;
    std::vector<slot> m_prepared;
    std::vector<std::uint32_t> m_candidates;
};

/// A ward or neighbourhood named by the file: its box, and the postcodes' points for a label point.
struct place_acc {
    std::string name;
    double min_lon = 1e9, min_lat = 1e9, max_lon = -1e9, max_lat = -1e9;
    std::vector<std::pair<double, double>> points;
};

void add_point(place_acc& p, const std::string& name, double lon, double lat) {
    if (p.name.empty()) p.name = name;
    p.min_lon = std::min(p.min_lon, lon);
    p.min_lat = std::min(p.min_lat, lat);
    p.max_lon = std::max(p.max_lon, lon);
    p.max_lat = std::max(p.max_lat, lat);
    p.points.emplace_back(lon, lat);
}

} // namespace

void ingest_postcodes(ingest_context& ctx, const postcode_source& source) {
    csv_reader csv(source.path);
    const auto c = detect_columns(csv, source);
    const std::string vintage = std::to_string(source.vintage);
    std::int64_t store_oas = 0;
    {
        statement s(ctx.db(), "SELECT count(*) FROM areas WHERE level = 'oa' AND vintage = ?");
        s.bind(1, source.vintage);
        if (s.step()) store_oas = s.int64(0);
    }
    if (store_oas == 0) {
        throw ingest_error(source.path, 0, "the store has no " + vintage + " Output Areas to assign postcodes to; "
                                           "ingest OA boundaries or a lookup of that vintage first");
    }
    // The file's OA column when it has one of the vintage (its codes are the store's); else point in polygon.
    const bool by_lookup = c.oa >= 0;
    std::unique_ptr<oa_locator> locator;
    if (!by_lookup) {
        locator = std::make_unique<oa_locator>(ctx.db(), source.vintage);
        if (locator->empty()) {
            throw ingest_error(source.path, 0, "the file has no oa" + vintage.substr(2) + " column and the store has no " + vintage +
                                               " OA boundaries to place its postcodes in; ingest them first");
        }
    }
    if (std::find(ctx.postcode_vintages_replaced.begin(), ctx.postcode_vintages_replaced.end(), source.vintage) ==
        ctx.postcode_vintages_replaced.end()) {
        // A postcodes ingest replaces the vintage's postcodes: a new directory release terminates and adds some.
        statement del(ctx.db(), "DELETE FROM postcodes WHERE area_id IN (SELECT id FROM areas WHERE level = 'oa' AND vintage = ?)");
        del.bind(1, source.vintage).run();
        statement del_places(ctx.db(), "DELETE FROM place_names WHERE vintage = ?");
        del_places.bind(1, source.vintage).run();
        ctx.postcode_vintages_replaced.push_back(source.vintage);
    }
    statement insert(ctx.db(), "INSERT INTO postcodes (postcode, area_id, lat, lon, live, introduced, terminated, ward_code, "
                               "ward_name, msoa_name, assigned_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
    auto cell = [](const std::vector<std::string>& f, int i) { return i < 0 ? std::string() : trim(f[static_cast<std::size_t>(i)]); };
    std::map<std::pair<std::string, std::string>, place_acc> places; // (kind, code) -> place
    std::vector<std::string> outside_examples;
    std::int64_t rows = 0, stored = 0, terminated = 0, outside = 0, unlocated = 0;
    std::vector<std::string> f;
    while (csv.next(f)) {
        ++rows;
        if (rows % 250000 == 0) ctx.say("  " + source.path + ": " + std::to_string(rows) + " rows, " + std::to_string(stored) + " kept");
        const std::string raw = cell(f, c.postcode);
        const auto postcode = normalise_postcode(raw);
        if (!postcode) throw ingest_error(source.path, csv.line(), "\"" + raw + "\" is not a postcode (e.g. \"M15 4AB\")");
        // Both coordinates are checked on every row, kept or not: a file whose coordinates are broken is refused.
        auto lat = coordinate(f[static_cast<std::size_t>(c.lat)], true, source.path, csv.line());
        auto lon = coordinate(f[static_cast<std::size_t>(c.lon)], false, source.path, csv.line());
        if (!lat && trim(f[static_cast<std::size_t>(c.lat)]) != "") lon.reset(); // ONSPD's marker pairs lat 99.999999 with long 0
        if (lat.has_value() != lon.has_value()) {
            throw ingest_error(source.path, csv.line(), "postcode " + *postcode + " has only one of lat and long");
        }
        std::optional<std::int64_t> area;
        if (by_lookup) {
            const std::string oa = cell(f, c.oa);
            if (!oa.empty()) area = ctx.find_area(source.vintage, "oa", oa);
        } else if (lat) {
            area = locator->locate(*lon, *lat);
        } else {
            ++unlocated;
        }
        if (!area) {
            ++outside;
            if (outside_examples.size() < 5) outside_examples.push_back(*postcode + " (line " + std::to_string(csv.line()) + ")");
            continue;
        }
        const std::string here = source.path + " line " + std::to_string(csv.line());
        const auto [seen, fresh] = ctx.postcodes_seen.emplace(*postcode, here);
        if (!fresh) throw ingest_error(source.path, csv.line(), "postcode " + *postcode + " appears again (first at " + seen->second + ")");
        const std::string term = month(cell(f, c.terminated));
        const std::string ward_code = cell(f, c.ward_code), ward_name = cell(f, c.ward_name);
        const std::string msoa_code = cell(f, c.msoa_code), msoa_name = cell(f, c.msoa_name);
        insert.bind(1, *postcode).bind(2, *area).bind(3, lat).bind(4, lon).bind(5, term.empty() ? 1 : 0);
        const std::string intro = month(cell(f, c.introduced));
        if (intro.empty()) insert.bind_null(6); else insert.bind(6, intro);
        if (term.empty()) insert.bind_null(7); else insert.bind(7, term);
        if (ward_code.empty()) insert.bind_null(8); else insert.bind(8, ward_code);
        if (ward_name.empty()) insert.bind_null(9); else insert.bind(9, ward_name);
        if (msoa_name.empty()) insert.bind_null(10); else insert.bind(10, msoa_name);
        insert.bind(11, by_lookup ? "lookup" : "point_in_polygon").run();
        ++stored;
        if (!term.empty()) ++terminated;
        // Places are named from live postcodes with a centroid (a terminated one may lie on a demolished street).
        if (term.empty() && lat) {
            if (!ward_code.empty() && !ward_name.empty()) add_point(places[{"ward", ward_code}], ward_name, *lon, *lat);
            if (!msoa_name.empty()) {
                add_point(places[{"neighbourhood", msoa_code.empty() ? msoa_name : msoa_code}], msoa_name, *lon, *lat);
            }
        }
    }
    statement place(ctx.db(), "INSERT INTO place_names (kind, code, name, vintage, min_lon, min_lat, max_lon, max_lat, "
                              "lon, lat, postcodes) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (kind, code, vintage) "
                              "DO UPDATE SET name = excluded.name, min_lon = excluded.min_lon, min_lat = excluded.min_lat, "
                              "max_lon = excluded.max_lon, max_lat = excluded.max_lat, lon = excluded.lon, lat = excluded.lat, "
                              "postcodes = excluded.postcodes");
    for (const auto& [key, p] : places) {
        // The label point is a real postcode's centroid (the one nearest the mean), so it lies on a street of the place.
        double mx = 0, my = 0;
        for (const auto& [x, y] : p.points) { mx += x; my += y; }
        mx /= static_cast<double>(p.points.size());
        my /= static_cast<double>(p.points.size());
        auto best = p.points.front();
        double best_d = 1e18;
        for (const auto& pt : p.points) {
            const double d = (pt.first - mx) * (pt.first - mx) + (pt.second - my) * (pt.second - my);
            if (d < best_d) { best_d = d; best = pt; }
        }
        place.bind(1, key.first).bind(2, key.second).bind(3, p.name).bind(4, source.vintage).bind(5, p.min_lon).bind(6, p.min_lat)
            .bind(7, p.max_lon).bind(8, p.max_lat).bind(9, best.first).bind(10, best.second)
            .bind(11, static_cast<std::int64_t>(p.points.size())).run();
    }
    ctx.summary.postcodes += stored;
    ctx.summary.postcodes_terminated += terminated;
    ctx.summary.postcodes_outside += outside;
    std::string how = by_lookup ? "by the file's " + csv.header()[static_cast<std::size_t>(c.oa)] + " column"
                                : "by point in polygon of each centroid in the store's " + vintage + " OA boundaries";
    ctx.summary.notes.push_back("postcodes " + source.path + ": " + std::to_string(stored) + " of " + std::to_string(rows) +
                                " stored (" + std::to_string(terminated) + " terminated), assigned to " + vintage + " OAs " + how);
    if (c.terminated < 0) ctx.summary.notes.push_back("postcodes " + source.path + ": the file has no doterm column, so every postcode is taken as live");
    if (outside > 0) {
        std::string names;
        for (const auto& e : outside_examples) names += (names.empty() ? "" : ", ") + e;
        ctx.summary.notes.push_back("postcodes " + source.path + ": " + std::to_string(outside) + " outside every " + vintage +
                                    " OA of the store, not stored" +
                                    (unlocated > 0 ? " (" + std::to_string(unlocated) + " of them without a centroid)" : "") +
                                    ": " + names + (outside > static_cast<std::int64_t>(outside_examples.size()) ? ", ..." : ""));
    }
    ctx.say("postcodes " + source.path + ": " + std::to_string(stored) + " of " + std::to_string(rows) + " rows stored");
}

} // namespace smallarea::data::ingest
