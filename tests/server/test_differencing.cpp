// test_differencing: no combination of answers recovers an unrounded internal count or any volume (or base) of a
// percentage-only measure. Written as an attacker with a valid partner key would work, against real servers.
//
// Two proofs, both adversarial:
//  1. Indistinguishable twins. A second store holds a *different* SYNTHETIC internal dataset that must look the
//     same through every route: each count cell moved to another raw value inside the same rounding interval,
//     each served percentage-only cell (base >= percent_min_denominator) multiplied by 3, each suppressed one
//     replaced by other small figures. Both servers get the same few thousand requests (tables at every level and
//     inside every district and some LSOAs, breaks, tiles, OGC items, exports, targets, zones, hundreds of bespoke
//     areas from codes and drawn polygons, level=bespoke, within=bespoke:, bespoke exports and OGC bespoke
//     collections). Every body must be identical: if one differed, that answer would carry information about
//     the unrounded counts or the percentage volumes, which is exactly what may not leave the server.
//  2. Solvers. (a) Bespoke differencing of three suppressed OAs ({x1,x2}, {x1,x3}, {x2,x3}, {x1,x2,x3}) with an
//     integer search over every base below the threshold, as in the reported attack; (b) parent minus children:
//     an attacker who somehow knows every served OA of an LSOA exactly searches the one suppressed OA's figures
//     that make the LSOA's percentages come out as served; (c) count differencing A vs A + {x}. Each counts the
//     cells it pins down uniquely and correctly; all must be zero. The test first checks that the same solvers
//     DO recover cells from answers computed the way the withdrawn rule did (percentages of unrounded sums over
//     any union), so a solver that silently stopped working cannot make the test pass.

#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include "server_fixture.hpp"

#include <algorithm>
#include <cstdlib>
#include <array>
#include <cmath>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <regex>
#include <set>
#include <thread>

using nlohmann::json;
using namespace test_support;

namespace {

using test_fixture::sample_dir;
const std::string internal_id = "synthetic_work_programme";
const std::vector<std::string> count_measures{"referrals", "attachments", "job_starts"};
const std::vector<std::string> percent_measures{"job_outcomes_group_a", "job_outcomes_group_b", "job_outcomes_group_c"};
const std::vector<std::string> periods{"2017-09", "2017-10"};
const std::int64_t base = 20;
const std::int64_t min_denominator = 10;

std::int64_t round_half_up(std::int64_t v) { return (v + base / 2) / base * base; }
std::int64_t percent_of(std::int64_t part, std::int64_t whole) { return (200 * part + whole) / (2 * whole); }

using triple = std::array<std::int64_t, 3>; // job outcomes in payment groups A, B, C

/// The raw SYNTHETIC file: value[period][oa][measure].
struct raw_data {
    std::vector<std::string> header;
    std::vector<std::vector<std::string>> rows;
    std::map<std::string, std::map<std::string, std::map<std::string, std::int64_t>>> value;
    std::map<std::string, std::string> lsoa_of; // OA -> LSOA
    std::map<std::string, std::string> lad_of;  // OA -> LAD

