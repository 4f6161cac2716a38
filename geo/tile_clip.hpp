#pragma once
// Tile clipping and quantisation on projected doubles, shared by render_mvt and the GEOS repair path. Internal to
// geo/ (namespace detail); hot, so the per-vertex pieces are inline.

#include "geo/mvt_writer.hpp"
#include "geo/tile.hpp"

#include <cstdint>
#include <vector>

namespace smallarea::geo::detail {

struct dpoint {
    double x;
    double y;
};

// One Sutherland-Hodgman pass against the line coordinate[axis] == k, keeping the side given by keep_greater.
// Returns how often the ring leaves the kept side: more than once means the output may run along the clip line
// in overlapping or touching pieces (see render_mvt).
template <int axis, bool keep_greater>
int clip_against(const std::vector<dpoint>& in, std::vector<dpoint>& out, double k) {
    out.clear();
    if (in.empty()) {
        return 0;
    }
    int exits = 0;
    auto coord = [](const dpoint& p) { return axis == 0 ? p.x : p.y; };
    auto inside = [&](const dpoint& p) { return keep_greater ? coord(p) >= k : coord(p) <= k; };
    auto cross = [&](const dpoint& a, const dpoint& b) {
        const double t = (k - coord(a)) / (coord(b) - coord(a));
        if (axis == 0) {
            return dpoint{k, a.y + (b.y - a.y) * t};
        }
        return dpoint{a.x + (b.x - a.x) * t, k};
    };
    dpoint prev = in.back();
    bool prev_in = inside(prev);
    for (const dpoint& cur : in) {
        const bool cur_in = inside(cur);
        if (cur_in != prev_in) {
            out.push_back(cross(prev, cur));
            exits += prev_in ? 1 : 0;
        }
        if (cur_in) {
            out.push_back(cur);
        }
        prev = cur;
        prev_in = cur_in;
    }
    return exits;
}

// Round half up without a libm call (std::lround is one, and this runs for every output vertex).
inline std::int32_t round_to_int(double v) noexcept {
    const double u = v + 0.5;
    auto i = static_cast<std::int32_t>(u); // truncates towards zero
    return i - static_cast<std::int32_t>(static_cast<double>(i) > u);
}

inline std::int64_t cross(const mvt::point& o, const mvt::point& a, const mvt::point& b) noexcept {
    return std::int64_t(a.x - o.x) * (b.y - o.y) - std::int64_t(a.y - o.y) * (b.x - o.x);
}

// Rounds a clipped ring to integer tile coordinates and removes what rounding makes degenerate: repeated
// points, and collinear points (which also removes zero-width spikes, e.g. where clipping ran along a tile edge
// and back). Leaves `out` with the open ring, or fewer than 3 points when it collapsed.
void quantise_ring(const std::vector<dpoint>& in, std::vector<mvt::point>& out);

/// Twice the signed area of an open ring of tile coordinates (positive: counter-clockwise in y-up terms).
std::int64_t twice_area(const std::vector<mvt::point>& ring) noexcept;

// Gives a quantised ring the winding the spec wants. Returns false when it collapsed (< 3 points, no area).
bool orient_ring(std::vector<mvt::point>& ring, bool exterior);

inline bool intersects(const bbox& a, const bbox& b) noexcept {
    return !(a.max_x < b.min_x || a.max_y < b.min_y || a.min_x > b.max_x || a.min_y > b.max_y);
}

inline bool contains(const bbox& outer, const bbox& inner) noexcept {
    return inner.min_x >= outer.min_x && inner.max_x <= outer.max_x && inner.min_y >= outer.min_y &&
           inner.max_y <= outer.max_y;
}

} // namespace smallarea::geo::detail
