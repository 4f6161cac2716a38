// test_honest: the numbers a strategic planner reads are right and say how complete they are (DESIGN rule 8),
// and no answer depends on what was asked before it. Each case below reproduces a reported bug on the bundled
// sample through the HTTP API of a real server.

#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include "server_fixture.hpp"

#include <random>
#include <regex>
#include <set>

using namespace test_fixture;

namespace {

const std::string manchester = "E08000003";
const std::string trafford = "E08000009";
const std::string internal_id = "synthetic_work_programme";

json body_of(const test_server& s, const std::string& path, const httplib::Headers& h = {}) {
    const auto [status, body] = s.get(path, h);
    INFO(path << " -> " << status << " " << body.substr(0, 300));
    REQUIRE(status == 200);
    return json::parse(body);
}

httplib::Headers key_headers(const std::string& key) { return {{"Authorization", "Bearer " + key}}; }

/// Census households of the sample's areas, by code.
std::map<std::string, std::int64_t> households(const test_server& s, const std::string& level) {
    std::map<std::string, std::int64_t> out;
    const auto areas = body_of(s, "/api/areas?level=" + level);
    for (const auto& a : areas["areas"]) {
        if (a["households"].is_number()) out[a["code"]] = a["households"].get<std::int64_t>();
    }
    return out;
}

} // namespace

TEST_CASE("honest - a district row of an incomplete period says it is partial and rates it over its own cells") {
    // October 2017's claimant count extract lacks 38 of Manchester's 282 LSOAs: the LAD row used to say
    // "cells 282, missing false" with the households of all 282, understating the rate.
    const auto& s = server();
    const auto t = body_of(s, "/api/table?dataset=claimant_count&period=2017-10&level=lad");
    const auto lsoa = body_of(s, "/api/table?dataset=claimant_count&period=2017-10&level=lsoa&within=" + manchester);
    std::int64_t value = 0, with_value = 0, households_with_value = 0, all_households = 0;
    for (const auto& r : lsoa["rows"]) {
        all_households += r["households"].get<std::int64_t>();
        if (!r["value"].is_number()) continue;
        value += r["value"].get<std::int64_t>();
        households_with_value += r["households"].get<std::int64_t>();
        ++with_value;
    }
    REQUIRE(lsoa["rows"].size() == 282);
    CHECK(with_value == 244);
    const json* row = nullptr;
    for (const auto& r : t["rows"]) {
        if (r["code"] == manchester) row = &r;
    }
    REQUIRE(row);
    CHECK((*row)["cells"] == 282);
    CHECK((*row)["cells_with_value"] == 244);
    CHECK((*row)["complete"] == false);
    CHECK((*row)["value"] == value);
    CHECK((*row)["households"] == all_households);
    CHECK((*row)["households_complete"] == true);
    CHECK((*row)["rate_households"] == households_with_value);
    const double expected_rate = std::round(static_cast<double>(value) * 10000.0 / static_cast<double>(households_with_value)) / 100.0;
    CHECK((*row)["rate_per_100_households"].get<double>() == doctest::Approx(expected_rate));
    CHECK((*row)["rate_per_100_households"].get<double>() > 4.5); // the old, understated figure was 4.27
    // The total is the sum of the rows shown and is partial too.
    CHECK(t["total"]["complete"] == false);
    CHECK(t["coverage"]["cells"] == 420);
    CHECK(t["coverage"]["cells_with_value"] == 382);
    // A complete period says so.
    const auto sep = body_of(s, "/api/table?dataset=claimant_count&period=2017-09&level=lad");
    for (const auto& r : sep["rows"]) CHECK(r["complete"] == true);
    // CSV carries the same columns.
    const auto [status, csv] = s.get("/api/table?dataset=claimant_count&period=2017-10&level=lad&format=csv");
    REQUIRE(status == 200);
    CHECK(contains(csv, ",cells,cells_with_value,complete,households_complete,rounding_dominates\n"));
    CHECK(contains(csv, "\n" + manchester + ",Manchester,"));
    CHECK(std::regex_search(csv, std::regex(manchester + ",Manchester,lad,2017-10,October 2017,Published \\(Open Government Licence v3\\.0\\),[0-9]+,[0-9]+,[0-9.]+,[0-9.]+,false,false,282,244,false,true,")));
}

