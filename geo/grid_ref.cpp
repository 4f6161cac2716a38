#include "geo/grid_ref.hpp"

#include <ogr_spatialref.h>

#include <cmath>
#include <cstdio>
#include <memory>

namespace smallarea::geo {

namespace {

struct transform_deleter {
    void operator()(OGRCoordinateTransformation* t) const noexcept { OGRCoordinateTransformation::DestroyCT(t); }
};

OGRCoordinateTransformation* wgs84_to_national_grid() {
    // Per thread: an OGRCoordinateTransformation is not safe to share between threads.
    thread_local std::unique_ptr<OGRCoordinateTransformation, transform_deleter> transform = [] {
        OGRSpatialReference wgs84;
        OGRSpatialReference grid;
        std::unique_ptr<OGRCoordinateTransformation, transform_deleter> t;
        // PROJ picks the best transformation it has: OSTN15 when its grid is installed (not in Debian's
        // proj-data), otherwise the OS's 7-parameter Helmert fit (EPSG:1314, ~2 m).
        if (wgs84.importFromEPSG(4326) != OGRERR_NONE || grid.importFromEPSG(27700) != OGRERR_NONE) return t;
        wgs84.SetAxisMappingStrategy(OAMS_TRADITIONAL_GIS_ORDER); // x = longitude
        grid.SetAxisMappingStrategy(OAMS_TRADITIONAL_GIS_ORDER);
        t.reset(OGRCreateCoordinateTransformation(&wgs84, &grid));
        return t;
    }();
    return transform.get();
}

bool on_grid(const national_grid_point& p) {
    return std::isfinite(p.easting) && std::isfinite(p.northing) && p.easting >= 0 && p.easting < 700000 &&
           p.northing >= 0 && p.northing < 1300000;
}

} // namespace

std::optional<national_grid_point> to_national_grid(double lon, double lat) {
    if (!std::isfinite(lon) || !std::isfinite(lat)) return std::nullopt;
    auto* t = wgs84_to_national_grid();
    if (t == nullptr) return std::nullopt;
    double x = lon;
    double y = lat;
    if (!t->Transform(1, &x, &y)) return std::nullopt;
    const national_grid_point p{x, y};
    if (!on_grid(p)) return std::nullopt;
    return p;
}

std::string os_grid_reference(const national_grid_point& p, int digits) {
    if (!on_grid(p) || digits < 2 || digits > 10 || digits % 2 != 0) return {};
    const auto e = static_cast<long>(std::floor(p.easting));
    const auto n = static_cast<long>(std::floor(p.northing));
    const long e100k = e / 100000;
    const long n100k = n / 100000;
    // The letters of the 500 km square (S, T, N, H, O...) and of the 100 km square within it, on 5 x 5 grids of
    // the alphabet without I, counted from the north-west.
    long first = (19 - n100k) - (19 - n100k) % 5 + (e100k + 10) / 5;
    long second = (19 - n100k) * 5 % 25 + e100k % 5;
    if (first > 7) ++first;
    if (second > 7) ++second;
    const int half = digits / 2;
    long scale = 1;
    for (int i = half; i < 5; ++i) scale *= 10;
    char out[32];
    std::snprintf(out, sizeof out, "%c%c %0*ld %0*ld", static_cast<char>('A' + first), static_cast<char>('A' + second), half,
                  (e % 100000) / scale, half, (n % 100000) / scale);
    return out;
}

} // namespace smallarea::geo
