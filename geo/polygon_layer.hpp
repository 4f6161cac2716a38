#pragma once
// The vector-tile engine: polygons of one geography level held in memory, prepared once, rendered to MVT on
// demand. No GEOS on the render path (see render_mvt in polygon_layer.cpp for why).

#include "geo/spatial_index.hpp"
#include "geo/tile.hpp"

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace smallarea::geo {

namespace mvt {
class polygon_feature_builder;
} // namespace mvt

/// In-memory polygons of one geography level prepared once for tile rendering: projected to web mercator,
/// with a per-vertex simplification importance (as geojson-vt does) and a spatial index. Read-only after build(),
/// safe to use from many threads at once.
///
/// Coordinates are stored in "world" units: EPSG:3857 scaled to [0, 1] with y pointing south (see tile.hpp),
/// the space in which a tile at zoom z is a square of side 2^-z.
class polygon_layer {
public:
    /// Adds one feature (index = order of adding, 0..n-1). wkb: ISO/OGC WKB (or EWKB) Polygon or MultiPolygon in
    /// EPSG:4326 (lon, lat); Z/M are ignored. Rings with fewer than 3 distinct points are dropped (a polygon
    /// whose exterior is dropped goes with it); an empty geometry gives a feature that is never rendered.
    /// Throws smallarea::error (code "InvalidGeometry") on WKB it cannot parse or of another geometry type.
    /// Must not be called after build().
    std::uint32_t add(const unsigned char* wkb, std::size_t size);

    /// Builds the spatial index. Call once, after the last add(); the layer is read-only afterwards.
    void build();

    /// Number of features added.
    std::size_t size() const noexcept { return m_features.size(); }

    /// Bounds of all features, EPSG:4326 degrees (latitudes clamped to web mercator's +-85.05).
    /// All zeros for an empty layer.
    bbox bounds_lonlat() const noexcept;

    /// Bounds of one feature, EPSG:4326 degrees. Throws std::out_of_range for index >= size().
    bbox feature_bounds_lonlat(std::uint32_t index) const;

    /// Approximate heap bytes held by the layer (vertices, importance, rings, index).
    std::size_t memory_bytes() const noexcept;

    // ---- read access for the renderer and queries (world units) ----

    struct ring_info {
        std::uint32_t first_vertex; // into the vertex arrays; the ring is stored open (first point not repeated)
        std::uint32_t num_vertices;
        double area;                // absolute area, world units squared
    };
    struct polygon_info {
        std::uint32_t first_ring; // exterior, then holes
        std::uint32_t num_rings;
    };
    struct feature_info {
        std::uint32_t first_polygon;
        std::uint32_t num_polygons;
        bbox world; // world units
    };

    const std::vector<feature_info>& features() const noexcept { return m_features; }
    const std::vector<polygon_info>& polygons() const noexcept { return m_polygons; }
    const std::vector<ring_info>& rings() const noexcept { return m_rings; }
    /// Interleaved x, y in world units.
    const std::vector<double>& vertices() const noexcept { return m_xy; }
    /// Per vertex: squared Douglas-Peucker distance (world units^2) below which the vertex may be dropped;
    /// +infinity for the first vertex of each ring. Nested: never larger than its DP parent's.
    const std::vector<float>& importance() const noexcept { return m_importance; }
    const detail::packed_rtree& index() const noexcept { return m_index; }
    bool built() const noexcept { return m_built; }

private:
    void add_ring_importance(std::uint32_t first, std::uint32_t n);

    std::vector<double> m_xy;
    std::vector<float> m_importance;
    std::vector<ring_info> m_rings;
    std::vector<polygon_info> m_polygons;
    std::vector<feature_info> m_features;
    detail::packed_rtree m_index;
    bbox m_bounds{1.0, 1.0, 0.0, 0.0};
    bool m_built = false;
};

/// Rendering parameters. extent: tile units per tile side; buffer: tile units drawn beyond each edge;
/// tolerance: simplification tolerance in tile units (Douglas-Peucker distance; rings with an area under
/// tolerance^2 tile units are dropped). 0 disables both.
struct tile_options {
    std::uint32_t extent = 4096;
    std::uint32_t buffer = 64;
    double tolerance = 1.0; // in extent units
};

/// A property value for an MVT feature.
using property_value = std::variant<std::string, std::int64_t, double, bool>;

/// Handed to the properties callback of render_mvt to attach properties to the feature being written.
/// Keys and values are deduplicated in the layer's tables. The typed add_* overloads avoid building a
/// property_value (and a std::string) per call on the hot path.
class feature_properties {
public:
    explicit feature_properties(mvt::polygon_feature_builder& feature) noexcept : m_feature(&feature) {}

    void add(std::string_view key, property_value value);
    void add_string(std::string_view key, std::string_view value);
    void add_int(std::string_view key, std::int64_t value);
    void add_double(std::string_view key, double value);
    void add_bool(std::string_view key, bool value);

private:
    mvt::polygon_feature_builder* m_feature;
};

/// Renders one tile of one layer as uncompressed MVT 2.1 bytes (protozero): one layer named layer_name, version
/// 2, the given extent, polygons clipped to the tile + buffer and simplified for zoom t.z. Features are written in
/// index order. Returns an empty string when no feature intersects the tile. The feature id in the MVT is
/// feature_id(index) (stable across zooms); properties(index, out) is called once per written feature.
/// Precondition: layer.build() was called (asserted). Throws std::invalid_argument when !valid_tile(t); other
/// exceptions only from the callbacks (or std::bad_alloc).
std::string render_mvt(const polygon_layer& layer, std::string_view layer_name, const tile_id& t,
                       const std::function<std::uint64_t(std::uint32_t index)>& feature_id,
                       const std::function<void(std::uint32_t index, feature_properties& out)>& properties,
                       const tile_options& options = {});

/// Whether any feature's bounds reach tile t or its buffer (the boxes render_mvt asks the index for). A false
/// answer means render_mvt(t) is empty and so is every tile below t, which is how a pyramid walk prunes; a true
/// answer can still render empty (a box that reaches the tile around a shape that does not, or rings under the
/// zoom's tolerance). Precondition: layer.build() was called. Throws std::invalid_argument when !valid_tile(t).
bool tile_has_features(const polygon_layer& layer, const tile_id& t, const tile_options& options = {});

/// Indices of features whose geometry intersects bbox (EPSG:4326 degrees; boundary contact counts), ascending,
/// for OGC API bbox filters. The test is exact on the stored (projected) polygons, not just on their bounds.
/// Precondition: layer.build() was called. Does not throw except std::bad_alloc.
std::vector<std::uint32_t> query_bbox(const polygon_layer& layer, const bbox& lonlat);

} // namespace smallarea::geo
