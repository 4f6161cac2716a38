#pragma once
// A minimal bounds-checked WKB cursor shared by polygon_layer (ingest into the tile engine) and the GeoJSON writer.
// Hand-written instead of GEOS because both callers stream coordinates straight into their own buffers: going
// through a GEOS geometry would allocate one object per ring and coordinate sequence for nothing.

#include "core/error.hpp"

#include <cstdint>
#include <cstring>
#include <string>

namespace smallarea::geo::detail {

/// OGC simple-feature base types as numbered in WKB.
enum class wkb_type : std::uint32_t {
    point = 1,
    linestring = 2,
    polygon = 3,
    multipoint = 4,
    multilinestring = 5,
    multipolygon = 6,
    geometrycollection = 7
};

/// Reads ISO/OGC WKB and PostGIS EWKB (Z/M/SRID flags) with either byte order; Z and M values are skipped.
/// Every read is bounds-checked and throws smallarea::error("InvalidGeometry") past the end.
class wkb_cursor {
public:
    wkb_cursor(const unsigned char* data, std::size_t size) noexcept : m_data(data), m_size(size) {}

    /// Reads a geometry header (byte order + type [+ SRID]) and makes the following reads use its byte order
    /// and dimensions. Returns the base type.
    wkb_type read_header() {
        const std::uint8_t order = read_byte();
        if (order > 1) {
            fail("bad byte order marker");
        }
        m_little = (order == 1);
        std::uint32_t type = read_uint32();
        bool has_z = false;
        bool has_m = false;
        if (type & 0x80000000U) { // EWKB flags
            has_z = true;
        }
        if (type & 0x40000000U) {
            has_m = true;
        }
        if (type & 0x20000000U) {
            (void)read_uint32(); // SRID: the caller states the CRS
        }
        type &= 0x0FFFFFFFU;
        const std::uint32_t iso_dims = type / 1000;
        type %= 1000;
        if (iso_dims == 1 || iso_dims == 3) {
            has_z = true;
        }
        if (iso_dims == 2 || iso_dims == 3) {
            has_m = true;
        }
        if (iso_dims > 3 || type < 1 || type > 7) {
            fail("unsupported geometry type " + std::to_string(type));
        }
        m_extra = (has_z ? 1 : 0) + (has_m ? 1 : 0);
        return static_cast<wkb_type>(type);
    }

    std::uint32_t read_uint32() {
        need(4);
        std::uint32_t v = 0;
        if (m_little) {
            v = std::uint32_t(m_data[m_pos]) | (std::uint32_t(m_data[m_pos + 1]) << 8) |
                (std::uint32_t(m_data[m_pos + 2]) << 16) | (std::uint32_t(m_data[m_pos + 3]) << 24);
        } else {
            v = std::uint32_t(m_data[m_pos + 3]) | (std::uint32_t(m_data[m_pos + 2]) << 8) |
                (std::uint32_t(m_data[m_pos + 1]) << 16) | (std::uint32_t(m_data[m_pos]) << 24);
        }
        m_pos += 4;
        return v;
    }

    /// Reads a count and checks it against the bytes left, so a corrupt count cannot trigger a huge allocation.
    std::uint32_t read_count(std::size_t min_bytes_each) {
        const std::uint32_t n = read_uint32();
        if (min_bytes_each > 0 && n > (m_size - m_pos) / min_bytes_each) {
            fail("count " + std::to_string(n) + " exceeds the data");
        }
        return n;
    }

    /// Bytes of one coordinate tuple in the current geometry.
    std::size_t point_bytes() const noexcept { return 8 * (2 + m_extra); }

    /// Reads one coordinate tuple, keeping x and y.
    void read_xy(double& x, double& y) {
        need(point_bytes());
        x = read_double_unchecked();
        y = read_double_unchecked();
        m_pos += 8 * m_extra;
    }

    bool at_end() const noexcept { return m_pos == m_size; }

    [[noreturn]] static void fail(const std::string& why) {
        throw smallarea::error("InvalidGeometry", "cannot parse WKB: " + why);
    }

private:
    std::uint8_t read_byte() {
        need(1);
        return m_data[m_pos++];
    }

    double read_double_unchecked() noexcept {
        unsigned char b[8];
        if (m_little) {
            std::memcpy(b, m_data + m_pos, 8);
        } else {
            for (int i = 0; i < 8; ++i) {
                b[i] = m_data[m_pos + 7 - i];
            }
        }
        m_pos += 8;
        double d = 0.0;
        std::memcpy(&d, b, 8); // assumes a little-endian host, as every platform we build for is
        return d;
    }

    void need(std::size_t n) const {
        if (m_size - m_pos < n) {
            fail("truncated data");
        }
    }

    const unsigned char* m_data;
    std::size_t m_size;
    std::size_t m_pos = 0;
    bool m_little = true;
    int m_extra = 0;
};

} // namespace smallarea::geo::detail
