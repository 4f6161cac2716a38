#pragma once
// Choropleth class breaks computed from protected values only (rule 5).

#include <string>
#include <vector>

namespace smallarea::engine {

enum class break_method { quantile, equal, jenks };

/// Parses "quantile" | "equal" | "jenks"; throws bad_request otherwise.
break_method parse_break_method(const std::string& text);

/// Upper bounds of `classes` classes over values (the last equals the maximum); fewer when there are fewer
/// distinct values. Empty input gives no breaks. Jenks uses the Fisher-Jenks dynamic programme (O(k n^2) on at
/// most 2,000 sorted samples, so it stays fast on 200k OAs).
std::vector<double> compute_breaks(std::vector<double> values, int classes, break_method method);

} // namespace smallarea::engine
