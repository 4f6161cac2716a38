#include "geo/tile.hpp"

#include <algorithm>
#include <cassert>
#include <cmath>

namespace smallarea::geo {

namespace {
constexpr double pi = 3.14159265358979323846;
} // namespace

bool valid_tile(const tile_id& t) noexcept {
    if (t.z > max_zoom) {
        return false;
    }
    const std::uint32_t n = 1U << t.z;
    return t.x < n && t.y < n;
}

double lon_to_world_x(double lon) noexcept {
    return lon / 360.0 + 0.5;
}

double lat_to_world_y(double lat) noexcept {
    const double clamped = std::clamp(lat, -max_latitude, max_latitude);
    const double s = std::sin(clamped * pi / 180.0);
    return 0.5 - 0.25 * std::log((1.0 + s) / (1.0 - s)) / pi;
}

double world_x_to_lon(double x) noexcept {
    return (x - 0.5) * 360.0;
}

double world_y_to_lat(double y) noexcept {
    const double m = (0.5 - y) * 2.0 * pi;
    return 360.0 / pi * std::atan(std::exp(m)) - 90.0;
}

bbox tile_bounds_world(const tile_id& t) noexcept {
    assert(valid_tile(t));
    const double n = static_cast<double>(1U << t.z);
    return bbox{t.x / n, t.y / n, (t.x + 1) / n, (t.y + 1) / n};
}

bbox tile_bounds_lonlat(const tile_id& t) {
    const bbox w = tile_bounds_world(t);
    // World y grows southwards, so the northern edge (max latitude) comes from min_y.
    return bbox{world_x_to_lon(w.min_x), world_y_to_lat(w.max_y), world_x_to_lon(w.max_x), world_y_to_lat(w.min_y)};
}

} // namespace smallarea::geo
