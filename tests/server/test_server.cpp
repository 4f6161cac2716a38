// test_server: end-to-end tests of the HTTP API against a real server on 127.0.0.1 (ephemeral port) over a store
// ingested from the bundled sample, with cpp-httplib's client. Expected values are read from the sample's CSVs.

#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include "data/ingest.hpp"
#include "server/app.hpp"

#include "server_fixture.hpp"

#include <httplib.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <cmath>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

using nlohmann::json;
using namespace test_support;

using namespace test_fixture;

// Internal MI needs a key: every request of this file sends the fixture's (refusals are tested in test_access).
[[maybe_unused]] const bool sends_key = (send_fixture_key() = true);

TEST_CASE("health - the server answers with its release and counts") {
    const auto body = get_json("/health");
    CHECK(body["status"] == "ok");
    CHECK(body["release"].get<int>() >= 1);
    CHECK(body["datasets"] == 2);
    CHECK(body["areas"].get<int>() > 2000);
}

TEST_CASE("datasets - both sample datasets are listed with their classification and disclosure rule") {
    const auto body = get_json("/api/datasets");
    REQUIRE(body["datasets"].size() == 2);
    std::map<std::string, json> by_id;
    for (const auto& d : body["datasets"]) by_id[d["id"].get<std::string>()] = d;
    REQUIRE(by_id.count("claimant_count"));
    REQUIRE(by_id.count("synthetic_work_programme"));
    CHECK(by_id["claimant_count"]["classification"] == "published");
    CHECK(by_id["claimant_count"]["disclosure"]["rounding_base"] == 5);
    CHECK(by_id["claimant_count"]["periods"] == json::array({"2017-09", "2017-10"}));
    CHECK(by_id["synthetic_work_programme"]["classification"] == "internal");
    CHECK(by_id["synthetic_work_programme"]["disclosure"]["rounding_base"] == 20);
    // The percentage base is never served, so it is not listed.
    for (const auto& m : by_id["synthetic_work_programme"]["measures"]) CHECK(m["id"] != "job_outcomes_total");
    const auto one = get_json("/api/datasets/synthetic_work_programme");
    CHECK(one["classification"] == "internal");
    // Each period says which release first published it and whether it was revised since (the sample: never).
    const auto& releases = by_id["claimant_count"]["period_releases"];
    REQUIRE(releases.size() == 2);
    CHECK(releases[1]["period"] == "2017-10");
    CHECK(releases[1]["first_release"] == by_id["claimant_count"]["release"]);
    CHECK(releases[1]["revised"] == false);
    CHECK(releases[1]["revised_at"].is_null());
    const auto table = get_json("/api/table?dataset=claimant_count&period=2017-10&level=lad");
    CHECK(table["revision"] == releases[1]);
}

TEST_CASE("areas - the LSOAs within Trafford are those of the lookup, in JSON and CSV") {
    const auto lads = lad_of_lsoa();
    std::set<std::string> expected;
    for (const auto& [lsoa, lad] : lads) {
        if (lad == "E08000009") expected.insert(lsoa);
    }
    const auto body = get_json("/api/areas?level=lsoa&within=E08000009&vintage=2011");
    std::set<std::string> served;
    for (const auto& a : body["areas"]) {
        served.insert(a["code"].get<std::string>());
        CHECK(a["parents"]["lad"]["code"] == "E08000009");
        CHECK(a["has_boundary"] == true);
    }
    CHECK(served == expected);
    CHECK(body["count"] == expected.size());
    const auto r = get("/api/areas?level=lsoa&within=E08000009&vintage=2011&format=csv");
    REQUIRE(r->status == 200);
    temp_dir dir;
    write_text(dir.file("areas.csv"), r->body);
    const auto t = read_csv(dir.file("areas.csv"));
    CHECK(t.rows.size() == expected.size());
    for (std::size_t i = 0; i < t.rows.size(); ++i) {
        CHECK(expected.count(t.at(i, "code")) == 1);
        CHECK(contains(t.at(i, "parents"), "E08000009"));
    }
}

TEST_CASE("table - published claimant counts within Manchester equal the source CSV, total = sum of rows") {
    const auto body = get_json("/api/table?dataset=claimant_count&measure=claimants&period=2017-09&within=E08000003");
    CHECK(body["classification"] == "published");
    CHECK(body["level"] == "lsoa");
    const auto csv = read_csv(sample_dir + "/counts/claimant_count_lsoa11_manchester_trafford_2017-09.csv");
    const auto lads = lad_of_lsoa();
    std::map<std::string, std::int64_t> expected;
    for (std::size_t i = 0; i < csv.rows.size(); ++i) {
        if (lads.at(csv.at(i, "lsoa11cd")) == "E08000003") expected[csv.at(i, "lsoa11cd")] = std::stoll(csv.at(i, "value"));
    }
    REQUIRE(expected.size() > 100);
    std::map<std::string, std::int64_t> served;
    for (const auto& r : body["rows"]) {
        REQUIRE(r["value"].is_number());
        served[r["code"].get<std::string>()] = r["value"].get<std::int64_t>();
        CHECK(r["parents"]["lad"] == "E08000003");
        CHECK(r.contains("rate_per_100_households"));
        CHECK(r.contains("uncertainty"));
        CHECK(r.contains("suppressed"));
        CHECK(r.contains("missing"));
    }
    CHECK(served == expected);
    CHECK(body["total"]["value"].get<std::int64_t>() == sum_values(body["rows"]));
}

