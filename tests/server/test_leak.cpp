// test_leak: no response of the server lets a user recover an unrounded internal value.
//
// The bundled sample's SYNTHETIC work programme dataset (internal, base 20) has raw counts that are mostly not
// multiples of 20. The test reads the raw CSV itself, builds the raw value of every (area code, measure, period)
// at every level (OA cells, and LSOA/LAD sums through the lookup), then requests every endpoint and format that
// exists (JSON, CSV, breaks, MVT tiles decoded here with protozero, TileJSON, and XLSX / GeoJSON / OGC items /
// targets / zones / bespoke areas / combinations when their routes exist) and checks, object by object:
//   - an object naming an area code is checked against that area's figures for the request's measure/period;
//   - every number in it is either a field whose meaning is verified from published/protected data (households
//     = Census count, rate = protected value per 100 households, percent = percentage of raw figures, uncertainty
//     = multiple of base/2, cell counts) or must NOT equal the raw value where raw and rounded differ;
//   - every volume of the internal dataset is a multiple of 20;
//   - the percent_base measure is never listed, never served (422), never named as a response's measure.
// Comparing per area/measure/period (not "any number anywhere") matters: a raw 7 may legitimately be a
// household count or a class count elsewhere in the same response.
// Internal datasets may need `Authorization: Bearer KEY`: SMALLAREA_KEY is sent when set, and when the server
// answers 401 the test mints a key in its own store with `smallarea keys` if that CLI exists.

#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include "server_fixture.hpp"

#include "engine/tile_export.hpp"

#include <protozero/pbf_reader.hpp>

#include <algorithm>
#include <array>
#include <functional>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <regex>
#include <set>
#include <sstream>

using namespace test_fixture;

