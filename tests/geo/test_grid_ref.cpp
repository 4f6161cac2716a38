#include <doctest/doctest.h>

#include "geo/grid_ref.hpp"
#include <cmath>

using namespace smallarea::geo;

// Ordnance Survey, "A guide to coordinate systems in Great Britain", worked example: Caister water tower, ETRS89
// 52°39'28.8282"N 1°42'57.8663"E is National Grid 651409.903 E, 313177.270 N (OSTN15). Without the OSTN15 grid
// PROJ uses a Helmert fit, good to a few metres: the bound is 10 m, the size of an 8-figure square.
// (Its OSGB36 latitude and longitude, 52°39'27.2531"N 1°43'4.5177"E, land ~130 m away: a transformation without
// the datum shift would fail here.)
TEST_CASE("to_national_grid - the OS worked example lands within 10 m; points off the grid have no position") {
    const auto p = to_national_grid(1.0 + 42.0 / 60 + 57.8663 / 3600, 52.0 + 39.0 / 60 + 28.8282 / 3600);
    REQUIRE(p);
    MESSAGE("easting " << p->easting << " northing " << p->northing);
    CHECK(std::abs(p->easting - 651409.903) < 10);
    CHECK(std::abs(p->northing - 313177.270) < 10);
    CHECK_FALSE(to_national_grid(-40.0, 52.0));  // mid-Atlantic
    CHECK_FALSE(to_national_grid(2.35, 48.85) ); // Paris is south of the grid's origin
    CHECK_FALSE(to_national_grid(std::nan(""), 52.0));
}

TEST_CASE("os_grid_reference - letters of the 500 km and 100 km squares, then 2 to 10 figures") {
    CHECK(os_grid_reference({651409.903, 313177.270}, 10) == "TG 51409 13177");
    CHECK(os_grid_reference({651409.903, 313177.270}) == "TG 5140 1317");
    CHECK(os_grid_reference({651409.903, 313177.270}, 6) == "TG 514 131");
    CHECK(os_grid_reference({216600, 771200}, 6) == "NN 166 712"); // Ben Nevis, the OS's own example
    CHECK(os_grid_reference({0, 0}, 2) == "SV 0 0");               // the grid's false origin
    CHECK(os_grid_reference({380000, 398000}) == "SJ 8000 9800");  // Manchester
    CHECK(os_grid_reference({699999, 1299999}, 10) == "JM 99999 99999");
    CHECK(os_grid_reference({700000, 100}).empty());
    CHECK(os_grid_reference({100, -1}).empty());
    CHECK(os_grid_reference({100, 100}, 7).empty());
    CHECK(os_grid_reference({100, 100}, 12).empty());
}
