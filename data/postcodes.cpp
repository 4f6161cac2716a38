#include "data/postcodes.hpp"

#include <cctype>

namespace smallarea::data {

std::optional<std::string> normalise_postcode(const std::string& text) {
    std::string packed;
    for (const unsigned char c : text) {
        if (c == ' ' || c == '\t') continue;
        if (!std::isalnum(c)) return std::nullopt;
        packed.push_back(static_cast<char>(std::toupper(c)));
    }
    // Outward code 2-4 characters starting with a letter, inward code digit + two letters (GOV.UK's format rules).
    if (packed.size() < 5 || packed.size() > 7 || !std::isalpha(static_cast<unsigned char>(packed[0]))) return std::nullopt;
    const auto n = packed.size();
    if (!std::isdigit(static_cast<unsigned char>(packed[n - 3])) || !std::isalpha(static_cast<unsigned char>(packed[n - 2])) ||
        !std::isalpha(static_cast<unsigned char>(packed[n - 1]))) {
        return std::nullopt;
    }
    return packed.substr(0, n - 3) + " " + packed.substr(n - 3);
}

std::string postcode_prefix(const std::string& text) {
    std::string out;
    bool space = false;
    for (const unsigned char c : text) {
        if (c == ' ' || c == '\t') {
            space = !out.empty();
            continue;
        }
        if (!std::isalnum(c)) return {};
        if (space) out.push_back(' ');
        space = false;
        out.push_back(static_cast<char>(std::toupper(c)));
    }
    return out;
}

namespace {

const char* const columns = "postcode, area_id, lat, lon, live, coalesce(introduced, ''), coalesce(terminated, ''), "
                            "coalesce(ward_code, ''), coalesce(ward_name, ''), coalesce(msoa_name, ''), assigned_by";

postcode_row read_row(const statement& s) {
    postcode_row r;
    r.postcode = s.text(0);
    r.area_id = s.int64(1);
    if (!s.is_null(2)) r.lat = s.real(2);
    if (!s.is_null(3)) r.lon = s.real(3);
    r.live = s.int64(4) != 0;
    r.introduced = s.text(5);
    r.terminated = s.text(6);
    r.ward_code = s.text(7);
    r.ward_name = s.text(8);
    r.msoa_name = s.text(9);
    r.assigned_by = s.text(10);
    return r;
}

bool has_postcodes_table(database& db) {
    return db.has_table("postcodes");
}

} // namespace

std::unordered_map<std::int64_t, std::vector<postcode_row>> load_postcodes_of(database& db, const std::vector<std::int64_t>& area_ids) {
    std::unordered_map<std::int64_t, std::vector<postcode_row>> out;
    if (area_ids.empty() || !has_postcodes_table(db)) return out;
    statement s(db, std::string("SELECT ") + columns + " FROM postcodes WHERE area_id = ? ORDER BY postcode");
    for (const auto id : area_ids) {
        if (out.count(id)) continue;
        auto& list = out[id];
        s.bind(1, id);
        while (s.step()) list.push_back(read_row(s));
        s.reset();
    }
    return out;
}

std::vector<postcode_row> postcodes_with_prefix(database& db, const std::string& prefix, std::size_t limit) {
    std::vector<postcode_row> out;
    if (prefix.empty() || !has_postcodes_table(db)) return out;
    // A range on the primary key (the index), not LIKE: "M15" <= postcode < "M15\x7f".
    statement s(db, std::string("SELECT ") + columns + " FROM postcodes WHERE postcode >= ? AND postcode < ? "
                                                      "ORDER BY postcode LIMIT ?");
    s.bind(1, prefix).bind(2, prefix + "\x7f").bind(3, static_cast<std::int64_t>(limit));
    while (s.step()) out.push_back(read_row(s));
    return out;
}

std::vector<postcode_row> postcodes_in_box(database& db, double west, double south, double east, double north, std::size_t limit) {
    std::vector<postcode_row> out;
    if (!has_postcodes_table(db)) return out;
    statement s(db, std::string("SELECT ") + columns + " FROM postcodes WHERE live = 1 AND lat BETWEEN ? AND ? "
                                                      "AND lon BETWEEN ? AND ? ORDER BY postcode LIMIT ?");
    s.bind(1, south).bind(2, north).bind(3, west).bind(4, east).bind(5, static_cast<std::int64_t>(limit));
    while (s.step()) out.push_back(read_row(s));
    return out;
}

std::vector<std::int64_t> area_ids_in_box(database& db, const std::string& level, double west, double south, double east,
                                          double north, std::size_t limit) {
    std::vector<std::int64_t> out;
    if (db.is_postgresql()) {
        // The GiST index on areas.geom answers the box test (&&: bounding boxes overlap, as the R*Tree below).
        statement s(db, "SELECT id FROM areas WHERE level = ? AND geom && ST_MakeEnvelope(?, ?, ?, ?, 4326) "
                        "ORDER BY code LIMIT ?");
        s.bind(1, level).bind(2, west).bind(3, south).bind(4, east).bind(5, north).bind(6, static_cast<std::int64_t>(limit));
        while (s.step()) out.push_back(s.int64(0));
        return out;
    }
    if (!db.has_table("idx_areas_geom")) return out; // every ingest builds it; a store without one has no boundaries
    statement s(db, "SELECT id FROM areas WHERE level = ? AND geom IS NOT NULL AND id IN "
                    "(SELECT pkid FROM idx_areas_geom WHERE xmax >= ? AND xmin <= ? AND ymax >= ? AND ymin <= ?) "
                    "ORDER BY code LIMIT ?");
    s.bind(1, level).bind(2, west).bind(3, east).bind(4, south).bind(5, north).bind(6, static_cast<std::int64_t>(limit));
    while (s.step()) out.push_back(s.int64(0));
    return out;
}

std::int64_t count_postcodes(database& db) {
    if (!has_postcodes_table(db)) return 0;
    statement s(db, "SELECT count(*) FROM postcodes");
    return s.step() ? s.int64(0) : 0;
}

std::vector<place_name> load_place_names(database& db) {
    std::vector<place_name> out;
    if (!db.has_table("place_names")) return out;
    statement s(db, "SELECT kind, code, name, vintage, min_lon, min_lat, max_lon, max_lat, lon, lat, postcodes "
                    "FROM place_names ORDER BY kind, name, code");
    while (s.step()) {
        place_name p;
        p.kind = s.text(0);
        p.code = s.text(1);
        p.name = s.text(2);
        p.vintage = static_cast<int>(s.int64(3));
        p.min_lon = s.real(4);
        p.min_lat = s.real(5);
        p.max_lon = s.real(6);
        p.max_lat = s.real(7);
        p.lon = s.real(8);
        p.lat = s.real(9);
        p.postcodes = s.int64(10);
        out.push_back(std::move(p));
    }
    return out;
}

} // namespace smallarea::data
