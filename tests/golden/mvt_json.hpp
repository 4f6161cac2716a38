#pragma once
// A small Mapbox Vector Tile 2.1 decoder on protozero's pbf_reader, for golden files: every field of the tile as
// text, so a golden comparison pins the encoding itself (layer tables, value types, feature ids, tag order,
// geometry commands), not only what a client would render.

#include <doctest/doctest.h>

#include <nlohmann/json.hpp>
#include <protozero/pbf_reader.hpp>

#include <string>
#include <vector>

namespace mvt_json {

using ordered_json = nlohmann::ordered_json;

/// A Value message as [type, value]: ["string", "E00..."], ["float", 1.5], ["double", 1.5], ["int", -3],
/// ["uint", 3], ["sint", -3], ["bool", true].
inline ordered_json decode_value(protozero::pbf_reader v) {
    ordered_json out = ordered_json::array();
    while (v.next()) {
        switch (v.tag()) {
        case 1: out = {"string", v.get_string()}; break;
        case 2: out = {"float", v.get_float()}; break;
        case 3: out = {"double", v.get_double()}; break;
        case 4: out = {"int", v.get_int64()}; break;
        case 5: out = {"uint", v.get_uint64()}; break;
        case 6: out = {"sint", v.get_sint64()}; break;
        case 7: out = {"bool", v.get_bool()}; break;
        default: v.skip(); out = {"unknown field", v.tag()};
        }
    }
    return out;
}

/// Geometry commands with the cursor applied, so coordinates are absolute tile units (y down):
/// ["M", x, y], ["L", x1, y1, x2, y2, ...], ["Z"]. A command with a count above 1 for MoveTo (never written by
/// polygons) keeps all its points.
inline ordered_json decode_geometry(const std::vector<std::uint32_t>& g) {
    ordered_json out = ordered_json::array();
    std::int64_t x = 0, y = 0;
    auto zigzag = [](std::uint32_t n) { return static_cast<std::int64_t>(n >> 1) ^ -static_cast<std::int64_t>(n & 1); };
    for (std::size_t i = 0; i < g.size();) {
        const std::uint32_t id = g[i] & 7, count = g[i] >> 3;
        ++i;
        if (id == 7) {
            out.push_back({"Z"});
            continue;
        }
        REQUIRE_MESSAGE((id == 1 || id == 2), "unknown geometry command " << id);
        ordered_json command = ordered_json::array({id == 1 ? "M" : "L"});
        for (std::uint32_t k = 0; k < count; ++k) {
            REQUIRE(i + 1 < g.size());
            x += zigzag(g[i]);
            y += zigzag(g[i + 1]);
            i += 2;
            command.push_back(x);
            command.push_back(y);
        }
        out.push_back(std::move(command));
    }
    return out;
}

/// The tile as JSON text: one line per layer header and per feature, so a diff names the feature that changed.
/// Features carry their id, type, properties (key table order resolved through the tags, in tag order) and
/// geometry commands; the layer its name, version, extent, keys and typed values.
inline std::string decode(const std::string& data) {
    std::string out = "{\"layers\": [\n";
    protozero::pbf_reader tile(data);
    bool first_layer = true;
    while (tile.next()) {
        REQUIRE_MESSAGE(tile.tag() == 3, "a Tile field other than layers: " << tile.tag());
        auto layer = tile.get_message();
        ordered_json header;
        std::vector<std::string> keys;
        std::vector<ordered_json> values;
        std::vector<std::string> features; // raw messages, decoded once the key/value tables are known
        std::uint32_t version = 1, extent = 4096; // the proto defaults
        std::string name;
        while (layer.next()) {
            switch (layer.tag()) {
            case 15: version = layer.get_uint32(); break;
            case 1: name = layer.get_string(); break;
            case 2: features.push_back(layer.get_bytes()); break;
            case 3: keys.push_back(layer.get_string()); break;
            case 4: values.push_back(decode_value(layer.get_message())); break;
            case 5: extent = layer.get_uint32(); break;
            default: FAIL("unknown Layer field " << layer.tag());
            }
        }
        header["name"] = name;
        header["version"] = version;
        header["extent"] = extent;
        header["keys"] = keys;
        header["values"] = values;
        out += first_layer ? "" : ",\n";
        first_layer = false;
        std::string text = header.dump();
        text.pop_back(); // reopen the object for the features
        out += text + ", \"features\": [\n";
        for (std::size_t f = 0; f < features.size(); ++f) {
            protozero::pbf_reader feature(features[f]);
            ordered_json j;
            std::vector<std::uint32_t> tags, geometry;
            while (feature.next()) {
                switch (feature.tag()) {
                case 1: j["id"] = feature.get_uint64(); break;
                case 2: {
                    const auto range = feature.get_packed_uint32();
                    tags.assign(range.begin(), range.end());
                    break;
                }
                case 3: j["type"] = feature.get_enum(); break;
                case 4: {
                    const auto range = feature.get_packed_uint32();
                    geometry.assign(range.begin(), range.end());
                    break;
                }
                default: FAIL("unknown Feature field " << feature.tag());
                }
            }
            REQUIRE(tags.size() % 2 == 0);
            ordered_json properties = ordered_json::object();
            for (std::size_t i = 0; i + 1 < tags.size(); i += 2) {
                REQUIRE(tags[i] < keys.size());
                REQUIRE(tags[i + 1] < values.size());
                properties[keys[tags[i]]] = values[tags[i + 1]][1];
            }
            j["properties"] = std::move(properties);
            j["geometry"] = decode_geometry(geometry);
            out += "  " + j.dump() + (f + 1 < features.size() ? ",\n" : "\n");
        }
        out += "]}";
    }
    out += "\n]}\n";
    return out;
}

} // namespace mvt_json