TEST_CASE("honest - the total row is the sum of the rows shown, for every field") {
    const auto& s = server();
    for (const std::string& path : std::vector<std::string>{"/api/table?dataset=claimant_count&period=2017-10&level=lad",
                                   "/api/table?dataset=claimant_count&period=2017-10&level=lsoa&within=" + trafford,
                                   "/api/table?dataset=claimant_count&period=2017-09"}) {
        const auto t = body_of(s, path);
        std::int64_t value = 0, households = 0, cells = 0, with_value = 0, rate_households = 0, rate_value = 0;
        double uncertainty = 0;
        for (const auto& r : t["rows"]) {
            if (r["value"].is_number()) value += r["value"].get<std::int64_t>();
            if (r["households"].is_number()) households += r["households"].get<std::int64_t>();
            if (r["rate_households"].is_number()) rate_households += r["rate_households"].get<std::int64_t>();
            if (r["rate_value"].is_number()) rate_value += r["rate_value"].get<std::int64_t>();
            cells += r["cells"].get<std::int64_t>();
            with_value += r["cells_with_value"].get<std::int64_t>();
            uncertainty += r["uncertainty"].get<double>();
        }
        INFO(path);
        const auto& total = t["total"];
        CHECK(total["value"] == value);
        CHECK(total["households"] == households);
        CHECK(total["cells"] == cells);
        CHECK(total["cells_with_value"] == with_value);
        CHECK(total["rate_households"] == rate_households);
        CHECK(total["uncertainty"].get<double>() == doctest::Approx(uncertainty));
        CHECK(total["rate_per_100_households"].get<double>() ==
              doctest::Approx(std::round(static_cast<double>(rate_value) * 10000.0 / static_cast<double>(rate_households)) / 100.0));
    }
}

TEST_CASE("honest - a total row never counts districts that have no row (a lookup covering only some districts)") {
    // The reported bug: a store whose lookup covers only some districts gave the LAD total the households of
    // districts not in the rows. Here the lookup knows Manchester only, so Trafford's LSOAs have no LAD row.
    temp_dir dir;
    const auto lookup = read_csv(sample_dir + "/lookups/oa11_lsoa11_lad11_manchester_trafford.csv");
    std::string text;
    for (std::size_t i = 0; i < lookup.header.size(); ++i) text += (i ? "," : "") + lookup.header[i];
    text += "\n";
    for (const auto& row : lookup.rows) {
        if (row[static_cast<std::size_t>(lookup.column("lad11cd"))] != manchester) continue;
        for (std::size_t i = 0; i < row.size(); ++i) text += (i ? "," : "") + row[i];
        text += "\n";
    }
    write_text(dir.file("lookup.csv"), text);
    auto manifest = json::parse(read_text(sample_manifest));
    for (const char* section : {"boundaries", "lookups", "denominators", "postcodes", "crosswalks"}) {
        for (auto& e : manifest[section]) e["path"] = sample_dir + "/" + e["path"].get<std::string>();
    }
    manifest["lookups"][0]["path"] = dir.file("lookup.csv");
    json datasets = json::array();
    for (auto& d : manifest["datasets"]) {
        if (d["id"] != "claimant_count") continue;
        for (auto& f : d["files"]) f["path"] = sample_dir + "/" + f["path"].get<std::string>();
        datasets.push_back(d);
    }
    manifest["datasets"] = datasets;
    write_text(dir.file("manifest.json"), manifest.dump());
    test_server partial(dir.file("manifest.json"));
    const auto t = body_of(partial, "/api/table?dataset=claimant_count&period=2017-09&level=lad");
    REQUIRE(t["rows"].size() == 1);
    const auto& row = t["rows"][0];
    CHECK(row["code"] == manchester);
    for (const char* field : {"value", "households", "cells", "cells_with_value", "rate_households", "rate_per_100_households", "uncertainty"}) {
        INFO(field);
        CHECK(t["total"][field] == row[field]);
    }
    CHECK(row["cells"] == 282);
}

