#pragma once
// Typed queries for OGC API Features and the exports: boundaries of many areas in one round trip, and the
// bespoke areas (read-only here; the bespoke feature owns writing them). No SQL leaves data/.

#include "data/bespoke_store.hpp"
#include "data/sqlite.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace smallarea::data {

/// Boundaries (WKB MultiPolygon, EPSG:4326) of the given area ids, by id; ids without a boundary are absent.
/// One statement per 500 ids, so a page of features costs a handful of queries instead of one per feature.
/// Throws store_error on an SQL failure.
std::unordered_map<std::int64_t, std::string> load_geometry_map(database& db, const std::vector<std::int64_t>& ids);

/// One stored bespoke (combined) area.
struct bespoke_area_row {
    std::string id;
    std::string name;
    std::string level;   ///< level of its members
    int vintage = 0;
    std::string source;  ///< codes | polygon | zones
    std::string created_at;
    std::string outline; ///< WKB (EPSG:4326) when stored, else empty
    std::vector<std::int64_t> members; ///< area ids, ascending
    std::optional<std::int64_t> organisation_id; ///< owner; none when made without a key
    bool is_public = true;
};

/// Whether any bespoke area `who` may read is stored. Throws store_error on an SQL failure.
bool has_bespoke_areas(database& db, const bespoke_reader& who);

/// Every bespoke area `who` may read (public ones and, for an organisation's key, its own), with its members,
/// ordered by id. The outline is returned as WKB whether it was stored as a SpatiaLite geometry blob or as plain
/// WKB. Throws store_error on an SQL failure.
std::vector<bespoke_area_row> load_bespoke_areas(database& db, const bespoke_reader& who);

} // namespace smallarea::data
