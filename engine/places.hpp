#pragma once
// Places (issue #14): what /api/search and /api/labels answer, without HTTP. Both read only place data (postcodes,
// area codes and names, the wards and neighbourhoods the postcode files name) from the store the snapshot is of,
// never a statistic, so they need no key and go through no disclosure rule; bespoke areas (which may be private)
// are never listed.

#include "data/postcodes.hpp"
#include "engine/catalog.hpp"

#include <nlohmann/json.hpp>

#include <set>
#include <string>
#include <vector>

namespace smallarea::engine {

/// GET /api/search?q=TEXT[&limit=N]: checks q (1..100 characters after trimming) and limit (1..50), throwing
/// bad_request("InvalidParameter"/"MissingParameter"). Finds, in this order: a full postcode ("m154ab" -> "M15 4AB"),
/// an area code (any level, case-insensitive), postcodes starting with a partial code ("M15", "M15 4"), then
/// names of areas, wards and neighbourhoods (case-insensitive: names starting with q before names containing it).
/// Each result: {kind: postcode|area|ward|neighbourhood, code, name, level, vintage, bbox [w,s,e,n], point [lon,lat]}.
nlohmann::json search_places(data::database& db, const snapshot& s, const std::string& q, long limit);

/// A lon/lat box for labels, checked.
struct label_box {
    double west = 0, south = 0, east = 0, north = 0;
    /// The larger of its width (at its middle latitude) and height, in km.
    double across_km() const;
};

/// "w,s,e,n" -> label_box: four finite numbers, w < e, s < n, within -180..180 / -90..90; else
/// bad_request("InvalidParameter").
label_box parse_label_box(const std::string& text);

/// The widest box (km) in which postcode labels are listed; postcodes are ~15 addresses each, so wider boxes
/// hold thousands of overlapping labels no map can draw.
constexpr double postcode_label_max_km = 8.0;

/// GET /api/labels?bbox=...[&kinds=...]: label points in the box. kinds (comma-separated, default
/// "ward,neighbourhood,lad,postcode") from postcode, ward, neighbourhood, lad, msoa, lsoa, oa (area codes on
/// demand); unknown kinds are bad_request("InvalidParameter"). Postcodes asked for by name in a box wider than
/// postcode_label_max_km are bad_request("BoxTooLarge"); by default they are left out there
/// (`postcodes_omitted`). At most label_cap labels per kind (`truncated` names the kinds cut).
nlohmann::json labels_json(data::database& db, const snapshot& s, const label_box& box, const std::string& kinds);

constexpr std::size_t label_cap = 1000;
/// Postcodes read for one label box before spreading (an 8 km box holds at most a few tens of thousands).
constexpr std::size_t postcode_box_rows = 200000;

/// At most `cap` of `rows` (postcodes with a point, in code order, inside `box`), spread over the box: rounds over a
/// grid of about `cap` cells, each taking the next postcode of every cell that has one left; indices ascending.
/// All of them when there are no more than cap.
std::vector<std::size_t> spread_over_box(const std::vector<data::postcode_row>& rows, const label_box& box, std::size_t cap);

} // namespace smallarea::engine
