#pragma once
// Which areas are neighbours: a contiguity graph built from polygon boundaries with GEOS, for the zone builder
// (zones must be connected). Knows nothing of SQL, HTTP or disclosure.

#include <cstddef>
#include <string_view>
#include <vector>

namespace smallarea::geo {

/// rook: two areas are neighbours when they share a stretch of boundary (an edge of positive length);
/// queen: when they share any point (a corner is enough).
enum class contiguity { rook, queen };

/// Undirected graph over areas 0..n-1; neighbours of each area ascending, no self loops, no duplicates.
struct contiguity_graph {
    std::vector<std::vector<std::size_t>> neighbours;

    std::size_t size() const noexcept { return neighbours.size(); }
    bool adjacent(std::size_t a, std::size_t b) const;
};

/// Builds the contiguity graph of polygon/multipolygon WKBs (EPSG:4326 or any one CRS; index = position).
/// Pairs sharing an identical edge (rook) or vertex (queen) are linked straight away (found by sorting exact
/// coordinates: boundaries cut from one coverage share their vertices, so this is nearly every link and skips
/// GEOS). The remaining candidate pairs come from bounding-box overlap (a sort-and-sweep on x), then GEOS decides
/// on prepared geometries: queen = the geometries intersect; rook = GEOSRelate's DE-9IM says the boundaries meet in a line
/// (dimension 1) or the interiors overlap (slivers between real boundaries are treated as a shared edge rather
/// than silently losing the link). Empty or unparseable entries have no neighbours only if empty; unparseable WKB
/// throws smallarea::error("InvalidGeometry"), GEOS failures smallarea::error("GeometryError").
contiguity_graph build_contiguity(const std::vector<std::string_view>& wkbs, contiguity rule);

/// Whether the areas `members` (indices into g) form one connected piece of g (true for zero or one member).
bool is_connected(const contiguity_graph& g, const std::vector<std::size_t>& members);

} // namespace smallarea::geo
