#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include "core/error.hpp"
#include "geo/geojson.hpp"
#include "geo/mvt_writer.hpp"
#include "geo/tile.hpp"
#include "test_helpers.hpp"

#include <cmath>

using namespace smallarea::geo;
using namespace test_geo;

TEST_CASE("valid_tile - zoom 16 is the last valid zoom and x, y must be below 2^z") {
    CHECK(valid_tile({0, 0, 0}));
    CHECK_FALSE(valid_tile({0, 1, 0}));
    CHECK(valid_tile({15, 32767, 32767}));
    CHECK(valid_tile({16, 0, 0}));
    CHECK(valid_tile({16, 65535, 65535}));
    CHECK_FALSE(valid_tile({16, 65536, 0}));
    CHECK_FALSE(valid_tile({16, 0, 65536}));
    CHECK_FALSE(valid_tile({17, 0, 0}));
    CHECK(valid_tile({10, 1023, 1023}));
    CHECK_FALSE(valid_tile({10, 1024, 0}));
    CHECK_FALSE(valid_tile({10, 0, 1024}));
}

TEST_CASE("tile_bounds_lonlat - the world tile spans the web mercator square") {
    const bbox b = tile_bounds_lonlat({0, 0, 0});
    CHECK(b.min_x == doctest::Approx(-180.0));
    CHECK(b.max_x == doctest::Approx(180.0));
    CHECK(b.min_y == doctest::Approx(-85.0511287798));
    CHECK(b.max_y == doctest::Approx(85.0511287798));
    const bbox nw = tile_bounds_lonlat({1, 0, 0});
    CHECK(nw.min_x == doctest::Approx(-180.0));
    CHECK(nw.max_x == doctest::Approx(0.0));
    CHECK(nw.min_y == doctest::Approx(0.0));
    CHECK(nw.max_y == doctest::Approx(85.0511287798));
}

TEST_CASE("tile_bounds_lonlat - a Manchester z14 tile contains the point it was computed from") {
    const double lon = -2.2426;
    const double lat = 53.4808;
    const std::uint32_t z = 14;
    const auto x = static_cast<std::uint32_t>(lon_to_world_x(lon) * (1U << z));
    const auto y = static_cast<std::uint32_t>(lat_to_world_y(lat) * (1U << z));
    const bbox b = tile_bounds_lonlat({z, x, y});
    CHECK(b.min_x <= lon);
    CHECK(lon <= b.max_x);
    CHECK(b.min_y <= lat);
    CHECK(lat <= b.max_y);
    CHECK(world_y_to_lat(lat_to_world_y(lat)) == doctest::Approx(lat));
    CHECK(lat_to_world_y(89.0) == doctest::Approx(0.0)); // clamped at the mercator edge
}

TEST_CASE("mvt writer - keys and values are deduplicated and an uncommitted feature is not written") {
    mvt::layer_builder layer{"oa", 4096};
    mvt::polygon_feature_builder f{layer};
    const mvt::point square[] = {{0, 0}, {10, 0}, {10, 10}, {0, 10}};
    for (std::uint64_t id = 1; id <= 2; ++id) {
        f.set_id(id);
        f.add_ring(square, 4);
        f.add_property(layer.key_index("kind"), layer.string_value_index("same"));
        f.add_property(layer.key_index("n"), layer.int_value_index(-5));
        f.commit();
    }
    f.set_id(3);
    f.add_ring(square, 4);
    f.rollback();
    f.add_property(layer.key_index("kind"), layer.string_value_index("no geometry"));
    f.commit(); // no geometry: behaves as rollback
    std::string tile;
    layer.serialize(tile);
    const auto layers = decode_tile(tile);
    REQUIRE(layers.size() == 1);
    CHECK(layers[0].name == "oa");
    CHECK(layers[0].version == 2);
    CHECK(layers[0].extent == 4096);
    CHECK(layers[0].keys == std::vector<std::string>{"kind", "n"});
    CHECK(layers[0].values.size() == 3); // "same", -5, and "no geometry" (tables are append-only)
    REQUIRE(layers[0].features.size() == 2);
    CHECK(layers[0].features[1].id == 2);
    CHECK(layers[0].features[1].properties.at("kind") == "s:same");
    CHECK(layers[0].features[1].properties.at("n") == "i:-5");
    CHECK(layers[0].features[1].type == 3);
    REQUIRE(layers[0].features[1].rings.size() == 1);
    CHECK(layers[0].features[1].rings[0].points.size() == 4);
    CHECK(layers[0].features[1].rings[0].area() == doctest::Approx(100.0));
}

TEST_CASE("mvt writer - an empty layer serializes to nothing") {
    mvt::layer_builder layer{"oa", 4096};
    std::string tile;
    layer.serialize(tile);
    CHECK(tile.empty());
}

TEST_CASE("append_geojson_geometry - a polygon is written with trimmed, rounded coordinates") {
    const std::string wkb = wkb_polygon({rect(0, 0, 1, 1)});
    std::string out = "x";
    append_geojson_geometry(out, bytes(wkb), wkb.size());
    CHECK(out == R"(x{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,1],[0,0]]]})");

    const std::string wkb2 = wkb_polygon({{{-2.123456789, 53.5}, {-2.1, 53.4999999}, {-2.2, 53.6}, {-2.123456789, 53.5}}});
    std::string out2;
    append_geojson_geometry(out2, bytes(wkb2), wkb2.size(), 3);
    CHECK(out2 == R"({"type":"Polygon","coordinates":[[[-2.123,53.5],[-2.1,53.5],[-2.2,53.6],[-2.123,53.5]]]})");
}

TEST_CASE("append_geojson_geometry - multipolygons and points are supported, garbage throws") {
    const std::string wkb = wkb_multipolygon({{rect(0, 0, 1, 1)}, {rect(2, 2, 3, 3), rect(2.25, 2.25, 2.5, 2.5)}});
    std::string out;
    append_geojson_geometry(out, bytes(wkb), wkb.size(), 2);
    CHECK(out == R"({"type":"MultiPolygon","coordinates":[[[[0,0],[1,0],[1,1],[0,1],[0,0]]],)"
                 R"([[[2,2],[3,2],[3,3],[2,3],[2,2]],[[2.25,2.25],[2.5,2.25],[2.5,2.5],[2.25,2.5],[2.25,2.25]]]]})");

    std::string point(1, '\x01');
    put_u32(point, 1);
    put_f64(point, -0.0000001);
    put_f64(point, 51.5);
    std::string out2;
    append_geojson_geometry(out2, bytes(point), point.size());
    CHECK(out2 == R"({"type":"Point","coordinates":[0,51.5]})");

    const std::string truncated = wkb.substr(0, wkb.size() - 3);
    std::string out3;
    CHECK_THROWS_AS(append_geojson_geometry(out3, bytes(truncated), truncated.size()), smallarea::error);
    try {
        append_geojson_geometry(out3, bytes(truncated), truncated.size());
    } catch (const smallarea::error& e) {
        CHECK(e.code() == "InvalidGeometry");
    }
}
