#pragma once
// Shared helpers of the geo tests: a WKB writer for hand-made polygons and a protozero MVT decoder, so tiles
// are checked as a client sees them.

#include "geo/polygon_layer.hpp"

#include <protozero/pbf_reader.hpp>

#include <cstdint>
#include <cstring>
#include <map>
#include <string>
#include <vector>

namespace test_geo {

using ring = std::vector<std::pair<double, double>>;
using polygon = std::vector<ring>; // exterior then holes

inline void put_u32(std::string& s, std::uint32_t v) {
    for (int i = 0; i < 4; ++i) {
        s += static_cast<char>((v >> (8 * i)) & 0xFF);
    }
}
inline void put_f64(std::string& s, double d) {
    char b[8];
    std::memcpy(b, &d, 8);
    s.append(b, 8);
}
inline void put_polygon_body(std::string& s, const polygon& p) {
    put_u32(s, static_cast<std::uint32_t>(p.size()));
    for (const ring& r : p) {
        put_u32(s, static_cast<std::uint32_t>(r.size()));
        for (const auto& [x, y] : r) {
            put_f64(s, x);
            put_f64(s, y);
        }
    }
}
/// Little-endian ISO WKB Polygon.
inline std::string wkb_polygon(const polygon& p) {
    std::string s(1, '\x01');
    put_u32(s, 3);
    put_polygon_body(s, p);
    return s;
}
/// Little-endian ISO WKB MultiPolygon.
inline std::string wkb_multipolygon(const std::vector<polygon>& ps) {
    std::string s(1, '\x01');
    put_u32(s, 6);
    put_u32(s, static_cast<std::uint32_t>(ps.size()));
    for (const polygon& p : ps) {
        s += '\x01';
        put_u32(s, 3);
        put_polygon_body(s, p);
    }
    return s;
}
/// Closed axis-aligned rectangle ring (counter-clockwise in lon/lat).
inline ring rect(double x0, double y0, double x1, double y1) {
    return {{x0, y0}, {x1, y0}, {x1, y1}, {x0, y1}, {x0, y0}};
}
inline const unsigned char* bytes(const std::string& s) {
    return reinterpret_cast<const unsigned char*>(s.data());
}

struct decoded_point {
    std::int64_t x;
    std::int64_t y;
};
struct decoded_ring {
    std::vector<decoded_point> points; // as encoded (open: ClosePath closes it)
    bool closed = false;
    /// Area by the MVT spec's surveyor formula, in tile units (positive = exterior).
    double area() const {
        double a = 0;
        for (std::size_t i = 0, j = points.size() - 1; i < points.size(); j = i++) {
            a += double(points[j].x) * double(points[i].y) - double(points[i].x) * double(points[j].y);
        }
        return a / 2;
    }
};
struct decoded_feature {
    bool has_id = false;
    std::uint64_t id = 0;
    std::uint32_t type = 0;
    std::map<std::string, std::string> properties; // values rendered as text, for easy comparison
    std::vector<decoded_ring> rings;
};
struct decoded_layer {
    std::string name;
    std::uint32_t version = 1;
    std::uint32_t extent = 4096;
    std::vector<std::string> keys;
    std::vector<std::string> values;
    std::vector<decoded_feature> features;
};

inline std::string decode_value(protozero::data_view v) {
    protozero::pbf_reader r{v};
    std::string out;
    while (r.next()) {
        switch (r.tag()) {
        case 1: out = "s:" + r.get_string(); break;
        case 2: out = "f:" + std::to_string(r.get_float()); break;
        case 3: out = "d:" + std::to_string(r.get_double()); break;
        case 4: out = "i:" + std::to_string(r.get_int64()); break;
        case 5: out = "i:" + std::to_string(r.get_uint64()); break;
        case 6: out = "i:" + std::to_string(r.get_sint64()); break;
        case 7: out = std::string("b:") + (r.get_bool() ? "true" : "false"); break;
        default: r.skip();
        }
    }
    return out;
}

/// Decodes every layer of an uncompressed MVT. Throws std::runtime_error on malformed geometry commands.
inline std::vector<decoded_layer> decode_tile(const std::string& data) {
    std::vector<decoded_layer> layers;
    protozero::pbf_reader tile{data};
    while (tile.next(3)) {
        protozero::pbf_reader lr = tile.get_message();
        decoded_layer layer;
        std::vector<protozero::data_view> features;
        while (lr.next()) {
            switch (lr.tag()) {
            case 1: layer.name = lr.get_string(); break;
            case 2: features.push_back(lr.get_view()); break;
            case 3: layer.keys.push_back(lr.get_string()); break;
            case 4: layer.values.push_back(decode_value(lr.get_view())); break;
            case 5: layer.extent = lr.get_uint32(); break;
            case 15: layer.version = lr.get_uint32(); break;
            default: lr.skip();
            }
        }
        for (const auto& fv : features) {
            protozero::pbf_reader fr{fv};
            decoded_feature f;
            std::vector<std::uint32_t> tags;
            std::vector<std::uint32_t> geometry;
            while (fr.next()) {
                switch (fr.tag()) {
                case 1: f.has_id = true; f.id = fr.get_uint64(); break;
                case 2: for (auto t : fr.get_packed_uint32()) { tags.push_back(t); } break;
                case 3: f.type = static_cast<std::uint32_t>(fr.get_enum()); break;
                case 4: for (auto g : fr.get_packed_uint32()) { geometry.push_back(g); } break;
                default: fr.skip();
                }
            }
            if (tags.size() % 2 != 0) {
                throw std::runtime_error("odd tag count");
            }
            for (std::size_t i = 0; i < tags.size(); i += 2) {
                f.properties[layer.keys.at(tags[i])] = layer.values.at(tags[i + 1]);
            }
            std::int64_t cx = 0;
            std::int64_t cy = 0;
            std::size_t i = 0;
            auto zz = [](std::uint32_t v) { return std::int64_t{static_cast<std::int32_t>((v >> 1) ^ (~(v & 1) + 1))}; };
            while (i < geometry.size()) {
                const std::uint32_t cmd = geometry[i] & 7;
                const std::uint32_t count = geometry[i] >> 3;
                ++i;
                if (cmd == 1) {
                    if (count != 1) {
                        throw std::runtime_error("MoveTo count != 1");
                    }
                    cx += zz(geometry.at(i));
                    cy += zz(geometry.at(i + 1));
                    i += 2;
                    f.rings.emplace_back();
                    f.rings.back().points.push_back({cx, cy});
                } else if (cmd == 2) {
                    if (f.rings.empty()) {
                        throw std::runtime_error("LineTo before MoveTo");
                    }
                    for (std::uint32_t k = 0; k < count; ++k) {
                        cx += zz(geometry.at(i));
                        cy += zz(geometry.at(i + 1));
                        i += 2;
                        f.rings.back().points.push_back({cx, cy});
                    }
                } else if (cmd == 7) {
                    if (f.rings.empty()) {
                        throw std::runtime_error("ClosePath before MoveTo");
                    }
                    f.rings.back().closed = true;
                } else {
                    throw std::runtime_error("unknown command");
                }
            }
            layer.features.push_back(std::move(f));
        }
        layers.push_back(std::move(layer));
    }
    return layers;
}

} // namespace test_geo
