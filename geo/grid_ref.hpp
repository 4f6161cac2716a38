#pragma once
// British National Grid positions for people with a paper map or an OS app: EPSG:4326 -> EPSG:27700 through
// GDAL's PROJ, and the lettered OS grid reference. Outreach sheets and target lists carry both.

#include <optional>
#include <string>

namespace smallarea::geo {

struct national_grid_point {
    double easting = 0;  ///< metres, EPSG:27700
    double northing = 0; ///< metres
};

/// The National Grid position of (lon, lat) in degrees (WGS 84 / ETRS89), through PROJ's best
/// available transformation (OSTN15 if its grid is installed, else the OS's Helmert fit EPSG:1314, good to ~2 m,
/// well within the 10 m square of an 8-figure reference). nullopt when the point is outside the grid (0..700 km east,
/// 0..1300 km north) or PROJ fails. Thread-safe (one transformation per thread).
std::optional<national_grid_point> to_national_grid(double lon, double lat);

/// The OS grid reference of a National Grid position: two letters (500 km and 100 km squares) and `digits`
/// figures in all (2..10, even; 8 = 10 m squares), e.g. "NN 1660 7120". Empty outside the grid.
std::string os_grid_reference(const national_grid_point& p, int digits = 8);

} // namespace smallarea::geo