namespace {

const std::string internal_id = "synthetic_work_programme";
const std::string percent_base_id = "job_outcomes_total";
const std::int64_t base = 20;
const std::vector<std::string> count_measures{"referrals", "attachments", "job_starts"};
const std::vector<std::string> percent_measures{"job_outcomes_group_a", "job_outcomes_group_b", "job_outcomes_group_c"};
const std::vector<std::string> periods{"2017-09", "2017-10"};
const std::vector<std::string> levels{"oa", "lsoa", "lad"};

std::int64_t round_half_up(std::int64_t v) { return (v + base / 2) / base * base; }

/// Raw figures of the internal dataset at every level: raw[measure][period][code] (OA cells; LSOA/LAD sums),
/// plus the rounded sums (sum of rounded OA cells) the server is allowed to show.
struct reference {
    std::map<std::string, std::map<std::string, std::map<std::string, std::int64_t>>> raw, rounded;
    std::map<std::string, std::int64_t> households; // Census, published
    /// Sum of the member OAs' Census households (what an aggregate row carries, rule 8).
    std::map<std::string, std::int64_t> member_households;
    /// Percentage-only measures over the served OAs only (base >= 10), per aggregate: served[measure][period][code]
    /// with percent_base_id holding the served base (rule 3: suppressed cells enter no aggregate).
    std::map<std::string, std::map<std::string, std::map<std::string, std::int64_t>>> served;
    std::map<std::string, std::pair<std::string, std::string>> parents; // OA -> (LSOA, LAD)
    std::set<std::string> codes;
};

const reference& ref() {
    static reference r = [] {
        reference out;
        const auto lookup = read_csv(sample_dir + "/lookups/oa11_lsoa11_lad11_manchester_trafford.csv");
        std::map<std::string, std::pair<std::string, std::string>> parents;
        for (std::size_t i = 0; i < lookup.rows.size(); ++i) {
            parents[lookup.at(i, "oa11cd")] = {lookup.at(i, "lsoa11cd"), lookup.at(i, "lad11cd")};
        }
        const auto t = read_csv(sample_dir + "/counts/synthetic_mi_work_programme_oa11.csv");
        for (std::size_t i = 0; i < t.rows.size(); ++i) {
            const auto& oa = t.at(i, "oa11cd");
            const auto& m = t.at(i, "measure");
            const auto& p = t.at(i, "period");
            if (t.at(i, "value").empty()) continue;
            const std::int64_t v = std::stoll(t.at(i, "value"));
            const auto& [lsoa, lad] = parents.at(oa);
            for (const auto& code : {oa, lsoa, lad}) {
                out.raw[m][p][code] += v;
                out.rounded[m][p][code] += round_half_up(v);
                out.codes.insert(code);
            }
        }
        // percent base = sum of the three groups, per area at every level.
        for (const auto& p : periods) {
            for (const auto& g : percent_measures) {
                for (const auto& [code, v] : out.raw[g][p]) out.raw[percent_base_id][p][code] += v;
            }
        }
        out.parents = parents;
        for (const auto& p : periods) {
            for (const auto& [oa, lsoa_lad] : parents) {
                const auto b = out.raw[percent_base_id][p].find(oa);
                if (b == out.raw[percent_base_id][p].end() || b->second < 10) continue;
                for (const auto& code : {oa, lsoa_lad.first, lsoa_lad.second}) {
                    out.served[percent_base_id][p][code] += b->second;
                    for (const auto& g : percent_measures) out.served[g][p][code] += out.raw[g][p][oa];
                }
            }
        }
        return out;
    }();
    return r;
}

// ---------------------------------------------------------------------------------------------------------------
// Requests (with a key when one is needed)

std::string& api_key() {
    static std::string key = [] {
        const char* k = std::getenv("SMALLAREA_KEY");
        return std::string(k ? k : "");
    }();
    return key;
}

httplib::Headers auth_headers() {
    if (api_key().empty()) return {};
    return {{"Authorization", "Bearer " + api_key()}};
}

/// Its own test server (not the shared one): the sample in a temporary store, with the rate limit off, since the
/// test sends a few thousand requests from one address; and an LSOA boundary archive exported from that store
/// (--boundaries-pmtiles), so /boundaries is probed too.
test_server& srv() {
    static test_server s(
        sample_manifest,
        [](smallarea::server::server_config& config) {
            config.rate_limit_per_second = 0;
            config.boundaries_pmtiles = "lsoa=" + test_fixture::archive_of(config.db_path);
        },
        [](const std::string& db) { smallarea::engine::export_pmtiles_to_path(db, "lsoa", "", "0", "12", test_fixture::archive_of(db), 1); });
    return s;
}

/// Every request the test sent: method, path (without the query string) and status. The route coverage check
/// ("leak - every route the server registers was probed") compares these with the server's routes.
struct probe {
    std::string method;
    std::string path;
    int status = 0;
};

std::vector<probe>& probes() {
    static std::vector<probe> p;
    return p;
}

/// Sends a request with the test's key (when it has one) and records it as a probe.
httplib::Result send(const std::string& method, const std::string& path, const std::string& body = {},
                     httplib::Headers headers = {}) {
    for (const auto& h : auth_headers()) headers.insert(h);
    auto r = srv().request(method, path, body, headers);
    probes().push_back({method, path.substr(0, path.find('?')), r->status});
    return r;
}

httplib::Result fetch(const std::string& path) { return send("GET", path); }

/// Runs a shell command, returning its stdout (and whether it exited 0).
std::pair<bool, std::string> run_command(const std::string& command, bool merge_stderr = true) {
    std::string out;
    FILE* pipe = popen((merge_stderr ? command + " 2>&1" : command + " 2>/dev/null").c_str(), "r");
    if (!pipe) return {false, ""};
    std::array<char, 4096> buffer{};
    while (const auto n = fread(buffer.data(), 1, buffer.size(), pipe)) out.append(buffer.data(), n);
    const int status = pclose(pipe);
    return {status == 0, out};
}

/// When internal data is refused (401/403, or 404 as for an unknown dataset) and no SMALLAREA_KEY is set, mints a key in the test's store with the
/// `smallarea keys` CLI (the access-control feature): org-add, then issue.
void ensure_key() {
    const auto probe = fetch("/api/table?dataset=" + internal_id + "&measure=referrals&period=2017-10&level=lad");
    if (probe->status != 401 && probe->status != 403 && probe->status != 404) return;
    REQUIRE_MESSAGE(api_key().empty(), "SMALLAREA_KEY was refused: " << probe->body);
    const std::string cli = SMALLAREA_CLI;
    const std::string db = srv().db_path();
    const auto org = run_command(cli + " keys org-add --db " + db + " --name leak-test --agreement-signed 2024-01-01 --datasets " + internal_id +
                                 " --representative 'Leak Test' --representative-contact leak@example.org");
    REQUIRE_MESSAGE(org.first, "`smallarea keys org-add` failed: " << org.second);
    // `keys issue` prints the key alone on stdout (the notice goes to stderr)
    const auto issued = run_command(cli + " keys issue --db " + db + " --org leak-test", false);
    REQUIRE_MESSAGE(issued.first, "`smallarea keys issue` failed: " << issued.second);
    std::string key = issued.second;
    while (!key.empty() && std::isspace(static_cast<unsigned char>(key.back()))) key.pop_back();
    api_key() = key;
    const auto again = fetch("/api/table?dataset=" + internal_id + "&measure=referrals&period=2017-10&level=lad");
    if (again->status == 200) {
        MESSAGE("internal data needs a key: minted one with `smallarea keys` for the test's store");
        return;
    }
    api_key().clear();
    FAIL("internal dataset answers " << probe->status << " and no key could be minted: set SMALLAREA_KEY or teach "
                                        "test_leak.cpp ensure_key() the `smallarea keys` syntax");
}

// ---------------------------------------------------------------------------------------------------------------
// The check

/// Live postcodes per area code (an OA's own, a coarser area's over its OAs), read from the test store's SQLite
/// file, not through the server.
std::int64_t live_postcodes_in(const std::string& code) {
    static const std::map<std::string, std::int64_t> counts = [] {
        std::map<std::string, std::int64_t> out;
        auto db = smallarea::data::open_store(srv().db_path(), false);
        smallarea::data::statement s(db, "SELECT a.code, count(*) FROM postcodes p JOIN areas a ON a.id = p.area_id "
                                         "WHERE p.live = 1 GROUP BY a.code "
                                         "UNION ALL SELECT c.code, count(*) FROM postcodes p JOIN area_ancestors aa ON aa.area_id = p.area_id "
                                         "JOIN areas c ON c.id = aa.ancestor_id WHERE p.live = 1 GROUP BY c.code");
        while (s.step()) out[s.text(0)] += s.int64(1);
        return out;
    }();
    const auto it = counts.find(code);
    return it == counts.end() ? 0 : it->second;
}

struct coverage {
    std::map<std::string, int> requests; // endpoint kind -> requests checked
    std::int64_t objects = 0;            // area objects compared with the reference
    std::int64_t differing = 0;          // of which raw != rounded (the cases a leak would show)
    std::int64_t volumes = 0;            // internal volumes checked to be multiples of 20
};

coverage& cov() {
    static coverage c;
    return c;
}

std::optional<double> number_of(const json& v) {
    if (v.is_number()) return v.get<double>();
    return std::nullopt;
}

/// A flag as JSON (true) or as a CSV/XLSX cell ("true").
bool said_true(const json& o, const char* key) { return o.contains(key) && (o[key] == true || o[key] == "true"); }

/// One object naming an area (a table row, a tile feature's properties, a CSV/XLSX row, a GeoJSON feature's
/// properties...) for measure m and period p of the internal dataset.
void check_area_object(const json& o, const std::string& code, const std::string& asked_measure,
                       const std::string& p, const std::string& where) {
    const auto& r = ref();
    // Objects that say which measure (and period) they carry are checked against that one: an OGC collection
    // fixes its measure whatever the query string asked for.
    const std::string m = o.contains("measure") && o["measure"].is_string() ? o["measure"].get<std::string>() : asked_measure;
    if (!r.raw.count(m)) return;
    // An object that names another (published) dataset, e.g. an OGC collection of the claimant count reached
    // while trying routes, is not the internal dataset's: its figures are served as published.
    if (o.contains("dataset") && o["dataset"].is_string() && o["dataset"].get<std::string>() != internal_id) return;
    const bool percent_measure = std::find(percent_measures.begin(), percent_measures.end(), m) != percent_measures.end();
    const auto raw_it = r.raw.at(m).at(p).find(code);
    if (raw_it == r.raw.at(m).at(p).end()) return; // an area with no figure in the source: nothing to leak
    const std::int64_t raw = raw_it->second;
    const std::int64_t rounded = r.rounded.at(m).at(p).at(code);
    ++cov().objects;
    if (raw != rounded) ++cov().differing;
    INFO(where << " area " << code << " " << m << " " << p << " raw " << raw << " rounded " << rounded << ": " << o.dump());
    const std::optional<double> value = o.contains("value") ? number_of(o["value"]) : std::nullopt;
    for (const auto& [key, v] : o.items()) {
        const auto n = number_of(v);
        if (!n) continue;
        // A row aggregating several dataset-level cells (an LSOA or LAD of the OA dataset) carries the sums over
        // its member cells (rule 8); a single cell its own figures.
        // The dataset is at OA level: any other code names an aggregate of OAs.
        const bool aggregate_row = r.parents.count(code) == 0;
        if (key == "easting" || key == "northing") {
            // A position on the National Grid in metres, not a volume: on the grid, and in the 10 m square its
            // 8-figure grid_ref names ("SJ 8501 9525").
            CHECK(*n >= 0);
            CHECK(*n < (key == "easting" ? 700000 : 1300000));
            REQUIRE_MESSAGE((o.contains("grid_ref") && o["grid_ref"].is_string()), "a National Grid position without its grid reference");
            const auto ref = o["grid_ref"].get<std::string>();
            REQUIRE(ref.size() == 12);
            CHECK(std::stol(ref.substr(key == "easting" ? 3 : 8, 4)) == static_cast<long>(std::fmod(*n, 100000.0) / 10));
            continue;
        }
        if (key == "postcodes_live") {
            // A count of places, not of people (issue #14): the live postcodes the store holds in the row's area.
            CHECK(*n == static_cast<double>(live_postcodes_in(code)));
            continue;
        }
        if (key == "change" || key == "change_rate" || key == "change_uncertainty" || key == "change_percent") {
            // Change since compare_period (the OGC .change collections): the difference of the two periods'
            // protected figures, never of raw ones, and a bound that is a sum of rounding bounds.
            REQUIRE_MESSAGE((o.contains("compare_period") && o["compare_period"].is_string()), "a change without the period it is from");
            const std::string then = o["compare_period"];
            REQUIRE(then != p);
            if (key == "change_uncertainty") {
                // counts: a sum of half-bases; percentages: two whole-percent roundings, 0.5 points each
                if (percent_measure) {
                    CHECK(*n == 1.0);
                } else {
                    CHECK(std::fmod(*n, base / 2.0) == 0.0);
                }
                continue;
            }
            if (aggregate_row) {
                if (key == "change") CHECK(std::fmod(*n, static_cast<double>(base)) == 0.0);
                continue;
            }
            if (key == "change_percent") {
                REQUIRE(percent_measure);
                auto whole_percent = [&](const std::string& period) {
                    const std::int64_t whole = r.raw.at(percent_base_id).at(period).at(code);
                    const std::int64_t part = r.raw.at(m).at(period).at(code);
                    return (200 * part + whole) / (2 * whole);
                };
                CHECK(*n == static_cast<double>(whole_percent(p) - whole_percent(then)));
                continue;
            }
            CHECK_MESSAGE(!percent_measure, "a volume change \"" << key << "\" on a percentage-only measure");
            const std::int64_t rounded_then = r.rounded.at(m).at(then).at(code);
            if (key == "change") {
                CHECK(*n == static_cast<double>(rounded - rounded_then));
                CHECK(std::fmod(*n, static_cast<double>(base)) == 0.0);
                ++cov().volumes;
            } else {
                const double h = static_cast<double>(r.households.at(code));
                auto rate = [&](std::int64_t figure) { return std::round(static_cast<double>(figure) * 100.0 / h * 100.0) / 100.0; };
                CHECK(std::abs(*n - (rate(rounded) - rate(rounded_then))) < 0.0051);
            }
            continue;
        }
        if (key == "lat" || key == "lon") {
            // A position in degrees (files; JSON has it as "point"), not a volume: inside Great Britain.
            CHECK(*n >= (key == "lat" ? 49.0 : -9.0));
            CHECK(*n <= (key == "lat" ? 61.0 : 2.0));
            continue;
        }
        if (key == "households" || key == "area_households" || key == "rate_households") {
            const auto& known = aggregate_row ? r.member_households : r.households;
            const auto h = known.find(code);
            if (h != known.end() && key != "rate_households") CHECK_MESSAGE(*n == static_cast<double>(h->second), key << " is not the Census count");
            if (h != known.end() && key == "rate_households") CHECK(*n <= static_cast<double>(h->second));
        } else if (key == "residents" || key == "id" || key == "vintage" || key == "release" || key == "cells" ||
                   key == "cells_with_value" || key == "cells_with_households" || key == "members" || key == "rank" ||
                   key == "band") { // counts of cells and ordinals, not volumes
            // identifiers and member counts, not values
        } else if (key == "rate" || key == "rate_per_100_households") {
            // Over the cells that have both a value and households (rule 8): rate_value per rate_households when
            // the object says them, else value per households where both are complete (or a single cell).
            REQUIRE_MESSAGE(value, "a rate without the protected value it is computed from");
            std::optional<double> numerator, h;
            if (o.contains("rate_value") && o["rate_value"].is_number() && o["rate_households"].is_number()) {
                numerator = o["rate_value"].get<double>();
                h = o["rate_households"].get<double>();
            } else if (!aggregate_row || (said_true(o, "complete") && said_true(o, "households_complete"))) {
                numerator = *value;
                if (o.contains("households") && o["households"].is_number()) h = o["households"].get<double>();
            }
            if (numerator && h && *h > 0) CHECK(std::abs(*n - std::round(*numerator * 100.0 / *h * 100.0) / 100.0) < 0.0051);
        } else if (key == "rate_value") {
            REQUIRE(value);
            CHECK(*n <= *value);
            CHECK(std::fmod(*n, static_cast<double>(base)) == 0.0);
        } else if (key == "rate_low" || key == "rate_high" || key == "percent_low" || key == "percent_high") {
            // intervals of a protected rate or percent, checked against them
            const auto& centre = key[0] == 'p' ? o["percent"] : o.contains("rate") ? o["rate"] : o["rate_per_100_households"];
            REQUIRE(centre.is_number());
            CHECK((key.find("low") != std::string::npos ? *n <= centre.get<double>() : *n >= centre.get<double>()));
        } else if (key == "value_low" || key == "value_high") {
            REQUIRE(value);
            const double u = o["uncertainty"].get<double>();
            CHECK(*n == (key == "value_low" ? std::max(0.0, *value - u) : *value + u));
        } else if (key == "uncertainty") {
            CHECK(std::fmod(*n, base / 2.0) == 0.0);
        } else if (key == "percent") {
            REQUIRE(percent_measure);
            const auto& figures = aggregate_row ? r.served : r.raw;
            const std::int64_t whole = figures.at(percent_base_id).at(p).at(code);
            REQUIRE(whole >= 10); // below percent_min_denominator the percent must be suppressed (null)
            const std::int64_t part = figures.at(m).at(p).at(code);
            const std::int64_t expected = (200 * part + whole) / (2 * whole); // whole percent, halves up
            CHECK(*n == static_cast<double>(expected));
        } else {
            // Anything else is a volume: rounded, a multiple of the base, never the raw value.
            CHECK_MESSAGE(!percent_measure, "a volume field \"" << key << "\" on a percentage-only measure");
            if (raw != rounded) CHECK_MESSAGE(*n != static_cast<double>(raw), "field \"" << key << "\" equals the raw value");
            CHECK_MESSAGE(std::fmod(*n, static_cast<double>(base)) == 0.0, "field \"" << key << "\" is not a multiple of 20");
            if (key == "value") CHECK(*n == static_cast<double>(rounded));
            ++cov().volumes;
        }
    }
    if (percent_measure) {
        const bool has_volume = o.contains("value") && !o["value"].is_null();
        CHECK_FALSE(has_volume);
        if (o.contains("percent") && o["percent"].is_null()) {
            const bool aggregate_row = r.parents.count(code) == 0;
            if (aggregate_row) CHECK(r.served.at(percent_base_id).at(p).count(code) == 0);
            else CHECK(r.raw.at(percent_base_id).at(p).at(code) < 10);
        }
    }
}

/// Walks any JSON document: every object with a "code" that is an area of the reference is checked; the
/// percent_base measure must not be named as a measure anywhere.
void walk(const json& j, const std::string& m, const std::string& p, const std::string& where) {
    if (j.is_object()) {
        if (j.contains("code") && j["code"].is_string() && ref().codes.count(j["code"].get<std::string>())) {
            check_area_object(j, j["code"].get<std::string>(), m, p, where);
        }
        if (j.contains("measure")) {
            const auto& mj = j["measure"];
            const std::string id = mj.is_string() ? mj.get<std::string>() : mj.is_object() && mj.contains("id") ? mj["id"].get<std::string>() : "";
            CHECK_MESSAGE(id != percent_base_id, where << " names the percentage base as its measure");
        }
        if (j.contains("measures") && j["measures"].is_array()) {
            for (const auto& x : j["measures"]) {
                if (x.is_object() && x.contains("id")) CHECK_MESSAGE(x["id"] != percent_base_id, where << " lists the percentage base");
                if (x.is_string()) CHECK_MESSAGE(x != percent_base_id, where << " lists the percentage base");
            }
        }
        for (const auto& [k, v] : j.items()) walk(v, m, p, where);
    } else if (j.is_array()) {
        for (const auto& v : j) walk(v, m, p, where);
    }
}

/// A JSON table: per-row check plus the total row (sum of protected rows, never the raw total).
void check_table_json(const json& t, const std::string& m, const std::string& p, const std::string& where) {
    walk(t, m, p, where);
    const bool percent_measure = std::find(percent_measures.begin(), percent_measures.end(), m) != percent_measures.end();
    if (percent_measure || !t.contains("rows")) return;
    std::int64_t raw_total = 0, rounded_total = 0, shown = 0;
    for (const auto& row : t["rows"]) {
        const auto code = row["code"].get<std::string>();
        const auto& raw = ref().raw.at(m).at(p);
        if (raw.count(code)) {
            raw_total += raw.at(code);
            rounded_total += ref().rounded.at(m).at(p).at(code);
        }
        if (row["value"].is_number()) shown += row["value"].get<std::int64_t>();
    }
    const auto& total = t["total"];
    INFO(where << " total " << total.dump() << " raw " << raw_total << " rounded " << rounded_total);
    REQUIRE(total["value"].is_number());
    CHECK(total["value"].get<std::int64_t>() == shown);
    CHECK(total["value"].get<std::int64_t>() == rounded_total);
    CHECK(total["value"].get<std::int64_t>() % base == 0);
    if (raw_total != rounded_total) CHECK(total["value"].get<std::int64_t>() != raw_total);
    ++cov().volumes;
}

/// Files name the figure columns after the measure ("referrals", "referrals_per_100_households",
/// "job_outcomes_group_a_percent"); the checks know them by role, so map them back ("value", "rate_per_100_households",
/// "percent"). Every other column keeps its name and is checked as what it is (a volume unless known otherwise).
void canonical_columns(std::vector<std::string>& header) {
    const std::string rate = "_per_100_households";
    for (auto& h : header) {
        if (h.size() > rate.size() && h != "rate" + rate && h.compare(h.size() - rate.size(), rate.size(), rate) == 0) {
            const std::string measure = h.substr(0, h.size() - rate.size());
            for (auto& v : header) {
                if (v == measure) v = "value";
            }
            h = "rate" + rate;
        }
    }
    for (auto& h : header) {
        if (h.size() > 8 && h.compare(h.size() - 8, 8, "_percent") == 0) h = "percent";
    }
}

/// CSV (a header line, optionally after `# key: value` metadata lines) -> array of objects, numbers as numbers.
json csv_objects(const std::string& body) {
    std::istringstream in(body);
    std::string line;
    std::vector<std::string> header;
    json out = json::array();
    auto split = [](const std::string& l) {
        std::vector<std::string> f;
        std::string cur;
        bool q = false;
        for (std::size_t i = 0; i < l.size(); ++i) {
            const char c = l[i];
            if (q) {
                if (c == '"' && i + 1 < l.size() && l[i + 1] == '"') { cur += '"'; ++i; }
                else if (c == '"') q = false;
                else cur += c;
            } else if (c == '"') q = true;
            else if (c == ',') { f.push_back(cur); cur.clear(); }
            else if (c != '\r') cur += c;
        }
        f.push_back(cur);
        return f;
    };
    while (std::getline(in, line)) {
        if (line.rfind("#", 0) == 0 || line.empty()) continue;
        const auto f = split(line);
        if (header.empty()) {
            header = f;
            canonical_columns(header);
            continue;
        }
        json o = json::object();
        for (std::size_t i = 0; i < f.size() && i < header.size(); ++i) {
            char* end = nullptr;
            const double d = std::strtod(f[i].c_str(), &end);
            if (!f[i].empty() && end && *end == '\0') o[header[i]] = d;
            else o[header[i]] = f[i];
        }
        out.push_back(o);
    }
    return out;
}

// ---------------------------------------------------------------------------------------------------------------
// A tiny MVT decoder (vector_tile.proto 2.1): layers -> features -> tags into the layer's keys/values.

json decode_mvt(const std::string& data) {
    json layers = json::object();
    protozero::pbf_reader tile(data);
    while (tile.next(3)) {
        auto layer = tile.get_message();
        std::string name;
        std::vector<std::string> keys;
        std::vector<json> values;
        std::vector<std::pair<std::uint64_t, std::vector<std::uint32_t>>> features;
        while (layer.next()) {
            switch (layer.tag()) {
            case 1: name = layer.get_string(); break;
            case 2: {
                auto f = layer.get_message();
                std::pair<std::uint64_t, std::vector<std::uint32_t>> feature;
                while (f.next()) {
                    if (f.tag() == 1) feature.first = f.get_uint64();
                    else if (f.tag() == 2) {
                        const auto tags = f.get_packed_uint32();
                        feature.second.assign(tags.begin(), tags.end());
                    } else f.skip();
                }
                features.push_back(std::move(feature));
                break;
            }
            case 3: keys.push_back(layer.get_string()); break;
            case 4: {
                auto v = layer.get_message();
                json value;
                while (v.next()) {
                    switch (v.tag()) {
                    case 1: value = v.get_string(); break;
                    case 2: value = v.get_float(); break;
                    case 3: value = v.get_double(); break;
                    case 4: value = v.get_int64(); break;
                    case 5: value = v.get_uint64(); break;
                    case 6: value = v.get_sint64(); break;
                    case 7: value = v.get_bool(); break;
                    default: v.skip();
                    }
                }
                values.push_back(value);
                break;
            }
            default: layer.skip();
            }
        }
        json list = json::array();
        for (const auto& [id, tags] : features) {
            json props = json::object();
            REQUIRE(tags.size() % 2 == 0);
            for (std::size_t i = 0; i + 1 < tags.size(); i += 2) {
                REQUIRE(tags[i] < keys.size());
                REQUIRE(tags[i + 1] < values.size());
                props[keys[tags[i]]] = values[tags[i + 1]];
            }
            list.push_back(json{{"id", id}, {"properties", props}});
        }
        layers[name] = list;
    }
    return layers;
}

// ---------------------------------------------------------------------------------------------------------------
// XLSX: a zip; the sheet XML and shared strings read with `unzip -p`, cells placed in a grid, the header row is
// the first row holding a "code" cell.

json xlsx_objects(const std::string& body) {
    temp_dir dir;
    const auto path = dir.file("t.xlsx");
    write_text(path, body);
    const auto sheet = run_command("unzip -p " + path + " 'xl/worksheets/sheet*.xml'");
    const auto shared = run_command("unzip -p " + path + " xl/sharedStrings.xml");
    REQUIRE_MESSAGE(sheet.first, "not a readable XLSX: " << sheet.second.substr(0, 200));
    std::vector<std::string> strings;
    for (std::size_t pos = 0; (pos = shared.second.find("<si>", pos)) != std::string::npos;) {
        const auto end = shared.second.find("</si>", pos);
        std::string text;
        for (std::size_t t = pos; (t = shared.second.find("<t", t)) != std::string::npos && t < end;) {
            const auto open = shared.second.find('>', t) + 1;
            const auto close = shared.second.find("</t>", open);
            text += shared.second.substr(open, close - open);
            t = close;
        }
        strings.push_back(text);
        pos = end;
    }
    std::vector<std::vector<json>> grid;
    const std::string& x = sheet.second;
    for (std::size_t pos = 0; (pos = x.find("<row", pos)) != std::string::npos;) {
        const auto end = x.find("</row>", pos);
        std::vector<json> row;
        for (std::size_t c = pos; (c = x.find("<c ", c)) != std::string::npos && c < end;) {
            const auto tag_end = x.find('>', c);
            const std::string attrs = x.substr(c, tag_end - c);
            const auto ref_pos = attrs.find("r=\"");
            std::size_t col = 0;
            for (std::size_t k = ref_pos + 3; k < attrs.size() && std::isalpha(static_cast<unsigned char>(attrs[k])); ++k) {
                col = col * 26 + static_cast<std::size_t>(attrs[k] - 'A' + 1);
            }
            if (col == 0) col = row.size() + 1;
            json value;
            const bool self_closing = attrs.back() == '/';
            const auto cell_end = self_closing ? tag_end : x.find("</c>", tag_end);
            const auto v = x.find("<v>", tag_end);
            if (!self_closing && v != std::string::npos && v < cell_end) {
                const std::string text = x.substr(v + 3, x.find("</v>", v) - v - 3);
                if (attrs.find("t=\"s\"") != std::string::npos) value = strings.at(std::stoul(text));
                else if (attrs.find("t=\"str\"") != std::string::npos || attrs.find("t=\"b\"") != std::string::npos) value = text;
                else value = std::stod(text);
            } else if (!self_closing) {
                const auto t = x.find("<t", tag_end);
                if (t != std::string::npos && t < cell_end) {
                    const auto open = x.find('>', t) + 1;
                    value = x.substr(open, x.find("</t>", open) - open);
                }
            }
            if (row.size() < col) row.resize(col);
            row[col - 1] = value;
            c = cell_end;
        }
        grid.push_back(row);
        pos = end;
    }
    json out = json::array();
    std::vector<std::string> header;
    for (const auto& row : grid) {
        if (header.empty()) {
            for (const auto& v : row) {
                if (v.is_string() && (v == "code" || v == "Code" || v == "area_code")) {
                    for (const auto& h : row) header.push_back(h.is_string() ? h.get<std::string>() : "");
                    canonical_columns(header);
                    break;
                }
            }
            continue;
        }
        json o = json::object();
        for (std::size_t i = 0; i < row.size() && i < header.size(); ++i) {
            std::string key = header[i];
            std::transform(key.begin(), key.end(), key.begin(), [](unsigned char ch) { return std::tolower(ch); });
            if (key == "area_code") key = "code";
            if (!row[i].is_null()) o[key] = row[i];
        }
        out.push_back(o);
    }
    return out;
}

std::string query(const std::string& m, const std::string& p, const std::string& level) {
    return "dataset=" + internal_id + "&measure=" + m + "&period=" + p + "&level=" + level;
}

std::vector<std::string> all_measures() {
    std::vector<std::string> out = count_measures;
    out.insert(out.end(), percent_measures.begin(), percent_measures.end());
    return out;
}

/// Tiles at zoom z covering the sample's bounds (from TileJSON).
std::vector<std::array<int, 3>> tiles_at(int z) {
    const auto tj = json::parse(fetch("/tiles/oa.json")->body);
    REQUIRE(tj.contains("bounds"));
    const auto b = tj["bounds"];
    const auto [x0, y0] = tile_of(b[0].get<double>(), b[3].get<double>(), z);
    const auto [x1, y1] = tile_of(b[2].get<double>(), b[1].get<double>(), z);
    std::vector<std::array<int, 3>> out;
    for (int x = x0; x <= x1; ++x) {
        for (int y = y0; y <= y1; ++y) out.push_back({z, x, y});
    }
    return out;
}

} // namespace

