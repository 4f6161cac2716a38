#pragma once
// `smallarea inspect FILE... [--db STORE]`: says what a downloaded file is (NOMIS API / web / Census bulk,
// Stat-Xplore, ONS boundaries or lookup, ONS Postcode Directory, plain CSV), what it holds, and writes a manifest
// that `smallarea ingest` accepts as it is, with every choice spelled out in "_note" fields.

#include <string>
#include <vector>

namespace smallarea::data {

struct inspect_report {
    std::vector<std::string> findings; ///< one line each: what was found in which file (for stderr)
    std::string manifest;              ///< a manifest (JSON text, absolute paths) for `smallarea ingest`
};

/// Inspects each file (a .zip is listed and its CSV members inspected). With a store (db_path not empty), codes
/// are checked against its areas: the level and vintage with most hits are chosen, names resolved, and rows
/// outside the store reported. Throws ingest_error for a file it cannot read, store_error for a bad store.
inspect_report inspect_files(const std::vector<std::string>& paths, const std::string& db_path);

/// An ONS column name such as LAD22CD, lsoa21nm or LTLA23CD: the level (oa|lsoa|msoa|lad), the two-digit year
/// and whether it holds names. False for anything else.
bool parse_ons_column(const std::string& header, std::string& level, int& year, bool& is_name);

} // namespace smallarea::data
