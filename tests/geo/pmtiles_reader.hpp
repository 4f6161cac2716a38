#pragma once
// A hand-written PMTiles v3 reader for tests, written from the spec (not from geo/pmtiles.cpp): header fields,
// gunzip, varint directories, leaf directories and the tile lookup. It checks the writer independently of the
// writer's own code; tests/tiles/pmtiles.test.mjs checks it again with the npm `pmtiles` package.

#include <zlib.h>

#include <cstdint>
#include <fstream>
#include <iterator>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace pmtiles_test {

inline std::string gunzip(const std::string& in) {
    z_stream z{};
    if (inflateInit2(&z, 15 + 16) != Z_OK) throw std::runtime_error("inflateInit2");
    std::string out;
    char buffer[65536];
    z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
    z.avail_in = static_cast<uInt>(in.size());
    int rc = Z_OK;
    while (rc != Z_STREAM_END) {
        z.next_out = reinterpret_cast<Bytef*>(buffer);
        z.avail_out = sizeof buffer;
        rc = inflate(&z, Z_NO_FLUSH);
        if (rc != Z_OK && rc != Z_STREAM_END) {
            inflateEnd(&z);
            throw std::runtime_error("not gzip");
        }
        out.append(buffer, sizeof buffer - z.avail_out);
    }
    inflateEnd(&z);
    return out;
}

inline std::uint64_t le(const std::string& s, std::size_t at, int bytes) {
    std::uint64_t v = 0;
    for (int i = bytes - 1; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(s.at(at + static_cast<std::size_t>(i)));
    return v;
}

inline std::uint64_t varint(const std::string& s, std::size_t& pos) {
    std::uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
        const auto b = static_cast<unsigned char>(s.at(pos++));
        v |= static_cast<std::uint64_t>(b & 0x7f) << shift;
        if (!(b & 0x80)) return v;
    }
    throw std::runtime_error("varint too long");
}

struct entry {
    std::uint64_t tile_id, offset, length, run_length;
};

/// The spec's "Directory Serialization", undone step by step.
inline std::vector<entry> decode_directory(const std::string& s) {
    std::size_t pos = 0;
    const auto n = varint(s, pos);
    std::vector<entry> e(n);
    std::uint64_t last = 0;
    for (auto& x : e) x.tile_id = last = last + varint(s, pos);
    for (auto& x : e) x.run_length = varint(s, pos);
    for (auto& x : e) x.length = varint(s, pos);
    for (std::size_t i = 0; i < n; ++i) {
        const auto v = varint(s, pos);
        if (v == 0) {
            if (i == 0) throw std::runtime_error("first offset cannot be contiguous");
            e[i].offset = e[i - 1].offset + e[i - 1].length;
        } else {
            e[i].offset = v - 1;
        }
    }
    if (pos != s.size()) throw std::runtime_error("trailing bytes after the directory");
    return e;
}

struct archive {
    std::string bytes;
    std::uint64_t root_offset, root_length, metadata_offset, metadata_length, leaf_offset, leaf_length, data_offset, data_length;
    std::uint64_t addressed, entries, contents;
    int clustered, internal_compression, tile_compression, tile_type, min_zoom, max_zoom, center_zoom;
    double min_lon, min_lat, max_lon, max_lat, center_lon, center_lat;

    std::string section(std::uint64_t offset, std::uint64_t length) const { return bytes.substr(offset, length); }
    std::string metadata() const { return gunzip(section(metadata_offset, metadata_length)); }
    std::vector<entry> root() const { return decode_directory(gunzip(section(root_offset, root_length))); }
    std::vector<entry> leaf(const entry& e) const { return decode_directory(gunzip(section(leaf_offset + e.offset, e.length))); }

    /// Every tile entry, leaves expanded (in order).
    std::vector<entry> all_entries() const {
        std::vector<entry> out;
        for (const auto& e : root()) {
            if (e.run_length > 0) {
                out.push_back(e);
                continue;
            }
            for (const auto& l : leaf(e)) {
                if (l.run_length == 0) throw std::runtime_error("a leaf pointing to a leaf (not written by us)");
                out.push_back(l);
            }
        }
        return out;
    }
    /// The gzip-compressed bytes of a tile id, or nullopt.
    std::optional<std::string> tile(std::uint64_t id) const {
        for (const auto& e : all_entries()) {
            if (id >= e.tile_id && id < e.tile_id + e.run_length) return section(data_offset + e.offset, e.length);
        }
        return std::nullopt;
    }
};

inline archive read_archive(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw std::runtime_error("cannot open " + path);
    archive a;
    a.bytes.assign(std::istreambuf_iterator<char>(in), {});
    const auto& s = a.bytes;
    if (s.size() < 127 || s.compare(0, 7, "PMTiles") != 0 || s[7] != 3) throw std::runtime_error("not a PMTiles v3 file");
    a.root_offset = le(s, 8, 8);
    a.root_length = le(s, 16, 8);
    a.metadata_offset = le(s, 24, 8);
    a.metadata_length = le(s, 32, 8);
    a.leaf_offset = le(s, 40, 8);
    a.leaf_length = le(s, 48, 8);
    a.data_offset = le(s, 56, 8);
    a.data_length = le(s, 64, 8);
    a.addressed = le(s, 72, 8);
    a.entries = le(s, 80, 8);
    a.contents = le(s, 88, 8);
    a.clustered = static_cast<unsigned char>(s[96]);
    a.internal_compression = static_cast<unsigned char>(s[97]);
    a.tile_compression = static_cast<unsigned char>(s[98]);
    a.tile_type = static_cast<unsigned char>(s[99]);
    a.min_zoom = static_cast<unsigned char>(s[100]);
    a.max_zoom = static_cast<unsigned char>(s[101]);
    const auto deg = [&](std::size_t at) { return static_cast<std::int32_t>(static_cast<std::uint32_t>(le(s, at, 4))) / 1e7; };
    a.min_lon = deg(102);
    a.min_lat = deg(106);
    a.max_lon = deg(110);
    a.max_lat = deg(114);
    a.center_zoom = static_cast<unsigned char>(s[118]);
    a.center_lon = deg(119);
    a.center_lat = deg(123);
    return a;
}

} // namespace pmtiles_test