TEST_CASE("leak - reference: the internal dataset has raw values that rounding changes") {
    const auto& r = ref();
    std::int64_t differing = 0;
    for (const auto& [code, v] : r.raw.at("referrals").at("2017-10")) {
        if (v != round_half_up(v)) ++differing;
    }
    CHECK(differing > 1000); // otherwise the test could not see a leak
    // households (published) for the households check
    for (const char* level : {"oa", "lsoa", "lad"}) {
        const auto areas = json::parse(fetch(std::string("/api/areas?level=") + level)->body);
        for (const auto& a : areas["areas"]) {
            if (a["households"].is_number()) const_cast<reference&>(r).households[a["code"]] = a["households"].get<std::int64_t>();
        }
    }
    CHECK(r.households.size() > 2000);
    for (const auto& [oa, lsoa_lad] : r.parents) {
        const auto h = r.households.find(oa);
        if (h == r.households.end()) continue;
        for (const auto& code : {oa, lsoa_lad.first, lsoa_lad.second}) const_cast<reference&>(r).member_households[code] += h->second;
    }
    ensure_key();
}

TEST_CASE("leak - JSON and CSV tables at every level, measure and period") {
    ensure_key();
    for (const auto& m : all_measures()) {
        for (const auto& p : periods) {
            for (const auto& level : levels) {
                const auto path = "/api/table?" + query(m, p, level);
                const auto r = fetch(path);
                INFO(path << " -> " << r->status << " " << r->body.substr(0, 200));
                REQUIRE(r->status == 200);
                const auto t = json::parse(r->body);
                CHECK(t["rows"].size() > 0);
                check_table_json(t, m, p, path);
                ++cov().requests["table json"];
                const auto c = fetch(path + "&format=csv");
                REQUIRE(c->status == 200);
                walk(csv_objects(c->body), m, p, path + "&format=csv");
                ++cov().requests["table csv"];
            }
            // within an LSOA and a LAD: the same rows, and the total of a subset
            for (const auto& [level, within] : std::vector<std::pair<std::string, std::string>>{{"oa", "E01005061"}, {"oa", "E08000009"}, {"lsoa", "E08000003"}}) {
                const auto path = "/api/table?" + query(m, p, level) + "&within=" + within;
                const auto r = fetch(path);
                REQUIRE(r->status == 200);
                check_table_json(json::parse(r->body), m, p, path);
                walk(csv_objects(fetch(path + "&format=csv")->body), m, p, path + "&format=csv");
                cov().requests["table within"] += 2;
            }
        }
    }
}