    triple outcomes(const std::string& period, const std::string& oa) const {
        const auto& m = value.at(period).at(oa);
        return {m.at(percent_measures[0]), m.at(percent_measures[1]), m.at(percent_measures[2])};
    }
};

const raw_data& raw() {
    static const raw_data r = [] {
        raw_data out;
        const auto t = read_csv(sample_dir + "/counts/synthetic_mi_work_programme_oa11.csv");
        out.header = t.header;
        out.rows = t.rows;
        for (std::size_t i = 0; i < t.rows.size(); ++i) {
            out.value[t.at(i, "period")][t.at(i, "oa11cd")][t.at(i, "measure")] = std::stoll(t.at(i, "value"));
        }
        const auto lookup = read_csv(sample_dir + "/lookups/oa11_lsoa11_lad11_manchester_trafford.csv");
        for (std::size_t i = 0; i < lookup.rows.size(); ++i) {
            out.lsoa_of[lookup.at(i, "oa11cd")] = lookup.at(i, "lsoa11cd");
            out.lad_of[lookup.at(i, "oa11cd")] = lookup.at(i, "lad11cd");
        }
        return out;
    }();
    return r;
}

/// Another raw value that rounds to the same multiple of the base (a different one whenever the interval has one).
std::int64_t twin_count(std::int64_t v) {
    const std::int64_t r = round_half_up(v);
    const std::int64_t lo = std::max<std::int64_t>(0, r - base / 2);
    const std::int64_t hi = r + base / 2 - 1;
    std::int64_t t = v + 7;
    if (t > hi) t = lo + (t - hi - 1) % (hi - lo + 1);
    return t;
}

/// The twin's job outcomes: served cells x3 (same percentages, three times the volume and base), suppressed
/// cells replaced by other figures that are still below the threshold.
triple twin_outcomes(const triple& o) {
    const std::int64_t n = o[0] + o[1] + o[2];
    if (n >= min_denominator) return {3 * o[0], 3 * o[1], 3 * o[2]};
    if (n == 0) return {1, 0, 0};
    return {o[2], o[0] + (n < min_denominator - 1 ? 1 : 0), o[1]}; // rotated, base n or n + 1, still < threshold
}

/// A manifest that reads everything from the sample folder except the internal dataset's file.
std::string write_manifest(const temp_dir& dir, const std::string& mi_csv) {
    auto manifest = json::parse(read_text(sample_dir + "/manifest.json"));
    auto absolute = [&](json& section) {
        for (auto& entry : section) {
            if (entry.contains("path")) entry["path"] = sample_dir + "/" + entry["path"].get<std::string>();
            if (entry.contains("files")) {
                for (auto& f : entry["files"]) f["path"] = sample_dir + "/" + f["path"].get<std::string>();
            }
        }
    };
    for (const char* section : {"boundaries", "lookups", "denominators", "datasets", "postcodes", "crosswalks"}) {
        if (manifest.contains(section)) absolute(manifest[section]);
    }
    for (auto& d : manifest["datasets"]) {
        if (d["id"] == internal_id) d["files"][0]["path"] = mi_csv;
    }
    const auto path = dir.file("manifest.json");
    write_text(path, manifest.dump(2));
    return path;
}

std::string write_twin_csv(const temp_dir& dir) {
    const auto& r = raw();
    std::string out = "period,oa11cd,measure,value\n";
    for (const auto& [period, oas] : r.value) {
        for (const auto& [oa, measures] : oas) {
            const auto twin = twin_outcomes(r.outcomes(period, oa));
            for (const auto& [measure, v] : measures) {
                std::int64_t t = v;
                if (std::find(count_measures.begin(), count_measures.end(), measure) != count_measures.end()) {
                    t = twin_count(v);
                } else {
                    for (std::size_t g = 0; g < 3; ++g) {
                        if (measure == percent_measures[g]) t = twin[g];
                    }
                }
                out += period + "," + oa + "," + measure + "," + std::to_string(t) + "\n";
            }
        }
    }
    const auto path = dir.file("twin_mi.csv");
    write_text(path, out);
    return path;
}

/// A real server over a store ingested from `manifest`, with a key of an organisation every dataset is shared
/// with, and no rate limit (an attacker spreads requests over days; the test does not wait).
class server {
public:
    explicit server(const std::string& manifest)
        : m_server(manifest, [](smallarea::server::server_config& c) { c.rate_limit_per_second = 0; }),
          m_key(m_server.mint_key("attacker")) {}

