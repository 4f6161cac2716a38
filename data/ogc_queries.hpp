#pragma once
// Typed queries for OGC API Features and the exports: boundaries of many areas in one round trip (bespoke areas
// are read and written in data/bespoke_store.hpp). No SQL leaves data/.

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

} // namespace smallarea::data