TEST_CASE("leak - class breaks of values are multiples of the base") {
    ensure_key();
    for (const auto& m : count_measures) {
        for (const auto& level : levels) {
            for (const char* method : {"quantile", "jenks"}) {
                const auto path = "/api/breaks?" + query(m, "2017-10", level) + "&of=value&method=" + method;
                const auto b = json::parse(fetch(path)->body);
                INFO(path << " " << b.dump().substr(0, 400));
                REQUIRE(b.contains("breaks"));
                for (const auto& v : b["breaks"]) CHECK(std::fmod(v.get<double>(), static_cast<double>(base)) == 0.0);
                for (const auto& c : b["classes"]) CHECK(std::fmod(c["min"].get<double>(), static_cast<double>(base)) == 0.0);
                walk(b, m, "2017-10", path);
                ++cov().requests["breaks"];
            }
            const auto rate = fetch("/api/breaks?" + query(m, "2017-10", level) + "&of=rate&method=equal");
            CHECK(rate->status == 200);
            ++cov().requests["breaks"];
        }
    }
    for (const auto& m : percent_measures) {
        const auto path = "/api/breaks?" + query(m, "2017-10", "lsoa");
        CHECK(fetch(path)->status == 200);
        CHECK(fetch(path + "&of=value")->status == 422);
        cov().requests["breaks"] += 2;
    }
}

TEST_CASE("leak - MVT tiles decoded: every feature's properties at every level") {
    ensure_key();
    std::set<std::string> seen;
    for (const auto& level : levels) {
        const int z = level == "oa" ? 12 : 10;
        const auto tiles = tiles_at(z);
        REQUIRE(tiles.size() >= 1);
        for (const auto& m : all_measures()) {
            for (const auto& p : periods) {
                for (const auto& [tz, tx, ty] : tiles) {
                    const auto path = "/tiles/" + level + "/" + std::to_string(tz) + "/" + std::to_string(tx) + "/" +
                                      std::to_string(ty) + ".mvt?dataset=" + internal_id + "&measure=" + m + "&period=" + p;
                    const auto r = fetch(path);
                    INFO(path << " -> " << r->status);
                    REQUIRE((r->status == 200 || r->status == 204));
                    ++cov().requests["tiles"];
                    if (r->status == 204) continue;
                    const auto layers = decode_mvt(r->body);
                    REQUIRE(layers.contains(level));
                    for (const auto& f : layers[level]) {
                        seen.insert(f["properties"].value("code", ""));
                        walk(f["properties"], m, p, path);
                    }
                }
            }
        }
    }
    CHECK(seen.size() > 2000); // the tiles covered (nearly) every area
}