    httplib::Headers headers() const { return {{"Authorization", "Bearer " + m_key}}; }
    std::pair<int, std::string> get(const std::string& path) const { return m_server.get(path, headers()); }
    std::pair<int, std::string> post(const std::string& path, const json& body) const {
        return m_server.post(path, body.dump(), headers());
    }

private:
    test_fixture::test_server m_server;
    std::string m_key;
};

struct servers {
    temp_dir dir;
    server real{write_manifest(dir, sample_dir + "/counts/synthetic_mi_work_programme_oa11.csv")};
    server twin{write_manifest(dir, write_twin_csv(dir))};
};

servers& both() {
    static servers s;
    return s;
}

/// Drops what legitimately differs between two stores ingested at different moments (timestamps, one-time owner
/// tokens) so that everything else can be compared byte for byte.
void strip_volatile(json& j) {
    if (j.is_object()) {
        for (const char* key : {"ingested_at", "created_at", "owner_token", "timeStamp"}) j.erase(key);
        for (auto& [k, v] : j.items()) strip_volatile(v);
    } else if (j.is_array()) {
        for (auto& v : j) strip_volatile(v);
    }
}

std::string normalise(std::string body, const std::map<std::string, std::string>& twin_to_real_ids) {
    for (const auto& [twin_id, real_id] : twin_to_real_ids) body = replace_all(body, twin_id, real_id);
    static const std::regex own_address(R"(127\.0\.0\.1:[0-9]+)"); // each server's links name its own port
    body = std::regex_replace(body, own_address, "127.0.0.1:PORT");
    auto j = json::parse(body, nullptr, false);
    if (j.is_discarded()) return body; // CSV, MVT: bytes as sent
    strip_volatile(j);
    if (j.is_object() && j.contains("features") && j["features"].is_array()) {
        // Collections of bespoke areas are in id order, and ids are random per server.
        auto& f = j["features"];
        std::sort(f.begin(), f.end(), [](const json& x, const json& y) { return x.value("id", json()).dump() < y.value("id", json()).dump(); });
    }
    return j.dump();
}

/// Bespoke areas created on both servers in the same order: real id -> twin id.
struct bespoke_pair {
    std::string real;
    std::string twin;
};

std::map<std::string, std::string> id_map; // twin id -> real id, for normalise()

bespoke_pair create_on_both(const json& body) {
    auto& s = both();
    const auto [status_real, body_real] = s.real.post("/api/bespoke", body);
    const auto [status_twin, body_twin] = s.twin.post("/api/bespoke", body);
    INFO(body.dump().substr(0, 200) << " -> " << body_real.substr(0, 200));
    REQUIRE(status_real == 201);
    REQUIRE(status_twin == 201);
    bespoke_pair p{json::parse(body_real)["id"], json::parse(body_twin)["id"]};
    id_map[p.twin] = p.real;
    return p;
}

std::size_t compared = 0;
std::size_t differing = 0;

/// Sends one request to both servers and requires identical answers (status and normalised body).
void compare(const std::string& path_real, const std::string& path_twin) {
    auto& s = both();
    const auto a = s.real.get(path_real);
    const auto b = s.twin.get(path_twin);
    ++compared;
    const bool same = a.first == b.first && normalise(a.second, {}) == normalise(b.second, id_map);
    if (!same) {
        ++differing;
        if (const char* dump = std::getenv("SMALLAREA_DIFF_DIR"); dump && differing <= 3) {
            write_text(std::string(dump) + "/real" + std::to_string(differing), normalise(a.second, {}));
            write_text(std::string(dump) + "/twin" + std::to_string(differing), normalise(b.second, id_map));
        }
        if (differing <= 15) {
            FAIL_CHECK("answers differ between two datasets that must be indistinguishable: " << path_real << "\n  real "
                       << a.first << " " << a.second.substr(0, 300) << "\n  twin " << b.first << " " << b.second.substr(0, 300));
        }
    }
}

void compare(const std::string& path) { compare(path, path); }

/// The same path on each server with its own bespoke ids substituted for "{ids}".
void compare_bespoke(const std::string& path, const std::vector<bespoke_pair>& areas) {
    std::string real_ids, twin_ids;
    for (const auto& a : areas) {
        real_ids += (real_ids.empty() ? "" : ",") + a.real;
        twin_ids += (twin_ids.empty() ? "" : ",") + a.twin;
    }
    compare(replace_all(path, "{ids}", real_ids), replace_all(path, "{ids}", twin_ids));
}

std::vector<std::string> all_measures() {
    auto m = count_measures;
    m.insert(m.end(), percent_measures.begin(), percent_measures.end());
    return m;
}

std::vector<std::string> oas_of_lsoa(const std::string& lsoa) {
    std::vector<std::string> out;
    for (const auto& [oa, parent] : raw().lsoa_of) {
        if (parent == lsoa && raw().value.at("2017-10").count(oa)) out.push_back(oa);
    }
    return out;
}

std::vector<std::string> lsoas() {
    std::set<std::string> s;
    for (const auto& [oa, lsoa] : raw().lsoa_of) s.insert(lsoa);
    return {s.begin(), s.end()};
}

std::vector<std::string> lads() {
    std::set<std::string> s;
    for (const auto& [oa, lad] : raw().lad_of) s.insert(lad);
    return {s.begin(), s.end()};
}

bool suppressed_cell(const triple& o) {
    const auto n = o[0] + o[1] + o[2];
    return n > 0 && n < min_denominator;
}

// ---- solvers ---------------------------------------------------------------------------------------------------

/// Every split of a base from 1 to threshold - 1 into three groups: what a suppressed cell may be.
const std::vector<triple>& small_cells() {
    static const std::vector<triple> all = [] {
        std::vector<triple> out;
        for (std::int64_t n = 1; n < min_denominator; ++n) {
            for (std::int64_t a = 0; a <= n; ++a) {
                for (std::int64_t b = 0; a + b <= n; ++b) out.push_back({a, b, n - a - b});
            }
        }
        return out;
    }();
    return all;
}

/// Percentages (or "suppressed") of a sum of cells, the way the withdrawn rule served any union.
std::optional<triple> percentages(const triple& sum) {
    const auto n = sum[0] + sum[1] + sum[2];
    if (n < min_denominator) return std::nullopt;
    return triple{percent_of(sum[0], n), percent_of(sum[1], n), percent_of(sum[2], n)};
}

triple add(const triple& x, const triple& y) { return {x[0] + y[0], x[1] + y[1], x[2] + y[2]}; }

/// What the attacker reads for one union: percentages per group, or nullopt when suppressed or refused.
using observation = std::optional<triple>;

/// Solver (a): the four unions of three suppressed OAs. Returns the unique solution, if there is one.
std::optional<std::array<triple, 3>> solve_three(const observation& o12, const observation& o13, const observation& o23,
                                                 const observation& o123) {
    if (!o12 && !o13 && !o23 && !o123) return std::nullopt; // nothing was served: nothing to solve with
    const auto& cells = small_cells();
    auto fits = [](const observation& o, const triple& sum) { return percentages(sum) == o; };
    std::vector<std::pair<std::size_t, std::size_t>> pairs12;
    for (std::size_t i = 0; i < cells.size(); ++i) {
        for (std::size_t j = 0; j < cells.size(); ++j) {
            if (fits(o12, add(cells[i], cells[j]))) pairs12.emplace_back(i, j);
        }
    }
    std::optional<std::array<triple, 3>> found;
    std::size_t solutions = 0;
    for (const auto& [i, j] : pairs12) {
        for (std::size_t k = 0; k < cells.size(); ++k) {
            if (!fits(o13, add(cells[i], cells[k])) || !fits(o23, add(cells[j], cells[k]))) continue;
            if (!fits(o123, add(add(cells[i], cells[j]), cells[k]))) continue;
            if (++solutions > 1) return std::nullopt;
            found = std::array<triple, 3>{cells[i], cells[j], cells[k]};
        }
    }
    return found;
}

/// Solver (b): the parent's served percentages, the served children known exactly, one suppressed child. The
/// cell counts as pinned when the truth is among at most `pinned_at` candidates that fit (an attacker who narrows
/// a suppressed cell to three possibilities has learnt it).
constexpr std::size_t pinned_at = 3;
bool pins_parent(const observation& parent, const triple& served_children_sum, const triple& truth) {
    if (!parent) return false;
    std::size_t fitting = 0;
    bool truth_fits = false;
    for (const auto& c : small_cells()) {
        if (percentages(add(served_children_sum, c)) != parent) continue;
        ++fitting;
        truth_fits = truth_fits || c == truth;
    }
    return truth_fits && fitting <= pinned_at;
}

/// Percentages of one bespoke row or table row as the attacker reads them, for three group measures at once.
observation read_percentages(const std::array<json, 3>& rows) {
    triple p{};
    for (std::size_t g = 0; g < 3; ++g) {
        if (!rows[g].contains("percent") || !rows[g]["percent"].is_number()) return std::nullopt;
        p[g] = rows[g]["percent"].get<std::int64_t>();
    }
    return p;
}

} // namespace

