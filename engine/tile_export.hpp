#pragma once
// Static boundary tiles: the tile pyramid of one level and vintage as a PMTiles v3 archive (geo/pmtiles.hpp) for a
// CDN or object store, cached forever per boundary vintage. The tiles carry feature ids and code/name only, never a
// value of any dataset: an archive on a public bucket cannot be access-controlled, suspended or re-rounded, so
// values (internal MI above all) stay behind the server's access control and are joined to the shapes by id.

#include "engine/catalog.hpp"
#include "geo/pmtiles.hpp"
#include "geo/polygon_layer.hpp"

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace smallarea::engine {

/// How every boundary tile is drawn, served (/tiles/...) or exported (PMTiles), so both give the same shapes:
/// extent 4096, buffer 64, simplification tolerance 4.5 extent units (see server/routes_tiles.cpp for why 4.5).
const geo::tile_options& boundary_tile_options() noexcept;

/// The feature id of an area in an exported archive: FNV-1a 64 of its code, kept to the low 53 bits so that it is
/// exact as a JavaScript number (MapLibre reads MVT ids into one). A function of the code alone, so the same area
/// has the same id in every export of every store and vintage, whatever order a store was ingested in; a store's
/// row id (what /tiles uses) is not, and an archive is cached for longer than any store lives.
std::uint64_t stable_feature_id(std::string_view code) noexcept;

/// The zoom range of an export, validated.
struct zoom_range {
    std::uint32_t min = 0;
    std::uint32_t max = 14;
};
/// Parses --minzoom/--maxzoom ("" takes the default: 0 and 14, past which MapLibre overzooms the z14 tiles, ~0.4 m
/// per tile unit in England). Throws bad_request("InvalidZoom") for a non-number, a zoom outside 0..geo::max_zoom
/// or min > max.
zoom_range parse_zoom_range(const std::string& min_text, const std::string& max_text);

/// What an export did.
struct pmtiles_summary {
    std::string level;
    int vintage = 0;
    zoom_range zooms;
    std::size_t features = 0;
    std::vector<std::uint64_t> tiles_per_zoom; ///< non-empty tiles written, index = zoom (0..max)
    std::uint64_t tiles_visited = 0;           ///< tiles whose buffer some feature's bounds reach (rendered or, below min, only tested)
    geo::pmtiles::archive_summary archive;
};

/// Renders the pyramid of level/vintage ("" = the level's latest) into `out` and finishes it. The walk starts at
/// 0/0/0 and goes down only into children that some feature's bounds reach (geo::tile_has_features); tiles from
/// zooms.min up are rendered with boundary_tile_options() (layer name = level, as /tiles), empty ones skipped, the
/// rest gzip-compressed on `threads` threads (0: one per core) and written in TileId order. Throws
/// not_found("UnknownLevel") for an unknown level or a level/vintage without boundaries, bad_request
/// ("InvalidParameter") for a vintage that is not a year, bad_request("EmptyArchive") when no tile has a feature,
/// error("FeatureIdCollision") when two codes share a stable id, and what the writer throws.
pmtiles_summary write_pmtiles(const snapshot& s, const std::string& level, const std::string& vintage, const zoom_range& zooms,
                              geo::pmtiles::writer& out, unsigned threads = 0,
                              const std::function<void(const std::string&)>& progress = {});

/// For `smallarea tiles export`: validates level, vintage and zooms, opens the archive's temporary file (so an
/// unwritable --out fails before any work), then the store read-only, and writes the archive to out_path.
/// Throws what parse_zoom_range, write_pmtiles, geo::pmtiles::writer and data::open_store throw.
pmtiles_summary export_pmtiles_to_path(const std::string& db_path, const std::string& level, const std::string& vintage,
                                       const std::string& minzoom, const std::string& maxzoom, const std::string& out_path,
                                       unsigned threads = 0, const std::function<void(const std::string&)>& progress = {});

} // namespace smallarea::engine