TEST_CASE("table - internal MI is rounded to 20 per cell, no raw value leaks, total = sum of rounded cells") {
    const auto raw = raw_mi("referrals", "2017-09");
    const auto body =
        get_json("/api/table?dataset=synthetic_work_programme&measure=referrals&period=2017-09&within=E08000003");
    CHECK(body["classification"] == "internal");
    const auto lads = lad_of_oa();
    std::size_t expected_rows = 0;
    for (const auto& [oa, value] : raw) {
        (void)value;
        if (lads.at(oa) == "E08000003") ++expected_rows;
    }
    CHECK(body["rows"].size() == expected_rows);
    std::size_t differing = 0;
    for (const auto& r : body["rows"]) {
        const std::string code = r["code"];
        INFO("area " << code);
        REQUIRE(r["value"].is_number());
        const auto served = r["value"].get<std::int64_t>();
        CHECK(served % 20 == 0);
        const auto it = raw.find(code);
        REQUIRE(it != raw.end());
        CHECK(served == (it->second + 10) / 20 * 20); // half up
        if (it->second % 20 != 0) {
            CHECK(served != it->second);
            ++differing;
        }
        CHECK_FALSE(r.contains("raw"));
    }
    CHECK(differing > 0); // the check above must have had something to bite on
    const auto total = body["total"]["value"].get<std::int64_t>();
    CHECK(total == sum_values(body["rows"]));
    CHECK(total % 20 == 0);
}

TEST_CASE("table - a LAD row is the sum of the protected rows of its areas") {
    SUBCASE("published claimant counts: LSOA -> LAD") {
        const auto lsoa = get_json("/api/table?dataset=claimant_count&measure=claimants&period=2017-09&within=E08000003");
        const auto lad = get_json("/api/table?dataset=claimant_count&measure=claimants&period=2017-09&level=lad");
        bool found = false;
        for (const auto& r : lad["rows"]) {
            if (r["code"] != "E08000003") continue;
            found = true;
            CHECK(r["value"].get<std::int64_t>() == sum_values(lsoa["rows"]));
            // n published cells, each up to base/2 from the truth.
            CHECK(r["uncertainty"].get<double>() == doctest::Approx(2.5 * static_cast<double>(lsoa["rows"].size())));
        }
        CHECK(found);
        CHECK(lad["total"]["value"].get<std::int64_t>() == sum_values(lad["rows"]));
    }
    SUBCASE("internal MI: OA -> LSOA and OA -> LAD, both from rounded OA cells") {
        const auto oa = get_json("/api/table?dataset=synthetic_work_programme&measure=referrals&period=2017-09&within=E08000009");
        const auto lad = get_json("/api/table?dataset=synthetic_work_programme&measure=referrals&period=2017-09&level=lad");
        bool found = false;
        for (const auto& r : lad["rows"]) {
            if (r["code"] != "E08000009") continue;
            found = true;
            CHECK(r["value"].get<std::int64_t>() == sum_values(oa["rows"]));
        }
        CHECK(found);
        const auto lsoa = get_json("/api/table?dataset=synthetic_work_programme&measure=referrals&period=2017-09&level=lsoa");
        std::map<std::string, std::int64_t> by_lsoa;
        const auto all_oa = get_json("/api/table?dataset=synthetic_work_programme&measure=referrals&period=2017-09");
        for (const auto& r : all_oa["rows"]) {
            if (r["value"].is_number()) by_lsoa[r["parents"]["lsoa"].get<std::string>()] += r["value"].get<std::int64_t>();
        }
        for (const auto& r : lsoa["rows"]) {
            INFO("lsoa " << r["code"]);
            CHECK(r["value"].get<std::int64_t>() == by_lsoa[r["code"].get<std::string>()]);
            CHECK(r["value"].get<std::int64_t>() % 20 == 0);
        }
    }
}

