#include "geo/mvt_writer.hpp"

#include <protozero/pbf_writer.hpp>
#include <protozero/varint.hpp>

#include <cstring>

namespace smallarea::geo::mvt {

namespace {

// Field numbers of the MVT 2.1 protobuf schema (vector_tile.proto).
namespace tile_field { constexpr protozero::pbf_tag_type layers = 3; }
namespace layer_field {
constexpr protozero::pbf_tag_type name = 1;
constexpr protozero::pbf_tag_type features = 2;
constexpr protozero::pbf_tag_type keys = 3;
constexpr protozero::pbf_tag_type values = 4;
constexpr protozero::pbf_tag_type extent = 5;
constexpr protozero::pbf_tag_type version = 15;
} // namespace layer_field
namespace feature_field {
constexpr protozero::pbf_tag_type id = 1;
constexpr protozero::pbf_tag_type tags = 2;
constexpr protozero::pbf_tag_type type = 3;
constexpr protozero::pbf_tag_type geometry = 4;
} // namespace feature_field
namespace value_field {
constexpr protozero::pbf_tag_type string_value = 1;
constexpr protozero::pbf_tag_type double_value = 3;
constexpr protozero::pbf_tag_type uint_value = 5;
constexpr protozero::pbf_tag_type sint_value = 6;
constexpr protozero::pbf_tag_type bool_value = 7;
} // namespace value_field

constexpr std::int32_t geom_type_polygon = 3;
constexpr std::uint32_t cmd_move_to = 1;
constexpr std::uint32_t cmd_line_to = 2;
constexpr std::uint32_t cmd_close_path = 7;

// Beyond this many keys a linear scan costs more than hashing; tiles of statistics layers rarely get there.
constexpr std::size_t linear_key_limit = 16;

std::uint32_t command(std::uint32_t id, std::uint32_t count) noexcept {
    return (id & 0x7U) | (count << 3U);
}

std::uint32_t zigzag(std::int32_t v) noexcept {
    return protozero::encode_zigzag32(v);
}

} // namespace

layer_builder::layer_builder(std::string_view name, std::uint32_t extent, std::uint32_t version)
    : m_name(name), m_extent(extent), m_version(version) {}

std::uint32_t layer_builder::key_index(std::string_view key) {
    if (m_keys.size() <= linear_key_limit) {
        for (std::size_t i = 0; i < m_keys.size(); ++i) {
            if (m_keys[i] == key) {
                return static_cast<std::uint32_t>(i);
            }
        }
        const auto index = static_cast<std::uint32_t>(m_keys.size());
        m_keys.emplace_back(key);
        if (m_keys.size() > linear_key_limit) { // switching to the map: fill it with everything so far
            for (std::size_t i = 0; i < m_keys.size(); ++i) {
                m_key_map.emplace(m_keys[i], static_cast<std::uint32_t>(i));
            }
        }
        return index;
    }
    std::string k{key};
    const auto found = m_key_map.find(k);
    if (found != m_key_map.end()) {
        return found->second;
    }
    const auto index = static_cast<std::uint32_t>(m_keys.size());
    m_keys.push_back(k);
    m_key_map.emplace(std::move(k), index);
    return index;
}

namespace {
// FNV-1a: values are short (a code, a number), where it beats std::hash's setup cost.
std::uint64_t hash_bytes(const std::string& s) noexcept {
    std::uint64_t h = 14695981039346656037ULL;
    for (const char c : s) {
        h ^= static_cast<unsigned char>(c);
        h *= 1099511628211ULL;
    }
    return h;
}
} // namespace

void layer_builder::grow_value_table() {
    const std::size_t size = m_value_slots.empty() ? 256 : m_value_slots.size() * 2;
    m_value_slots.assign(size, 0);
    for (std::uint32_t i = 0; i < m_num_values; ++i) {
        std::size_t slot = m_value_spans[i].hash & (size - 1);
        while (m_value_slots[slot] != 0) {
            slot = (slot + 1) & (size - 1);
        }
        m_value_slots[slot] = i + 1;
    }
}

std::uint32_t layer_builder::value_index_of_scratch() {
    if ((m_num_values + 1) * 2 > m_value_slots.size()) { // keep the load factor under 1/2
        grow_value_table();
    }
    const std::uint64_t h = hash_bytes(m_scratch);
    const std::size_t mask = m_value_slots.size() - 1;
    std::size_t slot = h & mask;
    while (m_value_slots[slot] != 0) {
        const span& sp = m_value_spans[m_value_slots[slot] - 1];
        if (sp.hash == h && sp.size == m_scratch.size() &&
            std::memcmp(m_value_bytes.data() + sp.offset, m_scratch.data(), sp.size) == 0) {
            return m_value_slots[slot] - 1;
        }
        slot = (slot + 1) & mask;
    }
    const std::uint32_t index = m_num_values++;
    m_value_slots[slot] = index + 1;
    m_value_spans.push_back(span{static_cast<std::uint32_t>(m_value_bytes.size()),
                                 static_cast<std::uint32_t>(m_scratch.size()), h});
    m_value_bytes += m_scratch;
    protozero::pbf_writer values{m_values};
    values.add_message(layer_field::values, m_scratch);
    return index;
}

std::uint32_t layer_builder::string_value_index(std::string_view value) {
    m_scratch.clear();
    protozero::pbf_writer v{m_scratch};
    v.add_string(value_field::string_value, value.data(), value.size());
    return value_index_of_scratch();
}

std::uint32_t layer_builder::int_value_index(std::int64_t value) {
    m_scratch.clear();
    protozero::pbf_writer v{m_scratch};
    if (value >= 0) {
        v.add_uint64(value_field::uint_value, static_cast<std::uint64_t>(value));
    } else {
        v.add_sint64(value_field::sint_value, value);
    }
    return value_index_of_scratch();
}

std::uint32_t layer_builder::double_value_index(double value) {
    m_scratch.clear();
    protozero::pbf_writer v{m_scratch};
    v.add_double(value_field::double_value, value);
    return value_index_of_scratch();
}

std::uint32_t layer_builder::bool_value_index(bool value) {
    m_scratch.clear();
    protozero::pbf_writer v{m_scratch};
    v.add_bool(value_field::bool_value, value);
    return value_index_of_scratch();
}

void layer_builder::serialize(std::string& tile_data) const {
    if (m_num_features == 0) {
        return;
    }
    std::string head;
    {
        protozero::pbf_writer h{head};
        h.add_uint32(layer_field::version, m_version);
        h.add_string(layer_field::name, m_name);
    }
    std::string keys;
    {
        protozero::pbf_writer k{keys};
        for (const std::string& key : m_keys) {
            k.add_string(layer_field::keys, key);
        }
    }
    std::string tail;
    {
        protozero::pbf_writer t{tail};
        t.add_uint32(layer_field::extent, m_extent);
    }
    // Vectored add writes the layer's length once and copies the already encoded parts behind it, so the
    // (large) feature buffer is copied exactly once.
    protozero::pbf_writer tile{tile_data};
    tile.add_bytes_vectored(tile_field::layers, head, m_features, keys, m_values, tail);
}

void polygon_feature_builder::add_ring(const point* points, std::size_t n) {
    if (n < 3) {
        return;
    }
    m_geometry.reserve(m_geometry.size() + 2 * n + 3);
    m_geometry.push_back(command(cmd_move_to, 1));
    m_geometry.push_back(zigzag(points[0].x - m_cursor_x));
    m_geometry.push_back(zigzag(points[0].y - m_cursor_y));
    m_geometry.push_back(command(cmd_line_to, static_cast<std::uint32_t>(n - 1)));
    for (std::size_t i = 1; i < n; ++i) {
        m_geometry.push_back(zigzag(points[i].x - points[i - 1].x));
        m_geometry.push_back(zigzag(points[i].y - points[i - 1].y));
    }
    m_geometry.push_back(command(cmd_close_path, 1));
    m_cursor_x = points[n - 1].x;
    m_cursor_y = points[n - 1].y;
}

void polygon_feature_builder::commit() {
    if (m_geometry.empty()) {
        rollback();
        return;
    }
    {
        protozero::pbf_writer layer{m_layer->m_features};
        protozero::pbf_writer feature{layer, layer_field::features};
        if (m_has_id) {
            feature.add_uint64(feature_field::id, m_id);
        }
        if (!m_tags.empty()) {
            feature.add_packed_uint32(feature_field::tags, m_tags.begin(), m_tags.end());
        }
        feature.add_enum(feature_field::type, geom_type_polygon);
        feature.add_packed_uint32(feature_field::geometry, m_geometry.begin(), m_geometry.end());
    }
    ++m_layer->m_num_features;
    rollback();
}

void polygon_feature_builder::rollback() noexcept {
    m_geometry.clear();
    m_tags.clear();
    m_id = 0;
    m_has_id = false;
    m_cursor_x = 0;
    m_cursor_y = 0;
}

} // namespace smallarea::geo::mvt
