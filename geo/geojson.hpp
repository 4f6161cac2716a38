#pragma once
// GeoJSON geometry output for the OGC API Features and GeoJSON endpoints.

#include <cstddef>
#include <string>

namespace smallarea::geo {

/// Appends the GeoJSON geometry object (RFC 7946) for a WKB geometry in EPSG:4326 (lon, lat) to out: Point,
/// LineString, Polygon, their Multi* forms and GeometryCollection; Z/M dropped. Coordinates are rounded to
/// `decimals` places (0..15; 6 is ~0.1 m) with trailing zeros removed. Ring orientation is passed through as is.
/// Throws smallarea::error("InvalidGeometry") on WKB it cannot parse; out is then left with a partial object
/// appended, so callers that keep going should truncate it to its previous size.
void append_geojson_geometry(std::string& out, const unsigned char* wkb, std::size_t size, int decimals = 6);

} // namespace smallarea::geo