TEST_CASE("table - a percentage-only measure carries percent and never a value") {
    const auto body = get_json(
        "/api/table?dataset=synthetic_work_programme&measure=job_outcomes_group_a&period=2017-09&within=E08000009");
    REQUIRE(body["rows"].size() > 0);
    std::size_t with_percent = 0;
    for (const auto& r : body["rows"]) {
        CHECK(r.contains("percent"));
        CHECK_FALSE(r.contains("value"));
        CHECK_FALSE(r.contains("rate_per_100_households"));
        if (r["percent"].is_number()) {
            ++with_percent;
            CHECK(r["percent"].get<std::int64_t>() >= 0);
            CHECK(r["percent"].get<std::int64_t>() <= 100);
        }
    }
    CHECK(with_percent > 0);
    CHECK_FALSE(body["total"].contains("value"));
    SUBCASE("the CSV has a percent column and no value column") {
        const auto r = get("/api/table?dataset=synthetic_work_programme&measure=job_outcomes_group_a&period=2017-09"
                           "&within=E08000009&format=csv");
        REQUIRE(r->status == 200);
        CHECK(r->body.rfind("code,name,level,lsoa_code,lad_code,period,period_name,classification,households,"
                            "job_outcomes_group_a_percent,suppressed,missing,cells,cells_with_value,complete,households_complete\n", 0) == 0);
        CHECK_FALSE(contains(r->body, ",value,"));
        CHECK_FALSE(contains(r->body, "job_outcomes_group_a,"));
    }
}

TEST_CASE("table - the percentage base is refused as a volume (422)") {
    CHECK(error_code("/api/table?dataset=synthetic_work_programme&measure=job_outcomes_total&period=2017-09", 422) ==
          "PercentageOnly");
    CHECK(error_code("/tiles/oa/12/2013/1316.mvt?dataset=synthetic_work_programme&measure=job_outcomes_total", 422) ==
          "PercentageOnly");
}

TEST_CASE("table - format=csv: header on line 1, one row per area, classification on every row, CSVW sidecar") {
    const std::string query = "/api/table?dataset=synthetic_work_programme&measure=referrals&period=2017-09&within=E08000009";
    const auto json_body = get_json(query);
    const auto r = get(query + "&format=csv");
    REQUIRE(r->status == 200);
    CHECK(contains(r->get_header_value("Content-Type"), "text/csv"));
    CHECK(r->get_header_value("X-Smallarea-Classification") == "internal");
    // A dated file name, like every other export.
    CHECK(std::regex_search(r->get_header_value("Content-Disposition"),
                            std::regex("filename=\"synthetic_work_programme_referrals_2017-09_oa_E08000009_[0-9]{4}-[0-9]{2}-[0-9]{2}\\.csv\"")));
    CHECK(r->body.rfind("code,name,level,lsoa_code,", 0) == 0); // no preamble: QGIS and GDAL take line 1 as the header
    const auto link = r->get_header_value("Link");
    REQUIRE(contains(link, "rel=\"describedby\""));
    const auto sidecar_url = link.substr(1, link.find('>') - 1);
    CHECK(contains(sidecar_url, "format=csvw"));
    const auto meta = get_json(sidecar_url);
    const auto t = check_csvw(r->body, meta);
    CHECK(contains(meta["url"].get<std::string>(), "format=csv"));
    CHECK(meta["dc:accessRights"] == "Internal MI: not for onward sharing");
    CHECK(t.header == std::vector<std::string>{"code", "name", "level", "lsoa_code", "lad_code", "period", "period_name",
                                               "classification", "households", "referrals", "referrals_per_100_households",
                                               "uncertainty", "suppressed", "missing", "cells", "cells_with_value",
                                               "complete", "households_complete", "rounding_dominates"});
    REQUIRE(t.rows.size() == json_body["rows"].size()); // no total row unless asked
    for (std::size_t i = 0; i < json_body["rows"].size(); ++i) {
        const auto& row = json_body["rows"][i];
        CHECK(t.at(i, "code") == row["code"].get<std::string>());
        CHECK(t.at(i, "lsoa_code") == row["parents"]["lsoa"].get<std::string>());
        CHECK(t.at(i, "lad_code") == "E08000009");
        CHECK(t.at(i, "period") == "2017-09");
        CHECK(t.at(i, "period_name") == "September 2017");
        CHECK(t.at(i, "classification") == "Internal MI: not for onward sharing");
        if (row["value"].is_null()) CHECK(t.at(i, "referrals").empty());
        else CHECK(std::stoll(t.at(i, "referrals")) == row["value"].get<std::int64_t>());
    }
    SUBCASE("totals=true appends the total row, the sum of the rows' protected cells") {
        const auto with = get(query + "&format=csv&totals=true");
        REQUIRE(with->status == 200);
        const auto meta_t = get_json(with->get_header_value("Link").substr(1, with->get_header_value("Link").find('>') - 1));
        const auto tt = check_csvw(with->body, meta_t);
        REQUIRE(tt.rows.size() == json_body["rows"].size() + 1);
        CHECK(tt.at(tt.rows.size() - 1, "name") == "Total");
        CHECK(std::stoll(tt.at(tt.rows.size() - 1, "referrals")) == json_body["total"]["value"].get<std::int64_t>());
        CHECK(std::stoll(tt.at(tt.rows.size() - 1, "referrals")) == sum_values(json_body["rows"]));
    }
    SUBCASE("preamble=comments keeps the older '#' lines (and the total row)") {
        const auto old = get(query + "&format=csv&preamble=comments");
        REQUIRE(old->status == 200);
        CHECK(old->body.rfind("# dataset: ", 0) == 0);
        CHECK(contains(old->body, "\n# classification: internal: Internal MI: not for onward sharing\n"));
        CHECK(contains(old->body, ",Total,"));
    }
    SUBCASE("/api/areas offers no sidecar: format=csvw is 406") {
        CHECK(error_code("/api/areas?level=lad&format=csvw", 406) == "UnsupportedFormat");
    }
    SUBCASE("bad options are 400") {
        CHECK(error_code(query + "&format=csv&totals=maybe", 400) == "InvalidParameter");
        CHECK(error_code(query + "&format=csv&preamble=yaml", 400) == "InvalidParameter");
    }
}

