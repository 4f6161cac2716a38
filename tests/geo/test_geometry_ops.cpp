#include <doctest/doctest.h>

#include "core/error.hpp"
#include "geo/geometry_ops.hpp"
#include "geo/geos_context.hpp"
#include "test_helpers.hpp"

using namespace smallarea::geo;
using namespace test_geo;

namespace {

struct geometry_facts {
    int type;
    int parts;
    double area;
    bool valid;
};

geometry_facts facts(const std::string& wkb) {
    geos_context& ctx = thread_geos();
    const geometry_ptr g = read_wkb(ctx, bytes(wkb), wkb.size());
    double area = 0;
    GEOSArea_r(ctx.handle(), g.get(), &area);
    return {GEOSGeomTypeId_r(ctx.handle(), g.get()), GEOSGetNumGeometries_r(ctx.handle(), g.get()), area,
            GEOSisValid_r(ctx.handle(), g.get()) == 1};
}

} // namespace

TEST_CASE("make_valid_multipolygon - a bow-tie is repaired into two triangles") {
    const std::string bow_tie = wkb_polygon({{{0, 0}, {1, 1}, {1, 0}, {0, 1}, {0, 0}}});
    const repaired_geometry r = make_valid_multipolygon(bytes(bow_tie), bow_tie.size());
    CHECK(r.was_repaired);
    CHECK_FALSE(r.empty);
    const geometry_facts g = facts(r.wkb);
    CHECK(g.type == GEOS_MULTIPOLYGON);
    CHECK(g.parts == 2);
    CHECK(g.area == doctest::Approx(0.5));
    CHECK(g.valid);
}

TEST_CASE("make_valid_multipolygon - a valid polygon is unchanged but returned as a MultiPolygon") {
    const std::string square = wkb_polygon({rect(-2.3, 53.4, -2.2, 53.5), rect(-2.28, 53.42, -2.25, 53.45)});
    const repaired_geometry r = make_valid_multipolygon(bytes(square), square.size());
    CHECK_FALSE(r.was_repaired);
    CHECK_FALSE(r.empty);
    const geometry_facts g = facts(r.wkb);
    CHECK(g.type == GEOS_MULTIPOLYGON);
    CHECK(g.parts == 1);
    CHECK(g.area == doctest::Approx(0.01 - 0.03 * 0.03));
    // The body of the polygon is byte-identical: MultiPolygon header (9 bytes) + member header (5) + rings.
    CHECK(r.wkb.substr(14) == square.substr(5));
}

TEST_CASE("make_valid_multipolygon - a collapsed polygon is empty and garbage throws InvalidGeometry") {
    const std::string line_like = wkb_polygon({{{0, 0}, {1, 1}, {2, 2}, {0, 0}}});
    const repaired_geometry r = make_valid_multipolygon(bytes(line_like), line_like.size());
    CHECK(r.was_repaired);
    CHECK(r.empty);
    const std::string garbage = "\x01\x03\x00\x00";
    CHECK_THROWS_AS(make_valid_multipolygon(bytes(garbage), garbage.size()), smallarea::error);
    std::string point(1, '\x01');
    put_u32(point, 1);
    put_f64(point, 0);
    put_f64(point, 0);
    try {
        make_valid_multipolygon(bytes(point), point.size());
        FAIL("no throw");
    } catch (const smallarea::error& e) {
        CHECK(e.code() == "InvalidGeometry");
    }
}

TEST_CASE("union_wkb - two adjacent squares dissolve into one polygon with the summed area") {
    const std::string a = wkb_polygon({rect(0, 0, 1, 1)});
    const std::string b = wkb_polygon({rect(1, 0, 2, 1)});
    const std::string u = union_wkb({a, b});
    const geometry_facts g = facts(u);
    CHECK(g.type == GEOS_MULTIPOLYGON);
    CHECK(g.parts == 1);
    CHECK(g.area == doctest::Approx(2.0));

    const std::string far = wkb_polygon({rect(5, 5, 6, 6)});
    const geometry_facts g2 = facts(union_wkb({a, far}));
    CHECK(g2.parts == 2);
    CHECK(g2.area == doctest::Approx(2.0));
    CHECK(facts(union_wkb({})).parts == 0);
    const std::string garbage = "nope";
    CHECK_THROWS_AS(union_wkb({a, garbage}), smallarea::error);
}

TEST_CASE("point_on_surface - the point lies inside an L-shaped polygon, where its centroid would not") {
    const std::string l_shape = wkb_polygon({{{0, 0}, {10, 0}, {10, 1}, {1, 1}, {1, 10}, {0, 10}, {0, 0}}});
    const auto [x, y] = point_on_surface(bytes(l_shape), l_shape.size());
    const bool in_foot = x >= 0 && x <= 10 && y >= 0 && y <= 1;
    const bool in_leg = x >= 0 && x <= 1 && y >= 0 && y <= 10;
    CHECK((in_foot || in_leg));
    const std::string garbage = "\x01";
    CHECK_THROWS_AS(point_on_surface(bytes(garbage), garbage.size()), smallarea::error);
}