TEST_CASE("differencing - the solvers recover cells from percentages of unrounded sums (the withdrawn rule)") {
    // The attacker's tools must work on answers computed as the old code computed them, or their zero below
    // would prove nothing.
    const auto& r = raw();
    std::size_t recovered_three = 0, tried_three = 0, recovered_parent = 0, tried_parent = 0;
    for (const auto& lsoa : lsoas()) {
        std::vector<std::string> small;
        triple served{};
        for (const auto& oa : oas_of_lsoa(lsoa)) {
            const auto o = r.outcomes("2017-10", oa);
            if (suppressed_cell(o)) small.push_back(oa);
            else served = add(served, o);
        }
        if (small.size() >= 3 && tried_three < 40) {
            const auto x1 = r.outcomes("2017-10", small[0]), x2 = r.outcomes("2017-10", small[1]),
                       x3 = r.outcomes("2017-10", small[2]);
            ++tried_three;
            const auto s = solve_three(percentages(add(x1, x2)), percentages(add(x1, x3)), percentages(add(x2, x3)),
                                       percentages(add(add(x1, x2), x3)));
            if (s && (*s)[0] == x1 && (*s)[1] == x2 && (*s)[2] == x3) ++recovered_three;
        }
        if (small.size() == 1) {
            ++tried_parent;
            const auto x = r.outcomes("2017-10", small[0]);
            if (pins_parent(percentages(add(served, x)), served, x)) ++recovered_parent;
        }
    }
    MESSAGE("withdrawn rule: three-OA differencing recovered " << recovered_three << " of " << tried_three
            << " triples; parent minus children recovered " << recovered_parent << " of " << tried_parent << " OAs");
    CHECK(tried_three > 10);
    CHECK(recovered_three > 0);
    CHECK(tried_parent > 10);
    CHECK(recovered_parent > 0);
}

