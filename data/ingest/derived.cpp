// Derived boundaries: an area without its own outline gets the union of its finer member areas (through the
// lookups), e.g. LAD outlines from LSOAs.

#include "data/ingest/readers.hpp"

#include "core/error.hpp"
#include "geo/geometry_ops.hpp"

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace smallarea::data::ingest {

void derive_boundaries(ingest_context& ctx, const derived_boundary& d) {
    std::map<std::int64_t, std::vector<std::string>> members; // parent id -> member WKBs
    statement s(ctx.db(), "SELECT p.id, ST_AsBinary(c.geom) FROM areas c JOIN area_ancestors a ON a.area_id = c.id "
                          "JOIN areas p ON p.id = a.ancestor_id WHERE c.level = ? AND c.vintage = ? AND p.level = ? "
                          "AND c.geom IS NOT NULL");
    s.bind(1, d.from).bind(2, d.vintage).bind(3, d.level);
    while (s.step()) members[s.int64(0)].emplace_back(s.blob(1));
    if (members.empty()) {
        throw ingest_error(ctx.db().path(), 0, "cannot derive " + d.level + " " + std::to_string(d.vintage) + " boundaries: no " +
                                             d.from + " boundaries linked to a " + d.level + " by a lookup");
    }
    statement update(ctx.db(), "UPDATE areas SET geom = ST_GeomFromWKB(?, 4326) WHERE id = ?");
    for (const auto& [parent, wkbs] : members) {
        std::vector<std::string_view> parts(wkbs.begin(), wkbs.end());
        const std::string dissolved = geo::union_wkb(parts);
        const auto fixed = geo::make_valid_multipolygon(reinterpret_cast<const unsigned char*>(dissolved.data()), dissolved.size());
        update.bind_blob(1, fixed.wkb.data(), fixed.wkb.size()).bind(2, parent).run();
    }
    ctx.summary.derived_boundaries += static_cast<std::int64_t>(members.size());
    ctx.say("derived " + std::to_string(members.size()) + " " + d.level + " " + std::to_string(d.vintage) +
            " boundaries by dissolving " + d.from);
}

} // namespace smallarea::data::ingest