TEST_CASE("errors - unknown dataset, area, period and level are 404 with a JSON body") {
    CHECK(error_code("/api/table?dataset=no_such_dataset", 404) == "UnknownDataset");
    CHECK(error_code("/api/datasets/no_such_dataset", 404) == "UnknownDataset");
    CHECK(error_code("/api/table?dataset=claimant_count&within=E08999999", 404) == "UnknownArea");
    CHECK(error_code("/api/areas?level=lsoa&within=E08999999", 404) == "UnknownArea");
    CHECK(error_code("/api/table?dataset=claimant_count&period=2099-01", 404) == "UnknownPeriod");
    CHECK(error_code("/api/table?dataset=claimant_count&measure=no_such_measure", 404) == "UnknownMeasure");
    // The sample has ward boundaries (outlines for the map) but none at MSOA level.
    CHECK(error_code("/tiles/msoa/12/2013/1316.mvt", 404) == "UnknownLevel"); // a level with no boundaries here
    CHECK(error_code("/tiles/msoa.json", 404) == "UnknownLevel");
    SUBCASE("an unknown level in a table query is a 404 too") {
        error_code("/api/table?dataset=claimant_count&level=ward", 404);
    }
}

TEST_CASE("errors - malformed requests are 400 with a JSON body") {
    CHECK(error_code("/api/table?dataset=claimant_count&level=oa", 400) == "LevelTooFine");
    CHECK(error_code("/api/table?dataset=claimant_count&period=2017-09&period=2017-10", 400) == "RepeatedParameter");
    CHECK(error_code("/tiles/lsoa/abc/0/0.mvt", 400) == "InvalidTile");
    CHECK(error_code("/tiles/lsoa/12/x12/1316.mvt", 400) == "InvalidTile");
    CHECK(error_code("/tiles/lsoa/17/0/0.mvt", 400) == "InvalidTile");
    CHECK(error_code("/tiles/lsoa/2/4/0.mvt", 400) == "InvalidTile"); // x beyond 2^z - 1
    CHECK(error_code("/tiles/lsoa/-1/0/0.mvt", 400) == "InvalidTile");
    CHECK(error_code("/api/table", 400) == "MissingParameter");
}

TEST_CASE("errors - a parameter repeated with the same value is still a 400") {
    // cpp-httplib drops identical key=value pairs while parsing, so the handler cannot see this repetition.
    CHECK(error_code("/api/table?dataset=claimant_count&dataset=claimant_count", 400) == "RepeatedParameter");
}