TEST_CASE("differencing - twin datasets: every standard-geography answer is identical") {
    const std::string q = "dataset=" + internal_id;
    for (const auto& m : all_measures()) {
        for (const auto& p : periods) {
            const std::string mp = q + "&measure=" + m + "&period=" + p;
            for (const char* level : {"oa", "lsoa", "lad"}) {
                compare("/api/table?" + mp + "&level=" + level);
                compare("/api/table?" + mp + "&level=" + level + "&format=csv");
            }
            for (const auto& lad : lads()) {
                compare("/api/table?" + mp + "&within=" + lad);
                compare("/api/table?" + mp + "&level=lsoa&within=" + lad);
                compare("/api/breaks?" + mp + "&within=" + lad);
            }
            const auto l = lsoas();
            for (std::size_t i = 0; i < l.size(); i += 9) compare("/api/table?" + mp + "&within=" + l[i]);
            for (const char* method : {"quantile", "jenks", "equal"}) compare("/api/breaks?" + mp + "&method=" + method);
            compare("/api/breaks?" + mp + "&level=lsoa");
            compare("/ogc/collections/" + internal_id + "." + m + "/items?period=" + p + "&limit=10000");
            compare("/api/export/areas.csv?" + mp + "&level=lsoa");
            compare("/api/export/areas.geojson?" + mp);
            compare("/api/targets?" + mp);
            compare("/api/targets?" + mp + "&min_households=0&max_households=100000&limit=1000&format=csv");
            for (const auto& lad : lads()) compare("/api/targets?" + mp + "&within=" + lad + "&limit=200");
            // Tiles over the sample at three zooms, every level (around Manchester city centre).
            for (const char* level : {"oa", "lsoa", "lad"}) {
                for (const int z : {10, 12, 13}) {
                    const double n = std::pow(2.0, z), lat = 53.4808 * M_PI / 180.0;
                    const int cx = static_cast<int>((-2.2426 + 180.0) / 360.0 * n);
                    const int cy = static_cast<int>((1.0 - std::log(std::tan(lat) + 1.0 / std::cos(lat)) / M_PI) / 2.0 * n);
                    for (int dx = -1; dx <= 1; ++dx) {
                        for (int dy = -1; dy <= 1; ++dy) {
                            compare("/tiles/" + std::string(level) + "/" + std::to_string(z) + "/" + std::to_string(cx + dx) +
                                    "/" + std::to_string(cy + dy) + ".mvt?" + mp);
                        }
                    }
                }
            }
        }
    }
    compare("/api/datasets");
    compare("/api/datasets/" + internal_id);
    MESSAGE(compared << " requests compared, " << differing << " differ");
    CHECK(compared > 500);
    CHECK(differing == 0);
}

