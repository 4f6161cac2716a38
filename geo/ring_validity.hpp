#pragma once
// OGC validity checks of quantised tile polygons, conservative and cheap enough to run on every polygon of every
// tile: render_mvt emits a polygon only when they pass, and sends the rest down the GEOS repair path.

#include "geo/mvt_writer.hpp"

#include <cstddef>
#include <cstdint>
#include <vector>

namespace smallarea::geo::detail {

struct edge {
    std::int32_t min_x;
    std::int32_t max_x;
    std::uint32_t ring;
    std::uint32_t index; // edge from point index to index + 1 (wrapping)
};

// Do any two non-adjacent edges of rings first..first+n-1 meet? A sweep over edges sorted by x finds
// self-crossings and pinches from rounding or simplification, and holes crossing or touching their exterior
// (touching is legal in OGC; treating it as invalid only sends a few more polygons down the GEOS path). `edges` is
// scratch space, reused across calls.
bool rings_meet(const std::vector<std::vector<mvt::point>>& rings, std::size_t first, std::size_t n,
                std::vector<edge>& edges);

// Do the holes rings[first+1 .. first+n) lie inside the exterior rings[first]?
bool holes_inside(const std::vector<std::vector<mvt::point>>& rings, std::size_t first, std::size_t n);

// Is the quantised polygon (rings 0..n-1, exterior first) valid in the OGC sense, conservatively?
bool simple_polygon(const std::vector<std::vector<mvt::point>>& rings, std::size_t n, std::vector<edge>& edges);

} // namespace smallarea::geo::detail
