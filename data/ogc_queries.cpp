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
        std::string sql = "SELECT id, ST_AsBinary(geom) FROM areas WHERE geom IS NOT NULL AND id IN (";
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

} // namespace smallarea::data