TEST_CASE("differencing - twin datasets: hundreds of bespoke areas, zones and every bespoke route") {
    const auto& r = raw();
    std::mt19937 rng(20171031);
    std::vector<bespoke_pair> areas;
    // Codes: pairs, triples and whole LSOAs of OAs, unions across LSOA boundaries, the A vs A + {x} shapes.
    const auto l = lsoas();
    for (std::size_t i = 0; i < l.size() && areas.size() < 300; i += 2) {
        auto oas = oas_of_lsoa(l[i]);
        if (oas.size() < 3) continue;
        areas.push_back(create_on_both(json{{"name", "pair " + l[i]}, {"level", "oa"}, {"codes", {oas[0], oas[1]}}}));
        areas.push_back(create_on_both(json{{"name", "triple " + l[i]}, {"level", "oa"}, {"codes", {oas[0], oas[1], oas[2]}}}));
        std::shuffle(oas.begin(), oas.end(), rng);
        oas.resize(oas.size() - 1); // the LSOA less one OA: its parent minus the rest
        areas.push_back(create_on_both(json{{"name", "lsoa less one " + l[i]}, {"level", "oa"}, {"codes", oas}}));
        if (i + 1 < l.size()) {
            auto mixed = oas_of_lsoa(l[i + 1]);
            mixed.push_back(oas[0]);
            areas.push_back(create_on_both(json{{"name", "lsoa plus one " + l[i + 1]}, {"level", "oa"}, {"codes", mixed}}));
        }
    }
    // Suppressed OAs in many combinations: the cells an attacker most wants.
    std::vector<std::string> small;
    for (const auto& [oa, m] : r.value.at("2017-10")) {
        if (suppressed_cell(r.outcomes("2017-10", oa))) small.push_back(oa);
    }
    for (std::size_t i = 0; i + 2 < small.size() && i < 90; i += 3) {
        areas.push_back(create_on_both(json{{"name", "small"}, {"level", "oa"}, {"codes", {small[i], small[i + 1]}}}));
        areas.push_back(create_on_both(json{{"name", "small"}, {"level", "oa"}, {"codes", {small[i], small[i + 1], small[i + 2]}}}));
    }
    areas.push_back(create_on_both(json{{"name", "lsoa members"}, {"level", "lsoa"}, {"codes", {l[0], l[1], l[2]}}}));
    areas.push_back(create_on_both(json{{"name", "district"}, {"level", "lad"}, {"codes", {lads()[0]}}}));
    // Drawn polygons: small boxes over the city (areas whose point on surface falls inside).
    for (int i = 0; i < 24; ++i) {
        const double lon = -2.32 + 0.012 * (i % 6), lat = 53.43 + 0.012 * (i / 6), d = 0.004 + 0.001 * (i % 3);
        json polygon{{"type", "Polygon"},
                     {"coordinates", {{{lon, lat}, {lon + d, lat}, {lon + d, lat + d}, {lon, lat + d}, {lon, lat}}}}};
        auto& s = both();
        const json body{{"name", "drawn"}, {"level", "oa"}, {"polygon", polygon}};
        const auto a = s.real.post("/api/bespoke", body);
        const auto b = s.twin.post("/api/bespoke", body);
        REQUIRE(a.first == b.first);
        if (a.first == 201) {
            bespoke_pair p{json::parse(a.second)["id"], json::parse(b.second)["id"]};
            id_map[p.twin] = p.real;
            areas.push_back(p);
        }
    }
    // Zones built from the internal counts: same protected rates, so the same zones in both.
    for (const auto& lad : lads()) {
        for (const auto& m : count_measures) {
            const json body{{"dataset", internal_id}, {"measure", m}, {"period", "2017-10"}, {"within", lad}, {"max_zones", 30}};
            auto& s = both();
            const auto a = s.real.post("/api/zones", body);
            const auto b = s.twin.post("/api/zones", body);
            REQUIRE(a.first == 201);
            REQUIRE(b.first == 201);
            const auto za = json::parse(a.second), zb = json::parse(b.second);
            REQUIRE(za["zones"].size() == zb["zones"].size());
            for (std::size_t z = 0; z < za["zones"].size(); ++z) {
                id_map[zb["zones"][z]["id"]] = za["zones"][z]["id"];
                areas.push_back({za["zones"][z]["id"], zb["zones"][z]["id"]});
            }
            CHECK(normalise(a.second, {}) == normalise(b.second, id_map));
        }
        const json percent_zones{{"dataset", internal_id}, {"measure", percent_measures[0]}, {"within", lad}};
        CHECK(both().real.post("/api/zones", percent_zones).first == 422);
    }
    MESSAGE(areas.size() << " bespoke areas on each server");
    REQUIRE(areas.size() > 300);

    const std::size_t before = compared, differing_before = differing;
    for (const auto& m : all_measures()) {
        for (const auto& p : periods) {
            const std::string mp = "dataset=" + internal_id + "&measure=" + m + "&period=" + p;
            for (std::size_t i = 0; i < areas.size(); i += 50) {
                const std::vector<bespoke_pair> chunk(areas.begin() + static_cast<long>(i),
                                                      areas.begin() + static_cast<long>(std::min(areas.size(), i + 50)));
                compare_bespoke("/api/table?" + mp + "&level=bespoke&ids={ids}", chunk);
                compare_bespoke("/api/table?" + mp + "&level=bespoke&format=csv&ids={ids}", chunk);
                compare_bespoke("/api/export/bespoke.csv?" + mp + "&ids={ids}", chunk);
                compare_bespoke("/api/export/bespoke.geojson?" + mp + "&ids={ids}", chunk);
            }
            for (std::size_t i = 0; i < areas.size(); i += 7) {
                compare_bespoke("/api/table?" + mp + "&within=bespoke:{ids}", {areas[i]});
                compare_bespoke("/api/targets?" + mp + "&min_households=0&max_households=100000&within=bespoke:{ids}", {areas[i]});
            }
            compare("/ogc/collections/" + internal_id + "." + m + ".bespoke/items?period=" + p + "&limit=10000");
        }
    }
    MESSAGE((compared - before) << " bespoke requests compared, " << (differing - differing_before) << " differ");
    CHECK(differing == differing_before);
}

