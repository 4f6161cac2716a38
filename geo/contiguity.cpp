#include "geo/contiguity.hpp"

#include "geo/geos_context.hpp"

#include <algorithm>
#include <limits>
#include <unordered_set>

namespace smallarea::geo {

bool contiguity_graph::adjacent(std::size_t a, std::size_t b) const {
    if (a >= neighbours.size()) return false;
    return std::binary_search(neighbours[a].begin(), neighbours[a].end(), b);
}

namespace {

struct box {
    double minx = std::numeric_limits<double>::infinity();
    double miny = std::numeric_limits<double>::infinity();
    double maxx = -std::numeric_limits<double>::infinity();
    double maxy = -std::numeric_limits<double>::infinity();
    bool empty() const noexcept { return minx > maxx; }
};

struct prepared_deleter {
    GEOSContextHandle_t handle = nullptr;
    void operator()(const GEOSPreparedGeometry* p) const noexcept { GEOSPreparedGeom_destroy_r(handle, p); }
};

box bounds_of(geos_context& ctx, const GEOSGeometry* g) {
    box b;
    if (GEOSisEmpty_r(ctx.handle(), g) != 0) return b;
    if (GEOSGeom_getXMin_r(ctx.handle(), g, &b.minx) != 1 || GEOSGeom_getYMin_r(ctx.handle(), g, &b.miny) != 1 ||
        GEOSGeom_getXMax_r(ctx.handle(), g, &b.maxx) != 1 || GEOSGeom_getYMax_r(ctx.handle(), g, &b.maxy) != 1) {
        ctx.fail("GeometryError", "cannot read a geometry's bounds");
    }
    return b;
}

} // namespace

contiguity_graph build_contiguity(const std::vector<std::string_view>& wkbs, contiguity rule) {
    geos_context& ctx = thread_geos();
    const std::size_t n = wkbs.size();
    std::vector<geometry_ptr> geoms;
    geoms.reserve(n);
    std::vector<box> boxes(n);
    for (std::size_t i = 0; i < n; ++i) {
        geoms.push_back(read_wkb(ctx, reinterpret_cast<const unsigned char*>(wkbs[i].data()), wkbs[i].size()));
        boxes[i] = bounds_of(ctx, geoms.back().get());
    }
    // Sort-and-sweep on x: only pairs whose boxes overlap (touching counts) reach GEOS.
    std::vector<std::size_t> order;
    for (std::size_t i = 0; i < n; ++i) {
        if (!boxes[i].empty()) order.push_back(i);
    }
    std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
        return boxes[a].minx < boxes[b].minx || (boxes[a].minx == boxes[b].minx && a < b);
    });
    std::vector<std::unique_ptr<const GEOSPreparedGeometry, prepared_deleter>> prepared(n);
    contiguity_graph g;
    g.neighbours.resize(n);
    for (std::size_t oi = 0; oi < order.size(); ++oi) {
        const std::size_t a = order[oi];
        for (std::size_t oj = oi + 1; oj < order.size(); ++oj) {
            const std::size_t b = order[oj];
            if (boxes[b].minx > boxes[a].maxx) break;
            if (boxes[b].miny > boxes[a].maxy || boxes[b].maxy < boxes[a].miny) continue;
            if (!prepared[a]) {
                const GEOSPreparedGeometry* p = GEOSPrepare_r(ctx.handle(), geoms[a].get());
                if (p == nullptr) ctx.fail("GeometryError", "cannot prepare a geometry");
                prepared[a].reset(p);
                prepared[a].get_deleter().handle = ctx.handle();
            }
            const char hit = GEOSPreparedIntersects_r(ctx.handle(), prepared[a].get(), geoms[b].get());
            if (hit == 2) ctx.fail("GeometryError", "intersects test failed");
            if (hit == 0) continue;
            bool linked = true;
            if (rule == contiguity::rook) {
                // DE-9IM: [0] interior/interior, [4] boundary/boundary. A shared edge is a boundary/boundary
                // intersection of dimension 1; a corner alone is dimension 0.
                char* matrix = GEOSRelate_r(ctx.handle(), geoms[a].get(), geoms[b].get());
                if (matrix == nullptr) ctx.fail("GeometryError", "relate failed");
                linked = matrix[4] == '1' || matrix[0] == '2';
                GEOSFree_r(ctx.handle(), matrix);
            }
            if (linked) {
                g.neighbours[a].push_back(b);
                g.neighbours[b].push_back(a);
            }
        }
        prepared[a].reset(); // each geometry is prepared at most once, while it is the sweep's left side
    }
    for (auto& list : g.neighbours) std::sort(list.begin(), list.end());
    return g;
}

bool is_connected(const contiguity_graph& g, const std::vector<std::size_t>& members) {
    if (members.size() <= 1) return true;
    const std::unordered_set<std::size_t> in(members.begin(), members.end());
    std::unordered_set<std::size_t> seen{members.front()};
    std::vector<std::size_t> stack{members.front()};
    while (!stack.empty()) {
        const std::size_t a = stack.back();
        stack.pop_back();
        for (const std::size_t b : g.neighbours[a]) {
            if (in.count(b) != 0 && seen.insert(b).second) stack.push_back(b);
        }
    }
    return seen.size() == in.size();
}

} // namespace smallarea::geo
