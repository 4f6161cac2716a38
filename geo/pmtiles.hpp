#pragma once
// A PMTiles v3 archive writer (spec: github.com/protomaps/PMTiles, spec/v3/spec.md): one file holding a tile
// pyramid that any static file server or object store can serve with HTTP range requests. Hand-written because
// Debian packages no C++ PMTiles library; the format is small (a 127-byte header, varint directories, gzip).
// Pure: no HTTP, no SQL, no knowledge of what the tiles hold.

#include "geo/tile.hpp"

#include <cstdint>
#include <fstream>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace smallarea::geo::pmtiles {

/// The spec's TileId: the position of z/x/y on the series of Hilbert curves of zoom 0, 1, 2, ... (all tiles of
/// zoom z-1 come before any tile of zoom z). 0/0/0 -> 0, 1/0/0 -> 1, 1/1/0 -> 4, 2/1/3 -> 11, 3/3/0 -> 26.
/// Precondition: valid_tile(t) (asserted). Does not throw.
std::uint64_t tile_id_of(const tile_id& t) noexcept;

/// The inverse of tile_id_of. Throws std::out_of_range for an id beyond zoom max_zoom.
tile_id tile_of(std::uint64_t id);

/// A directory entry. run_length 0: offset/length point to a leaf directory (offset from the start of the leaf
/// directory section); otherwise to tile data (offset from the start of the tile data section), repeated for
/// tile ids tile_id .. tile_id + run_length - 1.
struct entry {
    std::uint64_t tile_id = 0;
    std::uint64_t offset = 0;
    std::uint32_t length = 0;
    std::uint32_t run_length = 0;
};

/// A directory as the spec serialises it before compression: the entry count, then columns of delta-encoded
/// tile ids, run lengths, lengths and offsets (0 when contiguous with the previous entry, offset + 1 otherwise),
/// all unsigned LEB128 varints. Precondition: entries non-empty and ascending by tile_id.
std::string serialize_directory(const std::vector<entry>& entries);

/// gzip (RFC 1952) at zlib level 6 with no timestamp, so the same input always gives the same bytes (an archive
/// exported twice from the same boundaries is byte-identical). Throws smallarea::error("CompressionFailed").
std::string gzip(std::string_view input);

/// What the header says about the whole archive besides the sections' places.
struct archive_info {
    std::uint8_t min_zoom = 0;
    std::uint8_t max_zoom = 0;
    bbox bounds_lonlat;  ///< EPSG:4326 degrees
    double center_lon = 0.0, center_lat = 0.0;
    std::uint8_t center_zoom = 0;
    std::string metadata_json; ///< the JSON metadata (TileJSON-like, with vector_layers); stored gzip-compressed
};

/// What finish() wrote.
struct archive_summary {
    std::uint64_t addressed_tiles = 0; ///< sum of run lengths
    std::uint64_t tile_entries = 0;    ///< entries with run_length > 0
    std::uint64_t tile_contents = 0;   ///< distinct blobs in the tile data section
    std::uint64_t leaf_directories = 0;
    std::uint64_t root_bytes = 0, leaf_bytes = 0, metadata_bytes = 0, tile_data_bytes = 0;
    std::uint64_t file_bytes = 0;
};

/// Writes one archive of gzip-compressed MVT tiles. Tiles must be added in ascending TileId order (so the archive
/// is "clustered": tile data in TileId order, which lets a reader fetch neighbouring tiles in one range), each
/// once; identical tiles are stored once (a repeat points back to the first copy, and consecutive repeats become
/// one entry with a run length). Nothing appears at `path` until finish() succeeds: tile data goes to
/// PATH.tmp-data-PID, the archive is assembled in PATH.tmp-PID and renamed onto `path`; the destructor removes
/// whatever temporary files are left, so a failed or abandoned export leaves no partial archive.
class writer {
public:
    /// Throws smallarea::error("ExportFailed") naming the file when the temporary file cannot be created (no such
    /// folder, no permission) or `path` is a folder.
    explicit writer(std::string path);
    ~writer();
    writer(const writer&) = delete;
    writer& operator=(const writer&) = delete;

    /// Adds the tile t, already gzip-compressed (see gzip()); empty data is refused (the spec needs length > 0:
    /// skip empty tiles). Throws std::invalid_argument when t is not after the previous tile or data is empty,
    /// smallarea::error("ExportFailed") on a write error.
    void add_gzipped_tile(const tile_id& t, std::string_view data);

    /// Builds the directories (a root alone when it fits the spec's 16,384 bytes with the header, else root +
    /// leaves), writes header, root, metadata, leaves and tile data, and renames the archive onto the path.
    /// Throws std::logic_error when no tile was added (the spec needs a non-empty directory),
    /// smallarea::error("ExportFailed") on a write or rename error. Call once.
    archive_summary finish(const archive_info& info);

    std::uint64_t tiles_added() const noexcept { return m_addressed; }

private:
    std::string m_path, m_data_path, m_archive_path;
    std::fstream m_data;
    std::uint64_t m_data_size = 0;
    std::vector<entry> m_entries;
    std::uint64_t m_addressed = 0;
    std::uint64_t m_last_id = 0;
    bool m_any = false;
    bool m_finished = false;
    // content hash -> offsets of blobs with that hash (a hit is confirmed byte for byte before it is reused)
    std::unordered_map<std::uint64_t, std::vector<std::pair<std::uint64_t, std::uint32_t>>> m_blobs;
    std::uint64_t m_contents = 0;
};

} // namespace smallarea::geo::pmtiles
