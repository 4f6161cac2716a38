#include "geo/ring_validity.hpp"

#include "geo/tile_clip.hpp"

#include <algorithm>

namespace smallarea::geo::detail {

namespace {

int orientation(const mvt::point& a, const mvt::point& b, const mvt::point& c) noexcept {
    const std::int64_t v = cross(a, b, c);
    return (v > 0) - (v < 0);
}

bool on_segment(const mvt::point& a, const mvt::point& b, const mvt::point& p) noexcept {
    return std::min(a.x, b.x) <= p.x && p.x <= std::max(a.x, b.x) && std::min(a.y, b.y) <= p.y &&
           p.y <= std::max(a.y, b.y);
}

// Closed segments a-b and c-d share at least one point (crossing, touching or overlapping).
bool segments_meet(const mvt::point& a, const mvt::point& b, const mvt::point& c, const mvt::point& d) noexcept {
    const int o1 = orientation(a, b, c);
    const int o2 = orientation(a, b, d);
    const int o3 = orientation(c, d, a);
    const int o4 = orientation(c, d, b);
    if (o1 != o2 && o3 != o4) {
        return true;
    }
    return (o1 == 0 && on_segment(a, b, c)) || (o2 == 0 && on_segment(a, b, d)) ||
           (o3 == 0 && on_segment(c, d, a)) || (o4 == 0 && on_segment(c, d, b));
}

// Even-odd point in ring (points on the boundary may go either way; callers only use it for a hole vertex that
// the edge sweep already found not to touch the exterior).
bool point_in_ring(const mvt::point& p, const std::vector<mvt::point>& ring) noexcept {
    bool inside = false;
    for (std::size_t i = 0, j = ring.size() - 1; i < ring.size(); j = i++) {
        const auto& a = ring[i];
        const auto& b = ring[j];
        if ((a.y > p.y) != (b.y > p.y) &&
            double(p.x) < double(b.x - a.x) * double(p.y - a.y) / double(b.y - a.y) + a.x) {
            inside = !inside;
        }
    }
    return inside;
}

} // namespace

bool rings_meet(const std::vector<std::vector<mvt::point>>& rings, std::size_t first, std::size_t n,
                std::vector<edge>& edges) {
    edges.clear();
    for (std::size_t r = first; r < first + n; ++r) {
        const auto& ring = rings[r];
        for (std::size_t i = 0; i < ring.size(); ++i) {
            const auto& a = ring[i];
            const auto& b = ring[(i + 1) % ring.size()];
            edges.push_back(edge{std::min(a.x, b.x), std::max(a.x, b.x), static_cast<std::uint32_t>(r),
                                 static_cast<std::uint32_t>(i)});
        }
    }
    std::sort(edges.begin(), edges.end(), [](const edge& a, const edge& b) { return a.min_x < b.min_x; });
    for (std::size_t i = 0; i < edges.size(); ++i) {
        const edge& e = edges[i];
        const auto& re = rings[e.ring];
        const mvt::point& a = re[e.index];
        const mvt::point& b = re[(e.index + 1) % re.size()];
        for (std::size_t j = i + 1; j < edges.size() && edges[j].min_x <= e.max_x; ++j) {
            const edge& f = edges[j];
            if (f.ring == e.ring) {
                const std::size_t m = re.size();
                const std::size_t lo = std::min(e.index, f.index);
                const std::size_t hi = std::max(e.index, f.index);
                if (hi == lo + 1 || (lo == 0 && hi == m - 1)) {
                    continue; // neighbours share their common vertex by construction
                }
            }
            const auto& rf = rings[f.ring];
            if (segments_meet(a, b, rf[f.index], rf[(f.index + 1) % rf.size()])) {
                return true;
            }
        }
    }
    return false;
}

bool holes_inside(const std::vector<std::vector<mvt::point>>& rings, std::size_t first, std::size_t n) {
    for (std::size_t r = first + 1; r < first + n; ++r) {
        if (!point_in_ring(rings[r][0], rings[first])) {
            return false;
        }
    }
    return true;
}

bool simple_polygon(const std::vector<std::vector<mvt::point>>& rings, std::size_t n, std::vector<edge>& edges) {
    if (n == 1 && rings[0].size() == 3) {
        return true; // a triangle with area cannot be invalid
    }
    return !rings_meet(rings, 0, n, edges) && holes_inside(rings, 0, n);
}

} // namespace smallarea::geo::detail
