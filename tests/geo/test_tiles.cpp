// Rendering tests: tiles are decoded back (protozero decoder in test_helpers.hpp, and GDAL's MVT driver) and
// checked as a client would see them.

#include <doctest/doctest.h>

#include "core/error.hpp"
#include "geo/geos_context.hpp"
#include "geo/polygon_layer.hpp"
#include "test_helpers.hpp"

#include <cpl_vsi.h>
#include <gdal.h>
#include <ogrsf_frmts.h>

#include <algorithm>
#include <cmath>
#include <set>
#include <sstream>
#include <stdexcept>

using namespace smallarea::geo;
using namespace test_geo;

namespace {

constexpr std::uint64_t id_offset = 1000000; // ids come from the callback, not from the index itself

struct oa_fixture {
    polygon_layer layer;
    std::vector<std::string> codes;
};

// Manchester's 1,530 OA11 polygons, read once with GDAL.
const oa_fixture& manchester() {
    static const oa_fixture fixture = [] {
        oa_fixture f;
        GDALAllRegister();
        const std::string path = std::string(SMALLAREA_SHARED_DATA) + "/boundaries/local/oa11_by_lad/E08000003.geojson";
        GDALDatasetUniquePtr ds{GDALDataset::Open(path.c_str(), GDAL_OF_VECTOR | GDAL_OF_READONLY)};
        if (!ds) {
            throw std::runtime_error("cannot open " + path);
        }
        OGRLayer* l = ds->GetLayer(0);
        std::vector<unsigned char> wkb;
        for (auto& feature : *l) {
            OGRGeometry* g = feature->GetGeometryRef();
            wkb.resize(static_cast<std::size_t>(g->WkbSize()));
            g->exportToWkb(wkbNDR, wkb.data(), wkbVariantIso);
            f.layer.add(wkb.data(), wkb.size());
            f.codes.emplace_back(feature->GetFieldAsString("OA11CD"));
        }
        f.layer.build();
        return f;
    }();
    return fixture;
}

std::string render_with_codes(const oa_fixture& f, const tile_id& t, const tile_options& options = {}) {
    return render_mvt(
        f.layer, "oa", t, [](std::uint32_t i) { return id_offset + i; },
        [&](std::uint32_t i, feature_properties& out) {
            out.add_string("OA11CD", f.codes[i]);
            out.add_int("index", i);
        },
        options);
}

tile_id tile_at(double lon, double lat, std::uint32_t z) {
    return tile_id{z, static_cast<std::uint32_t>(lon_to_world_x(lon) * (1U << z)),
                   static_cast<std::uint32_t>(lat_to_world_y(lat) * (1U << z))};
}

// Bounds of the tile grown by buffer/extent of a tile on each side, EPSG:4326.
bbox buffered_lonlat(const tile_id& t, double fraction) {
    const bbox w = tile_bounds_world(t);
    const double pad = (w.max_x - w.min_x) * fraction;
    return bbox{world_x_to_lon(w.min_x - pad), world_y_to_lat(w.max_y + pad), world_x_to_lon(w.max_x + pad),
                world_y_to_lat(w.min_y - pad)};
}

// Checks the MVT invariants of every feature: polygon type, closed rings of >= 3 distinct points, coordinates in
// [-buffer, extent + buffer], exterior first with positive area (spec formula), holes negative, no zero areas.
void check_geometry_rules(const decoded_layer& layer, const tile_options& options) {
    const std::int64_t lo = -static_cast<std::int64_t>(options.buffer);
    const std::int64_t hi = static_cast<std::int64_t>(options.extent) + options.buffer;
    for (const auto& f : layer.features) {
        CHECK(f.type == 3);
        REQUIRE(!f.rings.empty());
        CHECK(f.rings.front().area() > 0);
        for (const auto& r : f.rings) {
            CHECK(r.closed);
            REQUIRE(r.points.size() >= 3);
            CHECK(r.area() != 0);
            for (std::size_t i = 0; i < r.points.size(); ++i) {
                const auto& p = r.points[i];
                const auto& q = r.points[(i + 1) % r.points.size()];
                CHECK_FALSE((p.x == q.x && p.y == q.y)); // no repeated points (incl. no explicit closing point)
                CHECK(p.x >= lo);
                CHECK(p.x <= hi);
                CHECK(p.y >= lo);
                CHECK(p.y <= hi);
            }
        }
    }
}

// Builds the decoded feature as a GEOS MultiPolygon (a positive ring starts a polygon, negative rings are its
// holes) and asks GEOS whether it is valid. Returns GEOS's reason when not.
std::string geos_validity(const decoded_feature& f) {
    std::ostringstream wkt;
    wkt << "MULTIPOLYGON(";
    bool first_polygon = true;
    for (const auto& r : f.rings) {
        if (r.area() > 0) {
            wkt << (first_polygon ? "(" : ")),(");
            first_polygon = false;
        } else {
            wkt << "),";
        }
        wkt << "(";
        for (const auto& p : r.points) {
            wkt << p.x << ' ' << p.y << ',';
        }
        wkt << r.points.front().x << ' ' << r.points.front().y;
    }
    wkt << ")))";
    geos_context& ctx = thread_geos();
    GEOSGeometry* g = GEOSGeomFromWKT_r(ctx.handle(), wkt.str().c_str());
    if (g == nullptr) {
        return "unparseable WKT " + wkt.str();
    }
    const geometry_ptr owned{g, geometry_deleter{ctx.handle()}};
    if (GEOSisValid_r(ctx.handle(), g) == 1) {
        return {};
    }
    char* reason = GEOSisValidReason_r(ctx.handle(), g);
    std::string out = reason != nullptr ? reason : "invalid";
    GEOSFree_r(ctx.handle(), reason);
    return out;
}

const auto index_id = [](std::uint32_t i) { return std::uint64_t{i}; };
const auto no_properties = [](std::uint32_t, feature_properties&) {};

} // namespace

