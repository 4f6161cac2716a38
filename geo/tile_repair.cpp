#include "geo/tile_repair.hpp"

#include "geo/geos_context.hpp"

#include <cmath>
#include <cstdint>

namespace smallarea::geo::detail {

namespace {

// Copies a GEOS ring into out without its closing point. False when it is not a ring of at least 3 points.
bool read_geos_ring(GEOSContextHandle_t h, const GEOSGeometry* ring, std::vector<double>& coords,
                    std::vector<dpoint>& out) {
    const GEOSCoordSequence* seq = GEOSGeom_getCoordSeq_r(h, ring);
    unsigned int n = 0;
    if (seq == nullptr || GEOSCoordSeq_getSize_r(h, seq, &n) == 0 || n < 4) {
        return false;
    }
    coords.resize(2 * static_cast<std::size_t>(n));
    GEOSCoordSeq_copyToBuffer_r(h, seq, coords.data(), 0, 0);
    out.clear();
    for (unsigned int i = 0; i + 1 < n; ++i) { // the last point repeats the first
        out.push_back(dpoint{coords[2 * i], coords[2 * i + 1]});
    }
    return true;
}

// Walks the polygons of a GEOS result (MakeValid, a clip or a union may return a multi or a collection; its
// polygons sit one level down): ring(r, exterior) for each exterior and its holes, skipping a polygon whose
// exterior ring() refuses; then part_done(), whose false stops the walk and is returned.
template <typename RingFn, typename PartFn>
bool for_each_polygon_ring(GEOSContextHandle_t h, const GEOSGeometry* g, RingFn ring, PartFn part_done) {
    const int parts = GEOSGetNumGeometries_r(h, g);
    for (int i = 0; i < parts; ++i) {
        const GEOSGeometry* part = GEOSGetGeometryN_r(h, g, i);
        if (GEOSGeomTypeId_r(h, part) != GEOS_POLYGON || GEOSisEmpty_r(h, part) != 0) {
            continue;
        }
        if (!ring(GEOSGetExteriorRing_r(h, part), true)) {
            continue;
        }
        const int num_holes = GEOSGetNumInteriorRings_r(h, part);
        for (int k = 0; k < num_holes; ++k) {
            ring(GEOSGetInteriorRingN_r(h, part, k), false);
        }
        if (!part_done()) {
            return false;
        }
    }
    return true;
}

// A closed GEOS ring from an open ring of tile coordinates (double or integer points).
template <typename Point>
GEOSGeometry* geos_linear_ring(GEOSContextHandle_t h, const std::vector<Point>& ring, std::vector<double>& coords) {
    coords.clear();
    for (const auto& p : ring) {
        coords.push_back(p.x);
        coords.push_back(p.y);
    }
    coords.push_back(ring.front().x); // GEOS wants closed rings
    coords.push_back(ring.front().y);
    GEOSCoordSequence* seq =
        GEOSCoordSeq_copyFromBuffer_r(h, coords.data(), static_cast<unsigned int>(ring.size() + 1), 0, 0);
    return seq != nullptr ? GEOSGeom_createLinearRing_r(h, seq) : nullptr;
}

// A GEOS polygon from rings[first] (exterior) and rings[first + 1 .. end) (holes). Null on failure.
template <typename Point>
GEOSGeometry* geos_polygon(GEOSContextHandle_t h, const std::vector<std::vector<Point>>& rings, std::size_t first,
                           std::size_t end, std::vector<double>& coords) {
    GEOSGeometry* shell = geos_linear_ring(h, rings[first], coords);
    if (shell == nullptr) {
        return nullptr;
    }
    std::vector<GEOSGeometry*> holes;
    for (std::size_t i = first + 1; i < end; ++i) {
        if (GEOSGeometry* hole = geos_linear_ring(h, rings[i], coords)) {
            holes.push_back(hole);
        }
    }
    return GEOSGeom_createPolygon_r(h, shell, holes.data(), static_cast<unsigned int>(holes.size()));
}

// Adds the polygons of a GEOS result already snapped to the integer grid to the feature's rings, wound as the
// spec wants.
void add_grid_polygons(render_scratch& s, GEOSContextHandle_t h, const GEOSGeometry* result) {
    for_each_polygon_ring(
        h, result,
        [&](const GEOSGeometry* ring, bool exterior) {
            if (!read_geos_ring(h, ring, s.coords, s.tmp)) {
                return false;
            }
            s.geos_ring.clear();
            for (const dpoint& d : s.tmp) {
                s.geos_ring.push_back(mvt::point{static_cast<std::int32_t>(std::lround(d.x)),
                                                 static_cast<std::int32_t>(std::lround(d.y))});
            }
            if (!orient_ring(s.geos_ring, exterior)) {
                return false;
            }
            s.add_out(s.geos_ring, exterior);
            return true;
        },
        [] { return true; });
}

// The cheap GEOS path, tried first: most polygons sent to GEOS are valid and only leave the tile more than once,
// which the fast clip cannot handle. GEOS's rectangle clip splits them correctly; rounding to the grid is then
// enough when the rounded rings still pass the same checks as the fast path. MakeValid and snap-rounding
// (GEOSGeom_setPrecision, which also seeds a random generator on every call) stay for the polygons that fail.
// Returns false, having emitted nothing, when the slow path is needed.
bool clip_by_rect_and_round(render_scratch& s, GEOSContextHandle_t h, const GEOSGeometry* polygon, double clip_min,
                            double clip_max) {
    GEOSGeometry* clipped = GEOSClipByRect_r(h, polygon, clip_min, clip_min, clip_max, clip_max);
    if (clipped == nullptr) {
        return false;
    }
    const geometry_ptr owner{clipped, geometry_deleter{h}};
    std::size_t used = 0;  // rings in s.rounded
    std::size_t first = 0; // the current part's exterior
    const bool parts_ok = for_each_polygon_ring(
        h, clipped,
        [&](const GEOSGeometry* ring, bool exterior) {
            if (!read_geos_ring(h, ring, s.coords, s.tmp)) {
                return false;
            }
            if (s.rounded.size() <= used) {
                s.rounded.resize(used + 1);
                s.rounded_exterior.resize(used + 1);
            }
            quantise_ring(s.tmp, s.rounded[used]);
            if (!orient_ring(s.rounded[used], exterior)) {
                return false; // collapsed to nothing on the grid
            }
            if (exterior) {
                first = used;
            }
            s.rounded_exterior[used] = exterior ? 1 : 0;
            ++used;
            return true;
        },
        [&] { return holes_inside(s.rounded, first, used - first); });
    if (!parts_ok) {
        return false;
    }
    // One sweep over every ring of every part: parts must not meet each other either.
    if (used > 0 && rings_meet(s.rounded, 0, used, s.edges)) {
        return false;
    }
    for (std::size_t r = 0; r < used; ++r) {
        s.add_out(s.rounded[r], s.rounded_exterior[r] != 0);
    }
    return true;
}

} // namespace

// The GEOS path for polygons whose fast result is or may be invalid: make valid (simplification can make a ring
// cross itself), clip to the buffered tile, snap to the integer grid (GEOSGeom_setPrecision keeps the result
// valid, as PostGIS's ST_AsMVTGeom does). Returns false when GEOS failed, so the caller can fall back to the fast
// result rather than drop the polygon.
bool clip_with_geos(render_scratch& s, std::size_t num_rings, double clip_min, double clip_max) {
    geos_context& ctx = thread_geos();
    const GEOSContextHandle_t h = ctx.handle();
    GEOSGeometry* polygon = geos_polygon(h, s.raw, 0, num_rings, s.coords);
    if (polygon == nullptr) {
        return false;
    }
    const geometry_ptr input{polygon, geometry_deleter{h}};
    if (clip_by_rect_and_round(s, h, polygon, clip_min, clip_max)) {
        return true;
    }
    GEOSGeometry* valid = GEOSMakeValid_r(h, polygon);
    if (valid == nullptr) {
        ctx.take_message();
        return false;
    }
    const geometry_ptr valid_owner{valid, geometry_deleter{h}};
    GEOSGeometry* clipped = GEOSClipByRect_r(h, valid, clip_min, clip_min, clip_max, clip_max);
    if (clipped == nullptr) {
        ctx.take_message();
        return false;
    }
    const geometry_ptr clipped_owner{clipped, geometry_deleter{h}};
    GEOSGeometry* snapped = GEOSGeom_setPrecision_r(h, clipped, 1.0, 0);
    if (snapped == nullptr) {
        ctx.take_message();
        return false;
    }
    const geometry_ptr result{snapped, geometry_deleter{h}};

    add_grid_polygons(s, h, result.get());
    return true;
}

// Rare: the simplified parts of one multi-part feature meet or overlap. Their union (GEOS), snapped back to the
// grid, replaces them. On any GEOS failure the parts are left as they were.
void merge_parts_with_geos(render_scratch& s) {
    geos_context& ctx = thread_geos();
    const GEOSContextHandle_t h = ctx.handle();
    std::vector<GEOSGeometry*> parts;
    auto drop_parts = [&] {
        for (GEOSGeometry* g : parts) {
            GEOSGeom_destroy_r(h, g);
        }
    };
    for (std::size_t r = 0; r < s.out_used;) {
        std::size_t next = r + 1;
        while (next < s.out_used && s.out_exterior[next] == 0) {
            ++next;
        }
        GEOSGeometry* polygon = geos_polygon(h, s.out, r, next, s.coords);
        if (polygon == nullptr) {
            drop_parts();
            return;
        }
        parts.push_back(polygon);
        r = next;
    }
    GEOSGeometry* collection = GEOSGeom_createCollection_r(h, GEOS_GEOMETRYCOLLECTION, parts.data(),
                                                           static_cast<unsigned int>(parts.size()));
    if (collection == nullptr) {
        drop_parts();
        return;
    }
    const geometry_ptr collection_owner{collection, geometry_deleter{h}};
    GEOSGeometry* merged = GEOSUnaryUnion_r(h, collection);
    if (merged == nullptr) {
        ctx.take_message();
        return;
    }
    const geometry_ptr merged_owner{merged, geometry_deleter{h}};
    GEOSGeometry* snapped = GEOSGeom_setPrecision_r(h, merged, 1.0, 0);
    if (snapped == nullptr) {
        ctx.take_message();
        return;
    }
    const geometry_ptr result{snapped, geometry_deleter{h}};
    s.out_used = 0;
    s.out_parts = 0;
    add_grid_polygons(s, h, result.get());
}

} // namespace smallarea::geo::detail
