#include "engine/places.hpp"

#include "core/error.hpp"
#include "data/ogc_queries.hpp"
#include "data/postcodes.hpp"
#include "data/text.hpp"
#include "geo/bespoke_geometry.hpp"
#include "geo/geometry_ops.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <map>
#include <unordered_set>

namespace smallarea::engine {

using nlohmann::json;

namespace {

double round6(double v) { return std::round(v * 1e6) / 1e6; } // ~0.1 m, as target points

json point_json(double lon, double lat) { return json::array({round6(lon), round6(lat)}); }

json postcode_json(const snapshot& s, const data::postcode_row& p) {
    json r{{"kind", "postcode"}, {"code", p.postcode}, {"name", p.postcode}, {"level", "postcode"}, {"live", p.live}};
    if (const auto a = s.find_area_by_id(p.area_id)) {
        r["vintage"] = s.areas()[*a].vintage;
        r["area"] = json{{"code", s.areas()[*a].code}, {"level", s.areas()[*a].level}};
    }
    if (p.lon && p.lat) {
        r["point"] = point_json(*p.lon, *p.lat);
        r["bbox"] = json::array({round6(*p.lon), round6(*p.lat), round6(*p.lon), round6(*p.lat)});
    } else {
        r["point"] = nullptr;
        r["bbox"] = nullptr;
    }
    r["ward"] = p.ward_name.empty() ? json(nullptr) : json{{"code", p.ward_code}, {"name", p.ward_name}};
    r["neighbourhood"] = p.msoa_name.empty() ? json(nullptr) : json(p.msoa_name);
    if (!p.live) r["terminated"] = p.terminated;
    return r;
}

/// Results for areas (snapshot indexes) with their box and a point inside each (GEOS point on surface).
void add_areas(data::database& db, const snapshot& s, const std::vector<std::size_t>& areas, json& out) {
    std::vector<std::int64_t> ids;
    for (const auto a : areas) ids.push_back(s.areas()[a].id);
    const auto geometries = data::load_geometry_map(db, ids);
    for (const auto a : areas) {
        const auto& area = s.areas()[a];
        json r{{"kind", "area"}, {"code", area.code}, {"name", area.name}, {"level", area.level}, {"vintage", area.vintage},
               {"bbox", nullptr}, {"point", nullptr}};
        if (const auto g = geometries.find(area.id); g != geometries.end()) {
            const auto b = geo::wkb_bounds(g->second);
            r["bbox"] = json::array({round6(b.minx), round6(b.miny), round6(b.maxx), round6(b.maxy)});
            const auto [lon, lat] = geo::point_on_surface(reinterpret_cast<const unsigned char*>(g->second.data()), g->second.size());
            r["point"] = point_json(lon, lat);
        }
        out.push_back(std::move(r));
    }
}

json place_json(const data::place_name& p) {
    return json{{"kind", p.kind}, {"code", p.code}, {"name", p.name}, {"level", p.kind == "ward" ? "ward" : "msoa"},
                {"vintage", p.vintage}, {"postcodes", p.postcodes},
                {"bbox", json::array({round6(p.min_lon), round6(p.min_lat), round6(p.max_lon), round6(p.max_lat)})},
                {"point", point_json(p.lon, p.lat)}};
}

} // namespace

std::vector<std::size_t> spread_over_box(const std::vector<data::postcode_row>& rows, const label_box& box, std::size_t cap) {
    std::vector<std::size_t> picked;
    if (rows.size() <= cap) {
        for (std::size_t i = 0; i < rows.size(); ++i) picked.push_back(i);
        return picked;
    }
    // Rounds over a grid of about cap cells: each round takes the next postcode (in code order) of every cell that
    // has one left, so dense and sparse parts of the box both get labels, and the choice is the same every time.
    const auto side = static_cast<std::size_t>(std::max(1.0, std::floor(std::sqrt(static_cast<double>(cap)))));
    const double w = std::max(box.east - box.west, 1e-12), h = std::max(box.north - box.south, 1e-12);
    std::vector<std::vector<std::size_t>> cells(side * side);
    for (std::size_t i = 0; i < rows.size(); ++i) {
        const auto col = std::min(side - 1, static_cast<std::size_t>((*rows[i].lon - box.west) / w * static_cast<double>(side)));
        const auto row = std::min(side - 1, static_cast<std::size_t>((*rows[i].lat - box.south) / h * static_cast<double>(side)));
        cells[row * side + col].push_back(i); // rows come in code order, so each cell's list is too
    }
    for (std::size_t round = 0; picked.size() < cap; ++round) {
        bool any = false;
        for (const auto& cell : cells) {
            if (round >= cell.size()) continue;
            any = true;
            picked.push_back(cell[round]);
            if (picked.size() == cap) break;
        }
        if (!any) break;
    }
    std::sort(picked.begin(), picked.end()); // code order in the answer
    return picked;
}

json search_places(data::database& db, const snapshot& s, const std::string& raw_q, long limit) {
    const std::string q = data::text::trim(raw_q);
    if (q.empty()) throw bad_request("MissingParameter", "q is required: a postcode, area code or place name");
    if (q.size() > 100) throw bad_request("InvalidParameter", "q must be at most 100 characters");
    if (limit < 1 || limit > 50) throw bad_request("InvalidParameter", "limit must be 1 to 50");
    const auto cap = static_cast<std::size_t>(limit);
    json out = json::array();
    std::unordered_set<std::string> listed; // kind|code, so a postcode found twice is listed once
    auto room = [&] { return out.size() < cap; };
    auto push = [&](json r) {
        if (!room()) return;
        if (listed.insert(r["kind"].get<std::string>() + "|" + r["code"].get<std::string>()).second) out.push_back(std::move(r));
    };
    // 1. A full postcode, however it is written.
    if (const auto pc = data::normalise_postcode(q)) {
        for (const auto& p : data::postcodes_with_prefix(db, *pc, 1)) {
            if (p.postcode == *pc) push(postcode_json(s, p));
        }
    }
    // 2. An area code (E00026365, e01005061, E08000009): on the vintage a map of its level shows by default (an
    // unchanged LSOA has the same code in 2011 and 2021).
    std::string upper = q;
    for (auto& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    auto a = s.find_area(upper, 9999);
    if (a) a = s.find_area(upper, s.default_vintage(s.areas()[*a].level));
    if (a) {
        json found = json::array();
        add_areas(db, s, {*a}, found);
        for (auto& r : found) push(std::move(r));
    }
    // 3. A partial postcode: an outward code ("M15") or more ("M15 4"), which starts with a letter and holds a digit.
    const std::string prefix = data::postcode_prefix(q);
    if (room() && !prefix.empty() && std::isalpha(static_cast<unsigned char>(prefix[0])) &&
        std::any_of(prefix.begin(), prefix.end(), [](unsigned char c) { return std::isdigit(c); }) && prefix.size() <= 8) {
        // "M15" must not list M150..M159 first: an outward code alone is followed by the space.
        const bool outward_only = prefix.find(' ') == std::string::npos && !data::normalise_postcode(prefix);
        for (const auto& p : data::postcodes_with_prefix(db, outward_only ? prefix + " " : prefix, cap)) push(postcode_json(s, p));
    }
    // 4. Names: areas (LSOA "Trafford 001A", LAD "Manchester"), wards, neighbourhoods; prefix matches first.
    if (room() && q.size() >= 2) {
        const std::string needle = data::text::lower(q);
        std::vector<std::pair<int, std::size_t>> areas; // (0 prefix | 1 contains, index)
        const auto& names = s.lower_names();
        for (std::size_t i = 0; i < names.size(); ++i) {
            const auto pos = names[i].find(needle);
            if (pos != std::string::npos) areas.emplace_back(pos == 0 ? 0 : 1, i);
        }
        std::vector<std::pair<int, data::place_name>> places;
        for (auto& p : data::load_place_names(db)) {
            const auto pos = data::text::lower(p.name).find(needle);
            if (pos != std::string::npos) places.emplace_back(pos == 0 ? 0 : 1, std::move(p));
        }
        // Coarser areas first within a match class (the LAD "Trafford" before its LSOAs "Trafford 001A"...), then
        // wards and neighbourhoods, then by name.
        std::stable_sort(areas.begin(), areas.end(), [&](const auto& x, const auto& y) {
            const auto& a = s.areas()[x.second];
            const auto& b = s.areas()[y.second];
            if (x.first != y.first) return x.first < y.first;
            if (a.level != b.level) return data::level_rank(a.level) > data::level_rank(b.level);
            return a.name < b.name;
        });
        for (int cls = 0; cls < 2 && room(); ++cls) {
            std::vector<std::size_t> picked;
            for (const auto& [c, i] : areas) {
                if (c == cls && out.size() + picked.size() < cap) picked.push_back(i);
            }
            json found = json::array();
            add_areas(db, s, picked, found);
            for (auto& r : found) push(std::move(r));
            for (const auto& [c, p] : places) {
                if (c == cls) push(place_json(p));
            }
        }
    }
    return out;
}

double label_box::across_km() const {
    const double mid = (south + north) / 2.0 * M_PI / 180.0;
    const double width = (east - west) * 111.32 * std::cos(mid);
    const double height = (north - south) * 110.57;
    return std::max(width, height);
}

label_box parse_label_box(const std::string& text) {
    std::vector<double> v;
    std::size_t start = 0;
    for (;;) {
        const auto comma = text.find(',', start);
        const std::string part = data::text::trim(text.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
        char* end = nullptr;
        const double d = std::strtod(part.c_str(), &end);
        if (part.empty() || end != part.c_str() + part.size() || !std::isfinite(d)) {
            throw bad_request("InvalidParameter", "bbox must be four numbers west,south,east,north (degrees)");
        }
        v.push_back(d);
        if (comma == std::string::npos) break;
        start = comma + 1;
    }
    if (v.size() != 4) throw bad_request("InvalidParameter", "bbox must be four numbers west,south,east,north (degrees)");
    label_box b{v[0], v[1], v[2], v[3]};
    if (b.west < -180 || b.east > 180 || b.south < -90 || b.north > 90) {
        throw bad_request("InvalidParameter", "bbox must lie within longitude -180..180 and latitude -90..90");
    }
    if (!(b.west < b.east) || !(b.south < b.north)) throw bad_request("InvalidParameter", "bbox needs west < east and south < north");
    return b;
}

json labels_json(data::database& db, const snapshot& s, const label_box& box, const std::string& kinds_text) {
    static const std::vector<std::string> all{"postcode", "ward", "neighbourhood", "lad", "msoa", "lsoa", "oa"};
    std::set<std::string> kinds;
    const bool defaulted = data::text::trim(kinds_text).empty();
    if (defaulted) {
        kinds = {"ward", "neighbourhood", "lad", "postcode"};
    } else {
        std::size_t start = 0;
        for (;;) {
            const auto comma = kinds_text.find(',', start);
            const std::string k = data::text::trim(kinds_text.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
            if (std::find(all.begin(), all.end(), k) == all.end()) {
                throw bad_request("InvalidParameter", "kinds: \"" + k.substr(0, 40) + "\" is not one of postcode, ward, neighbourhood, lad, msoa, lsoa, oa");
            }
            kinds.insert(k);
            if (comma == std::string::npos) break;
            start = comma + 1;
        }
    }
    const double km = box.across_km();
    bool omitted = false;
    if (kinds.count("postcode") && km > postcode_label_max_km) {
        if (!defaulted) {
            char text[64];
            std::snprintf(text, sizeof text, "%.1f", km);
            throw bad_request("BoxTooLarge", "postcode labels are listed for boxes up to 8 km across; this one is " +
                                                 std::string(text) + " km: zoom in or leave postcode out of kinds");
        }
        kinds.erase("postcode");
        omitted = true;
    }
    json labels = json::array();
    json truncated = json::array();
    auto inside = [&](double lon, double lat) {
        return lon >= box.west && lon <= box.east && lat >= box.south && lat <= box.north;
    };
    if (kinds.count("postcode")) {
        // Every live postcode in the box (an 8 km box in a city centre holds a few thousand), then at most label_cap
        // spread over the box: the first in code order would all be M15... and none WA15..., leaving half the view
        // without street-level orientation.
        const auto rows = data::postcodes_in_box(db, box.west, box.south, box.east, box.north, postcode_box_rows);
        for (const auto i : spread_over_box(rows, box, label_cap)) {
            labels.push_back(json{{"kind", "postcode"}, {"code", rows[i].postcode}, {"name", rows[i].postcode},
                                  {"point", point_json(*rows[i].lon, *rows[i].lat)}});
        }
        if (rows.size() > label_cap) truncated.push_back("postcode");
    }
    std::set<std::string> named; // codes labelled from the place names, so a ward with a boundary is listed once
    {
        std::map<std::string, std::size_t> per_kind;
        for (const auto& p : data::load_place_names(db)) {
            if (!kinds.count(p.kind) || !inside(p.lon, p.lat)) continue;
            named.insert(p.code);
            if (++per_kind[p.kind] > label_cap) {
                if (per_kind[p.kind] == label_cap + 1) truncated.push_back(p.kind);
                continue;
            }
            labels.push_back(json{{"kind", p.kind}, {"code", p.code}, {"name", p.name}, {"point", point_json(p.lon, p.lat)}});
        }
    }
    // Areas with a boundary, labelled at a point on their surface: wards the postcode file does not name (a store's
    // ward boundaries reach beyond its postcodes) and the census levels.
    for (const auto& level : {"lad", "ward", "msoa", "lsoa", "oa"}) {
        if (!kinds.count(level)) continue;
        const auto ids = data::area_ids_in_box(db, level, box.west, box.south, box.east, box.north, label_cap + 1);
        if (ids.size() > label_cap) truncated.push_back(level);
        const auto geometries = data::load_geometry_map(db, ids);
        for (std::size_t i = 0; i < ids.size() && i < label_cap; ++i) {
            const auto a = s.find_area_by_id(ids[i]);
            const auto g = geometries.find(ids[i]);
            if (!a || g == geometries.end()) continue;
            const auto [lon, lat] = geo::point_on_surface(reinterpret_cast<const unsigned char*>(g->second.data()), g->second.size());
            if (!inside(lon, lat)) continue; // its box meets the view but its label point is elsewhere
            const auto& area = s.areas()[*a];
            if (named.count(area.code)) continue;
            labels.push_back(json{{"kind", level}, {"code", area.code}, {"name", area.name.empty() ? area.code : area.name},
                                  {"point", point_json(lon, lat)}});
        }
    }
    json kinds_out = json::array();
    for (const auto& k : kinds) kinds_out.push_back(k);
    return json{{"bbox", json::array({box.west, box.south, box.east, box.north})},
                {"across_km", std::round(km * 100) / 100},
                {"kinds", kinds_out},
                {"postcodes_omitted", omitted},
                {"postcode_max_km", postcode_label_max_km},
                {"truncated", truncated},
                {"labels", labels}};
}

} // namespace smallarea::engine
