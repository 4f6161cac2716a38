#include "geo/geojson.hpp"

#include "geo/wkb.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>

namespace smallarea::geo {

namespace {

void append_number(std::string& out, double v, int decimals) {
    if (!std::isfinite(v)) {
        out += '0'; // JSON has no NaN/Inf; a broken coordinate must not break the document
        return;
    }
    char buf[64];
    const auto res = std::to_chars(buf, buf + sizeof(buf), v, std::chars_format::fixed, decimals);
    char* end = res.ptr;
    if (res.ec != std::errc{}) { // only for absurd magnitudes
        const auto r2 = std::to_chars(buf, buf + sizeof(buf), v);
        end = r2.ptr;
    } else if (decimals > 0) {
        while (end[-1] == '0') {
            --end;
        }
        if (end[-1] == '.') {
            --end;
        }
    }
    const std::string_view s{buf, static_cast<std::size_t>(end - buf)};
    if (s == "-0") {
        out += '0';
    } else {
        out.append(s);
    }
}

void append_position(std::string& out, detail::wkb_cursor& c, int decimals) {
    double x = 0.0;
    double y = 0.0;
    c.read_xy(x, y);
    out += '[';
    append_number(out, x, decimals);
    out += ',';
    append_number(out, y, decimals);
    out += ']';
}

void append_positions(std::string& out, detail::wkb_cursor& c, int decimals) {
    const std::uint32_t n = c.read_count(c.point_bytes());
    out += '[';
    for (std::uint32_t i = 0; i < n; ++i) {
        if (i > 0) {
            out += ',';
        }
        append_position(out, c, decimals);
    }
    out += ']';
}

void append_rings(std::string& out, detail::wkb_cursor& c, int decimals) {
    const std::uint32_t n = c.read_count(4);
    out += '[';
    for (std::uint32_t i = 0; i < n; ++i) {
        if (i > 0) {
            out += ',';
        }
        append_positions(out, c, decimals);
    }
    out += ']';
}

// Reads the members of a Multi* geometry, each with its own header, expecting `member` type.
template <typename Body>
void append_members(std::string& out, detail::wkb_cursor& c, detail::wkb_type member, Body&& body) {
    const std::uint32_t n = c.read_count(5);
    out += '[';
    for (std::uint32_t i = 0; i < n; ++i) {
        if (i > 0) {
            out += ',';
        }
        if (c.read_header() != member) {
            detail::wkb_cursor::fail("unexpected member type in a multi-geometry");
        }
        body();
    }
    out += ']';
}

void append_geometry(std::string& out, detail::wkb_cursor& c, int decimals, int depth) {
    if (depth > 32) {
        detail::wkb_cursor::fail("geometry collections nested too deeply");
    }
    using detail::wkb_type;
    switch (c.read_header()) {
    case wkb_type::point: {
        double x = 0.0;
        double y = 0.0;
        c.read_xy(x, y);
        out += R"({"type":"Point","coordinates":)";
        if (std::isnan(x) && std::isnan(y)) { // WKB's empty point
            out += "[]";
        } else {
            out += '[';
            append_number(out, x, decimals);
            out += ',';
            append_number(out, y, decimals);
            out += ']';
        }
        break;
    }
    case wkb_type::linestring:
        out += R"({"type":"LineString","coordinates":)";
        append_positions(out, c, decimals);
        break;
    case wkb_type::polygon:
        out += R"({"type":"Polygon","coordinates":)";
        append_rings(out, c, decimals);
        break;
    case wkb_type::multipoint:
        out += R"({"type":"MultiPoint","coordinates":)";
        append_members(out, c, wkb_type::point, [&] { append_position(out, c, decimals); });
        break;
    case wkb_type::multilinestring:
        out += R"({"type":"MultiLineString","coordinates":)";
        append_members(out, c, wkb_type::linestring, [&] { append_positions(out, c, decimals); });
        break;
    case wkb_type::multipolygon:
        out += R"({"type":"MultiPolygon","coordinates":)";
        append_members(out, c, wkb_type::polygon, [&] { append_rings(out, c, decimals); });
        break;
    case wkb_type::geometrycollection: {
        out += R"({"type":"GeometryCollection","geometries":[)";
        const std::uint32_t n = c.read_count(5);
        for (std::uint32_t i = 0; i < n; ++i) {
            if (i > 0) {
                out += ',';
            }
            append_geometry(out, c, decimals, depth + 1);
        }
        out += ']';
        break;
    }
    }
    out += '}';
}

} // namespace

void append_geojson_geometry(std::string& out, const unsigned char* wkb, std::size_t size, int decimals) {
    detail::wkb_cursor c{wkb, size};
    append_geometry(out, c, std::clamp(decimals, 0, 15), 0);
}

} // namespace smallarea::geo