TEST_CASE("honest - unknown households are never 0, in bespoke areas and tables alike") {
    const auto& s = server();
    const auto key = fixture_key();
    const auto oa_households = households(s, "oa");
    // OAs of Manchester with and without a Census count (130 of the sample's 2,261 have none).
    std::vector<std::string> known, unknown;
    const auto areas = body_of(s, "/api/areas?level=oa&within=" + manchester);
    for (const auto& a : areas["areas"]) {
        (a["households"].is_number() ? known : unknown).push_back(a["code"]);
    }
    REQUIRE(unknown.size() >= 1);
    REQUIRE(known.size() >= 4);
    auto create = [&](const std::vector<std::string>& codes) {
        const auto [status, body] = s.post("/api/bespoke", json{{"name", "honest"}, {"level", "oa"}, {"codes", codes}}.dump(),
                                           key_headers(key));
        INFO(body);
        REQUIRE(status == 201);
        return json::parse(body)["id"].get<std::string>();
    };
    const auto lone = create({unknown[0]});
    const auto lone_meta = body_of(s, "/api/bespoke/" + lone, key_headers(key));
    CHECK(lone_meta["households"].is_null());
    CHECK(lone_meta["households_complete"] == false);
    const auto lone_table = body_of(s, "/api/table?dataset=" + internal_id + "&measure=referrals&level=bespoke&ids=" + lone,
                                    key_headers(key));
    CHECK(lone_table["rows"][0]["households"].is_null());
    CHECK(lone_table["rows"][0]["rate_per_100_households"].is_null());

    const std::vector<std::string> five{known[0], known[1], known[2], known[3], unknown[0]};
    const auto id = create(five);
    const auto meta = body_of(s, "/api/bespoke/" + id, key_headers(key));
    std::int64_t expected = 0;
    for (std::size_t i = 0; i < 4; ++i) expected += oa_households.at(five[i]);
    CHECK(meta["households"] == expected);
    CHECK(meta["households_complete"] == false);
    const auto row = body_of(s, "/api/table?dataset=" + internal_id + "&measure=referrals&level=bespoke&ids=" + id,
                             key_headers(key))["rows"][0];
    CHECK(row["households"] == expected);
    CHECK(row["households_complete"] == false);
    CHECK(row["cells"] == 5);
    // The rate is over the four known OAs: their protected values per their households.
    const auto cells = body_of(s, "/api/table?dataset=" + internal_id + "&measure=referrals&level=oa&within=" + manchester,
                               key_headers(key));
    std::int64_t known_value = 0;
    for (const auto& r : cells["rows"]) {
        if (std::find(five.begin(), five.begin() + 4, r["code"].get<std::string>()) != five.begin() + 4 && r["value"].is_number()) {
            known_value += r["value"].get<std::int64_t>();
        }
    }
    CHECK(row["rate_value"] == known_value);
    CHECK(row["rate_households"] == expected);
    CHECK(row["rate_per_100_households"].get<double>() ==
          doctest::Approx(std::round(static_cast<double>(known_value) * 10000.0 / static_cast<double>(expected)) / 100.0));
}

TEST_CASE("honest - target ties within the rounding error are marked, with intervals and the number of bands") {
    const auto& s = server();
    const auto t = body_of(s, "/api/targets?dataset=" + internal_id + "&measure=referrals&period=2017-10&within=" + manchester,
                           key_headers(fixture_key()));
    REQUIRE(t["rows"].size() == 20);
    std::int64_t band = 0;
    for (std::size_t k = 0; k < t["rows"].size(); ++k) {
        const auto& r = t["rows"][k];
        CHECK(r["value_low"].get<double>() == doctest::Approx(std::max(0.0, r["value"].get<double>() - r["uncertainty"].get<double>())));
        CHECK(r["value_high"].get<double>() == doctest::Approx(r["value"].get<double>() + r["uncertainty"].get<double>()));
        CHECK(r["rate_low"].get<double>() <= r["rate"].get<double>());
        CHECK(r["rate_high"].get<double>() >= r["rate"].get<double>());
        if (k + 1 < t["rows"].size()) {
            const auto& next = t["rows"][k + 1];
            CHECK(r["tied_with_next"] == (r["rate_low"].get<double>() <= next["rate_high"].get<double>()));
        }
        const std::int64_t expected_band = k == 0 ? 1 : band + (t["rows"][k - 1]["tied_with_next"].get<bool>() ? 0 : 1);
        CHECK(r["band"] == expected_band);
        band = r["band"].get<std::int64_t>();
    }
    CHECK(t["bands"] == band);
    // A rounding base of 20 on ~125-household OAs: most of the top 20 cannot be told apart.
    CHECK(band < 20);
    CHECK(t["ties_note"].is_string());
}