TEST_CASE("leak - change between periods: every change is the difference of both periods' protected figures (tables, tiles)") {
    ensure_key();
    const auto& r = ref();
    const std::string now = periods.back(), then = periods.front();
    std::size_t compared = 0, differing_raw = 0;
    for (const auto& m : all_measures()) {
        const bool percent_measure = std::find(percent_measures.begin(), percent_measures.end(), m) != percent_measures.end();
        for (const auto& level : levels) {
            const auto path = "/api/table?" + query(m, now, level) + "&compare=" + then;
            const auto doc = json::parse(fetch(path)->body);
            const auto before = json::parse(fetch("/api/table?" + query(m, then, level))->body);
            std::map<std::string, json> then_rows;
            for (const auto& row : before["rows"]) then_rows[row["code"]] = row;
            REQUIRE(doc["rows"].size() > 0);
            CHECK(doc["compare"]["period"] == then);
            for (const auto& row : doc["rows"]) {
                const std::string code = row["code"];
                INFO(path << " " << code << ": " << row.dump());
                const auto& c = row["change"];
                REQUIRE(c.is_object());
                if (!c["comparable"].get<bool>()) {
                    CHECK(c[percent_measure ? "percent" : "value"].is_null());
                    continue;
                }
                ++compared;
                const auto& old = then_rows.at(code);
                if (percent_measure) {
                    CHECK(c["percent"] == row["percent"].get<std::int64_t>() - old["percent"].get<std::int64_t>());
                    CHECK_FALSE(c.contains("value"));
                    continue;
                }
                const std::int64_t rounded_change = r.rounded.at(m).at(now).at(code) - r.rounded.at(m).at(then).at(code);
                const std::int64_t raw_change = r.raw.at(m).at(now).at(code) - r.raw.at(m).at(then).at(code);
                if (raw_change != rounded_change) ++differing_raw;
                CHECK(c["value"] == rounded_change);
                CHECK(std::fmod(c["value"].get<double>(), static_cast<double>(base)) == 0.0);
                CHECK(c["uncertainty"].get<double>() == row["uncertainty"].get<double>() + old["uncertainty"].get<double>());
                CHECK(c["within_rounding"] == (std::abs(rounded_change) <= c["uncertainty"].get<double>()));
            }
            ++cov().requests["table compare"];
            // The same changes on the map's tiles.
            for (const auto& [tz, tx, ty] : tiles_at(level == "oa" ? 12 : 10)) {
                const auto tile = "/tiles/" + level + "/" + std::to_string(tz) + "/" + std::to_string(tx) + "/" + std::to_string(ty) +
                                  ".mvt?dataset=" + internal_id + "&measure=" + m + "&period=" + now + "&compare=" + then;
                const auto t = fetch(tile);
                REQUIRE((t->status == 200 || t->status == 204));
                ++cov().requests["tiles compare"];
                if (t->status == 204) continue;
                for (const auto& f : decode_mvt(t->body)[level]) {
                    const auto& props = f["properties"];
                    const std::string code = props.value("code", "");
                    INFO(tile << " " << props.dump());
                    CHECK_FALSE(props.contains(percent_measure ? "change" : "change_percent"));
                    if (!props.contains("change")) continue;
                    CHECK(props["change"] == r.rounded.at(m).at(now).at(code) - r.rounded.at(m).at(then).at(code));
                }
            }
        }
    }
    CHECK(compared > 1000);
    CHECK(differing_raw > 100); // rounding changes the difference often, so a raw difference would be caught
}

TEST_CASE("leak - TileJSON never offers the percentage base, which is refused everywhere") {
    ensure_key();
    for (const auto& level : levels) {
        const auto tj = fetch("/tiles/" + level + ".json?dataset=" + internal_id + "&measure=referrals");
        REQUIRE(tj->status == 200);
        CHECK(tj->body.find(percent_base_id) == std::string::npos);
        ++cov().requests["tilejson"];
    }
    const auto ds = json::parse(fetch("/api/datasets/" + internal_id)->body);
    walk(ds, "referrals", "2017-10", "/api/datasets");
    walk(json::parse(fetch("/api/datasets")->body), "referrals", "2017-10", "/api/datasets");
    for (const auto& path : {"/api/table?" + query(percent_base_id, "2017-10", "oa"),
                             "/api/table?" + query(percent_base_id, "2017-10", "lad") + "&format=csv",
                             "/api/breaks?" + query(percent_base_id, "2017-10", "lsoa"),
                             "/tiles/oa/12/2020/1305.mvt?dataset=" + internal_id + "&measure=" + percent_base_id,
                             "/tiles/lsoa.json?dataset=" + internal_id + "&measure=" + percent_base_id}) {
        const auto r = fetch(path);
        INFO(path << " -> " << r->status << " " << r->body.substr(0, 200));
        CHECK(r->status == 422);
        ++cov().requests["percent_base refused"];
    }
    // and a volume of a percentage-only measure is refused too
    CHECK(fetch("/api/breaks?" + query("job_outcomes_group_a", "2017-10", "oa") + "&of=value")->status == 422);
    for (const auto& path : {"/api/values?" + query(percent_base_id, "2017-10", "lsoa"),
                             "/api/values?" + query("job_outcomes_group_a", "2017-10", "oa") + "&of=value"}) {
        CHECK(fetch(path)->status == 422);
        ++cov().requests["percent_base refused"];
    }
}

TEST_CASE("leak - /api/values: every area's figures, rebuilt as objects, at every level, measure and period") {
    ensure_key();
    for (const auto& m : all_measures()) {
        for (const auto& p : periods) {
            for (const auto& level : levels) {
                const auto path = "/api/values?" + query(m, p, level);
                const auto r = fetch(path);
                INFO(path << " -> " << r->status << " " << r->body.substr(0, 200));
                REQUIRE(r->status == 200);
                const auto doc = json::parse(r->body);
                walk(doc, m, p, path); // names no percentage base
                const bool percent = std::find(percent_measures.begin(), percent_measures.end(), m) != percent_measures.end();
                CHECK(doc.contains("value") != percent); // a percentage-only measure never has a volume array
                CHECK_FALSE(doc.contains("households"));
                std::set<std::size_t> suppressed, missing;
                for (const auto& i : doc["suppressed"]) suppressed.insert(i.get<std::size_t>());
                for (const auto& i : doc["missing"]) missing.insert(i.get<std::size_t>());
                // Each column entry as the area object it stands for, checked like a table row against the raw file.
                json objects = json::array();
                for (std::size_t i = 0; i < doc["codes"].size(); ++i) {
                    json o{{"code", doc["codes"][i]}, {"suppressed", suppressed.count(i) > 0}, {"missing", missing.count(i) > 0}};
                    if (percent) {
                        o["percent"] = doc["percent"][i];
                    } else {
                        o["value"] = doc["value"][i];
                        o["rate"] = doc["rate"][i];
                    }
                    objects.push_back(std::move(o));
                }
                walk(objects, m, p, path);
                ++cov().requests["values"];
            }
        }
    }
}

TEST_CASE("leak - the boundary archive is served by ranges and is the same for every caller") {
    const auto with_key = fetch("/boundaries/lsoa.pmtiles");
    REQUIRE(with_key->status == 200);
    CHECK(with_key->body.rfind("PMTiles\x03", 0) == 0);
    // Boundaries only (ctest -R pmtiles_node decodes every tile: code and name, no dataset property), so the
    // archive answers alike with and without a key.
    auto anonymous = srv().request("GET", "/boundaries/lsoa.pmtiles");
    CHECK(anonymous->status == 200);
    CHECK(anonymous->body == with_key->body);
    CHECK(anonymous->get_header_value("Cache-Control").find("public") != std::string::npos);
    CHECK(send("GET", "/boundaries/lsoa.pmtiles", {}, {{"Range", "bytes=0-126"}})->status == 206);
    ++cov().requests["boundaries"];
}

TEST_CASE("leak - optional endpoints, discovered by trying their routes") {
    ensure_key();
    // A route that does not exist answers 404 NotFound (the generic handler); anything else means it exists.
    struct candidate {
        std::string kind;
        std::string path;
        std::string measure;
        std::string format; // json | csv | xlsx | geojson
    };
    std::vector<candidate> candidates;
    for (const auto& m : {std::string("referrals"), std::string("job_starts"), std::string("job_outcomes_group_b")}) {
        for (const auto& level : levels) {
            const auto q = query(m, "2017-10", level);
            candidates.push_back({"table xlsx", "/api/table?" + q + "&format=xlsx", m, "xlsx"});
            candidates.push_back({"table geojson", "/api/table?" + q + "&format=geojson", m, "json"});
            candidates.push_back({"geojson", "/api/geojson?" + q, m, "json"});
            candidates.push_back({"areas geojson", "/api/areas?level=" + level + "&format=geojson&dataset=" + internal_id + "&measure=" + m + "&period=2017-10", m, "json"});
            candidates.push_back({"ogc items", "/collections/" + level + "/items?dataset=" + internal_id + "&measure=" + m + "&period=2017-10&limit=10000", m, "json"});
            candidates.push_back({"ogc items", "/ogc/collections/" + level + "/items?dataset=" + internal_id + "&measure=" + m + "&period=2017-10&limit=10000", m, "json"});
            candidates.push_back({"targets", "/api/targets?" + q, m, "json"});
            candidates.push_back({"targets csv", "/api/targets?" + q + "&format=csv", m, "csv"});
            candidates.push_back({"targets xlsx", "/api/targets?" + q + "&format=xlsx", m, "xlsx"});
            candidates.push_back({"export csv", "/api/export/areas.csv?" + q, m, "csv"});
            candidates.push_back({"export csv with totals and preamble", "/api/export/areas.csv?" + q + "&totals=true&preamble=comments", m, "csv"});
            candidates.push_back({"table csv with totals", "/api/table?" + q + "&format=csv&totals=true", m, "csv"});
            // The CSVW sidecars describe columns and carry no figures; walked like any JSON document.
            candidates.push_back({"table csvw", "/api/table?" + q + "&format=csvw", m, "json"});
            candidates.push_back({"export csvw", "/api/export/areas.csv-metadata.json?" + q, m, "json"});
            candidates.push_back({"targets csvw", "/api/targets?" + q + "&format=csvw", m, "json"});
            candidates.push_back({"ogc style", "/ogc/collections/" + internal_id + "." + m + "/styles/default?f=mapbox", m, "json"});
            candidates.push_back({"export xlsx", "/api/export/areas.xlsx?" + q, m, "xlsx"});
            candidates.push_back({"export geojson", "/api/export/areas.geojson?" + q, m, "json"});
            candidates.push_back({"zones", "/api/zones?" + q, m, "json"});
            candidates.push_back({"combinations", "/api/combinations?" + q, m, "json"});
            candidates.push_back({"combinations", "/api/combine?" + q + "&codes=E01005061,E01005062", m, "json"});
        }
        candidates.push_back({"bespoke", "/api/bespoke?dataset=" + internal_id + "&measure=" + m + "&period=2017-10", m, "json"});
        candidates.push_back({"bespoke", "/api/bespoke-areas?dataset=" + internal_id + "&measure=" + m + "&period=2017-10", m, "json"});
        candidates.push_back({"bespoke table", "/api/table?dataset=" + internal_id + "&measure=" + m + "&period=2017-10&codes=E00025604,E00025605,E00025606", m, "json"});
    }
    // OGC collections listed by the server itself
    for (const auto& root : {"/collections", "/ogc/collections"}) {
        const auto r = fetch(root);
        if (r->status != 200) continue;
        const auto c = json::parse(r->body, nullptr, false);
        if (c.is_discarded() || !c.contains("collections")) continue;
        for (const auto& col : c["collections"]) {
            const std::string id = col.value("id", "");
            if (id.empty()) continue;
            for (const auto& m : {std::string("referrals"), std::string("job_outcomes_group_a")}) {
                candidates.push_back({"ogc items", std::string(root) + "/" + id + "/items?dataset=" + internal_id + "&measure=" + m + "&period=2017-10&limit=10000", m, "json"});
            }
        }
    }
    std::set<std::string> covered, present_not_exercised, absent;
    for (const auto& c : candidates) {
        const auto r = fetch(c.path);
        const auto body = json::parse(r->body, nullptr, false);
        if (r->status == 404 && !body.is_discarded() && body.value("code", "") == "NotFound") {
            absent.insert(c.kind);
            continue;
        }
        if (r->status / 100 != 2) {
            CHECK_MESSAGE(r->status < 500, c.path << " -> " << r->status << " " << r->body.substr(0, 200));
            present_not_exercised.insert(c.kind + " (" + std::to_string(r->status) + " " + (body.is_discarded() ? "" : body.value("code", "")) + ")");
            continue;
        }
        const std::string ctype = r->get_header_value("Content-Type");
        json doc;
        if (c.format == "xlsx" || ctype.find("spreadsheet") != std::string::npos) doc = xlsx_objects(r->body);
        else if (ctype.find("csv") != std::string::npos && ctype.find("json") == std::string::npos) doc = csv_objects(r->body);
        else doc = json::parse(r->body, nullptr, false);
        if (doc.is_discarded()) {
            CHECK_MESSAGE(false, c.path << ": unreadable " << ctype);
            continue;
        }
        // GeoJSON features: properties carry the code
        walk(doc, c.measure, "2017-10", c.path);
        covered.insert(c.kind);
        ++cov().requests[c.kind];
    }
    auto join = [](const std::set<std::string>& s) {
        std::string out;
        for (const auto& x : s) out += (out.empty() ? "" : ", ") + x;
        return out.empty() ? std::string("none") : out;
    };
    for (const auto& k : covered) absent.erase(k);
    for (const auto& k : present_not_exercised) absent.erase(k.substr(0, k.find(" (")));
    MESSAGE("optional endpoints covered: " << join(covered) << "\n  present but refused the probe: "
                                           << join(present_not_exercised) << "\n  absent (404 route): " << join(absent));
}