TEST_CASE("render_mvt - a tile with no feature is an empty string") {
    polygon_layer layer;
    const std::string wkb = wkb_polygon({rect(-2.25, 53.45, -2.2, 53.5)});
    layer.add(bytes(wkb), wkb.size());
    layer.build();
    CHECK(render_mvt(layer, "oa", tile_id{10, 0, 0}, index_id, no_properties).empty());
    CHECK_FALSE(render_mvt(layer, "oa", tile_at(-2.22, 53.47, 10), index_id, no_properties).empty());
    CHECK_THROWS_AS(render_mvt(layer, "oa", tile_id{17, 0, 0}, index_id, no_properties), std::invalid_argument);

    polygon_layer empty;
    empty.build();
    CHECK(empty.size() == 0);
    CHECK(render_mvt(empty, "oa", tile_id{0, 0, 0}, index_id, no_properties).empty());
}

TEST_CASE("render_mvt - a square becomes one feature with its id, properties and a clockwise exterior") {
    polygon_layer layer;
    const std::string a = wkb_polygon({rect(-2.25, 53.45, -2.24, 53.46)});
    const std::string b = wkb_polygon({rect(-2.23, 53.45, -2.22, 53.46)});
    CHECK(layer.add(bytes(a), a.size()) == 0);
    CHECK(layer.add(bytes(b), b.size()) == 1);
    layer.build();
    CHECK(layer.size() == 2);
    const bbox fb = layer.feature_bounds_lonlat(1);
    CHECK(fb.min_x == doctest::Approx(-2.23));
    CHECK(fb.max_y == doctest::Approx(53.46));
    const bbox lb = layer.bounds_lonlat();
    CHECK(lb.min_x == doctest::Approx(-2.25));
    CHECK(lb.max_x == doctest::Approx(-2.22));
    CHECK_THROWS_AS(layer.feature_bounds_lonlat(2), std::out_of_range);

    const tile_id t = tile_at(-2.235, 53.455, 12);
    const std::string tile = render_mvt(
        layer, "areas", t, [](std::uint32_t i) { return 77 + i; },
        [](std::uint32_t i, feature_properties& out) {
            out.add("code", std::string(i == 0 ? "A" : "B"));
            out.add("count", std::int64_t{5});
            out.add("share", 0.25);
            out.add("flag", true);
        });
    const auto layers = decode_tile(tile);
    REQUIRE(layers.size() == 1);
    CHECK(layers[0].name == "areas");
    REQUIRE(layers[0].features.size() == 2);
    CHECK(layers[0].features[0].id == 77);
    CHECK(layers[0].features[1].id == 78);
    CHECK(layers[0].features[0].properties.at("code") == "s:A");
    CHECK(layers[0].features[1].properties.at("code") == "s:B");
    CHECK(layers[0].features[1].properties.at("count") == "i:5");
    CHECK(layers[0].features[1].properties.at("share") == "d:0.250000");
    CHECK(layers[0].features[1].properties.at("flag") == "b:true");
    CHECK(layers[0].values.size() == 5); // "A", "B", 5, 0.25, true: values shared by both features written once
    check_geometry_rules(layers[0], tile_options{});
    CHECK(layers[0].features[0].rings.size() == 1);
    CHECK(layers[0].features[0].rings[0].points.size() == 4);
}

