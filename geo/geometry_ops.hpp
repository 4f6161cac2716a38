#pragma once
// Whole-geometry operations done with GEOS at ingest or query time (not per tile): repair, dissolve, label points.

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace smallarea::geo {

struct repaired_geometry {
    std::string wkb;           // 2D ISO WKB MultiPolygon (little-endian)
    bool was_repaired = false; // the input was not valid and GEOSMakeValid changed it
    bool empty = false;        // nothing polygonal was left (wkb is then an empty MultiPolygon)
};

/// Makes a polygon/multipolygon WKB (any CRS; coordinates are used as given) valid with GEOSMakeValid (the
/// "structure" method, which keeps areas rather than lines), keeps only polygonal parts, and returns it as a
/// MultiPolygon WKB (2D). was_repaired when the input was invalid. Throws smallarea::error("InvalidGeometry") if
/// unparseable or not a (Multi)Polygon; smallarea::error("GeometryError") if GEOS fails.
repaired_geometry make_valid_multipolygon(const unsigned char* wkb, std::size_t size);

/// Dissolves many polygon WKBs (EPSG:4326, or any one CRS shared by all) into one MultiPolygon WKB (2D) with
/// GEOSUnaryUnion on a collection (cascaded union). Non-polygonal results (e.g. from touching inputs) are dropped;
/// no input gives an empty MultiPolygon. Throws smallarea::error("InvalidGeometry") on unparseable WKB,
/// smallarea::error("GeometryError") if GEOS fails (e.g. topology errors on invalid inputs).
std::string union_wkb(const std::vector<std::string_view>& wkbs);

/// A point guaranteed to lie on the surface (GEOSPointOnSurface) of a WKB polygon or multipolygon, in the
/// input's CRS: (lon, lat) for EPSG:4326. Throws smallarea::error("InvalidGeometry") on unparseable or empty
/// input; smallarea::error("GeometryError") if GEOS fails.
std::pair<double, double> point_on_surface(const unsigned char* wkb, std::size_t size);

} // namespace smallarea::geo
