#pragma once
// Exports for strategic planners, shared by the HTTP routes (/api/export/..., /api/table?format=xlsx) and the
// `smallarea export` command: one dataset/measure/period as CSV, XLSX, GeoJSON or GeoPackage, or plain areas
// (no dataset) as GeoJSON or GeoPackage; the same for bespoke areas (level=bespoke&ids=...); the target finder's
// top N as CSV or XLSX. Values come only from protected tables.

#include "engine/catalog.hpp"
#include "geo/bespoke_geometry.hpp"
#include "engine/encode_csv.hpp"
#include "engine/table_layout.hpp"

#include <optional>
#include <string>

namespace smallarea::engine {

/// What to export, as the user wrote it (validated by export_any and what it calls).
struct export_request {
    std::string dataset; ///< empty: areas without values (level required)
    std::string measure;
    std::string period;
    std::string level;    ///< "bespoke": one row/feature per bespoke area named in ids
    std::string ids;      ///< level=bespoke: bespoke area ids, comma-separated (at most 100)
    std::string vintage;
    std::string within;
    std::string format; ///< csv | xlsx | geojson | gpkg
    std::size_t max_rows = 0; ///< refuse (413 TooLarge) above this many rows/features; 0 = no limit (CLI)
    /// Who may read which bespoke areas (ids=, within=bespoke:). Default: public areas only; HTTP routes pass
    /// context::bespoke_reader, the CLI data::bespoke_reader::store_holder().
    data::bespoke_reader bespoke;
    file_options options; ///< csv/xlsx: total row, '#' preamble
    std::string periods;  ///< csv/xlsx of a dataset: one column set per period ("all", "FROM/TO", "P1,P2"); empty: one
};

struct export_file {
    std::string bytes;
    std::string content_type;
    /// says what it is: dataset_measure_period_level[_within]_YYYY-MM-DD.ext, with level "bespoke_{ids}" for
    /// bespoke areas, "targets_dataset_measure_period_level[_within]_YYYY-MM-DD.ext" for targets
    std::string filename;
    std::size_t features = 0; ///< rows or features written
    /// csv only: the CSV on the Web sidecar (application/csvm+json) whose "url" is `filename`; HTTP routes point
    /// it at the CSV's URL, `smallarea export` writes it next to the file as FILE-metadata.json.
    nlohmann::json csv_metadata;
};

/// Only characters every file system and Content-Disposition accept unquoted (others become '_').
std::string safe_name(const std::string& text);
/// The media type of an export format (csv, xlsx, geojson, gpkg).
const char* content_type_of(const std::string& format);

/// A table file of a layout (format "csv", with its CSVW sidecar, or "xlsx") named `filename`, `features` rows.
export_file layout_file(const table_result& t, const row_layout& layout, const file_options& options, const std::string& format,
                        const std::string& filename, std::size_t features);

/// "csv", "xlsx", "geojson", "gpkg"; throws unsupported_format("UnsupportedFormat") otherwise.
const std::string& check_export_format(const std::string& format);

/// The export of a validated table query (from snapshot::make_query): the protected table of q in `format`.
/// GeoJSON/GeoPackage carry geometry (EPSG:4326) from the store and the protected values as attributes; the
/// GeoJSON has the disclosure block and classification as foreign members, the GeoPackage layer has them as its
/// description and metadata. Throws what snapshot::table throws, unsupported_format, error("ExportFailed").
export_file export_table(const snapshot& s, data::database& db, const table_query& q, const std::string& format,
                         std::size_t max_rows = 0, const file_options& options = {});

/// Areas of a level (inside `within` when given) with code, name, households and parent codes, as GeoJSON or
/// GeoPackage (csv/xlsx are refused: /api/areas has CSV). Throws bad_request, not_found, unsupported_format.
export_file export_areas(const snapshot& s, data::database& db, const std::string& level, const std::string& vintage,
                         const std::string& within, const std::string& format, std::size_t max_rows = 0);

/// Bespoke areas (r.ids, comma-separated, 1 to 100) with their dissolved outlines. With r.dataset: one row or
/// feature per bespoke area whose figures are the sum of its members' protected values (the code path of
/// /api/table?level=bespoke: snapshot::table with one group per area), as CSV, XLSX, GeoJSON or GeoPackage;
/// without: outlines with id, name, member level, member count and Census households (GeoJSON, GeoPackage).
/// Throws bad_request (MissingParameter, InvalidParameter, LevelTooFine, InvalidVintage), not_found
/// (UnknownBespoke, UnknownDataset...), unsupported_format, disclosure_refused, error("ExportFailed").
export_file export_bespoke(const snapshot& s, data::database& db, const export_request& r);

/// "a,b,,c" -> {"a", "b", "", "c"}: empty parts are kept, so a stray comma names an (unknown) empty id.
std::vector<std::string> split_ids(const std::string& text);

/// Dispatches: level=bespoke -> export_bespoke; else on r.dataset: export_table(make_query(...)) or export_areas(...).
export_file export_any(const snapshot& s, data::database& db, const export_request& r);

/// The target finder's choice among the rows of a dataset-level protected table.
struct target_selection {
    long min_households = 100;
    long max_households = 150;
    long limit = 20;
    std::string within;                ///< as asked (an area code, bespoke:ID, or empty)
    std::vector<std::size_t> picked;   ///< rows of the table, best first
    std::size_t eligible = 0;          ///< rows in the band before the limit
    std::string ranked_by;             ///< in words
    std::string note;                  ///< e.g. an LSOA-only dataset ranked at LSOA level; may be empty
    /// Per picked row: the interval its ranking figure lies in given the rounding (rate per 100 households from
    /// value +- uncertainty; a whole percent +- 0.5), its band (1-based; consecutive rows whose intervals overlap
    /// share one: their order is within the rounding error) and whether it is tied with the next row.
    std::vector<double> low, high;
    std::vector<std::int64_t> band;
    std::vector<bool> tied_with_next;
    std::int64_t bands = 0;
    std::string ties_note; ///< empty when every row is a band of its own
    /// Walkable patches (select_targets on a dataset coarser than OA): per picked row, the OA to walk
    /// (snapshot::areas index) inside the dataset-level area of picked[k], whose figure it carries. Empty when the
    /// rows are the dataset's own areas.
    std::vector<std::size_t> patch_areas;
};

/// A households band [min, max] for the target finder and the zone builder: defaults 100 and 150, the
/// ~100-150-household patch an outreach team can walk.
struct household_band {
    long min = 100;
    long max = 150;
};
/// The one check of a band, wherever it was read (query, JSON body, CLI): 400 InvalidParameter when min > max.
void check_household_band(long min, long max);

/// Ranks the rows whose households lie in [lo, hi] by protected rate per 100 households (percent for a
/// percentage-only measure), ties by code (rows are in code order), and keeps the top `limit`: the rule of
/// GET /api/targets, and marks ties within the rounding error (target_selection::band). Throws
/// bad_request("InvalidParameter") when lo > hi.
target_selection rank_targets(const table_result& t, long lo, long hi, long limit, const std::string& within);

/// GET /api/targets' rule. On OA data: rank_targets. On data published only at a coarser level (LSOA, MSOA) when the
/// store has that level's Output Areas: every area of the dataset's level with a figure is ranked as rank_targets
/// does, and its OAs with lo..hi Census households, in code order, are listed as the patches to walk
/// (target_selection::patch_areas), each carrying its area's protected figure, never apportioned; the band and
/// tie marks follow the areas' intervals. Without OAs: rank_targets on the dataset's own areas.
target_selection select_targets(const snapshot& s, const table_result& t, long lo, long hi, long limit, const std::string& within);

/// "lsoa" -> "LSOA": a level id as people write it in a sentence.
std::string level_acronym(std::string level);


/// Where a picked target row sends someone: the area to walk (the patch OA, or the ranked area itself) and a point
/// inside it (GEOS point on surface: a centroid can fall outside a crescent-shaped area) in WGS 84 and on the
/// National Grid with its OS grid reference. The areas it lies in are snapshot::ancestor_at(area, level).
struct target_place {
    std::size_t area = 0;        ///< snapshot::areas index of the area to walk
    std::size_t figure_area = 0; ///< whose protected figure the row carries (== area unless a patch)
    std::optional<std::int64_t> households; ///< Census households of `area`
    std::optional<double> lon, lat;
    std::optional<double> easting, northing;
    std::string grid_ref; ///< 8 figures (10 m), e.g. "SJ 8051 9738"; empty without a point
    std::optional<geo::bounds4> bbox;
    /// The live postcodes of `area` (of its OAs when it is coarser than an OA), sorted. For a row coarser than an
    /// OA the list is capped at target_postcodes_cap (postcodes_truncated) and postcodes_live is the full count.
    std::int64_t postcodes_live = 0;
    std::vector<std::string> postcodes;
    bool postcodes_truncated = false;
    /// The ward and the neighbourhood (MSOA, House of Commons Library name) most of the area's live postcodes are
    /// in, as the postcode file names them; empty when the store has no postcodes there.
    std::string ward_code, ward_name, neighbourhood;
};
/// How many postcodes a target row coarser than an OA lists (its count is complete): ~650 households of an LSOA
/// have ~40 postcodes, an MSOA ~200, which no one walks from one cell.
constexpr std::size_t target_postcodes_cap = 50;
/// One per picked row of sel, and (outline_wkbs) the boundaries of the areas to walk, for their outline.
std::vector<target_place> target_places(data::database& db, const snapshot& s, const table_result& t, const target_selection& sel,
                                        std::vector<std::string>* outline_wkbs = nullptr);

/// The target finder's rows (rank, code, name, level, then the protected figures) as CSV or XLSX with the
/// selection, ranking and disclosure statement. Throws unsupported_format for other formats.
export_file export_targets(data::database& db, const snapshot& s, const table_result& t, const target_selection& sel, const std::string& format,
                           const file_options& options = {});

/// For `smallarea export --targets LO-HI`: the same file as /api/targets?format=csv|xlsx from a store.
export_file export_targets_to_path(const std::string& db_path, const export_request& r, long lo, long hi, long limit,
                                   const std::string& out_path);

/// For `smallarea export`: opens the store read-only, loads a snapshot without tile layers and writes the export
/// to out_path (a CSV also gets its CSVW sidecar out_path + "-metadata.json", the name CSVW clients look for).
/// Returns what was written (bytes are cleared). Throws store_error and what export_any throws.
export_file export_to_path(const std::string& db_path, const export_request& r, const std::string& out_path);

} // namespace smallarea::engine
