#include "geo/contiguity.hpp"

#include "geo/geos_context.hpp"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <limits>
#include <unordered_set>
#include <utility>

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

// One polygon's vertex or edge as exact coordinate bits (an edge's endpoints in a fixed order, so A->B and B->A
// are the same edge), with the area it belongs to.
struct keyed_owner {
    std::uint64_t k[4] = {0, 0, 0, 0};
    std::size_t owner = 0;
    bool operator<(const keyed_owner& o) const noexcept {
        return std::lexicographical_compare(k, k + 4, o.k, o.k + 4) || (std::equal(k, k + 4, o.k) && owner < o.owner);
    }
    bool same_key(const keyed_owner& o) const noexcept { return std::equal(k, k + 4, o.k); }
};

std::uint64_t bits(double v) noexcept {
    v += 0.0; // -0.0 and 0.0 are the same point
    std::uint64_t b = 0;
    std::memcpy(&b, &v, sizeof b);
    return b;
}

// Appends the edges (rook) or vertices (queen) of every ring of a (Multi)Polygon.
void collect_keys(geos_context& ctx, const GEOSGeometry* g, std::size_t owner, contiguity rule, std::vector<keyed_owner>& out) {
    const int type = GEOSGeomTypeId_r(ctx.handle(), g);
    if (type == GEOS_MULTIPOLYGON || type == GEOS_GEOMETRYCOLLECTION) {
        for (int i = 0; i < GEOSGetNumGeometries_r(ctx.handle(), g); ++i) {
            collect_keys(ctx, GEOSGetGeometryN_r(ctx.handle(), g, i), owner, rule, out);
        }
        return;
    }
    if (type != GEOS_POLYGON || GEOSisEmpty_r(ctx.handle(), g) != 0) return;
    const int holes = GEOSGetNumInteriorRings_r(ctx.handle(), g);
    for (int r = -1; r < holes; ++r) {
        const GEOSGeometry* ring = r < 0 ? GEOSGetExteriorRing_r(ctx.handle(), g) : GEOSGetInteriorRingN_r(ctx.handle(), g, r);
        const GEOSCoordSequence* seq = ring == nullptr ? nullptr : GEOSGeom_getCoordSeq_r(ctx.handle(), ring);
        unsigned int size = 0;
        if (seq == nullptr || GEOSCoordSeq_getSize_r(ctx.handle(), seq, &size) == 0) continue;
        double px = 0, py = 0;
        for (unsigned int i = 0; i < size; ++i) {
            double x = 0, y = 0;
            GEOSCoordSeq_getXY_r(ctx.handle(), seq, i, &x, &y);
            keyed_owner e;
            e.owner = owner;
            if (rule == contiguity::queen) {
                e.k[0] = bits(x);
                e.k[1] = bits(y);
                out.push_back(e);
            } else if (i > 0 && (x != px || y != py)) {
                const bool forward = px < x || (px == x && py < y);
                e.k[0] = bits(forward ? px : x);
                e.k[1] = bits(forward ? py : y);
                e.k[2] = bits(forward ? x : px);
                e.k[3] = bits(forward ? y : py);
                out.push_back(e);
            }
            px = x;
            py = y;
        }
    }
}

// Pairs of areas that share an identical edge (rook) or vertex (queen): the common case for boundaries cut from
// one coverage, found by sorting instead of a GEOS predicate per pair. Sorted (a < b), unique.
std::vector<std::pair<std::size_t, std::size_t>> exact_links(std::vector<keyed_owner>& keys) {
    std::sort(keys.begin(), keys.end());
    std::vector<std::pair<std::size_t, std::size_t>> links;
    for (std::size_t i = 0; i < keys.size();) {
        std::size_t j = i + 1;
        while (j < keys.size() && keys[j].same_key(keys[i])) ++j;
        for (std::size_t a = i; a < j; ++a) {
            for (std::size_t b = a + 1; b < j; ++b) {
                if (keys[a].owner != keys[b].owner) links.emplace_back(keys[a].owner, keys[b].owner); // owners ascend
            }
        }
        i = j;
    }
    std::sort(links.begin(), links.end());
    links.erase(std::unique(links.begin(), links.end()), links.end());
    return links;
}

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
    // A shared identical edge is a boundary/boundary intersection of dimension 1 (rook), a shared vertex an
    // intersection (queen): those links are certain without GEOS. Every other pair whose boxes overlap still goes
    // through the GEOS test below, so inputs that are not an exact coverage (T-junctions, slivers, overlaps) get
    // the same answer as before, only slower.
    std::vector<keyed_owner> keys;
    for (std::size_t i = 0; i < n; ++i) collect_keys(ctx, geoms[i].get(), i, rule, keys);
    const auto links = exact_links(keys);
    keys = {};
    contiguity_graph g;
    g.neighbours.resize(n);
    for (const auto& [a, b] : links) {
        g.neighbours[a].push_back(b);
        g.neighbours[b].push_back(a);
    }
    std::vector<std::unique_ptr<const GEOSPreparedGeometry, prepared_deleter>> prepared(n);
    for (std::size_t oi = 0; oi < order.size(); ++oi) {
        const std::size_t a = order[oi];
        for (std::size_t oj = oi + 1; oj < order.size(); ++oj) {
            const std::size_t b = order[oj];
            if (boxes[b].minx > boxes[a].maxx) break;
            if (boxes[b].miny > boxes[a].maxy || boxes[b].maxy < boxes[a].miny) continue;
            if (std::binary_search(links.begin(), links.end(), std::make_pair(std::min(a, b), std::max(a, b)))) continue;
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