TEST_CASE("render_mvt - holes are wound opposite to their exterior whatever the input orientation") {
    polygon_layer layer;
    ring outer = rect(-2.25, 53.45, -2.20, 53.50);
    ring hole = rect(-2.24, 53.46, -2.21, 53.49);
    const std::string ccw = wkb_polygon({outer, hole});
    std::reverse(outer.begin(), outer.end());
    const std::string cw = wkb_polygon({outer, hole}); // exterior and hole now wound the same way
    layer.add(bytes(ccw), ccw.size());
    layer.add(bytes(cw), cw.size());
    layer.build();
    const auto layers = decode_tile(render_mvt(layer, "oa", tile_at(-2.225, 53.475, 11), index_id, no_properties));
    REQUIRE(layers.size() == 1);
    REQUIRE(layers[0].features.size() == 2);
    for (const auto& f : layers[0].features) {
        REQUIRE(f.rings.size() == 2);
        CHECK(f.rings[0].area() > 0);
        CHECK(f.rings[1].area() < 0);
        CHECK(geos_validity(f).empty());
    }
    check_geometry_rules(layers[0], tile_options{});
}

TEST_CASE("render_mvt - a feature crossing a tile edge is clipped to the buffer in both tiles") {
    const tile_id left{12, 2020, 1320};
    const tile_id right{12, 2021, 1320};
    const bbox lb = tile_bounds_lonlat(left);
    const double edge = lb.max_x;
    const double w = lb.max_x - lb.min_x;
    polygon_layer layer;
    const double mid = (lb.min_y + lb.max_y) / 2;
    const std::string wkb = wkb_polygon({rect(edge - w / 4, mid - w / 8, edge + w / 4, mid + w / 8)});
    layer.add(bytes(wkb), wkb.size());
    layer.build();
    tile_options options;
    for (const tile_id& t : {left, right}) {
        const auto layers = decode_tile(render_mvt(layer, "oa", t, index_id, no_properties, options));
        REQUIRE(layers.size() == 1);
        REQUIRE(layers[0].features.size() == 1);
        CHECK(layers[0].features[0].id == 0);
        check_geometry_rules(layers[0], options);
        const auto& pts = layers[0].features[0].rings.at(0).points;
        std::int64_t min_x = 1 << 20;
        std::int64_t max_x = -(1 << 20);
        for (const auto& p : pts) {
            min_x = std::min(min_x, p.x);
            max_x = std::max(max_x, p.x);
        }
        if (t.x == left.x) {
            CHECK(min_x == 3072);
            CHECK(max_x == 4096 + 64);
        } else {
            CHECK(min_x == -64);
            CHECK(max_x == 1024);
        }
    }
}

TEST_CASE("render_mvt - a U that leaves the tile twice becomes two valid parts; overlapping parts of one area merge") {
    const tile_id t{12, 2020, 1320};
    const bbox b = tile_bounds_lonlat(t);
    const double w = b.max_x - b.min_x;
    const double h = b.max_y - b.min_y;
    // A U opening to the west whose base lies east of the tile: its two arms reach into the tile, so the tile holds
    // two separate pieces, which the fast clip would join with a bridge along the buffer edge.
    const double base0 = b.max_x + w / 4, base1 = b.max_x + w / 2, tip = b.max_x - w / 2;
    const double y0 = b.min_y + h / 4, y1 = b.max_y - h / 4, arm = (y1 - y0) / 3;
    const polygon u{{{tip, y0}, {base1, y0}, {base1, y1}, {tip, y1}, {tip, y1 - arm}, {base0, y1 - arm},
                     {base0, y0 + arm}, {tip, y0 + arm}, {tip, y0}}};
    // Two parts of one area that overlap (as simplified parts of a real multi-part OA can).
    const double cx = b.min_x + w / 4, cy = b.min_y + h / 2;
    const polygon p1{rect(cx - w / 10, cy - h / 10, cx + w / 20, cy + h / 20)};
    const polygon p2{rect(cx - w / 20, cy - h / 20, cx + w / 10, cy + h / 10)};
    polygon_layer layer;
    const std::string a = wkb_polygon(u);
    const std::string m = wkb_multipolygon({p1, p2});
    layer.add(bytes(a), a.size());
    layer.add(bytes(m), m.size());
    layer.build();
    tile_options options;
    const auto layers = decode_tile(render_mvt(layer, "oa", t, index_id, no_properties, options));
    REQUIRE(layers.size() == 1);
    REQUIRE(layers[0].features.size() == 2);
    check_geometry_rules(layers[0], options);
    for (const auto& f : layers[0].features) {
        CHECK_MESSAGE(geos_validity(f).empty(), "feature " << f.id << ": " << geos_validity(f));
    }
    const auto& clipped_u = layers[0].features[0];
    CHECK(clipped_u.rings.size() == 2); // the two arms, separately, no bridge along the buffer edge
    CHECK(clipped_u.rings[0].points.size() == 4);
    CHECK(clipped_u.rings[1].points.size() == 4);
    const auto& merged = layers[0].features[1];
    CHECK(merged.rings.size() == 1); // the union: one exterior
    CHECK(merged.rings[0].points.size() == 8);
}