TEST_CASE("honest - labels come from the dataset's licence; nothing says public domain") {
    const auto& s = server();
    const auto key = key_headers(fixture_key());
    const auto d = body_of(s, "/api/datasets/claimant_count");
    CHECK(d["disclosure"]["label"] == "Published (Open Government Licence v3.0)");
    for (const std::string& path : std::vector<std::string>{"/api/datasets", "/api/table?dataset=claimant_count", "/api/table?dataset=claimant_count&format=csv",
                                   "/api/targets?dataset=claimant_count&min_households=0&max_households=10000&format=csv",
                                   "/api/export/areas.geojson?dataset=claimant_count&level=lad", "/ogc/collections",
                                   "/api/breaks?dataset=claimant_count"}) {
        const auto [status, body] = s.get(path, key);
        INFO(path);
        CHECK(status == 200);
        std::string lower = body;
        std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
        CHECK_FALSE(contains(lower, "public domain"));
    }
    const auto [status, xlsx] = s.get("/api/table?dataset=claimant_count&format=xlsx");
    REQUIRE(status == 200);
    temp_dir dir;
    write_text(dir.file("t.xlsx"), xlsx);
    const std::string strings = [&] {
        std::string out;
        FILE* p = popen(("unzip -p '" + dir.file("t.xlsx") + "' xl/sharedStrings.xml").c_str(), "r");
        REQUIRE(p);
        char buffer[4096];
        for (std::size_t n; (n = fread(buffer, 1, sizeof buffer, p)) > 0;) out.append(buffer, n);
        pclose(p);
        return out;
    }();
    CHECK(contains(strings, "Published (Open Government Licence v3.0)"));
    CHECK_FALSE(contains(strings, "public domain"));
}

TEST_CASE("honest - /api/datasets lists each period's coverage and the latest complete period") {
    const auto d = body_of(server(), "/api/datasets/claimant_count");
    REQUIRE(d["coverage"].size() == 2);
    CHECK(d["coverage"][0]["period"] == "2017-09");
    CHECK(d["coverage"][0]["areas"] == 420);
    CHECK(d["coverage"][0]["areas_with_value"] == 420);
    CHECK(d["coverage"][1]["period"] == "2017-10");
    CHECK(d["coverage"][1]["areas_with_value"] == 382);
    CHECK(d["coverage"][1]["share"].get<double>() == doctest::Approx(382.0 / 420.0).epsilon(0.001));
    CHECK(d["latest_complete_period"] == "2017-09");
}

TEST_CASE("honest - rounding that dominates a figure is flagged, with a coarser level suggested") {
    const auto& s = server();
    const auto key = key_headers(fixture_key());
    const auto oa = body_of(s, "/api/table?dataset=" + internal_id + "&measure=job_starts&level=oa&within=" + trafford, key);
    std::size_t dominated = 0;
    for (const auto& r : oa["rows"]) {
        if (!r["value"].is_number()) continue;
        const bool expected = r["uncertainty"].get<double>() * 2 >= r["value"].get<double>();
        CHECK(r["rounding_dominates"] == expected);
        dominated += expected ? 1 : 0;
    }
    CHECK(dominated > 0);
    CHECK(oa["suggestion"].is_string());
    // Files say it too: the CSV's sidecar and its comment preamble, for tables and the target list, and the
    // rounding_dominates column on every row.
    const std::string table = "/api/table?dataset=" + internal_id + "&measure=job_starts&level=oa&within=" + trafford;
    const std::string targets = "/api/targets?dataset=" + internal_id + "&measure=job_starts&within=" + trafford;
    for (const auto& base : {table, targets}) {
        INFO(base);
        const auto [status, csv] = s.get(base + "&format=csv", key);
        REQUIRE(status == 200);
        CHECK(contains(csv.substr(0, csv.find('\n')), "rounding_dominates"));
        const auto [cstatus, commented] = s.get(base + "&format=csv&preamble=comments", key);
        REQUIRE(cstatus == 200);
        CHECK(contains(commented, "# note: rounding dominates some figures"));
        const auto [mstatus, sidecar] = s.get(base + "&format=csvw", key);
        REQUIRE(mstatus == 200);
        CHECK(contains(sidecar, "note: rounding dominates some figures"));
    }
    const auto published = body_of(s, "/api/table?dataset=claimant_count&level=lad&period=2017-09");
    for (const auto& r : published["rows"]) CHECK(r["rounding_dominates"] == false); // thousands +- a few hundred
}

