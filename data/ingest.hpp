#pragma once
// `smallarea ingest MANIFEST --db STORE`: boundaries (any GDAL vector source, any CRS -> EPSG:4326), ONS lookups,
// Census denominators and datasets (NOMIS long form or wide form) into the store, in ONE transaction: any
// error leaves the store exactly as it was.

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace smallarea::data {

struct ingest_summary {
    std::int64_t features = 0;          ///< boundary features stored
    std::int64_t repaired_geometries = 0;
    std::int64_t derived_boundaries = 0; ///< boundaries dissolved from finer ones ("derive")
    std::int64_t lookup_rows = 0;
    std::int64_t denominator_rows = 0;
    std::int64_t observation_rows = 0;  ///< dataset cells stored
    std::int64_t skipped_rows = 0;      ///< rows left out on purpose (see notes)
    std::int64_t postcodes = 0;             ///< postcodes stored (live and terminated)
    std::int64_t postcodes_terminated = 0;  ///< of which terminated (doterm set)
    std::int64_t postcodes_outside = 0;     ///< rows outside every OA of the store (not stored; see notes)
    std::int64_t release = 0;           ///< the store's data release after this ingest
    std::vector<std::string> datasets;  ///< ids ingested, "id (release N)"
    std::vector<std::string> notes;     ///< things the user should know (e.g. areas with no household count)
};

using progress_callback = std::function<void(const std::string& line)>;

/// Reads the manifest (JSON, paths relative to its folder) and ingests everything it names into the store at
/// db_path (created when absent). Throws ingest_error (file, line or feature) for bad input and store_error
/// for store failures; on any throw nothing was written.
ingest_summary ingest_manifest(const std::string& manifest_path, const std::string& db_path,
                               const progress_callback& progress = {});

/// Normalises a period as written by NOMIS / Stat-Xplore to YYYY, YYYY-MM or YYYY-MM (from YYYY-MM-DD and
/// "September 2017"). Returns false when the text is not a period.
bool normalise_period(const std::string& text, std::string& out);

} // namespace smallarea::data