TEST_CASE("render_mvt - a polygon smaller than the tolerance squared is dropped at low zoom only") {
    polygon_layer layer;
    const std::string tiny = wkb_polygon({rect(-2.2400, 53.4500, -2.2399, 53.4501)}); // ~7 x 7 m
    layer.add(bytes(tiny), tiny.size());
    layer.build();
    tile_options options;
    options.tolerance = 3.0;
    CHECK(render_mvt(layer, "oa", tile_at(-2.24, 53.45, 8), index_id, no_properties, options).empty());
    CHECK_FALSE(render_mvt(layer, "oa", tile_at(-2.24, 53.45, 16), index_id, no_properties, options).empty());
    options.tolerance = 0.0; // no simplification: kept while it still quantises to a ring with area
    CHECK_FALSE(render_mvt(layer, "oa", tile_at(-2.24, 53.45, 12), index_id, no_properties, options).empty());
}

TEST_CASE("polygon_layer - unparseable or non-polygon WKB throws InvalidGeometry and leaves the layer as it was") {
    polygon_layer layer;
    const std::string good = wkb_polygon({rect(0, 0, 1, 1)});
    layer.add(bytes(good), good.size());
    const std::string truncated = good.substr(0, good.size() - 1);
    CHECK_THROWS_AS(layer.add(bytes(truncated), truncated.size()), smallarea::error);
    std::string point(1, '\x01');
    put_u32(point, 1);
    put_f64(point, 0);
    put_f64(point, 0);
    try {
        layer.add(bytes(point), point.size());
        FAIL("no throw");
    } catch (const smallarea::error& e) {
        CHECK(e.code() == "InvalidGeometry");
    }
    CHECK(layer.size() == 1);
    const std::string multi = wkb_multipolygon({{rect(2, 2, 3, 3)}, {rect(4, 4, 5, 5)}});
    CHECK(layer.add(bytes(multi), multi.size()) == 1);
    layer.build();
    CHECK(layer.memory_bytes() > 0);
    CHECK(layer.feature_bounds_lonlat(1).max_x == doctest::Approx(5.0));
}

TEST_CASE("query_bbox - only features whose geometry meets the box, not just their bounds") {
    polygon_layer layer;
    // An L shape whose bounding box covers (0.6..0.9, 0.6..0.9) but whose area does not.
    const std::string l_shape = wkb_polygon({{{0, 0}, {1, 0}, {1, 0.5}, {0.5, 0.5}, {0.5, 1}, {0, 1}, {0, 0}}});
    const std::string square = wkb_polygon({rect(2, 2, 3, 3)});
    const std::string donut = wkb_polygon({rect(4, 4, 8, 8), rect(5, 5, 7, 7)});
    layer.add(bytes(l_shape), l_shape.size());
    layer.add(bytes(square), square.size());
    layer.add(bytes(donut), donut.size());
    layer.build();
    CHECK(query_bbox(layer, bbox{0.6, 0.6, 0.9, 0.9}).empty());
    CHECK(query_bbox(layer, bbox{0.1, 0.1, 0.2, 0.2}) == std::vector<std::uint32_t>{0});
    CHECK(query_bbox(layer, bbox{-10, -10, 10, 10}) == std::vector<std::uint32_t>{0, 1, 2});
    CHECK(query_bbox(layer, bbox{0.9, 0.4, 2.1, 2.1}) == std::vector<std::uint32_t>{0, 1});
    CHECK(query_bbox(layer, bbox{5.5, 5.5, 6.5, 6.5}).empty());                       // inside the hole
    CHECK(query_bbox(layer, bbox{4.2, 4.2, 4.4, 4.4}) == std::vector<std::uint32_t>{2}); // inside the ring
    CHECK(query_bbox(layer, bbox{3, 3, 3.5, 3.5}) == std::vector<std::uint32_t>{1});     // touching a corner
}