TEST_CASE("tiles - 200 with a body, 204 when empty, 304 for a matching If-None-Match, gzip on request") {
    const std::string path = manchester_tile();
    const auto first = get(path, {{"Accept-Encoding", "identity"}});
    REQUIRE(first->status == 200);
    CHECK(first->get_header_value("Content-Type") == "application/vnd.mapbox-vector-tile");
    CHECK_FALSE(first->body.empty());
    CHECK(first->get_header_value("Content-Encoding").empty());
    CHECK(contains(first->body, "E0100")); // LSOA codes are feature properties
    const std::string etag = first->get_header_value("ETag");
    REQUIRE_FALSE(etag.empty());
    CHECK(etag.front() == '"'); // strong ETag
    CHECK_FALSE(first->get_header_value("Cache-Control").empty());
    CHECK(first->get_header_value("Access-Control-Allow-Origin") == "*"); // maps on other origins

    SUBCASE("If-None-Match with the ETag -> 304 with no body") {
        const auto again = get(path, {{"If-None-Match", etag}});
        CHECK(again->status == 304);
        CHECK(again->body.empty());
        CHECK(again->get_header_value("ETag") == etag);
    }
    SUBCASE("a different ETag -> 200") {
        CHECK(get(path, {{"If-None-Match", "\"r0-0000000000000000\""}})->status == 200);
    }
    SUBCASE("a tile far from any area (mid-Atlantic) -> 204") {
        const auto [x, y] = tile_of(-30.0, 40.0, 12);
        const auto r = get("/tiles/lsoa/12/" + std::to_string(x) + "/" + std::to_string(y) + ".mvt");
        CHECK(r->status == 204);
        CHECK(r->body.empty());
    }
    SUBCASE("Accept-Encoding: gzip -> Content-Encoding: gzip, which decodes to the same tile") {
        auto c = client();
        c.set_decompress(false);
        const auto raw = c.Get(path.c_str(), {{"Accept-Encoding", "gzip"}});
        REQUIRE(raw);
        CHECK(raw->status == 200);
        CHECK(raw->get_header_value("Content-Encoding") == "gzip");
        REQUIRE(raw->body.size() > 2);
        CHECK(static_cast<unsigned char>(raw->body[0]) == 0x1f);
        CHECK(static_cast<unsigned char>(raw->body[1]) == 0x8b);
        CHECK(contains(raw->get_header_value("Vary"), "Accept-Encoding"));
        auto d = client(); // decompresses transparently
        const auto decoded = d.Get(path.c_str(), {{"Accept-Encoding", "gzip"}});
        REQUIRE(decoded);
        CHECK(decoded->body == first->body);
        // One strong ETag per representation: the gzip body's differs, and each revalidates only itself.
        const auto gz_etag = raw->get_header_value("ETag");
        CHECK(gz_etag != etag);
        CHECK(c.Get(path.c_str(), {{"Accept-Encoding", "gzip"}, {"If-None-Match", gz_etag}})->status == 304);
        CHECK(c.Get(path.c_str(), {{"Accept-Encoding", "gzip"}, {"If-None-Match", etag}})->status == 200);
    }
    SUBCASE("a tile with a dataset carries values and its own ETag") {
        const auto r = get(path + "?dataset=claimant_count&measure=claimants&period=2017-09",
                           {{"Accept-Encoding", "identity"}});
        CHECK(r->status == 200);
        CHECK(contains(r->body, "value"));
        CHECK(r->get_header_value("ETag") != etag);
    }
}

TEST_CASE("tilejson - a TileJSON 3.0.0 document per level") {
    const auto body = get_json("/tiles/lsoa.json");
    CHECK(body["tilejson"] == "3.0.0");
    REQUIRE(body["tiles"].is_array());
    REQUIRE(body["tiles"].size() == 1);
    const std::string url = body["tiles"][0];
    CHECK(contains(url, "/tiles/lsoa/{z}/{x}/{y}.mvt"));
    CHECK(body["minzoom"] == 0);
    CHECK(body["maxzoom"] == 16);
    REQUIRE(body["bounds"].size() == 4);
    // The sample covers Manchester and Trafford.
    CHECK(body["bounds"][0].get<double>() > -2.6);
    CHECK(body["bounds"][1].get<double>() > 53.3);
    CHECK(body["bounds"][2].get<double>() < -2.0);
    CHECK(body["bounds"][3].get<double>() < 53.6);
    CHECK(body["bounds"][0].get<double>() < body["bounds"][2].get<double>());
    REQUIRE(body["center"].size() == 3);
    REQUIRE(body["vector_layers"].size() == 1);
    CHECK(body["vector_layers"][0]["id"] == "lsoa");
    CHECK(body["vector_layers"][0]["fields"].contains("code"));
    CHECK_FALSE(body["attribution"].get<std::string>().empty());
    SUBCASE("with a dataset the URL and fields name it") {
        const auto d = get_json("/tiles/oa.json?dataset=synthetic_work_programme&measure=job_outcomes_group_a&period=2017-09");
        CHECK(contains(d["tiles"][0].get<std::string>(), "dataset=synthetic_work_programme"));
        CHECK(d["vector_layers"][0]["fields"].contains("percent"));
        CHECK_FALSE(d["vector_layers"][0]["fields"].contains("value"));
    }
}

// Last: it changes the store under the running server.
TEST_CASE("tiles - the ETag changes after a re-ingest while the server runs") {
    const std::string path = manchester_tile(13);
    const auto before = get(path);
    REQUIRE(before->status == 200);
    const std::string etag = before->get_header_value("ETag");
    const auto release = get_json("/health")["release"].get<int>();

    smallarea::data::ingest_manifest(sample_manifest, server().db_path());

    // The server looks for a new release at most every 500 ms: poll for up to 5 s.
    int now = release;
    for (int i = 0; i < 50 && now == release; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
        now = get_json("/health")["release"].get<int>();
    }
    CHECK(now == release + 1);
    const auto after = get(path, {{"If-None-Match", etag}});
    CHECK(after->status == 200); // the old ETag no longer matches
    CHECK(after->get_header_value("ETag") != etag);
    CHECK(after->body == before->body); // same data, new release
    const auto datasets = get_json("/api/datasets");
    for (const auto& d : datasets["datasets"]) CHECK(d["release"] == now);
}

