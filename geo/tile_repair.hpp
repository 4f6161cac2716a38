#pragma once
// The GEOS path of render_mvt, for the rare polygons the fast clip leaves invalid (see render_mvt.cpp), and the
// per-tile scratch space both share.

#include "geo/mvt_writer.hpp"
#include "geo/ring_validity.hpp"
#include "geo/tile_clip.hpp"

#include <cstddef>
#include <vector>

namespace smallarea::geo::detail {

struct render_scratch {
    std::vector<std::vector<dpoint>> raw;     // simplified rings of one polygon, tile units, unclipped
    std::vector<std::vector<dpoint>> clipped; // the same after Sutherland-Hodgman
    std::vector<dpoint> tmp;
    std::vector<std::vector<mvt::point>> quantised; // per kept ring, wound as the spec wants
    std::vector<mvt::point> geos_ring;
    std::vector<double> coords;
    std::vector<edge> edges;
    std::vector<std::vector<mvt::point>> rounded; // rings of the GEOS rectangle clip, on the grid
    std::vector<char> rounded_exterior;
    // The rings of the feature being rendered, in MVT order (each exterior followed by its holes). They are held
    // back until every polygon of the feature is done, because the simplified parts of a multi-part area can
    // overlap each other, which no per-polygon check sees.
    std::vector<std::vector<mvt::point>> out;
    std::vector<char> out_exterior;
    std::size_t out_used = 0;
    std::size_t out_parts = 0;

    void add_out(const std::vector<mvt::point>& ring, bool exterior) {
        if (out.size() <= out_used) {
            out.emplace_back();
            out_exterior.push_back(0);
        }
        out[out_used] = ring;
        out_exterior[out_used] = exterior ? 1 : 0;
        ++out_used;
        out_parts += exterior ? 1 : 0;
    }
};

// Make valid, clip to the buffered tile and snap to the integer grid the polygon s.raw[0 .. num_rings) (exterior
// first), adding its rings to s.out. Returns false when GEOS failed, so the caller can fall back to the fast result
// rather than drop the polygon.
bool clip_with_geos(render_scratch& s, std::size_t num_rings, double clip_min, double clip_max);

// Rare: the simplified parts of one multi-part feature (s.out) meet or overlap. Their union, snapped back to the
// grid, replaces them. On any GEOS failure the parts are left as they were.
void merge_parts_with_geos(render_scratch& s);

} // namespace smallarea::geo::detail
