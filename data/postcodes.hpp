#pragma once
// Postcodes and place names in the store (schema v7, written by data/ingest/postcodes.cpp): the text rule every
// layer shares (how a postcode is written) and the typed queries the target finder and the places API use.
// Places carry no statistics, so nothing here goes through disclosure.

#include "data/sqlite.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace smallarea::data {

/// "m154ab", " M15  4ab " -> "M15 4AB": upper case, the inward code (digit, letter, letter) after one space.
/// nullopt when the text is not a full UK postcode (2-4 character outward code starting with a letter).
std::optional<std::string> normalise_postcode(const std::string& text);

/// "m15", "M15 4" -> "M15", "M15 4": upper case, inner spaces collapsed, for prefix searches. Empty when the text
/// holds anything but letters, digits and spaces.
std::string postcode_prefix(const std::string& text);

struct postcode_row {
    std::string postcode;
    std::int64_t area_id = 0;
    std::optional<double> lat, lon;
    bool live = true;
    std::string introduced, terminated;
    std::string ward_code, ward_name, msoa_name;
    std::string assigned_by; ///< lookup | point_in_polygon
};

/// Every postcode of these areas (live and terminated), by area then postcode.
std::unordered_map<std::int64_t, std::vector<postcode_row>> load_postcodes_of(database& db, const std::vector<std::int64_t>& area_ids);

/// Postcodes starting with prefix (normalised as postcode_prefix gives it), in postcode order, at most limit.
std::vector<postcode_row> postcodes_with_prefix(database& db, const std::string& prefix, std::size_t limit);

/// Live postcodes with a point inside the box, in postcode order, at most limit.
std::vector<postcode_row> postcodes_in_box(database& db, double west, double south, double east, double north, std::size_t limit);

/// Ids of the areas of a level whose boundary box meets the box (the SpatiaLite R*Tree), by code, at most limit.
std::vector<std::int64_t> area_ids_in_box(database& db, const std::string& level, double west, double south, double east,
                                          double north, std::size_t limit);

/// How many postcodes the store holds (0 for a store without any).
std::int64_t count_postcodes(database& db);

struct place_name {
    std::string kind; ///< ward | neighbourhood
    std::string code, name;
    int vintage = 0;
    double min_lon = 0, min_lat = 0, max_lon = 0, max_lat = 0;
    double lon = 0, lat = 0; ///< a label point: the postcode nearest the mean of the place's postcodes
    std::int64_t postcodes = 0;
};

/// Every ward and neighbourhood the postcode files named, by kind then name.
std::vector<place_name> load_place_names(database& db);

} // namespace smallarea::data
