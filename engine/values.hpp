#pragma once
// The compact values document of one protected table (GET /api/values): each area's protected value, rate or
// percent, its class under the same breaks /api/breaks gives, and its flags, as columnar arrays keyed by area
// code. A map that draws its boundaries from a static archive (PMTiles, code/name only) joins these to the shapes
// by code and colours them with feature-state, as ONS Census Maps separates geometry from data: the archive can sit
// on a CDN forever, while the figures stay behind the server's access control, rounding and release ETags.

#include "engine/breaks.hpp"
#include "engine/catalog.hpp"

#include <nlohmann/json.hpp>

#include <string>

namespace smallarea::engine {

/// How the areas are classed: the same inputs as /api/breaks (classes 3..9, the method, the quantity `of`).
struct values_classes {
    std::string of; ///< from class_quantity(): "rate", "value" or "percent"
    int classes = 5;
    break_method method = break_method::quantile;
};

/// {dataset, measure, period, level, vintage, release, classification, disclosure, kind, count, codes,
///  value + rate (counts) or percent (percentage-only measures: never a volume), class, breaks, classes (as
///  /api/breaks), of, method, suppressed, missing, estimated, not_apportioned}. Arrays are parallel to `codes`
/// (the table's row order); a null is an area without that figure; class is -1 for an area with no classed
/// figure. The four flags are the row indices where the flag is true (sparse: most areas have none set).
/// Every figure is the one the table's protected row carries, so it equals /api/table and /tiles.
nlohmann::json values_json(const table_result& t, const values_classes& how, std::int64_t release);

/// The class of v under breaks (inclusive upper bounds, as classes_json counts them); -1 without breaks.
int class_index(const std::vector<double>& breaks, double v);

} // namespace smallarea::engine