namespace {

/// A bespoke area's figures from the reference: the sum over its members (at any level: the reference holds
/// LSOA/LAD sums of OA cells) of the raw and of the rounded cells.
struct bespoke_reference {
    std::string id;
    std::vector<std::string> members;
};

std::int64_t member_sum(const std::map<std::string, std::int64_t>& figures, const std::vector<std::string>& members) {
    std::int64_t sum = 0;
    for (const auto& m : members) {
        if (const auto it = figures.find(m); it != figures.end()) sum += it->second;
    }
    return sum;
}

/// One object describing bespoke area b (a table row, CSV/XLSX row, GeoJSON/GPKG/OGC feature's properties) for
/// measure m and period p of the internal dataset: the value is the sum of the members' rounded cells (never the
/// raw sum), a multiple of 20; percentages are whole percent of the raw sums; every other number is a count, an
/// uncertainty (multiple of base/2) or a rate computed from the protected value.
void check_bespoke_object(const json& o, const bespoke_reference& b, const std::string& m, const std::string& p,
                          const std::string& where) {
    const auto& r = ref();
    const bool percent_measure = std::find(percent_measures.begin(), percent_measures.end(), m) != percent_measures.end();
    const std::int64_t raw = member_sum(r.raw.at(m).at(p), b.members);
    const std::int64_t rounded = member_sum(r.rounded.at(m).at(p), b.members);
    ++cov().objects;
    if (raw != rounded) ++cov().differing;
    INFO(where << " bespoke " << b.id << " " << m << " " << p << " raw " << raw << " rounded " << rounded << ": " << o.dump());
    if (o.contains("measure") && o["measure"].is_string()) CHECK(o["measure"] == m);
    if (o.contains("period") && o["period"].is_string()) CHECK(o["period"] == p);
    const std::optional<double> value = o.contains("value") ? number_of(o["value"]) : std::nullopt;
    std::size_t numbers = 0;
    for (const auto& [key, v] : o.items()) {
        const auto n = number_of(v);
        if (!n) continue;
        ++numbers;
        if (key == "households" || key == "rate_households" || key == "members" || key == "cells" || key == "vintage" ||
            key == "cells_with_value" || key == "cells_with_households" || key == "rank" || key == "id") {
            // Census counts and member/cell counts, not values
        } else if (key == "rate" || key == "rate_per_100_households") {
            // Over the members with both a value and households (rule 8): checkable where the object says them.
            REQUIRE_MESSAGE(value, "a rate without the protected value it is computed from");
            std::optional<double> numerator, h;
            if (o.contains("rate_value") && o["rate_value"].is_number() && o["rate_households"].is_number()) {
                numerator = o["rate_value"].get<double>();
                h = o["rate_households"].get<double>();
            } else if (said_true(o, "complete") && said_true(o, "households_complete") && o["households"].is_number()) {
                numerator = *value;
                h = o["households"].get<double>();
            }
            if (numerator && h && *h > 0) CHECK(std::abs(*n - std::round(*numerator * 100.0 / *h * 100.0) / 100.0) < 0.0051);
        } else if (key == "rate_value") {
            REQUIRE(value);
            CHECK(*n <= *value);
            CHECK(std::fmod(*n, static_cast<double>(base)) == 0.0);
        } else if (key == "uncertainty") {
            CHECK(std::fmod(*n, base / 2.0) == 0.0);
        } else if (key == "percent") {
            REQUIRE(percent_measure);
            const std::int64_t whole = member_sum(r.raw.at(percent_base_id).at(p), b.members);
            REQUIRE(whole >= 10);
            CHECK(*n == static_cast<double>((200 * raw + whole) / (2 * whole)));
        } else {
            CHECK_MESSAGE(!percent_measure, "a volume field \"" << key << "\" on a percentage-only measure");
            if (raw != rounded) CHECK_MESSAGE(*n != static_cast<double>(raw), "field \"" << key << "\" equals the raw sum");
            CHECK_MESSAGE(std::fmod(*n, static_cast<double>(base)) == 0.0, "field \"" << key << "\" is not a multiple of 20");
            if (key == "value") CHECK(*n == static_cast<double>(rounded));
            ++cov().volumes;
        }
    }
    CHECK(numbers > 0);
    if (percent_measure) {
        CHECK_FALSE((o.contains("value") && !o["value"].is_null()));
    } else {
        CHECK((o.contains("value") && o["value"].is_number()));
    }
}

/// Every object with a "code" naming one of the bespoke areas, anywhere in a document; returns how many.
std::size_t walk_bespoke(const json& j, const std::vector<bespoke_reference>& areas, const std::string& m,
                         const std::string& p, const std::string& where) {
    std::size_t found = 0;
    if (j.is_object()) {
        // Rows name a bespoke area by "code" (the id, or bespoke:ID) or, in /api/table?level=bespoke CSV, by "id".
        // (A GeoJSON Feature's own "id" is not a row: its properties are.)
        const char* key = j.contains("code") || j.contains("geometry") ? "code" : "id";
        if (j.contains(key) && j[key].is_string()) {
            const auto code = j[key].get<std::string>();
            for (const auto& b : areas) {
                if (code == b.id || code == "bespoke:" + b.id) {
                    check_bespoke_object(j, b, m, p, where);
                    ++found;
                }
            }
        }
        for (const auto& [k, v] : j.items()) found += walk_bespoke(v, areas, m, p, where);
    } else if (j.is_array()) {
        for (const auto& v : j) found += walk_bespoke(v, areas, m, p, where);
    }
    return found;
}

std::string post_bespoke(const json& body) {
    const auto r = send("POST", "/api/bespoke", body.dump());
    INFO(r->status << " " << r->body.substr(0, 300));
    REQUIRE(r->status == 201);
    return json::parse(r->body)["id"].get<std::string>();
}

} // namespace

