#include "geo/polygon_layer.hpp"

#include "geo/geos_context.hpp"
#include "geo/mvt_writer.hpp"
#include "geo/wkb.hpp"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <utility>

namespace smallarea::geo {

namespace {

struct dpoint {
    double x;
    double y;
};

// Squared distance from p to the segment a-b (to the point a when a == b, which happens for the closing
// segment of a ring's first Douglas-Peucker step).
double sq_segment_distance(double px, double py, double ax, double ay, double bx, double by) noexcept {
    double dx = bx - ax;
    double dy = by - ay;
    double x = ax;
    double y = ay;
    if (dx != 0.0 || dy != 0.0) {
        const double t = ((px - ax) * dx + (py - ay) * dy) / (dx * dx + dy * dy);
        if (t > 1.0) {
            x = bx;
            y = by;
        } else if (t > 0.0) {
            x += dx * t;
            y += dy * t;
        }
    }
    dx = px - x;
    dy = py - y;
    return dx * dx + dy * dy;
}

// One Sutherland-Hodgman pass against the line coordinate[axis] == k, keeping the side given by keep_greater.
// Returns how often the ring leaves the kept side: more than once means the output may run along the clip line
// in overlapping or touching pieces (see render_mvt).
template <int axis, bool keep_greater>
int clip_against(const std::vector<dpoint>& in, std::vector<dpoint>& out, double k) {
    out.clear();
    if (in.empty()) {
        return 0;
    }
    int exits = 0;
    auto coord = [](const dpoint& p) { return axis == 0 ? p.x : p.y; };
    auto inside = [&](const dpoint& p) { return keep_greater ? coord(p) >= k : coord(p) <= k; };
    auto cross = [&](const dpoint& a, const dpoint& b) {
        const double t = (k - coord(a)) / (coord(b) - coord(a));
        if (axis == 0) {
            return dpoint{k, a.y + (b.y - a.y) * t};
        }
        return dpoint{a.x + (b.x - a.x) * t, k};
    };
    dpoint prev = in.back();
    bool prev_in = inside(prev);
    for (const dpoint& cur : in) {
        const bool cur_in = inside(cur);
        if (cur_in != prev_in) {
            out.push_back(cross(prev, cur));
            exits += prev_in ? 1 : 0;
        }
        if (cur_in) {
            out.push_back(cur);
        }
        prev = cur;
        prev_in = cur_in;
    }
    return exits;
}

// Round half up without a libm call (std::lround is one, and this runs for every output vertex).
std::int32_t round_to_int(double v) noexcept {
    const double u = v + 0.5;
    auto i = static_cast<std::int32_t>(u); // truncates towards zero
    return i - static_cast<std::int32_t>(static_cast<double>(i) > u);
}

std::int64_t cross(const mvt::point& o, const mvt::point& a, const mvt::point& b) noexcept {
    return std::int64_t(a.x - o.x) * (b.y - o.y) - std::int64_t(a.y - o.y) * (b.x - o.x);
}

// Rounds a clipped ring to integer tile coordinates and removes what rounding makes degenerate: repeated
// points, and collinear points (which also removes zero-width spikes, e.g. where clipping ran along a tile edge
// and back). Leaves `out` with the open ring, or fewer than 3 points when it collapsed.
void quantise_ring(const std::vector<dpoint>& in, std::vector<mvt::point>& out) {
    out.clear();
    for (const dpoint& d : in) {
        const mvt::point p{round_to_int(d.x), round_to_int(d.y)};
        if (!out.empty() && out.back().x == p.x && out.back().y == p.y) {
            continue;
        }
        while (out.size() >= 2 && cross(out[out.size() - 2], out.back(), p) == 0) {
            out.pop_back();
        }
        if (!out.empty() && out.back().x == p.x && out.back().y == p.y) {
            continue;
        }
        out.push_back(p);
    }
    // The ring wraps around: clean the joint between the last and the first points too.
    std::size_t start = 0;
    for (bool changed = true; changed && out.size() - start >= 3;) {
        changed = false;
        const std::size_t n = out.size();
        if (out[n - 1].x == out[start].x && out[n - 1].y == out[start].y) {
            out.pop_back();
            changed = true;
        } else if (cross(out[n - 2], out[n - 1], out[start]) == 0) {
            out.pop_back();
            changed = true;
        } else if (cross(out[n - 1], out[start], out[start + 1]) == 0) {
            ++start;
            changed = true;
        }
    }
    if (start > 0) {
        out.erase(out.begin(), out.begin() + static_cast<std::ptrdiff_t>(start));
    }
}

std::int64_t twice_area(const std::vector<mvt::point>& ring) noexcept {
    std::int64_t sum = 0;
    const std::size_t n = ring.size();
    for (std::size_t i = 0, j = n - 1; i < n; j = i++) {
        sum += std::int64_t(ring[j].x) * ring[i].y - std::int64_t(ring[i].x) * ring[j].y;
    }
    return sum;
}

bool intersects(const bbox& a, const bbox& b) noexcept {
    return !(a.max_x < b.min_x || a.max_y < b.min_y || a.min_x > b.max_x || a.min_y > b.max_y);
}

bool contains(const bbox& outer, const bbox& inner) noexcept {
    return inner.min_x >= outer.min_x && inner.max_x <= outer.max_x && inner.min_y >= outer.min_y &&
           inner.max_y <= outer.max_y;
}

// Liang-Barsky: does the segment a-b touch the box?
bool segment_touches_box(double ax, double ay, double bx, double by, const bbox& q) noexcept {
    double t0 = 0.0;
    double t1 = 1.0;
    const double dx = bx - ax;
    const double dy = by - ay;
    const double p[4] = {-dx, dx, -dy, dy};
    const double r[4] = {ax - q.min_x, q.max_x - ax, ay - q.min_y, q.max_y - ay};
    for (int i = 0; i < 4; ++i) {
        if (p[i] == 0.0) {
            if (r[i] < 0.0) {
                return false;
            }
        } else {
            const double t = r[i] / p[i];
            if (p[i] < 0.0) {
                t0 = std::max(t0, t);
            } else {
                t1 = std::min(t1, t);
            }
            if (t0 > t1) {
                return false;
            }
        }
    }
    return true;
}

} // namespace

// ---------------------------------------------------------------------------------------------- polygon_layer

std::uint32_t polygon_layer::add(const unsigned char* wkb, std::size_t size) {
    assert(!m_built);
    if (m_features.size() >= std::numeric_limits<std::uint32_t>::max()) {
        throw std::length_error("polygon_layer: too many features");
    }
    detail::wkb_cursor cursor{wkb, size};
    const detail::wkb_type type = cursor.read_header();
    std::uint32_t num_polygons = 1;
    const bool multi = (type == detail::wkb_type::multipolygon);
    if (multi) {
        num_polygons = cursor.read_count(9);
    } else if (type != detail::wkb_type::polygon) {
        detail::wkb_cursor::fail("expected a Polygon or MultiPolygon");
    }

    // Parse fully before touching the layer, so a throw leaves the layer as it was.
    const std::size_t xy_mark = m_xy.size();
    const std::size_t ring_mark = m_rings.size();
    const std::size_t polygon_mark = m_polygons.size();
    feature_info feature{static_cast<std::uint32_t>(m_polygons.size()), 0,
                         bbox{std::numeric_limits<double>::max(), std::numeric_limits<double>::max(),
                              std::numeric_limits<double>::lowest(), std::numeric_limits<double>::lowest()}};
    try {
        for (std::uint32_t p = 0; p < num_polygons; ++p) {
            if (multi && cursor.read_header() != detail::wkb_type::polygon) {
                detail::wkb_cursor::fail("a MultiPolygon member is not a Polygon");
            }
            const std::uint32_t num_rings = cursor.read_count(4);
            polygon_info polygon{static_cast<std::uint32_t>(m_rings.size()), 0};
            for (std::uint32_t r = 0; r < num_rings; ++r) {
                const std::uint32_t num_points = cursor.read_count(cursor.point_bytes());
                const std::size_t first = m_xy.size() / 2;
                for (std::uint32_t i = 0; i < num_points; ++i) {
                    double lon = 0.0;
                    double lat = 0.0;
                    cursor.read_xy(lon, lat);
                    const double x = lon_to_world_x(lon);
                    const double y = lat_to_world_y(lat);
                    const std::size_t n = m_xy.size();
                    if (n / 2 > first && m_xy[n - 2] == x && m_xy[n - 1] == y) {
                        continue; // repeated point
                    }
                    m_xy.push_back(x);
                    m_xy.push_back(y);
                }
                std::size_t count = m_xy.size() / 2 - first;
                if (count > 1 && m_xy[2 * first] == m_xy[m_xy.size() - 2] &&
                    m_xy[2 * first + 1] == m_xy[m_xy.size() - 1]) {
                    m_xy.resize(m_xy.size() - 2); // stored open: drop the closing point
                    --count;
                }
                // Degenerate rings are dropped here; a polygon without its exterior is dropped whole.
                const bool keep = count >= 3 && (r == 0 || polygon.num_rings > 0);
                if (!keep) {
                    m_xy.resize(2 * first);
                    continue;
                }
                double area2 = 0.0;
                for (std::size_t i = first, j = first + count - 1; i < first + count; j = i++) {
                    area2 += m_xy[2 * j] * m_xy[2 * i + 1] - m_xy[2 * i] * m_xy[2 * j + 1];
                }
                for (std::size_t i = first; i < first + count; ++i) {
                    feature.world.min_x = std::min(feature.world.min_x, m_xy[2 * i]);
                    feature.world.min_y = std::min(feature.world.min_y, m_xy[2 * i + 1]);
                    feature.world.max_x = std::max(feature.world.max_x, m_xy[2 * i]);
                    feature.world.max_y = std::max(feature.world.max_y, m_xy[2 * i + 1]);
                }
                m_rings.push_back(ring_info{static_cast<std::uint32_t>(first), static_cast<std::uint32_t>(count),
                                            std::abs(area2) / 2.0});
                ++polygon.num_rings;
            }
            if (polygon.num_rings > 0) {
                m_polygons.push_back(polygon);
                ++feature.num_polygons;
            }
        }
        if (m_xy.size() / 2 > std::numeric_limits<std::uint32_t>::max()) {
            throw std::length_error("polygon_layer: too many vertices");
        }
    } catch (...) {
        m_xy.resize(xy_mark);
        m_rings.resize(ring_mark);
        m_polygons.resize(polygon_mark);
        throw;
    }

    // Importance is computed per ring as soon as the ring is stored: its vertices are still in cache.
    m_importance.resize(m_xy.size() / 2);
    for (std::size_t r = ring_mark; r < m_rings.size(); ++r) {
        add_ring_importance(m_rings[r].first_vertex, m_rings[r].num_vertices);
    }
    if (feature.num_polygons == 0) {
        feature.world = bbox{0.0, 0.0, -1.0, -1.0}; // intersects nothing
    } else {
        m_bounds.min_x = std::min(m_bounds.min_x, feature.world.min_x);
        m_bounds.min_y = std::min(m_bounds.min_y, feature.world.min_y);
        m_bounds.max_x = std::max(m_bounds.max_x, feature.world.max_x);
        m_bounds.max_y = std::max(m_bounds.max_y, feature.world.max_y);
    }
    m_features.push_back(feature);
    return static_cast<std::uint32_t>(m_features.size() - 1);
}

// Douglas-Peucker importance as geojson-vt computes it (simplify.js), but run to the end (no tolerance cut-off)
// so any zoom can choose its own threshold, and clamped to the parent's importance so that the vertices kept at
// a coarser threshold are always a subset of those kept at a finer one (no flicker between zooms).
void polygon_layer::add_ring_importance(std::uint32_t first, std::uint32_t n) {
    struct span {
        std::uint32_t a; // local indices; b == n means vertex 0 again (the ring closes)
        std::uint32_t b;
        float parent;
    };
    thread_local std::vector<span> stack;
    stack.clear();
    const double* xy = m_xy.data() + 2 * static_cast<std::size_t>(first);
    float* imp = m_importance.data() + first;
    imp[0] = std::numeric_limits<float>::infinity();
    stack.push_back(span{0, n, std::numeric_limits<float>::infinity()});
    while (!stack.empty()) {
        const span s = stack.back();
        stack.pop_back();
        const std::uint32_t b = s.b % n;
        double max_d = -1.0;
        std::uint32_t max_i = s.a;
        for (std::uint32_t i = s.a + 1; i < s.b; ++i) {
            const double d = sq_segment_distance(xy[2 * i], xy[2 * i + 1], xy[2 * s.a], xy[2 * s.a + 1], xy[2 * b],
                                                 xy[2 * b + 1]);
            if (d > max_d) {
                max_d = d;
                max_i = i;
            }
        }
        if (max_i == s.a) {
            continue; // no vertex between a and b
        }
        const float value = std::min(static_cast<float>(max_d), s.parent);
        imp[max_i] = value;
        stack.push_back(span{s.a, max_i, value});
        stack.push_back(span{max_i, s.b, value});
    }
}

void polygon_layer::build() {
    assert(!m_built);
    std::vector<bbox> boxes;
    boxes.reserve(m_features.size());
    for (const feature_info& f : m_features) {
        boxes.push_back(f.world);
    }
    m_index.build(boxes);
    // The layer is read-only from here: give back the slack of the vectors' geometric growth.
    m_xy.shrink_to_fit();
    m_importance.shrink_to_fit();
    m_rings.shrink_to_fit();
    m_polygons.shrink_to_fit();
    m_features.shrink_to_fit();
    m_built = true;
}

bbox polygon_layer::bounds_lonlat() const noexcept {
    if (m_bounds.min_x > m_bounds.max_x) {
        return bbox{};
    }
    return bbox{world_x_to_lon(m_bounds.min_x), world_y_to_lat(m_bounds.max_y), world_x_to_lon(m_bounds.max_x),
                world_y_to_lat(m_bounds.min_y)};
}

bbox polygon_layer::feature_bounds_lonlat(std::uint32_t index) const {
    const feature_info& f = m_features.at(index);
    if (f.num_polygons == 0) {
        return bbox{};
    }
    return bbox{world_x_to_lon(f.world.min_x), world_y_to_lat(f.world.max_y), world_x_to_lon(f.world.max_x),
                world_y_to_lat(f.world.min_y)};
}

std::size_t polygon_layer::memory_bytes() const noexcept {
    return m_xy.capacity() * sizeof(double) + m_importance.capacity() * sizeof(float) +
           m_rings.capacity() * sizeof(ring_info) + m_polygons.capacity() * sizeof(polygon_info) +
           m_features.capacity() * sizeof(feature_info) + m_index.memory_bytes();
}

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

// Clipping and simplification are hand-written on the projected doubles instead of calling GEOS: a GEOS
// intersection per polygon per tile allocates geometries and coordinate sequences for every feature, which costs
// more than the whole of this pipeline, and tile clipping only ever needs an axis-aligned box (Sutherland-Hodgman
// is exact for that). Sutherland-Hodgman has one known flaw: a concave ring that leaves and re-enters across the
// same clip line gets connecting edges along that line, which may overlap or touch (invalid for GEOS, PostGIS
// and strict clients). Only those polygons - about 1 in 50 of those crossing a tile edge for real OAs - go
// through GEOS (rectangle clip + snap to the integer grid, which keeps them valid).
namespace {

struct edge {
    std::int32_t min_x;
    std::int32_t max_x;
    std::uint32_t ring;
    std::uint32_t index; // edge from point index to index + 1 (wrapping)
};

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

// Gives a quantised ring the winding the spec wants. Returns false when it collapsed (< 3 points, no area).
bool orient_ring(std::vector<mvt::point>& ring, bool exterior) {
    if (ring.size() < 3) {
        return false;
    }
    const std::int64_t area2 = twice_area(ring);
    if (area2 == 0) {
        return false;
    }
    // Winding is fixed after quantisation because rounding can flip a thin ring.
    if ((exterior && area2 < 0) || (!exterior && area2 > 0)) {
        std::reverse(ring.begin(), ring.end());
    }
    return true;
}

int orientation(const mvt::point& a, const mvt::point& b, const mvt::point& c) noexcept {
    const std::int64_t v = cross(a, b, c);
    return (v > 0) - (v < 0);
}

bool on_segment(const mvt::point& a, const mvt::point& b, const mvt::point& p) noexcept {
    return std::min(a.x, b.x) <= p.x && p.x <= std::max(a.x, b.x) && std::min(a.y, b.y) <= p.y &&
           p.y <= std::max(a.y, b.y);
}

// Closed segments a-b and c-d share at least one point (crossing, touching or overlapping).
bool segments_meet(const mvt::point& a, const mvt::point& b, const mvt::point& c, const mvt::point& d) noexcept {
    const int o1 = orientation(a, b, c);
    const int o2 = orientation(a, b, d);
    const int o3 = orientation(c, d, a);
    const int o4 = orientation(c, d, b);
    if (o1 != o2 && o3 != o4) {
        return true;
    }
    return (o1 == 0 && on_segment(a, b, c)) || (o2 == 0 && on_segment(a, b, d)) ||
           (o3 == 0 && on_segment(c, d, a)) || (o4 == 0 && on_segment(c, d, b));
}

// Even-odd point in ring (points on the boundary may go either way; callers only use it for a hole vertex that
// the edge sweep already found not to touch the exterior).
bool point_in_ring(const mvt::point& p, const std::vector<mvt::point>& ring) noexcept {
    bool inside = false;
    for (std::size_t i = 0, j = ring.size() - 1; i < ring.size(); j = i++) {
        const auto& a = ring[i];
        const auto& b = ring[j];
        if ((a.y > p.y) != (b.y > p.y) &&
            double(p.x) < double(b.x - a.x) * double(p.y - a.y) / double(b.y - a.y) + a.x) {
            inside = !inside;
        }
    }
    return inside;
}

// Is the quantised polygon (rings 0..n-1) valid in the OGC sense, conservatively? A sweep over edges sorted by x
// finds any two non-adjacent edges that meet: self-crossings and pinches from rounding or simplification, and
// holes crossing or touching their exterior (touching is legal in OGC; treating it as invalid only sends a few
// more polygons down the GEOS path). Holes must also lie inside the exterior.
// Do any two non-adjacent edges of rings first..first+n-1 meet (see simple_polygon)?
bool rings_meet(const std::vector<std::vector<mvt::point>>& rings, std::size_t first, std::size_t n,
                std::vector<edge>& edges) {
    edges.clear();
    for (std::size_t r = first; r < first + n; ++r) {
        const auto& ring = rings[r];
        for (std::size_t i = 0; i < ring.size(); ++i) {
            const auto& a = ring[i];
            const auto& b = ring[(i + 1) % ring.size()];
            edges.push_back(edge{std::min(a.x, b.x), std::max(a.x, b.x), static_cast<std::uint32_t>(r),
                                 static_cast<std::uint32_t>(i)});
        }
    }
    std::sort(edges.begin(), edges.end(), [](const edge& a, const edge& b) { return a.min_x < b.min_x; });
    for (std::size_t i = 0; i < edges.size(); ++i) {
        const edge& e = edges[i];
        const auto& re = rings[e.ring];
        const mvt::point& a = re[e.index];
        const mvt::point& b = re[(e.index + 1) % re.size()];
        for (std::size_t j = i + 1; j < edges.size() && edges[j].min_x <= e.max_x; ++j) {
            const edge& f = edges[j];
            if (f.ring == e.ring) {
                const std::size_t m = re.size();
                const std::size_t lo = std::min(e.index, f.index);
                const std::size_t hi = std::max(e.index, f.index);
                if (hi == lo + 1 || (lo == 0 && hi == m - 1)) {
                    continue; // neighbours share their common vertex by construction
                }
            }
            const auto& rf = rings[f.ring];
            if (segments_meet(a, b, rf[f.index], rf[(f.index + 1) % rf.size()])) {
                return true;
            }
        }
    }
    return false;
}

bool holes_inside(const std::vector<std::vector<mvt::point>>& rings, std::size_t first, std::size_t n) {
    for (std::size_t r = first + 1; r < first + n; ++r) {
        if (!point_in_ring(rings[r][0], rings[first])) {
            return false;
        }
    }
    return true;
}

bool simple_polygon(const std::vector<std::vector<mvt::point>>& rings, std::size_t n, std::vector<edge>& edges) {
    if (n == 1 && rings[0].size() == 3) {
        return true; // a triangle with area cannot be invalid
    }
    return !rings_meet(rings, 0, n, edges) && holes_inside(rings, 0, n);
}

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

} // namespace

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
    const bbox query{(clip_min + ox) / scale, (clip_min + oy) / scale, (clip_max + ox) / scale,
                     (clip_max + oy) / scale};

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

// -------------------------------------------------------------------------------------------------- query_bbox

std::vector<std::uint32_t> query_bbox(const polygon_layer& layer, const bbox& lonlat) {
    assert(layer.built());
    // Web mercator is monotonic per axis, so the lon/lat box maps to a box in world units (north = smaller y).
    const bbox q{lon_to_world_x(lonlat.min_x), lat_to_world_y(lonlat.max_y), lon_to_world_x(lonlat.max_x),
                 lat_to_world_y(lonlat.min_y)};
    const auto& features = layer.features();
    const auto& polygons = layer.polygons();
    const auto& rings = layer.rings();
    const double* xy = layer.vertices().data();

    auto polygon_hits = [&](const polygon_layer::polygon_info& polygon) {
        // Any ring edge touching the box: the boundary meets the box.
        for (std::uint32_t r = polygon.first_ring; r < polygon.first_ring + polygon.num_rings; ++r) {
            const auto& ring = rings[r];
            const double* v = xy + 2 * static_cast<std::size_t>(ring.first_vertex);
            for (std::uint32_t i = 0, j = ring.num_vertices - 1; i < ring.num_vertices; j = i++) {
                if (segment_touches_box(v[2 * j], v[2 * j + 1], v[2 * i], v[2 * i + 1], q)) {
                    return true;
                }
            }
        }
        // Otherwise the box is wholly inside or wholly outside: test one corner (even-odd over all rings, which
        // handles holes).
        const double px = q.min_x;
        const double py = q.min_y;
        bool inside = false;
        for (std::uint32_t r = polygon.first_ring; r < polygon.first_ring + polygon.num_rings; ++r) {
            const auto& ring = rings[r];
            const double* v = xy + 2 * static_cast<std::size_t>(ring.first_vertex);
            for (std::uint32_t i = 0, j = ring.num_vertices - 1; i < ring.num_vertices; j = i++) {
                const double xi = v[2 * i];
                const double yi = v[2 * i + 1];
                const double xj = v[2 * j];
                const double yj = v[2 * j + 1];
                if ((yi > py) != (yj > py) && px < (xj - xi) * (py - yi) / (yj - yi) + xi) {
                    inside = !inside;
                }
            }
        }
        return inside;
    };

    std::vector<std::uint32_t> result;
    layer.index().visit(q, [&](std::uint32_t index) {
        const auto& f = features[index];
        if (contains(q, f.world)) {
            result.push_back(index);
            return;
        }
        for (std::uint32_t p = f.first_polygon; p < f.first_polygon + f.num_polygons; ++p) {
            if (polygon_hits(polygons[p])) {
                result.push_back(index);
                return;
            }
        }
    });
    std::sort(result.begin(), result.end());
    return result;
}

} // namespace smallarea::geo