TEST_CASE("differencing - solvers against the server recover nothing") {
    auto& s = both().real;
    const auto& r = raw();
    const std::string period = "2017-10";
    auto bespoke_rows = [&](const std::string& measure, const std::vector<std::string>& ids) {
        std::string list;
        for (const auto& id : ids) list += (list.empty() ? "" : ",") + id;
        const auto [status, body] = s.get("/api/table?dataset=" + internal_id + "&measure=" + measure + "&period=" +
                                          period + "&level=bespoke&ids=" + list);
        std::vector<json> rows(ids.size(), json::object());
        if (status == 200) {
            const auto j = json::parse(body);
            for (std::size_t i = 0; i < ids.size(); ++i) rows[i] = j["rows"][i];
        } else {
            CHECK(status == 422); // refused for percentage-only measures: the attack gets nothing to solve with
        }
        return rows;
    };
    auto create = [&](const std::vector<std::string>& codes) {
        const auto [status, body] = s.post("/api/bespoke", json{{"name", "probe"}, {"level", "oa"}, {"codes", codes}});
        REQUIRE(status == 201);
        return json::parse(body)["id"].get<std::string>();
    };

    // (a) three suppressed OAs, four unions; (c) count differencing on the same unions.
    std::size_t tried = 0, recovered_percent = 0, count_probes = 0, recovered_counts = 0;
    for (const auto& lsoa : lsoas()) {
        std::vector<std::string> small;
        for (const auto& oa : oas_of_lsoa(lsoa)) {
            if (suppressed_cell(r.outcomes(period, oa))) small.push_back(oa);
        }
        if (small.size() < 3 || tried >= 30) continue;
        ++tried;
        const std::vector<std::string> ids{create({small[0], small[1]}), create({small[0], small[2]}),
                                           create({small[1], small[2]}), create({small[0], small[1], small[2]})};
        std::array<std::vector<json>, 3> by_group;
        for (std::size_t g = 0; g < 3; ++g) by_group[g] = bespoke_rows(percent_measures[g], ids);
        std::array<observation, 4> obs;
        for (std::size_t u = 0; u < 4; ++u) obs[u] = read_percentages({by_group[0][u], by_group[1][u], by_group[2][u]});
        const auto solved = solve_three(obs[0], obs[1], obs[2], obs[3]);
        if (solved && (*solved)[0] == r.outcomes(period, small[0]) && (*solved)[1] == r.outcomes(period, small[1]) &&
            (*solved)[2] == r.outcomes(period, small[2])) {
            ++recovered_percent;
        }
        for (const auto& m : count_measures) {
            const auto rows = bespoke_rows(m, ids);
            if (!rows[0]["value"].is_number() || !rows[3]["value"].is_number()) continue;
            const auto x3 = rows[3]["value"].get<std::int64_t>() - rows[0]["value"].get<std::int64_t>();
            const auto truth = r.value.at(period).at(small[2]).at(m);
            ++count_probes;
            CHECK(x3 == round_half_up(truth)); // what differencing gives is the rounded cell, already public
            if (x3 == truth && truth % base != 0) ++recovered_counts;
        }
    }

    // (b) parent minus children, with exact knowledge of every served child.
    std::map<std::string, std::array<json, 3>> lsoa_rows;
    for (std::size_t g = 0; g < 3; ++g) {
        const auto [status, body] = s.get("/api/table?dataset=" + internal_id + "&measure=" + percent_measures[g] +
                                          "&period=" + period + "&level=lsoa");
        REQUIRE(status == 200);
        const auto table = json::parse(body);
        for (const auto& row : table["rows"]) lsoa_rows[row["code"].get<std::string>()][g] = row;
    }
    std::size_t tried_parent = 0, recovered_parent = 0;
    for (const auto& lsoa : lsoas()) {
        std::vector<std::string> small;
        triple served{};
        for (const auto& oa : oas_of_lsoa(lsoa)) {
            if (!r.value.at(period).count(oa)) continue;
            const auto o = r.outcomes(period, oa);
            if (suppressed_cell(o)) small.push_back(oa);
            else served = add(served, o);
        }
        if (small.size() != 1 || !lsoa_rows.count(lsoa)) continue;
        ++tried_parent;
        if (pins_parent(read_percentages(lsoa_rows[lsoa]), served, r.outcomes(period, small[0]))) ++recovered_parent;
    }
    MESSAGE("three-OA differencing: " << recovered_percent << " of " << tried << " recovered; parent minus children: "
            << recovered_parent << " of " << tried_parent << "; count differencing: " << recovered_counts << " of "
            << count_probes << " unrounded");
    CHECK(tried >= 10);
    CHECK(tried_parent >= 10);
    CHECK(count_probes >= 30);
    CHECK(recovered_percent == 0);
    CHECK(recovered_parent == 0);
    CHECK(recovered_counts == 0);
}