TEST_CASE("leak - bespoke areas in every format: sums of members' rounded cells, never the raw sum") {
    ensure_key();
    // Three bespoke areas at three member levels: OAs of two LSOAs, two LSOAs, and a whole LAD.
    const auto oa_areas = json::parse(fetch("/api/areas?level=oa&within=E08000003")->body)["areas"];
    std::vector<std::string> oas;
    for (std::size_t i = 0; i < oa_areas.size() && oas.size() < 12; i += 3) oas.push_back(oa_areas[i]["code"]);
    const auto lsoa_areas = json::parse(fetch("/api/areas?level=lsoa&within=E08000009")->body)["areas"];
    const std::vector<std::string> lsoas{lsoa_areas[0]["code"], lsoa_areas[5]["code"]};
    std::vector<bespoke_reference> areas{{post_bespoke(json{{"name", "leak OAs"}, {"level", "oa"}, {"codes", oas}}), oas},
                                         {post_bespoke(json{{"name", "leak LSOAs"}, {"level", "lsoa"}, {"codes", lsoas}}), lsoas},
                                         {post_bespoke(json{{"name", "leak LAD"}, {"level", "lad"}, {"codes", {"E08000009"}}}), {"E08000009"}}};
    const std::string ids = areas[0].id + "," + areas[1].id + "," + areas[2].id;
    const auto gpkg_path = [] {
        static temp_dir dir;
        return dir.file("bespoke.gpkg");
    }();
    for (const auto& m : all_measures()) {
        for (const auto& p : periods) {
            const std::string q = "dataset=" + internal_id + "&measure=" + m + "&period=" + p;
            struct probe {
                std::string kind, path;
            };
            std::vector<probe> probes{{"bespoke table json", "/api/table?" + q + "&level=bespoke&ids=" + ids},
                                      {"bespoke table csv", "/api/table?" + q + "&level=bespoke&format=csv&ids=" + ids},
                                      {"bespoke export csv", "/api/export/bespoke.csv?" + q + "&ids=" + ids},
                                      {"bespoke export xlsx", "/api/export/bespoke.xlsx?" + q + "&ids=" + ids},
                                      {"bespoke export geojson", "/api/export/areas.geojson?" + q + "&level=bespoke&ids=" + ids},
                                      {"bespoke export geojson", "/api/export/bespoke.geojson?" + q + "&ids=" + ids},
                                      {"bespoke ogc items", "/ogc/collections/" + internal_id + "." + m + ".bespoke/items?period=" + p + "&limit=1000"}};
            if (p == periods.back()) probes.push_back({"bespoke export gpkg", "/api/export/bespoke.gpkg?" + q + "&ids=" + ids});
            const bool percent_measure = std::find(percent_measures.begin(), percent_measures.end(), m) != percent_measures.end();
            for (const auto& pr : probes) {
                const auto r = fetch(pr.path);
                INFO(pr.path << " -> " << r->status << " " << r->body.substr(0, 300));
                if (percent_measure) {
                    // Never served on user-defined areas (rule 3): refused, or no such OGC collection.
                    CHECK(r->status == (pr.kind == "bespoke ogc items" ? 404 : 422));
                    continue;
                }
                REQUIRE(r->status == 200);
                const std::string ctype = r->get_header_value("Content-Type");
                json doc;
                if (ctype.find("spreadsheet") != std::string::npos) {
                    doc = xlsx_objects(r->body);
                    // The About sheet states the classification and the rounding (its text is in sharedStrings.xml).
                    temp_dir dir;
                    write_text(dir.file("b.xlsx"), r->body);
                    const auto strings = run_command("unzip -p '" + dir.file("b.xlsx") + "' xl/sharedStrings.xml").second;
                    CHECK(strings.find("Internal MI: not for onward sharing") != std::string::npos);
                    CHECK(strings.find("Rounding base") != std::string::npos);
                    CHECK(strings.find("rounded to the nearest 20") != std::string::npos);
                } else if (ctype.find("csv") != std::string::npos) {
                    doc = csv_objects(r->body);
                    // The header is line 1; the classification is on every row and the statement in the CSVW
                    // sidecar the Link header names.
                    CHECK(r->body.rfind("code,", 0) == 0);
                    REQUIRE(doc.size() == 3);
                    for (const auto& row : doc) CHECK(row["classification"] == "Internal MI: not for onward sharing");
                    const auto link = r->get_header_value("Link");
                    REQUIRE(link.find("rel=\"describedby\"") != std::string::npos);
                    const auto sidecar = fetch(link.substr(1, link.find('>') - 1));
                    REQUIRE(sidecar->status == 200);
                    CHECK(sidecar->body.find("Internal management information") != std::string::npos);
                    CHECK(sidecar->body.find("Internal MI: not for onward sharing") != std::string::npos);
                    walk(json::parse(sidecar->body), m, p, pr.path + " sidecar");
                } else if (ctype.find("geopackage") != std::string::npos) {
                    write_text(gpkg_path, r->body);
                    const auto converted = run_command("ogr2ogr -f GeoJSON /vsistdout/ '" + gpkg_path + "'", false);
                    REQUIRE(converted.first);
                    doc = json::parse(converted.second);
                } else {
                    doc = json::parse(r->body);
                }
                // Every bespoke area appears once per format (the OGC collection lists all that fit the dataset).
                CHECK(walk_bespoke(doc, areas, m, p, pr.path) == areas.size());
                walk(doc, m, p, pr.path); // and no area object inside leaks either
                ++cov().requests[pr.kind];
            }
        }
    }
    // A percentage base is refused here too.
    CHECK(fetch("/api/export/bespoke.csv?dataset=" + internal_id + "&measure=" + percent_base_id + "&ids=" + ids)->status == 422);
    CHECK(fetch("/ogc/collections/" + internal_id + "." + percent_base_id + ".bespoke/items")->status == 404);
}

TEST_CASE("leak - series: every period of an area is that period's protected figure (JSON, CSV, XLSX; standard and bespoke areas)") {
    ensure_key();
    const auto oa_areas = json::parse(fetch("/api/areas?level=oa&within=E08000003")->body)["areas"];
    const auto lsoa_areas = json::parse(fetch("/api/areas?level=lsoa&within=E08000009")->body)["areas"];
    const std::string oa = oa_areas[7]["code"];
    const std::vector<std::string> lsoas{lsoa_areas[1]["code"], lsoa_areas[4]["code"]};
    const bespoke_reference bespoke{post_bespoke(json{{"name", "leak series"}, {"level", "lsoa"}, {"codes", lsoas}}), lsoas};
    const std::vector<std::string> areas{oa, lsoas[0], "E08000009", "bespoke:" + bespoke.id};
    for (const auto& m : all_measures()) {
        const bool percent_measure = std::find(percent_measures.begin(), percent_measures.end(), m) != percent_measures.end();
        for (const auto& area : areas) {
            const bool is_bespoke = area.rfind("bespoke:", 0) == 0;
            for (const std::string format : {"json", "csv", "xlsx"}) {
                const std::string path = "/api/series?dataset=" + internal_id + "&measure=" + m + "&area=" + area +
                                         (format == "json" ? "" : "&format=" + format);
                const auto r = fetch(path);
                INFO(path << " -> " << r->status << " " << r->body.substr(0, 300));
                if (is_bespoke && percent_measure) { // never on user-defined areas (rule 3)
                    CHECK(r->status == 422);
                    continue;
                }
                REQUIRE(r->status == 200);
                json rows = json::array();
                if (format == "json") {
                    const auto doc = json::parse(r->body);
                    CHECK(doc["classification"] == "internal");
                    for (auto row : doc["periods"]) {
                        row["code"] = area;
                        rows.push_back(std::move(row));
                    }
                    walk(doc, m, periods.back(), path); // nothing else in the document names an area's figure
                } else {
                    // The Data sheet's rows (xlsx_objects reads the About sheet too, as rows without a code).
                    for (const auto& row : format == "csv" ? csv_objects(r->body) : xlsx_objects(r->body)) {
                        if (row.contains("code") && row["code"] == area) rows.push_back(row);
                    }
                }
                REQUIRE(rows.size() == periods.size());
                for (std::size_t i = 0; i < rows.size(); ++i) {
                    const auto& row = rows[i];
                    REQUIRE(row.contains("period"));
                    CHECK(row["period"] == periods[i]);
                    if (format != "json") CHECK(row["classification"] == "Internal MI: not for onward sharing");
                    if (is_bespoke) {
                        check_bespoke_object(row, bespoke, m, periods[i], path);
                    } else {
                        check_area_object(row, area, m, periods[i], path);
                    }
                }
                ++cov().requests["series " + format];
            }
        }
    }
}