TEST_CASE("http - idle kept-alive connections do not starve a new client") {
    // A browser keeps about six connections open per map; twelve idle ones must not hold every worker.
    std::vector<std::unique_ptr<httplib::Client>> idle;
    for (int i = 0; i < 12; ++i) {
        auto c = std::make_unique<httplib::Client>("127.0.0.1", server().port());
        c->set_keep_alive(true);
        const auto r = c->Get("/health");
        REQUIRE(r);
        CHECK(r->status == 200);
        idle.push_back(std::move(c));
    }
    httplib::Client fresh("127.0.0.1", server().port());
    fresh.set_connection_timeout(3);
    fresh.set_read_timeout(3); // a queued request would wait for an idle connection's 5 s keep-alive timeout
    const auto r = fresh.Get("/health");
    REQUIRE(r);
    CHECK(r->status == 200);
}

TEST_CASE("series - every period of an area, each the row /api/table gives for that period; bounds, files and refusals") {
    for (const std::string area : {"E01005061", "E08000003"}) {
        CAPTURE(area);
        const auto series = get_json("/api/series?dataset=claimant_count&area=" + area);
        CHECK(series["area"]["code"] == area);
        CHECK(series["classification"] == "published");
        REQUIRE(series["periods"].size() == 2);
        for (const auto& point : series["periods"]) {
            const std::string period = point["period"];
            const std::string level = area.rfind("E08", 0) == 0 ? "lad" : "lsoa";
            const auto table = get_json("/api/table?dataset=claimant_count&period=" + period + "&level=" + level);
            json row;
            for (const auto& r : table["rows"]) {
                if (r["code"] == area) row = r;
            }
            REQUIRE(row.is_object());
            CHECK(point["value"] == row["value"]);
            CHECK(point["rate_per_100_households"] == row["rate_per_100_households"]);
            CHECK(point["uncertainty"] == row["uncertainty"]);
            CHECK(point["households"] == row["households"]);
        }
    }
    const auto one = get_json("/api/series?dataset=claimant_count&area=E01005061&from=2017-10");
    REQUIRE(one["periods"].size() == 1);
    CHECK(one["periods"][0]["period"] == "2017-10");
    CHECK(get_json("/api/series?dataset=claimant_count&area=E01005061&from=2017&to=2017")["periods"].size() == 2);
    CHECK(get_json("/api/series?dataset=claimant_count&area=E01005061&to=2017-09")["periods"].size() == 1);

    const auto csv = get("/api/series?dataset=claimant_count&area=E01005061&format=csv");
    REQUIRE(csv->status == 200);
    CHECK(csv->body.rfind("code,name,level,period,", 0) == 0);
    CHECK(std::count(csv->body.begin(), csv->body.end(), '\n') == 3); // header and one row per period
    CHECK(csv->get_header_value("Content-Disposition").find("series_claimant_count_claimants_E01005061_2017-09_2017-10") != std::string::npos);
    const auto sidecar = get_json("/api/series?dataset=claimant_count&area=E01005061&format=csvw");
    CHECK(sidecar["dc:temporal"] == "2017-09/2017-10");
    const auto xlsx = get("/api/series?dataset=claimant_count&area=E01005061&format=xlsx");
    REQUIRE(xlsx->status == 200);
    CHECK(xlsx->body.rfind("PK", 0) == 0);

    CHECK(error_code("/api/series?dataset=claimant_count", 400) == "MissingParameter");
    CHECK(error_code("/api/series?area=E01005061", 400) == "MissingParameter");
    CHECK(error_code("/api/series?dataset=claimant_count&area=E01999999", 404) == "UnknownArea");
    CHECK(error_code("/api/series?dataset=claimant_count&area=E01005061&from=2017-13", 400) == "InvalidParameter");
    CHECK(error_code("/api/series?dataset=claimant_count&area=E01005061&from=2017-10&to=2017-09", 400) == "InvalidParameter");
    CHECK(error_code("/api/series?dataset=claimant_count&area=E00026365", 400) == "LevelTooFine"); // an OA of LSOA data
    CHECK(error_code("/api/series?dataset=claimant_count&area=bespoke:zzzzzzzzzz", 404) == "UnknownBespoke");
    CHECK(error_code("/api/series?dataset=claimant_count&area=E01005061&format=geojson", 406) == "UnsupportedFormat");
}

