#pragma once
// Web-mercator tile math shared by the tile renderer and the server's tile routes.

#include <cstdint>

namespace smallarea::geo {

/// A slippy-map tile address: zoom z, column x (west to east), row y (north to south).
struct tile_id {
    std::uint32_t z = 0;
    std::uint32_t x = 0;
    std::uint32_t y = 0;
};

/// The highest zoom served. OAs are a few hundred metres across; z16 tiles are ~600 m, so deeper tiles add nothing.
constexpr std::uint32_t max_zoom = 16;

/// Latitude limit of web mercator (EPSG:3857), degrees; data beyond it is clamped onto the edge.
constexpr double max_latitude = 85.0511287798066;

/// An axis-aligned box. The unit (EPSG:4326 degrees, EPSG:3857 metres, or "world" units) is stated where used.
struct bbox {
    double min_x = 0.0;
    double min_y = 0.0;
    double max_x = 0.0;
    double max_y = 0.0;
};

/// True when z <= max_zoom and x, y < 2^z. Never throws.
bool valid_tile(const tile_id& t) noexcept;

/// The tile's bounds in EPSG:4326 degrees (min_x = west longitude, min_y = south latitude).
/// Precondition: valid_tile(t) (asserted). Does not throw.
bbox tile_bounds_lonlat(const tile_id& t);

/// The tile's bounds in "world" units: web mercator scaled to [0, 1] on both axes with y pointing south
/// (min_y is the northern edge). Precondition: valid_tile(t). Does not throw.
bbox tile_bounds_world(const tile_id& t) noexcept;

/// Projects EPSG:4326 longitude to world x in [0, 1] (EPSG:3857 scaled, 0 = 180 W).
double lon_to_world_x(double lon) noexcept;

/// Projects EPSG:4326 latitude to world y in [0, 1] (EPSG:3857 scaled, 0 = north edge); latitude clamped to
/// +-max_latitude.
double lat_to_world_y(double lat) noexcept;

/// Inverse of lon_to_world_x: world x -> EPSG:4326 longitude.
double world_x_to_lon(double x) noexcept;

/// Inverse of lat_to_world_y: world y -> EPSG:4326 latitude.
double world_y_to_lat(double y) noexcept;

} // namespace smallarea::geo
