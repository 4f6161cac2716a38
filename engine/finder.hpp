#pragma once
// The target-area finder and the zone builder as services: what /api/targets and /api/zones answer, without
// HTTP. Both work on the dataset-level protected cells inside `within` (snapshot::table); zones are saved by the
// caller (the server's single writer) between plan_zones and zones_json.

#include "engine/bespoke.hpp"
#include "engine/catalog.hpp"
#include "engine/export.hpp"

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace smallarea::engine {

/// GET /api/targets as JSON: the selection's rows with their protected figures and bbox, the band, ties and
/// ranking notes, the disclosure statement and the dissolved outline of the picked areas.
nlohmann::json targets_json(data::database& db, const snapshot& s, const table_result& t, const target_selection& sel);

struct zone_params {
    long min_households = 100;
    long max_households = 150;
    std::size_t max_zones = 20;
    std::string contiguity = "rook"; ///< rook | queen
    std::string within;              ///< an area code or bespoke:ID
};

/// Zones planned from cells, not yet saved.
struct zone_plan {
    std::vector<bespoke_draft> drafts; ///< one per zone, in rank order (source "zones")
    nlohmann::json unplaced = nlohmann::json::array(); ///< [{code, households, reason}]
    std::size_t areas = 0; ///< areas in the contiguity graph
};

/// Builds the contiguity graph of t's areas with a boundary and a Census household count and grows zones
/// (geo::build_zones) from their protected values. Throws disclosure_refused("PercentageOnly") for a
/// percentage-only measure (zones are built from counts), bad_request("TooManyMembers") when t has more than
/// max_areas areas.
zone_plan plan_zones(data::database& db, const snapshot& s, const table_result& t, const zone_params& p, std::size_t max_areas);

/// POST /api/zones as JSON once plan.drafts are saved as `records` (same order): each zone's value is the
/// disclosure::aggregate of its planned members' protected cells.
nlohmann::json zones_json(data::database& db, const snapshot& s, const table_result& t, const zone_params& p,
                          const zone_plan& plan, const std::vector<data::bespoke_record>& records, bool is_public);

} // namespace smallarea::engine