TEST_CASE("periods - one column set per period in CSV and XLSX, each cell the one-period table's figure; refusals") {
    for (const std::string base : {"/api/table?dataset=claimant_count&level=lsoa", "/api/table?dataset=synthetic_work_programme&measure=referrals&level=oa&within=E08000009",
                                   "/api/table?dataset=synthetic_work_programme&measure=job_outcomes_group_a&level=lad"}) {
        CAPTURE(base);
        const auto csv = get(base + "&format=csv&periods=all");
        REQUIRE(csv->status == 200);
        const auto t = check_csvw(csv->body, get_json(base + "&format=csvw&periods=all"));
        CHECK(get_json(base + "&format=csvw&periods=all")["dc:temporal"] == "2017-09/2017-10");
        const bool percent = base.find("job_outcomes") != std::string::npos;
        const std::string v = percent ? "job_outcomes_group_a_percent" : base.find("referrals") != std::string::npos ? "referrals" : "claimants";
        for (const std::string period : {"2017-09", "2017-10"}) {
            const std::string suffix = period == "2017-09" ? "_2017_09" : "_2017_10";
            const auto one = get_json(base + "&period=" + period);
            std::map<std::string, json> by_code;
            for (const auto& r : one["rows"]) by_code[r["code"].get<std::string>()] = r;
            REQUIRE(t.rows.size() == by_code.size());
            std::size_t with_value = 0;
            for (std::size_t i = 0; i < t.rows.size(); ++i) {
                const auto& row = by_code.at(t.at(i, "code"));
                const auto& cell = t.at(i, v + suffix);
                const auto& figure = percent ? row["percent"] : row["value"];
                CHECK(cell == (figure.is_null() ? std::string() : std::to_string(figure.get<long long>())));
                if (!cell.empty()) ++with_value;
                if (!percent) CHECK(t.column("uncertainty" + suffix) >= 0);
            }
            CHECK(with_value > 0);
        }
        if (!percent) {
            CHECK_THROWS(t.column("period")); // the wide file has no period column: the periods are in the names
        }
    }
    const auto xlsx = get("/api/table?dataset=claimant_count&level=lad&format=xlsx&periods=2017-09,2017-10&totals=true");
    REQUIRE(xlsx->status == 200);
    CHECK(xlsx->body.rfind("PK", 0) == 0);
    const auto range = get("/api/table?dataset=claimant_count&level=lad&format=csv&periods=2017/2017");
    REQUIRE(range->status == 200);
    CHECK(range->body.rfind("code,name,level,classification,households,claimants_2017_09,claimants_per_100_households_2017_09,"
                            "uncertainty_2017_09,claimants_2017_10,", 0) == 0);
    CHECK(range->get_header_value("Content-Disposition").find("2017-09_to_2017-10") != std::string::npos);
    CHECK(error_code("/api/table?dataset=claimant_count&periods=all", 400) == "InvalidParameter"); // JSON: /api/series
    CHECK(error_code("/api/table?dataset=claimant_count&format=csv&periods=2016-01", 404) == "UnknownPeriod");
    CHECK(error_code("/api/table?dataset=claimant_count&format=csv&periods=2017-09,2017-09", 400) == "InvalidParameter");
    CHECK(error_code("/api/table?dataset=claimant_count&format=csv&periods=2020/2021", 400) == "InvalidParameter");
    CHECK(error_code("/api/export/areas.geojson?dataset=claimant_count&periods=all", 400) == "InvalidParameter");
}

TEST_CASE("change - compare=PERIOD on tables and tiles: the difference of the two tables' rows; refusals") {
    const auto doc = get_json("/api/table?dataset=claimant_count&period=2017-10&compare=2017-09");
    const auto before = get_json("/api/table?dataset=claimant_count&period=2017-09");
    std::map<std::string, json> then;
    for (const auto& row : before["rows"]) then[row["code"]] = row;
    std::size_t comparable = 0;
    for (const auto& row : doc["rows"]) {
        const auto& c = row["change"];
        if (!c["comparable"].get<bool>()) continue;
        ++comparable;
        const auto& old = then.at(row["code"]);
        CHECK(c["value"] == row["value"].get<std::int64_t>() - old["value"].get<std::int64_t>());
        CHECK(c["uncertainty"].get<double>() == doctest::Approx(row["uncertainty"].get<double>() + old["uncertainty"].get<double>()));
    }
    CHECK(comparable > 100);
    CHECK(doc["compare"]["period"] == "2017-09");
    const auto tilejson = get_json("/tiles/lsoa.json?dataset=claimant_count&period=2017-10&compare=2017-09");
    CHECK(tilejson["vector_layers"][0]["fields"].contains("change"));
    CHECK(tilejson["tiles"][0].get<std::string>().find("compare=2017-09") != std::string::npos);
    const auto tile = get(manchester_tile() + "?dataset=claimant_count&period=2017-10&compare=2017-09", {{"Accept-Encoding", "identity"}});
    REQUIRE(tile->status == 200);
    CHECK(tile->body.find("change_uncertainty") != std::string::npos);
    CHECK(error_code("/api/table?dataset=claimant_count&period=2017-10&compare=2017-10", 400) == "InvalidParameter");
    CHECK(error_code("/api/table?dataset=claimant_count&period=2017-10&compare=2016-01", 404) == "UnknownPeriod");
    CHECK(error_code("/tiles/lsoa/12/2013/1316.mvt?compare=2017-09", 400) == "InvalidParameter");
}