TEST_CASE("leak - the remaining routes: metadata, OGC documents and features, zones, bespoke reads, publish, delete") {
    ensure_key();
    const std::string q = query("referrals", "2017-10", "lsoa");
    // Documents without area figures are walked all the same: any area object in them is checked.
    for (const auto& path : std::vector<std::string>{"/health", "/api/config", "/tiles/catalog", "/ogc", "/ogc/", "/ogc/conformance", "/ogc/api",
                                   "/ogc/collections/" + internal_id + ".referrals", "/ogc/collections/" + internal_id + ".referrals/styles"}) {
        const auto r = fetch(path);
        INFO(path << " -> " << r->status << " " << r->body.substr(0, 200));
        REQUIRE(r->status == 200);
        const auto doc = json::parse(r->body, nullptr, false);
        if (!doc.is_discarded()) walk(doc, "referrals", "2017-10", path);
        CHECK(r->body.find(percent_base_id) == std::string::npos);
        ++cov().requests["metadata and OGC documents"];
    }
    // One feature of an internal collection, for every measure
    const std::string oa = ref().parents.begin()->first;
    for (const auto& m : all_measures()) {
        const auto path = "/ogc/collections/" + internal_id + "." + m + "/items/" + oa + "?period=2017-10";
        const auto r = fetch(path);
        INFO(path << " -> " << r->status << " " << r->body.substr(0, 200));
        REQUIRE(r->status == 200);
        walk(json::parse(r->body), m, "2017-10", path);
        ++cov().requests["ogc feature"];
    }
    // The GeoPackage export, read back with ogr2ogr
    {
        temp_dir dir;
        const auto r = fetch("/api/export/areas.gpkg?" + q);
        REQUIRE(r->status == 200);
        write_text(dir.file("areas.gpkg"), r->body);
        const auto converted = run_command("ogr2ogr -f GeoJSON /vsistdout/ '" + dir.file("areas.gpkg") + "'", false);
        REQUIRE(converted.first);
        const auto doc = json::parse(converted.second);
        CHECK(doc["features"].size() > 100);
        walk(doc, "referrals", "2017-10", "/api/export/areas.gpkg");
        ++cov().requests["export gpkg"];
    }
    // Zones: every zone is the sum of its members' rounded cells, as a bespoke area
    {
        const json body{{"dataset", internal_id}, {"measure", "referrals"}, {"period", "2017-10"}, {"within", "E08000003"},
                        {"min_households", 100}, {"max_households", 300}, {"max_zones", 8}};
        const auto r = send("POST", "/api/zones", body.dump());
        INFO(r->status << " " << r->body.substr(0, 300));
        REQUIRE(r->status == 201);
        const auto doc = json::parse(r->body);
        std::vector<bespoke_reference> zones;
        for (const auto& z : doc["zones"]) zones.push_back({z["id"].get<std::string>(), z["members"].get<std::vector<std::string>>()});
        REQUIRE(zones.size() == 8);
        CHECK(walk_bespoke(doc, zones, "referrals", "2017-10", "/api/zones") == zones.size());
        walk(doc, "referrals", "2017-10", "/api/zones");
        ++cov().requests["zones"];
        const json percent{{"dataset", internal_id}, {"measure", "job_outcomes_group_a"}, {"period", "2017-10"}, {"within", "E08000003"}};
        CHECK(send("POST", "/api/zones", percent.dump())->status == 422);
    }
    // A bespoke area's metadata and outline, publishing it, deleting it
    {
        const auto oa_areas = json::parse(fetch("/api/areas?level=oa&within=E01005061")->body)["areas"];
        std::vector<std::string> codes;
        for (const auto& a : oa_areas) codes.push_back(a["code"]);
        const std::string id = post_bespoke(json{{"name", "leak routes"}, {"level", "oa"}, {"codes", codes}});
        for (const auto& path : std::vector<std::string>{"/api/bespoke/" + id, "/api/bespoke/" + id + ".geojson", "/api/bespoke/" + id + ".geojson?members=true",
                                       "/api/export/bespoke.csv-metadata.json?dataset=" + internal_id + "&measure=referrals&period=2017-10&ids=" + id}) {
            const auto r = fetch(path);
            INFO(path << " -> " << r->status << " " << r->body.substr(0, 200));
            REQUIRE(r->status == 200);
            walk(json::parse(r->body), "referrals", "2017-10", path);
            ++cov().requests["bespoke reads"];
        }
        const auto published = send("PATCH", "/api/bespoke/" + id, json{{"public", true}}.dump());
        INFO(published->body.substr(0, 300));
        REQUIRE(published->status == 200);
        walk(json::parse(published->body), "referrals", "2017-10", "PATCH /api/bespoke");
        CHECK(send("DELETE", "/api/bespoke/" + id)->status == 204);
        CHECK(fetch("/api/bespoke/" + id)->status == 404);
        cov().requests["bespoke publish and delete"] += 2;
    }
}

namespace {

/// One route the server registers: its method and cpp-httplib path pattern (an ECMAScript regex matched against
/// the whole path), and where it is registered.
struct route {
    std::string method;
    std::string pattern;
    std::string where;
};

/// "x\.(a|b)" -> {"x\.(a)", "x\.(b)"}: a group of plain alternatives (file extensions) is one route per
/// alternative, so each format must be probed on its own.
std::vector<std::string> expand_alternatives(const std::string& pattern) {
    for (std::size_t open = pattern.find('('); open != std::string::npos; open = pattern.find('(', open + 1)) {
        const auto close = pattern.find(')', open);
        if (close == std::string::npos) break;
        const std::string inside = pattern.substr(open + 1, close - open - 1);
        if (inside.find('|') == std::string::npos || inside.find_first_of("([*+?") != std::string::npos) continue;
        std::vector<std::string> out;
        std::size_t start = 0;
        while (start <= inside.size()) {
            const auto bar = std::min(inside.find('|', start), inside.size());
            for (auto& tail : expand_alternatives(pattern.substr(close + 1))) {
                out.push_back(pattern.substr(0, open + 1) + inside.substr(start, bar - start) + ")" + tail);
            }
            start = bar + 1;
        }
        return out;
    }
    return {pattern};
}

/// The routes registered in server/*.cpp, read from the sources: cpp-httplib cannot list its routes, and the
/// sources are what the server runs (the README's API table describes them for people and may lag). Fails when
/// a registration's path is not a string literal, since its route could then not be checked.
std::vector<route> registered_routes() {
    const std::regex call(R"(\bhttp\.(Get|Post|Put|Patch|Delete|Options)\()");
    const std::regex literal(R"re(^\s*(?:R"\(([\s\S]*?)\)"|"((?:[^"\\]|\\.)*)"))re");
    std::vector<route> out;
    std::vector<std::filesystem::path> files;
    for (const auto& entry : std::filesystem::directory_iterator(source_dir + "/server")) {
        if (entry.path().extension() == ".cpp") files.push_back(entry.path());
    }
    std::sort(files.begin(), files.end());
    for (const auto& file : files) {
        const std::string text = read_text(file.string());
        for (auto it = std::sregex_iterator(text.begin(), text.end(), call); it != std::sregex_iterator(); ++it) {
            const auto line = std::count(text.begin(), text.begin() + it->position(), '\n') + 1;
            const std::string where = file.filename().string() + ":" + std::to_string(line);
            std::smatch path;
            const std::string rest = text.substr(static_cast<std::size_t>(it->position() + it->length()), 400);
            REQUIRE_MESSAGE(std::regex_search(rest, path, literal),
                            "the route at " << where << " is registered with a computed path: the leak test cannot check it");
            std::string pattern = path[1].matched ? path[1].str() : path[2].str();
            if (!path[1].matched) pattern = replace_all(pattern, "\\\\", "\\");
            for (auto& p : expand_alternatives(pattern)) out.push_back({(*it)[1].str(), p, where});
        }
    }
    return out;
}

std::string upper(std::string s) {
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
    return s;
}

} // namespace

TEST_CASE("leak - places (search, labels) answer names and points only, no figure of any dataset") {
    // These routes need no key, so they must carry nothing but places: no value, household, rate or percent field
    // at any depth, with or without the key that reads internal MI.
    std::function<void(const json&, const std::string&)> no_figures = [&](const json& j, const std::string& where) {
        if (j.is_object()) {
            for (const auto& [k, v] : j.items()) {
                for (const char* figure : {"value", "households", "rate", "percent", "uncertainty", "referrals", "claimants"}) {
                    CHECK_MESSAGE(k.find(figure) == std::string::npos, where << " has a field " << k);
                }
                no_figures(v, where);
            }
        } else if (j.is_array()) {
            for (const auto& v : j) no_figures(v, where);
        }
    };
    std::size_t results = 0;
    for (const char* path : {"/api/search?q=M15%204AB", "/api/search?q=M16&limit=50", "/api/search?q=trafford&limit=50",
                             "/api/search?q=E00030966", "/api/search?q=old%20trafford",
                             "/api/labels?bbox=-2.27,53.45,-2.25,53.47", "/api/labels?bbox=-2.5,53.3,-2.0,53.6",
                             "/api/labels?bbox=-2.27,53.45,-2.25,53.47&kinds=oa,lsoa,msoa,lad,ward,neighbourhood,postcode"}) {
        const auto r = fetch(path);
        REQUIRE_MESSAGE(r->status == 200, path << ": " << r->body);
        const auto body = json::parse(r->body);
        no_figures(body, path);
        results += body.contains("results") ? body["results"].size() : body["labels"].size();
        cov().requests["places"]++;
    }
    CHECK(results > 100); // the probes found places, so "no figure" was checked on real answers
}

// Reads the probes of every test case above it, so it is meaningful only when the whole file runs (as ctest does).
TEST_CASE("leak - every route the server registers was probed and answered 2xx") {
    const auto routes = registered_routes();
    // The parser must see the routes it is known to have; otherwise "nothing uncovered" would mean nothing.
    REQUIRE(routes.size() >= 30);
    std::set<std::string> names;
    for (const auto& r : routes) names.insert(upper(r.method) + " " + r.pattern);
    for (const char* known : {"GET /api/table", "GET /api/breaks", "POST /api/zones", "GET /tiles/([^/]+)/([^/]+)/([^/]+)/([^/]+)\\.mvt",
                              "GET /api/export/areas\\.(xlsx)", "DELETE /api/bespoke/([^/.]+)"}) {
        CHECK_MESSAGE(names.count(known), "the route parser did not find " << known);
    }
    std::vector<std::string> uncovered;
    std::size_t answered = 0;
    for (const auto& r : routes) {
        const std::regex pattern(r.pattern);
        bool probed = false, ok = false;
        for (const auto& p : probes()) {
            if (upper(p.method) != upper(r.method) || !std::regex_match(p.path, pattern)) continue;
            probed = true;
            if (p.status / 100 == 2) ok = true;
        }
        if (ok) ++answered;
        else uncovered.push_back(upper(r.method) + " " + r.pattern + " (" + r.where + (probed ? "): probed, never a 2xx answer" : "): never probed"));
    }
    std::string list;
    for (const auto& u : uncovered) list += "\n  " + u;
    MESSAGE(routes.size() << " routes registered in server/*.cpp (one per format of an export route); " << answered
                          << " probed with a 2xx answer; " << probes().size() << " requests sent");
    CHECK_MESSAGE(uncovered.empty(), "routes the leak test does not check (add a probe in test_leak.cpp):" << list);
}

TEST_CASE("leak - summary") {
    std::string kinds;
    int total = 0;
    for (const auto& [k, n] : cov().requests) {
        kinds += "\n  " + k + ": " + std::to_string(n);
        total += n;
    }
    MESSAGE("requests checked: " << total << kinds << "\narea objects compared: " << cov().objects << " (raw != rounded in "
                                 << cov().differing << "); internal volumes checked: " << cov().volumes);
    CHECK(cov().differing > 10000);
}
