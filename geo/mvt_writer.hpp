#pragma once
// A small Mapbox Vector Tile 2.1 writer on protozero, in the style of vtzero's builders (vtzero is not packaged
// in Debian): a layer_builder owns the key and value tables (deduplicated) and the encoded features; a
// polygon_feature_builder collects one feature and appends it on commit(), or forgets it on rollback().

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace smallarea::geo::mvt {

/// A point in tile coordinates (0..extent, y down), integers as the MVT geometry encoding requires.
struct point {
    std::int32_t x = 0;
    std::int32_t y = 0;
};

/// One MVT layer being built. Not thread-safe; one per tile render.
class layer_builder {
public:
    /// name: the layer name; extent: tile units per tile side (usually 4096); version: MVT layer version (2).
    layer_builder(std::string_view name, std::uint32_t extent, std::uint32_t version = 2);

    /// Index of key in the layer's key table, adding it on first use.
    std::uint32_t key_index(std::string_view key);

    /// Index of a value in the layer's value table, adding it on first use. Integers are written as uint_value
    /// when >= 0 and sint_value otherwise (the compact encodings); doubles as double_value.
    std::uint32_t string_value_index(std::string_view value);
    std::uint32_t int_value_index(std::int64_t value);
    std::uint32_t double_value_index(double value);
    std::uint32_t bool_value_index(bool value);

    std::size_t num_features() const noexcept { return m_num_features; }
    std::uint32_t extent() const noexcept { return m_extent; }

    /// Appends this layer as one `layers` field (3) of a Tile message to tile_data. Writes nothing when no
    /// feature was committed (an empty layer is not useful to any client).
    void serialize(std::string& tile_data) const;

private:
    friend class polygon_feature_builder;

    std::uint32_t value_index_of_scratch();

    std::string m_name;
    std::uint32_t m_extent;
    std::uint32_t m_version;
    std::string m_features; // encoded `features` fields (2), in commit order
    std::size_t m_num_features = 0;
    std::vector<std::string> m_keys;
    std::unordered_map<std::string, std::uint32_t> m_key_map; // used once there are many keys
    void grow_value_table();

    std::string m_values; // encoded `values` fields (4)
    // Value dedup without a heap allocation per value (every OA code is a new value, so this is hot): an
    // open-addressing table of value indices; each value's encoded Value message lives in m_value_bytes at
    // m_value_spans[index].
    struct span {
        std::uint32_t offset;
        std::uint32_t size;
        std::uint64_t hash;
    };
    std::string m_value_bytes;
    std::vector<span> m_value_spans;
    std::vector<std::uint32_t> m_value_slots; // value index + 1; 0 = empty
    std::uint32_t m_num_values = 0;
    std::string m_scratch;
};

/// Builds one polygon feature of a layer. Reusable: commit() and rollback() both leave it empty for the next
/// feature. Nothing reaches the layer until commit().
class polygon_feature_builder {
public:
    explicit polygon_feature_builder(layer_builder& layer) noexcept : m_layer(&layer) {}

    void set_id(std::uint64_t id) noexcept {
        m_id = id;
        m_has_id = true;
    }

    /// Adds one ring: n >= 3 points in tile coordinates, without repeating the first point at the end. The caller
    /// orders rings (each exterior followed by its holes) and sets winding (exterior: positive area in the spec's
    /// formula, i.e. clockwise with y down; holes the opposite).
    void add_ring(const point* points, std::size_t n);

    /// Adds a property from table indices (see layer_builder::key_index / *_value_index).
    void add_property(std::uint32_t key, std::uint32_t value) {
        m_tags.push_back(key);
        m_tags.push_back(value);
    }

    bool has_geometry() const noexcept { return !m_geometry.empty(); }
    layer_builder& layer() noexcept { return *m_layer; }

    /// Appends the feature (id if set, tags, type POLYGON, geometry) to the layer and resets the builder.
    /// A feature without geometry is not valid MVT, so commit() on one is a rollback().
    void commit();

    /// Discards the feature being built.
    void rollback() noexcept;

private:
    layer_builder* m_layer;
    std::vector<std::uint32_t> m_geometry;
    std::vector<std::uint32_t> m_tags;
    std::uint64_t m_id = 0;
    bool m_has_id = false;
    std::int32_t m_cursor_x = 0;
    std::int32_t m_cursor_y = 0;
};

} // namespace smallarea::geo::mvt
