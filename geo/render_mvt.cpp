#include "geo/polygon_layer.hpp"

#include "geo/mvt_writer.hpp"
#include "geo/ring_validity.hpp"
#include "geo/tile_clip.hpp"
#include "geo/tile_repair.hpp"

#include <algorithm>
#include <cassert>
#include <limits>
#include <stdexcept>
#include <type_traits>

namespace smallarea::geo {

using detail::clip_against;
using detail::contains;
using detail::dpoint;
using detail::intersects;
using detail::orient_ring;
using detail::quantise_ring;
using detail::render_scratch;
using detail::rings_meet;
using detail::simple_polygon;

// ------------------------------------------------------------------------------------------ feature_properties

void feature_properties::add(std::string_view key, property_value value) {
    std::visit(
        [&](auto&& v) {
            using T = std::decay_t<decltype(v)>;
            if constexpr (std::is_same_v<T, std::string>) {
                add_string(key, v);
            } else if constexpr (std::is_same_v<T, std::int64_t>) {
                add_int(key, v);
            } else if constexpr (std::is_same_v<T, double>) {
                add_double(key, v);
            } else {
                add_bool(key, v);
            }
        },
        value);
}

void feature_properties::add_string(std::string_view key, std::string_view value) {
    mvt::layer_builder& l = m_feature->layer();
    m_feature->add_property(l.key_index(key), l.string_value_index(value));
}

void feature_properties::add_int(std::string_view key, std::int64_t value) {
    mvt::layer_builder& l = m_feature->layer();
    m_feature->add_property(l.key_index(key), l.int_value_index(value));
}

void feature_properties::add_double(std::string_view key, double value) {
    mvt::layer_builder& l = m_feature->layer();
    m_feature->add_property(l.key_index(key), l.double_value_index(value));
}

void feature_properties::add_bool(std::string_view key, bool value) {
    mvt::layer_builder& l = m_feature->layer();
    m_feature->add_property(l.key_index(key), l.bool_value_index(value));
}
// ------------------------------------------------------------------------------------------------- render_mvt

namespace {

// The tile plus its buffer in world units: what render_mvt asks the index for, and what tile_has_features tests.
bbox buffered_tile_world(const tile_id& t, const tile_options& options) {
    const double scale = static_cast<double>(1U << t.z) * options.extent;
    const double ox = t.x * static_cast<double>(options.extent);
    const double oy = t.y * static_cast<double>(options.extent);
    const double lo = -static_cast<double>(options.buffer);
    const double hi = static_cast<double>(options.extent) + options.buffer;
    return bbox{(lo + ox) / scale, (lo + oy) / scale, (hi + ox) / scale, (hi + oy) / scale};
}

} // namespace

bool tile_has_features(const polygon_layer& layer, const tile_id& t, const tile_options& options) {
    if (!valid_tile(t)) {
        throw std::invalid_argument("tile_has_features: invalid tile " + std::to_string(t.z) + "/" + std::to_string(t.x) +
                                    "/" + std::to_string(t.y));
    }
    assert(layer.built());
    bool any = false;
    layer.index().visit(buffered_tile_world(t, options), [&](std::uint32_t) { any = true; });
    return any;
}

// Clipping and simplification are hand-written on the projected doubles instead of calling GEOS: a GEOS
// intersection per polygon per tile allocates geometries and coordinate sequences for every feature, which costs
// more than the whole of this pipeline, and tile clipping only ever needs an axis-aligned box (Sutherland-Hodgman
// is exact for that). Sutherland-Hodgman has one known flaw: a concave ring that leaves and re-enters across the
// same clip line gets connecting edges along that line, which may overlap or touch (invalid for GEOS, PostGIS
// and strict clients). Only those polygons - about 1 in 50 of those crossing a tile edge for real OAs - go
// through GEOS (rectangle clip + snap to the integer grid, which keeps them valid).
std::string render_mvt(const polygon_layer& layer, std::string_view layer_name, const tile_id& t,
                       const std::function<std::uint64_t(std::uint32_t index)>& feature_id,
                       const std::function<void(std::uint32_t index, feature_properties& out)>& properties,
                       const tile_options& options) {
    if (!valid_tile(t)) {
        throw std::invalid_argument("render_mvt: invalid tile " + std::to_string(t.z) + "/" + std::to_string(t.x) +
                                    "/" + std::to_string(t.y));
    }
    assert(layer.built());
    const double tiles = static_cast<double>(1U << t.z);
    const double extent = options.extent;
    const double scale = tiles * extent; // world units -> tile units
    const double ox = t.x * extent;
    const double oy = t.y * extent;
    const double clip_min = -static_cast<double>(options.buffer);
    const double clip_max = extent + options.buffer;
    const double tol = options.tolerance / scale; // world units
    const double sq_tol = options.tolerance > 0 ? tol * tol : 0.0;
    const bbox query = buffered_tile_world(t, options);

    std::vector<std::uint32_t> candidates;
    layer.index().visit(query, [&](std::uint32_t i) { candidates.push_back(i); });
    if (candidates.empty()) {
        return {};
    }
    std::sort(candidates.begin(), candidates.end());

    const auto& features = layer.features();
    const auto& polygons = layer.polygons();
    const auto& rings = layer.rings();
    const double* xy = layer.vertices().data();
    const float* importance = layer.importance().data();
    const bbox clip_box{clip_min, clip_min, clip_max, clip_max};

    mvt::layer_builder out_layer{layer_name, options.extent};
    mvt::polygon_feature_builder feature{out_layer};
    render_scratch s;

    for (const std::uint32_t index : candidates) {
        const auto& f = features[index];
        s.out_used = 0;
        s.out_parts = 0;
        for (std::uint32_t p = f.first_polygon; p < f.first_polygon + f.num_polygons; ++p) {
            const auto& polygon = polygons[p];
            // 1. Simplify and project every ring of the polygon; clip those not wholly inside.
            std::size_t n = 0;     // rings kept
            bool complex = false;  // the fast clip may have produced touching/overlapping edges
            for (std::uint32_t r = polygon.first_ring; r < polygon.first_ring + polygon.num_rings; ++r) {
                const bool exterior = (r == polygon.first_ring);
                const auto& ring = rings[r];
                // Below tolerance^2 tile units a ring is invisible; dropping it is where most of the low-zoom
                // saving comes from (as in geojson-vt). A polygon goes with its exterior.
                if (sq_tol > 0 && ring.area < sq_tol) {
                    if (exterior) {
                        break;
                    }
                    continue;
                }
                if (s.raw.size() <= n) {
                    s.raw.emplace_back();
                    s.clipped.emplace_back();
                }
                std::vector<dpoint>& raw = s.raw[n];
                raw.clear();
                bbox b{std::numeric_limits<double>::max(), std::numeric_limits<double>::max(),
                       std::numeric_limits<double>::lowest(), std::numeric_limits<double>::lowest()};
                const std::uint32_t end = ring.first_vertex + ring.num_vertices;
                for (std::uint32_t v = ring.first_vertex; v < end; ++v) {
                    if (sq_tol > 0 && importance[v] <= sq_tol) {
                        continue;
                    }
                    const dpoint d{xy[2 * v] * scale - ox, xy[2 * v + 1] * scale - oy};
                    b.min_x = std::min(b.min_x, d.x);
                    b.min_y = std::min(b.min_y, d.y);
                    b.max_x = std::max(b.max_x, d.x);
                    b.max_y = std::max(b.max_y, d.y);
                    raw.push_back(d);
                }
                if (raw.size() < 3 || !intersects(b, clip_box)) {
                    if (exterior) {
                        break;
                    }
                    continue;
                }
                std::vector<dpoint>& clipped = s.clipped[n];
                if (contains(clip_box, b)) {
                    clipped = raw;
                } else {
                    int exits = clip_against<0, true>(raw, s.tmp, clip_min);
                    exits = std::max(exits, clip_against<0, false>(s.tmp, clipped, clip_max));
                    exits = std::max(exits, clip_against<1, true>(clipped, s.tmp, clip_min));
                    exits = std::max(exits, clip_against<1, false>(s.tmp, clipped, clip_max));
                    complex = complex || exits > 1;
                    if (clipped.size() < 3) {
                        if (exterior) {
                            break;
                        }
                        continue;
                    }
                }
                ++n;
            }
            if (n == 0) {
                continue;
            }
            // 2. Quantise; drop what collapsed.
            if (s.quantised.size() < n) {
                s.quantised.resize(n);
            }
            std::size_t kept = 0;
            for (std::size_t i = 0; i < n; ++i) {
                quantise_ring(s.clipped[i], s.quantised[kept]);
                if (orient_ring(s.quantised[kept], i == 0)) {
                    ++kept;
                } else if (i == 0) {
                    break;
                }
            }
            if (kept == 0) {
                continue;
            }
            // 3. Emit, or let GEOS redo the rare polygons the fast path left invalid.
            if ((complex || !simple_polygon(s.quantised, kept, s.edges)) &&
                clip_with_geos(s, n, clip_min, clip_max)) {
                continue;
            }
            for (std::size_t i = 0; i < kept; ++i) {
                s.add_out(s.quantised[i], i == 0);
            }
        }
        if (s.out_parts > 1 && rings_meet(s.out, 0, s.out_used, s.edges)) {
            merge_parts_with_geos(s);
        }
        for (std::size_t r = 0; r < s.out_used; ++r) {
            feature.add_ring(s.out[r].data(), s.out[r].size());
        }
        if (feature.has_geometry()) {
            feature.set_id(feature_id(index));
            feature_properties props{feature};
            properties(index, props);
            feature.commit();
        }
    }

    std::string tile;
    out_layer.serialize(tile);
    return tile;
}

} // namespace smallarea::geo
