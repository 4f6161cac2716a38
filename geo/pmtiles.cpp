#include "geo/pmtiles.hpp"

#include "core/error.hpp"

#include <zlib.h>

#include <unistd.h>

#include <algorithm>
#include <cassert>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <stdexcept>
#include <system_error>

namespace smallarea::geo::pmtiles {

namespace {

constexpr std::size_t header_size = 127;
// The spec: header + root directory within the first 16 KiB, so a client gets both with one request.
constexpr std::size_t root_limit = 16384;

void put_varint(std::string& out, std::uint64_t v) {
    while (v >= 0x80) {
        out.push_back(static_cast<char>((v & 0x7f) | 0x80));
        v >>= 7;
    }
    out.push_back(static_cast<char>(v));
}

void put_le(std::string& out, std::uint64_t v, int bytes) {
    for (int i = 0; i < bytes; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

std::int32_t e7(double degrees) { return static_cast<std::int32_t>(std::llround(degrees * 10000000.0)); }

std::uint64_t fnv1a(std::string_view data) {
    std::uint64_t h = 14695981039346656037ULL;
    for (const unsigned char c : data) {
        h ^= c;
        h *= 1099511628211ULL;
    }
    return h;
}

[[noreturn]] void write_failed(const std::string& path, const std::string& why) {
    throw error("ExportFailed", "cannot write " + path + (why.empty() ? "" : ": " + why));
}

} // namespace

std::uint64_t tile_id_of(const tile_id& t) noexcept {
    assert(valid_tile(t));
    // Tiles of the zooms before z: 1 + 4 + ... + 4^(z-1) = (4^z - 1) / 3.
    const std::uint64_t before = ((std::uint64_t{1} << (2 * t.z)) - 1) / 3;
    // Hilbert d of (x, y) on a 2^z grid (the classic xy2d: take one quadrant per bit, rotating as the curve does).
    const std::uint64_t n = std::uint64_t{1} << t.z;
    std::uint64_t x = t.x, y = t.y, d = 0;
    for (std::uint64_t s = n / 2; s > 0; s /= 2) {
        const std::uint64_t rx = (x & s) ? 1 : 0;
        const std::uint64_t ry = (y & s) ? 1 : 0;
        d += s * s * ((3 * rx) ^ ry);
        if (ry == 0) {
            if (rx == 1) {
                x = n - 1 - x;
                y = n - 1 - y;
            }
            std::swap(x, y);
        }
    }
    return before + d;
}

tile_id tile_of(std::uint64_t id) {
    std::uint32_t z = 0;
    std::uint64_t before = 0;
    for (;; ++z) {
        if (z > max_zoom) throw std::out_of_range("pmtiles: tile id beyond zoom " + std::to_string(max_zoom));
        const std::uint64_t count = std::uint64_t{1} << (2 * z);
        if (id < before + count) break;
        before += count;
    }
    const std::uint64_t n = std::uint64_t{1} << z;
    std::uint64_t t = id - before, x = 0, y = 0;
    for (std::uint64_t s = 1; s < n; s *= 2) { // the classic d2xy
        const std::uint64_t rx = 1 & (t / 2);
        const std::uint64_t ry = 1 & (t ^ rx);
        if (ry == 0) {
            if (rx == 1) {
                x = s - 1 - x;
                y = s - 1 - y;
            }
            std::swap(x, y);
        }
        x += s * rx;
        y += s * ry;
        t /= 4;
    }
    return tile_id{z, static_cast<std::uint32_t>(x), static_cast<std::uint32_t>(y)};
}

std::string serialize_directory(const std::vector<entry>& entries) {
    assert(!entries.empty());
    std::string out;
    put_varint(out, entries.size());
    std::uint64_t last = 0;
    for (const auto& e : entries) {
        assert(e.tile_id >= last);
        put_varint(out, e.tile_id - last);
        last = e.tile_id;
    }
    for (const auto& e : entries) put_varint(out, e.run_length);
    for (const auto& e : entries) put_varint(out, e.length);
    for (std::size_t i = 0; i < entries.size(); ++i) {
        const bool contiguous = i > 0 && entries[i].offset == entries[i - 1].offset + entries[i - 1].length;
        put_varint(out, contiguous ? 0 : entries[i].offset + 1);
    }
    return out;
}

std::string gzip(std::string_view input) {
    z_stream z{};
    // windowBits 15 + 16: a gzip wrapper, which zlib writes with mtime 0 (no deflateSetHeader): deterministic.
    if (deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) throw error("CompressionFailed", "zlib deflateInit2 failed");
    std::string out;
    out.resize(deflateBound(&z, static_cast<uLong>(input.size())) + 32);
    z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(input.data()));
    z.avail_in = static_cast<uInt>(input.size());
    z.next_out = reinterpret_cast<Bytef*>(out.data());
    z.avail_out = static_cast<uInt>(out.size());
    const int rc = deflate(&z, Z_FINISH);
    out.resize(z.total_out);
    deflateEnd(&z);
    if (rc != Z_STREAM_END) throw error("CompressionFailed", "zlib deflate did not finish");
    return out;
}

writer::writer(std::string path) : m_path(std::move(path)) {
    std::error_code ec;
    if (std::filesystem::is_directory(m_path, ec)) write_failed(m_path, "it is a folder");
    const std::string suffix = std::to_string(::getpid());
    m_data_path = m_path + ".tmp-data-" + suffix;
    m_archive_path = m_path + ".tmp-" + suffix;
    m_data.open(m_data_path, std::ios::binary | std::ios::in | std::ios::out | std::ios::trunc);
    if (!m_data) write_failed(m_path, std::strerror(errno));
}

writer::~writer() {
    if (m_data.is_open()) m_data.close();
    std::error_code ec; // a destructor must not throw: leftovers that cannot be removed stay, named .tmp-*
    std::filesystem::remove(m_data_path, ec);
    if (!m_finished) std::filesystem::remove(m_archive_path, ec);
}

void writer::add_gzipped_tile(const tile_id& t, std::string_view data) {
    if (data.empty()) throw std::invalid_argument("pmtiles: empty tile (skip empty tiles)");
    if (data.size() > 0xffffffffULL) throw std::invalid_argument("pmtiles: tile over 4 GiB");
    const std::uint64_t id = tile_id_of(t);
    if (m_any && id <= m_last_id) throw std::invalid_argument("pmtiles: tiles must be added in ascending TileId order");
    const auto length = static_cast<std::uint32_t>(data.size());

    // Deduplicate: a hash hit is confirmed by reading the earlier blob back (hits are rare for boundary tiles,
    // mostly tiles wholly inside one area at high zoom, so the read costs nothing overall).
    std::uint64_t offset = m_data_size;
    bool reused = false;
    auto& candidates = m_blobs[fnv1a(data)];
    for (const auto& [o, l] : candidates) {
        if (l != length) continue;
        std::string earlier(l, '\0');
        m_data.seekg(static_cast<std::streamoff>(o));
        m_data.read(earlier.data(), l);
        if (!m_data) write_failed(m_path, "reading back the tile data");
        if (earlier == data) {
            offset = o;
            reused = true;
            break;
        }
    }
    if (!reused) {
        m_data.seekp(static_cast<std::streamoff>(m_data_size));
        m_data.write(data.data(), static_cast<std::streamsize>(data.size()));
        if (!m_data) write_failed(m_path, "writing tile data");
        m_data_size += length;
        candidates.emplace_back(offset, length);
        ++m_contents;
    }
    if (!m_entries.empty()) {
        auto& last = m_entries.back();
        if (last.offset == offset && last.length == length && last.tile_id + last.run_length == id) {
            ++last.run_length;
            m_last_id = id;
            ++m_addressed;
            return;
        }
    }
    m_entries.push_back(entry{id, offset, length, 1});
    m_last_id = id;
    m_any = true;
    ++m_addressed;
}

archive_summary writer::finish(const archive_info& info) {
    assert(!m_finished);
    if (m_entries.empty()) throw std::logic_error("pmtiles: an archive needs at least one tile");

    // Directories: the root alone when it fits; else leaves of leaf_size entries and a root pointing at them,
    // growing the leaves until the root fits (the spec leaves the split to the writer; this is the usual one).
    std::string root, leaves;
    std::uint64_t leaf_count = 0;
    root = gzip(serialize_directory(m_entries));
    if (header_size + root.size() > root_limit) {
        std::size_t leaf_size = 4096;
        for (;;) {
            std::vector<entry> root_entries;
            leaves.clear();
            for (std::size_t i = 0; i < m_entries.size(); i += leaf_size) {
                const std::size_t end = std::min(m_entries.size(), i + leaf_size);
                const std::vector<entry> part(m_entries.begin() + static_cast<std::ptrdiff_t>(i),
                                              m_entries.begin() + static_cast<std::ptrdiff_t>(end));
                const std::string leaf = gzip(serialize_directory(part));
                root_entries.push_back(entry{part.front().tile_id, leaves.size(), static_cast<std::uint32_t>(leaf.size()), 0});
                leaves += leaf;
            }
            root = gzip(serialize_directory(root_entries));
            leaf_count = root_entries.size();
            if (header_size + root.size() <= root_limit) break;
            leaf_size += leaf_size / 5;
        }
    }
    const std::string metadata = gzip(info.metadata_json);

    archive_summary sum;
    sum.addressed_tiles = m_addressed;
    sum.tile_entries = m_entries.size();
    sum.tile_contents = m_contents;
    sum.leaf_directories = leaf_count;
    sum.root_bytes = root.size();
    sum.leaf_bytes = leaves.size();
    sum.metadata_bytes = metadata.size();
    sum.tile_data_bytes = m_data_size;

    const std::uint64_t root_offset = header_size;
    const std::uint64_t metadata_offset = root_offset + root.size();
    const std::uint64_t leaves_offset = metadata_offset + metadata.size();
    const std::uint64_t data_offset = leaves_offset + leaves.size();
    sum.file_bytes = data_offset + m_data_size;

    std::string h = "PMTiles";
    h.push_back(3);
    put_le(h, root_offset, 8);
    put_le(h, root.size(), 8);
    put_le(h, metadata_offset, 8);
    put_le(h, metadata.size(), 8);
    put_le(h, leaves_offset, 8);
    put_le(h, leaves.size(), 8);
    put_le(h, data_offset, 8);
    put_le(h, m_data_size, 8);
    put_le(h, sum.addressed_tiles, 8);
    put_le(h, sum.tile_entries, 8);
    put_le(h, sum.tile_contents, 8);
    h.push_back(1); // clustered: tiles were added in TileId order, repeats point back
    h.push_back(2); // internal compression: gzip
    h.push_back(2); // tile compression: gzip
    h.push_back(1); // tile type: MVT
    h.push_back(static_cast<char>(info.min_zoom));
    h.push_back(static_cast<char>(info.max_zoom));
    put_le(h, static_cast<std::uint32_t>(e7(info.bounds_lonlat.min_x)), 4);
    put_le(h, static_cast<std::uint32_t>(e7(info.bounds_lonlat.min_y)), 4);
    put_le(h, static_cast<std::uint32_t>(e7(info.bounds_lonlat.max_x)), 4);
    put_le(h, static_cast<std::uint32_t>(e7(info.bounds_lonlat.max_y)), 4);
    h.push_back(static_cast<char>(info.center_zoom));
    put_le(h, static_cast<std::uint32_t>(e7(info.center_lon)), 4);
    put_le(h, static_cast<std::uint32_t>(e7(info.center_lat)), 4);
    assert(h.size() == header_size);

    {
        std::ofstream out(m_archive_path, std::ios::binary | std::ios::trunc);
        if (!out) write_failed(m_path, std::strerror(errno));
        out << h << root << metadata << leaves;
        m_data.flush();
        m_data.seekg(0);
        std::vector<char> buffer(1 << 20);
        std::uint64_t left = m_data_size;
        while (left > 0 && out) {
            const auto n = static_cast<std::streamsize>(std::min<std::uint64_t>(left, buffer.size()));
            m_data.read(buffer.data(), n);
            if (m_data.gcount() != n) write_failed(m_path, "reading back the tile data");
            out.write(buffer.data(), n);
            left -= static_cast<std::uint64_t>(n);
        }
        out.close();
        if (!out) write_failed(m_path, "writing the archive");
    }
    m_data.close();
    std::error_code ec;
    std::filesystem::rename(m_archive_path, m_path, ec);
    if (ec) write_failed(m_path, ec.message());
    m_finished = true;
    return sum;
}

} // namespace smallarea::geo::pmtiles
