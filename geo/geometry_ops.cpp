#include "geo/geometry_ops.hpp"

#include "geo/geos_context.hpp"

#include <vector>

namespace smallarea::geo {

namespace {

// Collects clones of all polygons inside g (recursing into collections), so mixed MakeValid output
// (polygons + lines + points) reduces to its areas.
void collect_polygons(geos_context& ctx, const GEOSGeometry* g, std::vector<GEOSGeometry*>& out) {
    const int type = GEOSGeomTypeId_r(ctx.handle(), g);
    if (type == GEOS_POLYGON) {
        if (GEOSisEmpty_r(ctx.handle(), g) == 0) {
            GEOSGeometry* c = GEOSGeom_clone_r(ctx.handle(), g);
            if (c == nullptr) {
                ctx.fail("GeometryError", "cannot clone a polygon");
            }
            out.push_back(c);
        }
        return;
    }
    if (type == GEOS_MULTIPOLYGON || type == GEOS_GEOMETRYCOLLECTION) {
        const int n = GEOSGetNumGeometries_r(ctx.handle(), g);
        for (int i = 0; i < n; ++i) {
            collect_polygons(ctx, GEOSGetGeometryN_r(ctx.handle(), g, i), out);
        }
    }
}

// Makes a MultiPolygon of the polygonal parts of g. The collection takes ownership of the clones.
geometry_ptr to_multipolygon(geos_context& ctx, const GEOSGeometry* g) {
    std::vector<GEOSGeometry*> parts;
    try {
        collect_polygons(ctx, g, parts);
    } catch (...) {
        for (GEOSGeometry* p : parts) {
            GEOSGeom_destroy_r(ctx.handle(), p);
        }
        throw;
    }
    GEOSGeometry* m = GEOSGeom_createCollection_r(ctx.handle(), GEOS_MULTIPOLYGON, parts.data(),
                                                  static_cast<unsigned int>(parts.size()));
    if (m == nullptr) {
        for (GEOSGeometry* p : parts) {
            GEOSGeom_destroy_r(ctx.handle(), p);
        }
        ctx.fail("GeometryError", "cannot build a MultiPolygon");
    }
    return geometry_ptr{m, geometry_deleter{ctx.handle()}};
}

bool is_polygonal(geos_context& ctx, const GEOSGeometry* g) {
    const int type = GEOSGeomTypeId_r(ctx.handle(), g);
    return type == GEOS_POLYGON || type == GEOS_MULTIPOLYGON;
}

} // namespace

repaired_geometry make_valid_multipolygon(const unsigned char* wkb, std::size_t size) {
    geos_context& ctx = thread_geos();
    const geometry_ptr g = read_wkb(ctx, wkb, size);
    if (!is_polygonal(ctx, g.get())) {
        ctx.fail("InvalidGeometry", "expected a Polygon or MultiPolygon");
    }
    repaired_geometry result;
    const char valid = GEOSisValid_r(ctx.handle(), g.get());
    if (valid == 2) {
        ctx.fail("GeometryError", "GEOSisValid failed");
    }
    ctx.take_message(); // isValid reports the reason as a notice; it is not an error here
    geometry_ptr multi;
    if (valid == 1) {
        multi = to_multipolygon(ctx, g.get());
    } else {
        result.was_repaired = true;
        GEOSMakeValidParams* params = GEOSMakeValidParams_create_r(ctx.handle());
        GEOSMakeValidParams_setMethod_r(ctx.handle(), params, GEOS_MAKE_VALID_STRUCTURE);
        GEOSMakeValidParams_setKeepCollapsed_r(ctx.handle(), params, 0);
        GEOSGeometry* fixed = GEOSMakeValidWithParams_r(ctx.handle(), g.get(), params);
        GEOSMakeValidParams_destroy_r(ctx.handle(), params);
        if (fixed == nullptr) {
            ctx.fail("GeometryError", "GEOSMakeValid failed");
        }
        const geometry_ptr owned{fixed, geometry_deleter{ctx.handle()}};
        multi = to_multipolygon(ctx, owned.get());
    }
    result.empty = GEOSGetNumGeometries_r(ctx.handle(), multi.get()) == 0;
    result.wkb = write_wkb(ctx, multi.get());
    return result;
}

std::string union_wkb(const std::vector<std::string_view>& wkbs) {
    geos_context& ctx = thread_geos();
    std::vector<GEOSGeometry*> parts;
    parts.reserve(wkbs.size());
    auto release_parts = [&] {
        for (GEOSGeometry* p : parts) {
            GEOSGeom_destroy_r(ctx.handle(), p);
        }
    };
    try {
        for (std::string_view w : wkbs) {
            parts.push_back(read_wkb(ctx, reinterpret_cast<const unsigned char*>(w.data()), w.size()).release());
        }
    } catch (...) {
        release_parts();
        throw;
    }
    GEOSGeometry* collection = GEOSGeom_createCollection_r(ctx.handle(), GEOS_GEOMETRYCOLLECTION, parts.data(),
                                                           static_cast<unsigned int>(parts.size()));
    if (collection == nullptr) {
        release_parts();
        ctx.fail("GeometryError", "cannot build a collection");
    }
    const geometry_ptr all{collection, geometry_deleter{ctx.handle()}};
    GEOSGeometry* u = GEOSUnaryUnion_r(ctx.handle(), all.get());
    if (u == nullptr) {
        ctx.fail("GeometryError", "union failed");
    }
    const geometry_ptr dissolved{u, geometry_deleter{ctx.handle()}};
    return write_wkb(ctx, to_multipolygon(ctx, dissolved.get()).get());
}

std::pair<double, double> point_on_surface(const unsigned char* wkb, std::size_t size) {
    geos_context& ctx = thread_geos();
    const geometry_ptr g = read_wkb(ctx, wkb, size);
    if (GEOSisEmpty_r(ctx.handle(), g.get()) != 0) {
        ctx.fail("InvalidGeometry", "empty geometry has no point on its surface");
    }
    GEOSGeometry* p = GEOSPointOnSurface_r(ctx.handle(), g.get());
    if (p == nullptr) {
        ctx.fail("GeometryError", "GEOSPointOnSurface failed");
    }
    const geometry_ptr point{p, geometry_deleter{ctx.handle()}};
    double x = 0.0;
    double y = 0.0;
    if (GEOSGeomGetX_r(ctx.handle(), point.get(), &x) != 1 || GEOSGeomGetY_r(ctx.handle(), point.get(), &y) != 1) {
        ctx.fail("GeometryError", "point on surface has no coordinates");
    }
    return {x, y};
}

} // namespace smallarea::geo
