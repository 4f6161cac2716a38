#include "geo/tile_clip.hpp"

#include <algorithm>
#include <cstddef>

namespace smallarea::geo::detail {

void quantise_ring(const std::vector<dpoint>& in, std::vector<mvt::point>& out) {
    out.clear();
    for (const dpoint& d : in) {
        const mvt::point p{round_to_int(d.x), round_to_int(d.y)};
        if (!out.empty() && out.back().x == p.x && out.back().y == p.y) {
            continue;
        }
        while (out.size() >= 2 && cross(out[out.size() - 2], out.back(), p) == 0) {
            out.pop_back();
        }
        if (!out.empty() && out.back().x == p.x && out.back().y == p.y) {
            continue;
        }
        out.push_back(p);
    }
    // The ring wraps around: clean the joint between the last and the first points too.
    std::size_t start = 0;
    for (bool changed = true; changed && out.size() - start >= 3;) {
        changed = false;
        const std::size_t n = out.size();
        if (out[n - 1].x == out[start].x && out[n - 1].y == out[start].y) {
            out.pop_back();
            changed = true;
        } else if (cross(out[n - 2], out[n - 1], out[start]) == 0) {
            out.pop_back();
            changed = true;
        } else if (cross(out[n - 1], out[start], out[start + 1]) == 0) {
            ++start;
            changed = true;
        }
    }
    if (start > 0) {
        out.erase(out.begin(), out.begin() + static_cast<std::ptrdiff_t>(start));
    }
}

std::int64_t twice_area(const std::vector<mvt::point>& ring) noexcept {
    std::int64_t sum = 0;
    const std::size_t n = ring.size();
    for (std::size_t i = 0, j = n - 1; i < n; j = i++) {
        sum += std::int64_t(ring[j].x) * ring[i].y - std::int64_t(ring[i].x) * ring[j].y;
    }
    return sum;
}

bool orient_ring(std::vector<mvt::point>& ring, bool exterior) {
    if (ring.size() < 3) {
        return false;
    }
    const std::int64_t area2 = twice_area(ring);
    if (area2 == 0) {
        return false;
    }
    // Winding is fixed after quantisation because rounding can flip a thin ring.
    if ((exterior && area2 < 0) || (!exterior && area2 > 0)) {
        std::reverse(ring.begin(), ring.end());
    }
    return true;
}

} // namespace smallarea::geo::detail