TEST_CASE("honest - a within= request never changes the whole-level answer, and the reverse (the reported cache bug)") {
    // After breaks inside Trafford, the whole-level breaks used to report Trafford's 138 values.
    test_server fresh;
    const auto inside = body_of(fresh, "/api/breaks?dataset=claimant_count&measure=claimants&period=2017-09&level=lsoa&within=" + trafford);
    const auto whole = body_of(fresh, "/api/breaks?dataset=claimant_count&measure=claimants&period=2017-09&level=lsoa");
    const auto inside_again = body_of(fresh, "/api/breaks?dataset=claimant_count&measure=claimants&period=2017-09&level=lsoa&within=" + trafford);
    CHECK(inside["values"] == 138);
    CHECK(whole["values"] == 420);
    CHECK(inside_again == inside);
}

TEST_CASE("honest - answers never depend on request order: a warmed server equals one that caches nothing") {
    // A few hundred requests in a random order, with repeats, to a server whose caches fill as it goes; the same
    // requests to a server that computes every answer afresh. Any cache key that misses an input shows up here.
    test_server warmed(sample_manifest, [](smallarea::server::server_config& c) { c.rate_limit_per_second = 0; });
    test_server uncached(sample_manifest, [](smallarea::server::server_config& c) {
        c.value_cache = false;
        c.tile_cache_bytes = 0;
        c.rate_limit_per_second = 0;
    });
    const auto [cx, cy] = tile_of(-2.2426, 53.4808, 12); // Manchester city centre
    const auto headers_warmed = key_headers(warmed.mint_key("order"));
    const auto headers_uncached = key_headers(uncached.mint_key("order"));
    std::vector<std::string> pool;
    const std::vector<std::string> lsoas{"E01005061", "E01006075", "E01005105"};
    const std::vector<std::pair<std::string, std::string>> data{{"claimant_count", "claimants"}, {internal_id, "referrals"},
                                                                {internal_id, "job_outcomes_group_b"}};
    for (const auto& [dataset, measure] : data) {
        for (const std::string period : {"2017-09", "2017-10"}) {
            const std::string q = "dataset=" + dataset + "&measure=" + measure + "&period=" + period;
            for (const std::string& level : std::vector<std::string>{"", "lsoa", "lad"}) {
                const std::string l = level.empty() ? "" : "&level=" + level;
                pool.push_back("/api/table?" + q + l);
                pool.push_back("/api/breaks?" + q + l);
                pool.push_back("/api/breaks?" + q + l + "&method=jenks&classes=4");
                for (const auto& w : {manchester, trafford}) {
                    pool.push_back("/api/table?" + q + l + "&within=" + w);
                    pool.push_back("/api/breaks?" + q + l + "&within=" + w);
                }
            }
            for (const auto& w : lsoas) pool.push_back("/api/breaks?" + q + "&within=" + w);
            pool.push_back("/api/export/areas.csv?" + q + "&within=" + trafford);
            pool.push_back("/api/targets?" + q + "&within=" + manchester);
            for (const std::string level : {"lsoa", "lad"}) {
                pool.push_back("/ogc/collections/" + dataset + "." + measure + "/items?period=" + period + "&limit=500&within=" + trafford);
                for (const auto& [x, y] : std::vector<std::pair<int, int>>{{cx, cy}, {cx + 1, cy}, {cx - 1, cy + 1}}) {
                    pool.push_back("/tiles/" + level + "/12/" + std::to_string(x) + "/" + std::to_string(y) + ".mvt?" + q);
                }
            }
        }
    }
    pool.push_back("/api/datasets");
    std::mt19937 rng(11);
    std::vector<std::string> sequence = pool;
    for (int i = 0; i < 150; ++i) sequence.push_back(pool[rng() % pool.size()]);
    std::shuffle(sequence.begin(), sequence.end(), rng);
    REQUIRE(sequence.size() > 300);
    const std::regex volatile_parts(R"(127\.0\.0\.1:[0-9]+|"timeStamp":"[^"]*"|"ingested_at":"[^"]*")");
    std::size_t differing = 0;
    for (const auto& path : sequence) {
        const auto a = warmed.get(path, headers_warmed);
        const auto b = uncached.get(path, headers_uncached);
        const bool same = a.first == b.first && std::regex_replace(a.second, volatile_parts, "") ==
                                                    std::regex_replace(b.second, volatile_parts, "");
        if (!same && ++differing <= 10) {
            FAIL_CHECK("the answer depends on what was asked before: " << path << "\n  warmed " << a.first << " "
                       << a.second.substr(0, 600) << "\n  fresh  " << b.first << " " << b.second.substr(0, 600));
        }
    }
    MESSAGE(sequence.size() << " requests in random order, " << differing << " differ");
    CHECK(differing == 0);
}