TEST_CASE("vintage - 2011 claimant counts on the sample's 2021 LSOAs and wards through the crosswalk; internal MI and refusals") {
    // Independent expectations from the sample's files: the crosswalk, the 2011 figures and 2021 households.
    const auto crosswalk = read_csv(sample_dir + "/lookups/lsoa11_lsoa21_manchester_trafford.csv");
    std::map<std::string, std::vector<std::string>> sources;
    std::map<std::string, int> pieces;
    std::map<std::string, std::string> code_of;
    for (std::size_t i = 0; i < crosswalk.rows.size(); ++i) {
        sources[crosswalk.at(i, "lsoa21cd")].push_back(crosswalk.at(i, "lsoa11cd"));
        ++pieces[crosswalk.at(i, "lsoa11cd")];
        code_of[crosswalk.at(i, "lsoa21cd")] = crosswalk.at(i, "chgind");
    }
    const auto own = get_json("/api/table?dataset=claimant_count&period=2017-09");
    std::map<std::string, std::int64_t> value_2011;
    for (const auto& row : own["rows"]) value_2011[row["code"]] = row["value"].get<std::int64_t>();

    const auto doc = get_json("/api/table?dataset=claimant_count&period=2017-09&vintage=2021");
    CHECK(doc["vintage"] == 2021);
    CHECK(doc["crosswalk"]["from_vintage"] == 2011);
    REQUIRE(doc["rows"].size() == sources.size());
    int exact = 0, estimated = 0;
    std::int64_t total = 0;
    for (const auto& row : doc["rows"]) {
        const std::string code = row["code"];
        CAPTURE(code);
        CHECK(row["change"] == code_of.at(code));
        bool whole = true;
        std::int64_t sum = 0;
        for (const auto& old : sources.at(code)) {
            whole = whole && pieces[old] == 1;
            sum += value_2011.at(old);
        }
        CHECK(row["estimated"] == !whole);
        CHECK(row["not_apportioned"] == false);
        if (whole) {
            CHECK(row["value"] == sum);
            ++exact;
        } else {
            CHECK(row["value"].get<std::int64_t>() <= sum);
            CHECK(row["uncertainty"].get<double>() > 0);
            ++estimated;
        }
        total += row["value"].get<std::int64_t>();
    }
    CHECK(exact > 380);
    CHECK(estimated >= 30);
    CHECK(doc["total"]["value"] == total);

    SUBCASE("wards of 2021: sums of the moved LSOAs, best fit and estimated where a piece is") {
        const auto wards = get_json("/api/table?dataset=claimant_count&period=2017-09&vintage=2021&level=ward");
        CHECK(wards["rows"].size() == 53);
        CHECK(wards["best_fit"] == true);
        CHECK(wards["total"]["value"] == total);
        CHECK(std::any_of(wards["rows"].begin(), wards["rows"].end(), [](const json& r) { return r["estimated"] == true; }));
        CHECK(error_code("/api/table?dataset=claimant_count&period=2017-09&level=ward", 404) == "UnknownLevel");
    }
    SUBCASE("CSV: change, estimated and not_apportioned columns and the note") {
        const auto r = get("/api/table?dataset=claimant_count&period=2017-09&vintage=2021&format=csv&preamble=comments");
        REQUIRE(r->status == 200);
        CHECK(contains(r->body, ",change,estimated,not_apportioned,"));
        CHECK(contains(r->body, "moved from lsoa 2011"));
    }
    SUBCASE("tiles and TileJSON on 2021 LSOAs") {
        const auto tilejson = get_json("/tiles/lsoa.json?dataset=claimant_count&period=2017-09&vintage=2021");
        CHECK(tilejson["vector_layers"][0]["fields"].contains("estimated"));
        CHECK(contains(tilejson["tiles"][0].get<std::string>(), "vintage=2021"));
        const auto tile = get(manchester_tile() + "?dataset=claimant_count&period=2017-09&vintage=2021", {{"Accept-Encoding", "identity"}});
        REQUIRE(tile->status == 200);
        CHECK(contains(tile->body, "E0103")); // 2021-new LSOA codes (E01033xxx-E01035xxx) are drawn
    }
    SUBCASE("internal MI at OA has no OA crosswalk; percentages and mixed compares are refused") {
        CHECK(error_code("/api/table?dataset=synthetic_work_programme&measure=referrals&vintage=2021", 400) == "InvalidVintage");
        CHECK(error_code("/api/table?dataset=claimant_count&vintage=2031", 400) == "InvalidVintage");
        CHECK(error_code("/api/table?dataset=claimant_count&compare_dataset=synthetic_work_programme&compare_measure=referrals", 400) ==
              "InvalidParameter");
        CHECK(error_code("/api/targets?dataset=claimant_count&vintage=2021", 400) == "InvalidVintage");
    }
    SUBCASE("a request without vintage stays on the data's vintage (2011): unchanged codes exist in both") {
        const auto tiles = get_json("/tiles/catalog");
        for (const auto& l : tiles["layers"]) {
            if (l["level"] == "lsoa") CHECK(l["default"] == (l["vintage"] == 2011));
        }
        CHECK(get_json("/api/areas?level=lsoa")["areas"].size() == 420);
    }
}
