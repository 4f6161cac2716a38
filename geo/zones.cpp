#include "geo/zones.hpp"

#include <algorithm>
#include <numeric>
#include <stdexcept>

namespace smallarea::geo {

namespace {

double rate_of(std::int64_t value, std::int64_t households) {
    return households > 0 ? static_cast<double>(value) / static_cast<double>(households) : 0.0;
}

} // namespace

zone_result build_zones(const contiguity_graph& g, const std::vector<std::int64_t>& households,
                        const std::vector<std::int64_t>& values, const zone_options& options) {
    const std::size_t n = g.size();
    if (households.size() != n || values.size() != n) {
        throw std::invalid_argument("build_zones: households and values must have one entry per area");
    }
    if (options.min_households > options.max_households) {
        throw std::invalid_argument("build_zones: min_households is above max_households");
    }
    // Seeds in order of rate (highest first); areas without households come last, ties by index (= code).
    std::vector<std::size_t> order(n);
    std::iota(order.begin(), order.end(), std::size_t{0});
    std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
        const bool ha = households[a] > 0;
        const bool hb = households[b] > 0;
        if (ha != hb) return ha;
        return rate_of(values[a], households[a]) > rate_of(values[b], households[b]);
    });

    zone_result result;
    std::vector<char> assigned(n, 0); // in a zone, or given up as a seed
    std::vector<char> in_zone(n, 0);  // scratch: members of the zone being grown
    for (const std::size_t seed : order) {
        if (result.zones.size() >= options.max_zones) break;
        if (assigned[seed]) continue;
        if (households[seed] > options.max_households) {
            assigned[seed] = 1;
            result.unplaced.push_back({seed, "above_ceiling"});
            continue;
        }
        zone z;
        z.members.push_back(seed);
        z.households = households[seed];
        z.value = values[seed];
        in_zone[seed] = 1;
        while (z.households < options.min_households) {
            std::size_t best = n;
            double best_rate = 0.0;
            for (const std::size_t m : z.members) {
                for (const std::size_t c : g.neighbours[m]) {
                    if (assigned[c] || in_zone[c]) continue;
                    const std::int64_t h = z.households + households[c];
                    if (h > options.max_households) continue;
                    const double r = rate_of(z.value + values[c], h);
                    const bool better = best == n || r > best_rate ||
                                        (r == best_rate && (households[c] > households[best] ||
                                                            (households[c] == households[best] && c < best)));
                    if (better) {
                        best = c;
                        best_rate = r;
                    }
                }
            }
            if (best == n) break;
            in_zone[best] = 1;
            z.members.push_back(best);
            z.households += households[best];
            z.value += values[best];
        }
        for (const std::size_t m : z.members) in_zone[m] = 0;
        if (z.households < options.min_households) {
            assigned[seed] = 1; // its neighbours stay free for later seeds
            result.unplaced.push_back({seed, "cannot_reach_floor"});
            continue;
        }
        for (const std::size_t m : z.members) assigned[m] = 1;
        std::sort(z.members.begin(), z.members.end());
        z.rate = rate_of(z.value, z.households);
        result.zones.push_back(std::move(z));
    }
    return result;
}

} // namespace smallarea::geo
