#pragma once
// Exports for strategic planners, shared by the HTTP routes (/api/export/..., /api/table?format=xlsx) and the
// `smallarea export` command: one dataset/measure/period as CSV, XLSX, GeoJSON or GeoPackage, or plain areas
// (no dataset) as GeoJSON or GeoPackage. Values come only from protected tables.

#include "server/catalog.hpp"

#include <string>

namespace smallarea::server {

/// What to export, as the user wrote it (validated by make_export_query / export_file_of).
struct export_request {
    std::string dataset; ///< empty: areas without values (level required)
    std::string measure;
    std::string period;
    std::string level;
    std::string vintage;
    std::string within;
    std::string format; ///< csv | xlsx | geojson | gpkg
    std::size_t max_rows = 0; ///< refuse (413 TooLarge) above this many rows/features; 0 = no limit (CLI)
};

struct export_file {
    std::string bytes;
    std::string content_type;
    std::string filename; ///< says what it is: dataset_measure_period_level[_within]_YYYY-MM-DD.ext
    std::size_t features = 0; ///< rows or features written
};

/// "csv", "xlsx", "geojson", "gpkg"; throws unsupported_format("UnsupportedFormat") otherwise.
const std::string& check_export_format(const std::string& format);

/// The export of a validated table query (from snapshot::make_query): the protected table of q in `format`.
/// GeoJSON/GeoPackage carry geometry (EPSG:4326) from the store and the protected values as attributes; the
/// GeoJSON has the disclosure block and classification as foreign members, the GeoPackage layer has them as its
/// description and metadata. Throws what snapshot::table throws, unsupported_format, error("ExportFailed").
export_file export_table(const snapshot& s, data::database& db, const table_query& q, const std::string& format,
                         std::size_t max_rows = 0);

/// Areas of a level (inside `within` when given) with code, name, households and parent codes, as GeoJSON or
/// GeoPackage (csv/xlsx are refused: /api/areas has CSV). Throws bad_request, not_found, unsupported_format.
export_file export_areas(const snapshot& s, data::database& db, const std::string& level, const std::string& vintage,
                         const std::string& within, const std::string& format, std::size_t max_rows = 0);

/// Dispatches on r.dataset: export_table(make_query(...)) or export_areas(...).
export_file export_any(const snapshot& s, data::database& db, const export_request& r);

/// For `smallarea export`: opens the store read-only, loads a snapshot without tile layers and writes the export
/// to out_path. Returns what was written (bytes are cleared). Throws store_error and what export_any throws.
export_file export_to_path(const std::string& db_path, const export_request& r, const std::string& out_path);

} // namespace smallarea::server