TEST_CASE("real OAs - Manchester tiles at z10..16 decode to valid, correctly wound, stable-id features") {
    const oa_fixture& f = manchester();
    REQUIRE(f.layer.size() == 1530);
    const bbox b = f.layer.bounds_lonlat();
    CHECK(b.min_x > -2.4);
    CHECK(b.max_x < -2.1);

    tile_options options;
    std::set<std::uint64_t> ids_seen;
    std::size_t features_checked = 0;
    std::size_t invalid = 0;
    for (std::uint32_t z = 10; z <= 16; ++z) {
        const tile_id centre = tile_at(-2.2426, 53.4808, z);
        for (int dx = -1; dx <= 1; ++dx) {
            const tile_id t{z, centre.x + dx, centre.y};
            const std::string tile = render_with_codes(f, t, options);
            const auto layers = decode_tile(tile);
            if (layers.empty()) { // a neighbour beyond the city: only allowed when no OA is there
                CHECK(tile.empty());
                CHECK(query_bbox(f.layer, buffered_lonlat(t, 64.0 / 4096.0)).empty());
                continue;
            }
            REQUIRE(layers.size() == 1);
            const decoded_layer& layer = layers[0];
            check_geometry_rules(layer, options);

            std::set<std::uint32_t> in_tile;
            for (const auto& feature : layer.features) {
                REQUIRE(feature.has_id);
                REQUIRE(feature.id >= id_offset);
                const auto index = static_cast<std::uint32_t>(feature.id - id_offset);
                REQUIRE(index < f.codes.size());
                // The id names the same OA at every zoom and in every tile.
                CHECK(feature.properties.at("OA11CD") == "s:" + f.codes[index]);
                CHECK(feature.properties.at("index") == "i:" + std::to_string(index));
                in_tile.insert(index);
                ids_seen.insert(feature.id);
                const std::string why = geos_validity(feature);
                if (!why.empty()) {
                    ++invalid;
                    MESSAGE("z" << z << " OA " << f.codes[index] << ": " << why);
                }
                ++features_checked;
            }
            // Every OA meeting the tile itself is drawn; nothing is drawn that is not within tile + buffer.
            for (std::uint32_t i : query_bbox(f.layer, tile_bounds_lonlat(t))) {
                CHECK_MESSAGE(in_tile.count(i) == 1, "z" << z << " missing " << f.codes[i]);
            }
            const auto near = query_bbox(f.layer, buffered_lonlat(t, 64.0 / 4096.0 + 1e-6));
            for (std::uint32_t i : in_tile) {
                CHECK(std::binary_search(near.begin(), near.end(), i));
            }
        }
    }
    CHECK(features_checked > 1000);
    CHECK(invalid == 0);
    CHECK(ids_seen.size() > 100);
}

TEST_CASE("real OAs - GDAL's MVT driver reads our tile with the same features and codes") {
    const oa_fixture& f = manchester();
    const tile_id t = tile_at(-2.2426, 53.4808, 13);
    const std::string tile = render_with_codes(f, t);
    const auto ours = decode_tile(tile);
    REQUIRE(ours.size() == 1);

    const std::string path = "/vsimem/test_geo_tile.mvt";
    VSILFILE* fp = VSIFileFromMemBuffer(path.c_str(), reinterpret_cast<GByte*>(const_cast<char*>(tile.data())),
                                        tile.size(), FALSE);
    REQUIRE(fp != nullptr);
    VSIFCloseL(fp);
    const std::string z = "Z=" + std::to_string(t.z);
    const std::string x = "X=" + std::to_string(t.x);
    const std::string y = "Y=" + std::to_string(t.y);
    // CLIP=NO: GDAL would otherwise cut features that lie only in our 64-unit buffer.
    const char* open_options[] = {z.c_str(), x.c_str(), y.c_str(), "CLIP=NO", nullptr};
    GDALDatasetUniquePtr ds{GDALDataset::Open(("MVT:" + path).c_str(), GDAL_OF_VECTOR | GDAL_OF_READONLY, nullptr,
                                              open_options)};
    REQUIRE(ds);
    OGRLayer* layer = ds->GetLayerByName("oa");
    REQUIRE(layer != nullptr);
    std::set<std::string> codes;
    for (auto& feature : *layer) {
        codes.insert(feature->GetFieldAsString("OA11CD"));
        const OGRGeometry* g = feature->GetGeometryRef();
        REQUIRE(g != nullptr);
        const auto type = wkbFlatten(g->getGeometryType());
        CHECK((type == wkbPolygon || type == wkbMultiPolygon));
    }
    CHECK(codes.size() == ours[0].features.size());
    for (const auto& feature : ours[0].features) {
        CHECK(codes.count(feature.properties.at("OA11CD").substr(2)) == 1);
    }
    VSIUnlink(path.c_str());
}
