#include "data/ogc_queries.hpp"

#include <algorithm>
#include <map>

namespace smallarea::data {

std::unordered_map<std::int64_t, std::string> load_geometry_map(database& db, const std::vector<std::int64_t>& ids) {
    std::unordered_map<std::int64_t, std::string> out;
    out.reserve(ids.size());
    // 500 stays well under SQLite's bound-parameter limit of older builds (999).
    constexpr std::size_t chunk = 500;
    for (std::size_t first = 0; first < ids.size(); first += chunk) {
        const std::size_t n = std::min(chunk, ids.size() - first);
        std::string sql = "SELECT id, AsBinary(geom) FROM areas WHERE geom IS NOT NULL AND id IN (";
        for (std::size_t i = 0; i < n; ++i) sql += i == 0 ? "?" : ",?";
        sql += ")";
        statement s(db, sql);
        for (std::size_t i = 0; i < n; ++i) s.bind(static_cast<int>(i + 1), ids[first + i]);
        while (s.step()) {
            if (!s.is_null(1)) out.emplace(s.int64(0), std::string(s.blob(1)));
        }
    }
    return out;
}

// Both filter with bespoke_reader::may_read, the one rule of who sees which area (never a second copy in SQL).
bool has_bespoke_areas(database& db, const bespoke_reader& who) {
    statement s(db, "SELECT organisation_id, visibility = 'public' AND always_private = 0 FROM bespoke_areas");
    while (s.step()) {
        if (who.may_read(s.int64(1) != 0, s.optional_int64(0))) return true;
    }
    return false;
}

std::vector<bespoke_area_row> load_bespoke_areas(database& db, const bespoke_reader& who) {
    std::vector<bespoke_area_row> out;
    std::map<std::string, std::size_t> index;
    {
        // AsBinary() is NULL for a blob that is not a SpatiaLite geometry: then the column already holds WKB.
        statement s(db, "SELECT id, name, level, vintage, source, created_at, COALESCE(AsBinary(outline), outline), "
                        "organisation_id, visibility = 'public' AND always_private = 0 FROM bespoke_areas ORDER BY id");
        while (s.step()) {
            if (!who.may_read(s.int64(8) != 0, s.optional_int64(7))) continue;
            bespoke_area_row r;
            r.id = s.text(0);
            r.name = s.text(1);
            r.level = s.text(2);
            r.vintage = static_cast<int>(s.int64(3));
            r.source = s.text(4);
            r.created_at = s.text(5);
            if (!s.is_null(6)) r.outline = std::string(s.blob(6));
            r.organisation_id = s.optional_int64(7);
            r.is_public = s.int64(8) != 0;
            index.emplace(r.id, out.size());
            out.push_back(std::move(r));
        }
    }
    statement m(db, "SELECT bespoke_id, area_id FROM bespoke_members ORDER BY bespoke_id, area_id");
    while (m.step()) {
        const auto it = index.find(m.text(0));
        if (it != index.end()) out[it->second].members.push_back(m.int64(1));
    }
    return out;
}

} // namespace smallarea::data
