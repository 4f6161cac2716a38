#pragma once
// Store access for bespoke (combined) areas: tables bespoke_areas and bespoke_members (schema v2). Plain structs
// in and out; no HTTP, no JSON.

#include "data/sqlite.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace smallarea::data {

struct bespoke_record {
    std::string id;         ///< short random id, stable, shareable in a URL
    std::string name;
    std::string level;      ///< the members' level
    int vintage = 0;
    std::string owner;      ///< hash of the owner token (never the token itself)
    std::string source;     ///< "codes", "polygon" or "zones"
    std::string created_at; ///< ISO 8601 UTC
    std::string outline;    ///< dissolved WKB MultiPolygon, EPSG:4326 (may be empty)
    std::vector<std::int64_t> members; ///< area ids, ascending
};

/// Inserts one bespoke area and its members (in one transaction). Throws store_error (e.g. a duplicate id).
void insert_bespoke(database& db, const bespoke_record& b);

/// One bespoke area with its members; the outline only when asked (it can be large). nullopt when unknown.
std::optional<bespoke_record> load_bespoke(database& db, const std::string& id, bool with_outline);

/// Deletes a bespoke area and its members; false when there was none.
bool delete_bespoke(database& db, const std::string& id);

} // namespace smallarea::data
