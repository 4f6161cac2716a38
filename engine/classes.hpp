#pragma once
// The map legend's classes of one protected table (GET /api/breaks): which quantity is classed, the breaks, how
// many areas fall in each class, and whether a class is narrower than the rounding error. Values come from the
// protected table only (rule 5); compute_breaks (engine/breaks.hpp) is the pure part.

#include "engine/breaks.hpp"
#include "engine/catalog.hpp"

#include <nlohmann/json.hpp>

#include <string>

namespace smallarea::engine {

/// The quantity to class: `of` when given ("rate", "value" or "percent"), else "percent" for a percentage-only
/// measure and "rate" for a count. Throws disclosure_refused("PercentageOnly") for rate/value of a percentage-only
/// measure, bad_request("InvalidParameter") for percent of a count or anything else.
std::string class_quantity(const data::measure_info& measure, const std::string& of);

/// {dataset, measure, period, level, of, method, breaks, classes: [{min, max, count, narrower_than_rounding}],
/// values, rounding_step, warning, classification, disclosure}. rounding_step is what one rounding step is worth
/// in the classed unit (the rounding base for values, 1 for percentages, for rates the median over areas of
/// 100 x base / households), so a class narrower than it is flagged: areas either side may not differ.
nlohmann::json classes_json(const table_result& t, const std::string& of, int classes, break_method method);

} // namespace smallarea::engine
