#include "geo/polygon_layer.hpp"

#include "geo/tile_clip.hpp"
#include "geo/wkb.hpp"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <utility>

namespace smallarea::geo {

using detail::contains;

namespace {

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
