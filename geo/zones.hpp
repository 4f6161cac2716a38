#pragma once
// The zone builder: contiguous groups of small areas whose households lie in a band (e.g. 100-150), chosen to
// concentrate a target measure. A pure function over a contiguity graph and per-area figures, so it is
// unit-testable without a store or GEOS.

#include "geo/contiguity.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace smallarea::geo {

struct zone_options {
    std::int64_t min_households = 100; ///< the floor: a zone has at least this many households
    std::int64_t max_households = 150; ///< the ceiling: never exceeded
    std::size_t max_zones = 50;        ///< stop after this many zones
};

struct zone {
    std::vector<std::size_t> members; ///< area indices, ascending
    std::int64_t households = 0;
    std::int64_t value = 0;           ///< sum of the members' values as given (protected values in the server)
    double rate = 0.0;                ///< value per household (0 when no households)
};

struct unplaced_area {
    std::size_t area = 0;
    std::string reason; ///< "above_ceiling" or "cannot_reach_floor"
};

struct zone_result {
    std::vector<zone> zones;             ///< in the order built: best seeds first
    std::vector<unplaced_area> unplaced; ///< seeds examined that could not become (part of) a zone
};

/// Greedy seed-and-grow over areas 0..n-1 (graph g, households[i], value[i]; indices in code order so ties are
/// broken by code):
///  1. seed = the unassigned area with the highest rate (value / households; 0 households ranks last), ties by
///     index;
///  2. a seed above the ceiling on its own is left out (unplaced, "above_ceiling"); a seed already inside the band
///     is a zone of one;
///  3. otherwise grow: among unassigned neighbours of the zone whose households keep the zone at or under the
///     ceiling, add the one giving the highest zone rate (ties: more households first, then index), until the
///     zone reaches the floor;
///  4. if no neighbour fits before the floor is reached (an island, or boxed in by assigned areas), the seed is
///     unplaced ("cannot_reach_floor") and the areas tried are released for later seeds.
/// Stops after options.max_zones zones or when every area has been a seed or a member. Every zone is connected
/// in g, lies within [min, max] households, and no area is in two zones. Throws std::invalid_argument when the
/// vectors' sizes differ from g.size() or min > max.
zone_result build_zones(const contiguity_graph& g, const std::vector<std::int64_t>& households,
                        const std::vector<std::int64_t>& values, const zone_options& options);

} // namespace smallarea::geo
