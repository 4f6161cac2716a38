#include "geo/bespoke_geometry.hpp"

#include "core/error.hpp"
#include "geo/geometry_ops.hpp"
#include "geo/geos_context.hpp"

#include <cmath>

namespace smallarea::geo {

namespace {

const unsigned char* bytes(std::string_view s) { return reinterpret_cast<const unsigned char*>(s.data()); }

// Owns the parts until a collection takes them.
struct part_list {
    geos_context& ctx;
    std::vector<GEOSGeometry*> parts;
    ~part_list() {
        for (GEOSGeometry* p : parts) GEOSGeom_destroy_r(ctx.handle(), p);
    }
    geometry_ptr collect(int type) {
        GEOSGeometry* c = GEOSGeom_createCollection_r(ctx.handle(), type, parts.data(), static_cast<unsigned int>(parts.size()));
        if (c == nullptr) ctx.fail("GeometryError", "cannot build a collection");
        parts.clear(); // owned by the collection now
        return geometry_ptr{c, geometry_deleter{ctx.handle()}};
    }
};

// Adds the polygons of g (a Polygon or MultiPolygon) as clones.
void add_polygons(geos_context& ctx, const GEOSGeometry* g, std::vector<GEOSGeometry*>& out) {
    const int type = GEOSGeomTypeId_r(ctx.handle(), g);
    if (type == GEOS_POLYGON) {
        if (GEOSisEmpty_r(ctx.handle(), g) == 0) out.push_back(GEOSGeom_clone_r(ctx.handle(), g));
    } else if (type == GEOS_MULTIPOLYGON || type == GEOS_GEOMETRYCOLLECTION) {
        for (int i = 0; i < GEOSGetNumGeometries_r(ctx.handle(), g); ++i) {
            add_polygons(ctx, GEOSGetGeometryN_r(ctx.handle(), g, i), out);
        }
    }
}

} // namespace

std::string dissolve_wkb(const std::vector<std::string_view>& wkbs) {
    geos_context& ctx = thread_geos();
    part_list list{ctx, {}};
    for (const auto w : wkbs) {
        const geometry_ptr g = read_wkb(ctx, bytes(w), w.size());
        add_polygons(ctx, g.get(), list.parts);
    }
    const geometry_ptr all = list.collect(GEOS_MULTIPOLYGON);
    GEOSGeometry* u = GEOSCoverageUnion_r(ctx.handle(), all.get());
    ctx.take_message();
    if (u != nullptr) {
        const geometry_ptr dissolved{u, geometry_deleter{ctx.handle()}};
        const char valid = GEOSisValid_r(ctx.handle(), dissolved.get());
        ctx.take_message();
        if (valid == 1) {
            // CoverageUnion returns a Polygon for one piece; normalise to MultiPolygon as union_wkb does.
            part_list out{ctx, {}};
            add_polygons(ctx, dissolved.get(), out.parts);
            return write_wkb(ctx, out.collect(GEOS_MULTIPOLYGON).get());
        }
    }
    return union_wkb(wkbs); // not an exact coverage: the overlay union copes with overlaps and slivers
}

std::string parse_drawn_polygon(const std::string& geojson_geometry) {
    geos_context& ctx = thread_geos();
    GEOSGeoJSONReader* reader = GEOSGeoJSONReader_create_r(ctx.handle());
    if (reader == nullptr) ctx.fail("GeometryError", "cannot create a GeoJSON reader");
    GEOSGeometry* raw = GEOSGeoJSONReader_readGeometry_r(ctx.handle(), reader, geojson_geometry.c_str());
    GEOSGeoJSONReader_destroy_r(ctx.handle(), reader);
    if (raw == nullptr) {
        throw bad_request("InvalidPolygon", "polygon is not a GeoJSON geometry: " + ctx.take_message());
    }
    const geometry_ptr g{raw, geometry_deleter{ctx.handle()}};
    const int type = GEOSGeomTypeId_r(ctx.handle(), g.get());
    if (type != GEOS_POLYGON && type != GEOS_MULTIPOLYGON) {
        throw bad_request("InvalidPolygon", "polygon must be a GeoJSON Polygon or MultiPolygon");
    }
    if (GEOSisEmpty_r(ctx.handle(), g.get()) != 0) throw bad_request("InvalidPolygon", "polygon is empty");
    double minx = 0, miny = 0, maxx = 0, maxy = 0;
    GEOSGeom_getXMin_r(ctx.handle(), g.get(), &minx);
    GEOSGeom_getYMin_r(ctx.handle(), g.get(), &miny);
    GEOSGeom_getXMax_r(ctx.handle(), g.get(), &maxx);
    GEOSGeom_getYMax_r(ctx.handle(), g.get(), &maxy);
    if (!(std::isfinite(minx) && std::isfinite(maxx)) || minx < -180 || maxx > 180 || miny < -90 || maxy > 90) {
        throw bad_request("InvalidPolygon", "polygon coordinates must be lon/lat (EPSG:4326)");
    }
    char* reason = GEOSisValidReason_r(ctx.handle(), g.get());
    std::string why = reason != nullptr ? reason : "unknown";
    if (reason != nullptr) GEOSFree_r(ctx.handle(), reason);
    ctx.take_message();
    if (why != "Valid Geometry") throw bad_request("InvalidPolygon", "polygon is not valid: " + why);
    return write_wkb(ctx, g.get());
}

std::vector<bool> point_on_surface_inside(std::string_view polygon, const std::vector<std::string_view>& candidates) {
    geos_context& ctx = thread_geos();
    const geometry_ptr area = read_wkb(ctx, bytes(polygon), polygon.size());
    const GEOSPreparedGeometry* prepared = GEOSPrepare_r(ctx.handle(), area.get());
    if (prepared == nullptr) ctx.fail("GeometryError", "cannot prepare the polygon");
    std::vector<bool> out;
    out.reserve(candidates.size());
    try {
        for (const auto c : candidates) {
            const geometry_ptr g = read_wkb(ctx, bytes(c), c.size());
            GEOSGeometry* p = GEOSPointOnSurface_r(ctx.handle(), g.get());
            if (p == nullptr) ctx.fail("GeometryError", "GEOSPointOnSurface failed");
            const geometry_ptr point{p, geometry_deleter{ctx.handle()}};
            const char inside = GEOSPreparedCovers_r(ctx.handle(), prepared, point.get());
            if (inside == 2) ctx.fail("GeometryError", "covers test failed");
            out.push_back(inside == 1);
        }
    } catch (...) {
        GEOSPreparedGeom_destroy_r(ctx.handle(), prepared);
        throw;
    }
    GEOSPreparedGeom_destroy_r(ctx.handle(), prepared);
    return out;
}

bounds4 wkb_bounds(std::string_view wkb) {
    geos_context& ctx = thread_geos();
    const geometry_ptr g = read_wkb(ctx, bytes(wkb), wkb.size());
    bounds4 b;
    if (GEOSisEmpty_r(ctx.handle(), g.get()) != 0) return b;
    GEOSGeom_getXMin_r(ctx.handle(), g.get(), &b.minx);
    GEOSGeom_getYMin_r(ctx.handle(), g.get(), &b.miny);
    GEOSGeom_getXMax_r(ctx.handle(), g.get(), &b.maxx);
    GEOSGeom_getYMax_r(ctx.handle(), g.get(), &b.maxy);
    return b;
}

} // namespace smallarea::geo
