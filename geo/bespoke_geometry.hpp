#pragma once
// Geometry for bespoke (combined) areas: the dissolved outline of member areas, and areas selected by a polygon
// drawn on the map. EPSG:4326 (lon, lat) throughout. Knows nothing of SQL, HTTP or disclosure.

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace smallarea::geo {

/// Dissolves member polygons (WKB) into one MultiPolygon WKB. Small areas of one level tile the country edge to
/// edge, so GEOSCoverageUnion (which only merges shared edges, far faster than an overlay union) is tried first;
/// when its result is not valid (the inputs were not an exact coverage: overlaps, slivers) it falls back to
/// union_wkb (GEOSUnaryUnion). No input gives an empty MultiPolygon. Throws smallarea::error("InvalidGeometry")
/// on unparseable WKB, smallarea::error("GeometryError") if GEOS fails.
std::string dissolve_wkb(const std::vector<std::string_view>& wkbs);

/// A polygon drawn on the map, parsed from a GeoJSON geometry (Polygon or MultiPolygon, EPSG:4326) and checked
/// with GEOSisValid. Returns it as WKB. Throws smallarea::error("InvalidPolygon") when it is not GeoJSON, not a
/// (Multi)Polygon, empty, outside lon/lat ranges or invalid (self-intersecting: the message says GEOS's reason).
std::string parse_drawn_polygon(const std::string& geojson_geometry);

/// For each candidate (WKB polygon), whether its point on surface (GEOSPointOnSurface) lies inside `polygon`
/// (WKB; boundary counts as inside). Throws as dissolve_wkb.
std::vector<bool> point_on_surface_inside(std::string_view polygon, const std::vector<std::string_view>& candidates);

/// Bounds of a WKB geometry: {minx, miny, maxx, maxy}; all zero for an empty geometry.
struct bounds4 {
    double minx = 0, miny = 0, maxx = 0, maxy = 0;
};
bounds4 wkb_bounds(std::string_view wkb);

} // namespace smallarea::geo
