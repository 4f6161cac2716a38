// test_bespoke: bespoke (combined) areas, the target-area finder and the zone builder over HTTP, against a real
// server on 127.0.0.1 (ephemeral port) over the bundled sample. Checks every endpoint and error, that a bespoke
// value is the sum of its members' protected values, and that internal values stay multiples of 20.

#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include "data/access_store.hpp"
#include "data/store.hpp"

#include "server_fixture.hpp"

#include <algorithm>
#include <map>
#include <regex>
#include <set>

using namespace test_fixture;

namespace {

const std::string internal_ds = "synthetic_work_programme";

// Internal MI needs a key of an organisation it is shared with: made once in the test's own store.
const httplib::Headers& auth() {
    static const httplib::Headers headers = [] {
        auto db = smallarea::data::open_store(server().db_path(), true);
        smallarea::data::add_organisation(db, "bespoke-test", "2024-01-01", {internal_ds}, {"Test Representative", "rep@example.org"});
        const auto k = smallarea::data::issue_key(db, "bespoke-test");
        return httplib::Headers{{"Authorization", "Bearer " + k.key}};
    }();
    return headers;
}

json get_ok(const std::string& path, int status = 200) {
    auto c = client();
    const auto r = c.Get(path.c_str(), auth());
    REQUIRE_MESSAGE(r, "no response for " << path);
    INFO(path << " -> " << r->status << " " << r->body.substr(0, 400));
    REQUIRE(r->status == status);
    return json::parse(r->body);
}

httplib::Result get_file(const std::string& path) {
    auto c = client();
    auto r = c.Get(path.c_str(), auth());
    REQUIRE_MESSAGE(r, "no response for " << path);
    return r;
}

httplib::Result post(const std::string& path, const std::string& body) {
    auto c = client();
    auto r = c.Post(path.c_str(), auth(), body, "application/json");
    REQUIRE_MESSAGE(r, "no response for POST " << path);
    return r;
}

json post_ok(const std::string& path, const json& body, int status = 201) {
    const auto r = post(path, body.dump());
    INFO("POST " << path << " " << body.dump().substr(0, 200) << " -> " << r->status << " " << r->body.substr(0, 400));
    REQUIRE(r->status == status);
    return json::parse(r->body);
}

std::string post_error(const std::string& path, const std::string& body, int status) {
    const auto r = post(path, body);
    INFO("POST " << path << " " << body.substr(0, 200) << " -> " << r->status << " " << r->body.substr(0, 300));
    CHECK(r->status == status);
    const auto j = json::parse(r->body, nullptr, false);
    REQUIRE_FALSE(j.is_discarded());
    CHECK_FALSE(j["message"].get<std::string>().empty());
    return j["code"].get<std::string>();
}

std::string get_error(const std::string& path, int status) {
    auto c = client();
    const auto r = c.Get(path.c_str(), auth());
    REQUIRE(r);
    INFO(path << " -> " << r->status << " " << r->body.substr(0, 300));
    CHECK(r->status == status);
    return json::parse(r->body)["code"].get<std::string>();
}

// OA codes of one LSOA of Manchester, from /api/areas.
std::vector<std::string> oas_of(const std::string& lsoa) {
    std::vector<std::string> out;
    const json j = get_ok("/api/areas?level=oa&within=" + lsoa);
    for (const auto& a : j["areas"]) out.push_back(a["code"]);
    return out;
}

std::string first_lsoa(const std::string& lad, std::size_t n = 0) {
    return get_ok("/api/areas?level=lsoa&within=" + lad)["areas"][n]["code"];
}

} // namespace

TEST_CASE("bespoke - create from OA codes, read metadata, outline, members; shared by URL") {
    const auto codes = oas_of(first_lsoa("E08000003"));
    REQUIRE(codes.size() >= 3);
    const json created = post_ok("/api/bespoke", json{{"name", "Three OAs"}, {"level", "oa"}, {"codes", {codes[0], codes[1], codes[2]}}});
    const std::string id = created["id"];
    CHECK(id.size() == 10);
    CHECK(id.find_first_not_of("abcdefghijklmnopqrstuvwxyz234567") == std::string::npos);
    CHECK(created["owner_token"].get<std::string>().size() == 64);
    CHECK(created["member_count"] == 3);
    CHECK(created["vintage"] == 2011);
    CHECK(created["source"] == "codes");

    const json meta = get_ok("/api/bespoke/" + id);
    CHECK_FALSE(meta.contains("owner_token"));
    REQUIRE(meta["members"].size() == 3);
    std::int64_t households = 0;
    for (const auto& m : meta["members"]) households += m["households"].get<std::int64_t>();
    CHECK(meta["households"] == households);
    REQUIRE(meta["bbox"].is_array());
    CHECK(meta["bbox"][0].get<double>() > -3.0);
    CHECK(meta["bbox"][2].get<double>() < -1.9);

    const json outline = get_ok("/api/bespoke/" + id + ".geojson");
    CHECK(outline["type"] == "Feature");
    const std::string type = outline["geometry"]["type"];
    CHECK((type == "MultiPolygon" || type == "Polygon"));
    const json with_members = get_ok("/api/bespoke/" + id + ".geojson?members=true");
    CHECK(with_members["type"] == "FeatureCollection");
    CHECK(with_members["features"].size() == 4);
    CHECK(with_members["features"][1]["properties"]["role"] == "member");
    CHECK(get_error("/api/bespoke/" + id + ".geojson?members=maybe", 400) == "InvalidParameter");
}

TEST_CASE("bespoke - value = sum of the members' protected values; internal values are multiples of 20") {
    const auto codes = oas_of(first_lsoa("E08000003", 1));
    const json created = post_ok("/api/bespoke", json{{"name", "An LSOA's OAs"}, {"level", "oa"}, {"codes", codes}});
    const std::string id = created["id"];
    const json within = get_ok("/api/table?dataset=" + internal_ds + "&measure=referrals&within=bespoke:" + id);
    REQUIRE(within["rows"].size() == codes.size());
    std::set<std::string> row_codes;
    for (const auto& r : within["rows"]) {
        row_codes.insert(r["code"].get<std::string>());
        if (r["value"].is_number()) CHECK(r["value"].get<std::int64_t>() % 20 == 0);
    }
    CHECK(row_codes == std::set<std::string>(codes.begin(), codes.end()));
    const std::int64_t member_sum = sum_values(within["rows"]);
    CHECK(within["classification"] == "internal");

    const json table = get_ok("/api/table?dataset=" + internal_ds + "&measure=referrals&level=bespoke&ids=" + id);
    REQUIRE(table["rows"].size() == 1);
    CHECK(table["rows"][0]["id"] == id);
    CHECK(table["rows"][0]["value"] == member_sum);
    CHECK(table["rows"][0]["value"].get<std::int64_t>() % 20 == 0);
    CHECK(table["rows"][0]["uncertainty"].get<double>() == doctest::Approx(10.0 * static_cast<double>(codes.size())));
    CHECK(table["classification"] == "internal");
    CHECK(table["disclosure"]["rounding_base"] == 20);

    // The raw sum is never what is served unless it happens to equal the sum of rounded cells.
    const auto raw = raw_mi("referrals", get_ok("/api/datasets/" + internal_ds)["periods"].back());
    for (const auto& r : within["rows"]) {
        if (r["value"].is_number() && raw.count(r["code"])) {
            const auto v = raw.at(r["code"].get<std::string>());
            CHECK(r["value"].get<std::int64_t>() == (v + 10) / 20 * 20);
        }
    }

    // Percentage-only measures are never served on user-defined areas (rule 3): differencing them would give
    // the volumes back. Every bespoke route says so with 422 PercentageOnly.
    for (const std::string& path : {"/api/table?dataset=" + internal_ds + "&measure=job_outcomes_group_a&level=bespoke&ids=" + id,
                                   "/api/table?dataset=" + internal_ds + "&measure=job_outcomes_group_a&level=bespoke&format=csv&ids=" + id,
                                   "/api/table?dataset=" + internal_ds + "&measure=job_outcomes_group_b&within=bespoke:" + id,
                                   "/api/export/bespoke.csv?dataset=" + internal_ds + "&measure=job_outcomes_group_a&ids=" + id,
                                   "/api/export/bespoke.xlsx?dataset=" + internal_ds + "&measure=job_outcomes_group_a&ids=" + id,
                                   "/api/export/areas.geojson?dataset=" + internal_ds + "&measure=job_outcomes_group_c&level=bespoke&ids=" + id,
                                   "/api/targets?dataset=" + internal_ds + "&measure=job_outcomes_group_a&within=bespoke:" + id}) {
        CHECK(get_error(path, 422) == "PercentageOnly");
    }

    // CSV
    auto c = client();
    const auto csv = c.Get(("/api/table?dataset=" + internal_ds + "&measure=referrals&level=bespoke&format=csv&ids=" + id).c_str(), auth());
    REQUIRE(csv);
    CHECK(csv->status == 200);
    CHECK(csv->body.rfind("code,name,member_level,members,period,period_name,classification,", 0) == 0);
    CHECK(csv->body.find(",Internal MI: not for onward sharing,") != std::string::npos); // on the row
    CHECK(csv->get_header_value("Link").find("rel=\"describedby\"") != std::string::npos);
    CHECK(csv->body.find(id + ",") != std::string::npos);
    CHECK(csv->get_header_value("Content-Disposition").find("_bespoke_") != std::string::npos);
    // XLSX: the same writer as /api/export/bespoke.xlsx (a zip holding the Data and About sheets).
    const auto xlsx = c.Get(("/api/table?dataset=" + internal_ds + "&measure=referrals&level=bespoke&format=xlsx&ids=" + id).c_str(), auth());
    REQUIRE(xlsx);
    CHECK(xlsx->status == 200);
    CHECK(xlsx->get_header_value("Content-Type").find("spreadsheetml") != std::string::npos);
    CHECK(xlsx->body.rfind("PK", 0) == 0);
    CHECK(xlsx->get_header_value("Content-Disposition").find(".xlsx") != std::string::npos);
    CHECK(xlsx->get_header_value("X-Smallarea-Classification") == "internal");
    const auto with_within = c.Get(("/api/table?dataset=" + internal_ds + "&measure=referrals&level=bespoke&format=csv&within=E08000003&ids=" + id).c_str(), auth());
    REQUIRE(with_within);
    CHECK(with_within->status == 400);
}

TEST_CASE("bespoke - an LSOA bespoke area aggregates an OA dataset's descendants; an OA bespoke area refuses an LSOA dataset") {
    const std::string a = first_lsoa("E08000003", 2);
    const std::string b = first_lsoa("E08000003", 3);
    const json lsoas = post_ok("/api/bespoke", json{{"level", "lsoa"}, {"codes", {a, b}}});
    const std::string id = lsoas["id"];
    const json table = get_ok("/api/table?dataset=" + internal_ds + "&measure=referrals&level=bespoke&ids=" + id);
    const std::int64_t expected = sum_values(get_ok("/api/table?dataset=" + internal_ds + "&measure=referrals&within=" + a)["rows"]) +
                                  sum_values(get_ok("/api/table?dataset=" + internal_ds + "&measure=referrals&within=" + b)["rows"]);
    CHECK(table["rows"][0]["value"] == expected);
    // claimant count is LSOA level: an LSOA bespoke area is fine, published values summed.
    const json claimants = get_ok("/api/table?dataset=claimant_count&level=bespoke&ids=" + id);
    CHECK(claimants["classification"] == "published");
    const auto per_lsoa = get_ok("/api/table?dataset=claimant_count&within=bespoke:" + id);
    CHECK(claimants["rows"][0]["value"] == sum_values(per_lsoa["rows"]));

    const auto codes = oas_of(a);
    const std::string oa_id = post_ok("/api/bespoke", json{{"level", "oa"}, {"codes", codes}})["id"];
    CHECK(get_error("/api/table?dataset=claimant_count&level=bespoke&ids=" + oa_id, 400) == "LevelTooFine");
    CHECK(get_error("/api/table?dataset=claimant_count&within=bespoke:" + oa_id, 400) == "LevelTooFine");
    CHECK(get_error("/api/table?dataset=claimant_count&level=bespoke&ids=nosuchid22", 404) == "UnknownBespoke");
    CHECK(get_error("/api/table?dataset=claimant_count&level=bespoke", 400) == "MissingParameter");
    CHECK(get_error("/api/table?dataset=claimant_count&within=bespoke:nosuchid22", 404) == "UnknownBespoke");
}

TEST_CASE("bespoke - a drawn polygon selects areas by point on surface; invalid polygons are refused") {
    // A box around the first OA's bbox centre picks at least that OA.
    const auto codes = oas_of(first_lsoa("E08000003", 4));
    const std::string one = post_ok("/api/bespoke", json{{"level", "oa"}, {"codes", {codes[0]}}})["id"];
    const auto box = get_ok("/api/bespoke/" + one)["bbox"];
    const double x0 = box[0], y0 = box[1], x1 = box[2], y1 = box[3];
    const json polygon{{"type", "Polygon"}, {"coordinates", {{{x0, y0}, {x1, y0}, {x1, y1}, {x0, y1}, {x0, y0}}}}};
    const json drawn = post_ok("/api/bespoke", json{{"name", "Drawn"}, {"level", "oa"}, {"polygon", polygon}});
    CHECK(drawn["source"] == "polygon");
    bool found = false;
    const json drawn_meta = get_ok("/api/bespoke/" + drawn["id"].get<std::string>()); // kept alive for the loop
    for (const auto& m : drawn_meta["members"]) found = found || m["code"] == codes[0];
    CHECK(found);

    const json bow_tie{{"type", "Polygon"}, {"coordinates", {{{x0, y0}, {x1, y1}, {x1, y0}, {x0, y1}, {x0, y0}}}}};
    CHECK(post_error("/api/bespoke", json{{"level", "oa"}, {"polygon", bow_tie}}.dump(), 400) == "InvalidPolygon");
    const json sea{{"type", "Polygon"}, {"coordinates", {{{10, 10}, {10.1, 10}, {10.1, 10.1}, {10, 10}}}}};
    CHECK(post_error("/api/bespoke", json{{"level", "oa"}, {"polygon", sea}}.dump(), 400) == "EmptySelection");
    CHECK(post_error("/api/bespoke", json{{"level", "oa"}, {"polygon", {{"type", "Point"}, {"coordinates", {0, 0}}}}}.dump(), 400) == "InvalidPolygon");
    CHECK(post_error("/api/bespoke", json{{"level", "oa"}, {"polygon", polygon}, {"codes", {codes[0]}}}.dump(), 400) == "InvalidParameter");
}

TEST_CASE("bespoke - validation errors") {
    const auto codes = oas_of(first_lsoa("E08000003", 5));
    const std::string lsoa = first_lsoa("E08000003", 5);
    CHECK(post_error("/api/bespoke", "{not json", 400) == "InvalidJson");
    CHECK(post_error("/api/bespoke", "[1,2]", 400) == "InvalidJson");
    CHECK(post_error("/api/bespoke", json{{"level", "oa"}, {"codes", json::array()}}.dump(), 400) == "EmptySelection");
    CHECK(post_error("/api/bespoke", json{{"codes", {codes[0]}}}.dump(), 400) == "MissingParameter");
    // One status per code: an unknown level is 404 on every route, a body field included (issue #12).
    CHECK(post_error("/api/bespoke", json{{"level", "parish"}, {"codes", {codes[0]}}}.dump(), 404) == "UnknownLevel");
    CHECK(post_error("/api/bespoke", json{{"level", "oa"}, {"codes", {codes[0], "E00999999"}}}.dump(), 400) == "UnknownCodes");
    CHECK(post_error("/api/bespoke", json{{"level", "oa"}, {"codes", {codes[0], lsoa}}}.dump(), 400) == "MixedLevels");
    CHECK(post_error("/api/bespoke", json{{"level", "oa"}, {"vintage", 2021}, {"codes", {codes[0]}}}.dump(), 400) == "MixedLevels");
    CHECK(post_error("/api/bespoke", json{{"level", "oa"}, {"codes", {1, 2}}}.dump(), 400) == "InvalidParameter");
    CHECK(post_error("/api/bespoke", json{{"level", "oa"}, {"name", ""}, {"codes", {codes[0]}}}.dump(), 400) == "InvalidParameter");
    json many = json::array();
    for (int i = 0; i < 20001; ++i) many.push_back(codes[0]);
    CHECK(post_error("/api/bespoke", json{{"level", "oa"}, {"codes", many}}.dump(), 400) == "TooManyMembers");
    // 20,000 copies of one code are one member after de-duplication: accepted.
    many.erase(many.begin());
    CHECK(post_ok("/api/bespoke", json{{"level", "oa"}, {"codes", many}})["member_count"] == 1);
    const std::string huge = "{\"level\":\"oa\",\"name\":\"" + std::string(1100000, 'x') + "\"}";
    const auto r = post("/api/bespoke", huge);
    CHECK(r->status == 413);
    CHECK(get_error("/api/bespoke/nosuchid22", 404) == "UnknownBespoke");
    CHECK(get_error("/api/bespoke/NOT-VALID", 404) == "UnknownBespoke");
}

TEST_CASE("bespoke - each refused body says why in a JSON {code, message}") {
    const auto codes = oas_of(first_lsoa("E08000003", 5));
    const std::string lsoa = first_lsoa("E08000003", 5);
    // The refusal's full JSON, so the message can be checked as well as the code.
    auto refused = [](const std::string& body, int status) {
        const auto r = post("/api/bespoke", body);
        INFO(body.substr(0, 200) << " -> " << r->status << " " << r->body.substr(0, 300));
        CHECK(r->status == status);
        const auto j = json::parse(r->body, nullptr, false);
        REQUIRE(j.is_object());
        REQUIRE(j["message"].is_string());
        return j;
    };
    auto message = [](const json& j) { return j["message"].get<std::string>(); };
    json j = refused(json{{"level", "oa"}, {"codes", {codes[0], lsoa}}}.dump(), 400); // mixed levels
    CHECK(j["code"] == "MixedLevels");
    CHECK(message(j).find(lsoa) != std::string::npos);
    CHECK(message(j).find("lsoa") != std::string::npos);
    j = refused(json{{"level", "oa"}, {"vintage", 2021}, {"codes", {codes[0]}}}.dump(), 400); // mixed vintages
    CHECK(j["code"] == "MixedLevels");
    CHECK(message(j).find("2011") != std::string::npos);
    CHECK(message(j).find("2021") != std::string::npos);
    j = refused(json{{"level", "oa"}, {"codes", {codes[0], "E00999999", "nonsense"}}}.dump(), 400);
    CHECK(j["code"] == "UnknownCodes");
    CHECK(message(j).find("2 unknown") != std::string::npos);
    CHECK(message(j).find("E00999999") != std::string::npos);
    j = refused(json{{"level", "oa"}, {"codes", json::array()}}.dump(), 400);
    CHECK(j["code"] == "EmptySelection");
    CHECK(message(j).find("at least one") != std::string::npos);
    json many = json::array();
    for (int i = 0; i < 20001; ++i) many.push_back("E0" + std::to_string(1000000 + i)); // distinct codes
    j = refused(json{{"level", "oa"}, {"codes", many}}.dump(), 400);
    CHECK(j["code"] == "TooManyMembers");
    CHECK(message(j).find("20000") != std::string::npos);
    const json bow_tie{{"type", "Polygon"}, {"coordinates", {{{-2.25, 53.47}, {-2.24, 53.48}, {-2.24, 53.47}, {-2.25, 53.48}, {-2.25, 53.47}}}}};
    j = refused(json{{"level", "oa"}, {"polygon", bow_tie}}.dump(), 400);
    CHECK(j["code"] == "InvalidPolygon");
    CHECK(message(j).find("Self-intersection") != std::string::npos); // GEOS's reason, with the point
    j = refused(json{{"level", "oa"}, {"polygon", "POLYGON((0 0,1 0,1 1,0 0))"}}.dump(), 400);
    CHECK(j["code"] == "InvalidPolygon");
    j = refused(json{{"level", "oa"}, {"polygon", {{"type", "Polygon"}, {"coordinates", {{{0, 0}, {400, 0}, {400, 1}, {0, 0}}}}}}}.dump(), 400);
    CHECK(j["code"] == "InvalidPolygon");
    CHECK(message(j).find("lon/lat") != std::string::npos);
    j = refused(json{{"level", "oa"}}.dump(), 400);
    CHECK(j["code"] == "InvalidParameter");
    CHECK(message(j).find("codes") != std::string::npos);
    CHECK(refused(json{{"level", "oa"}, {"codes", codes[0]}}.dump(), 400)["code"] == "InvalidParameter");
    CHECK(refused(json{{"level", "oa"}, {"vintage", 1900}, {"codes", {codes[0]}}}.dump(), 400)["code"] == "InvalidParameter");
    CHECK(refused(json{{"level", "oa"}, {"name", 5}, {"codes", {codes[0]}}}.dump(), 400)["code"] == "InvalidParameter");
    CHECK(refused(json{{"level", "oa"}, {"name", std::string(201, 'n')}, {"codes", {codes[0]}}}.dump(), 400)["code"] == "InvalidParameter");
    // Over 1 MiB: refused before it is parsed, 413 (the project's status for oversized bodies), same JSON shape.
    j = refused("{\"level\":\"oa\",\"codes\":[\"" + std::string(1100000, 'x') + "\"]}", 413);
    CHECK(j["code"] == "TooLarge");
    CHECK(message(j).find("1048576 bytes") != std::string::npos);
    // Unknown ids on every per-area endpoint.
    CHECK(get_error("/api/bespoke/nosuchid22.geojson", 404) == "UnknownBespoke");
    auto c = client();
    const auto d = c.Delete("/api/bespoke/nosuchid22", httplib::Headers{{"X-Owner-Token", "x"}});
    REQUIRE(d);
    CHECK(d->status == 404);
    CHECK(json::parse(d->body)["code"] == "UnknownBespoke");
}

TEST_CASE("bespoke - delete needs the owner token; areas survive a restart") {
    const auto codes = oas_of(first_lsoa("E08000003", 6));
    // Published by its owner, so anyone with the URL (no key) can read it and the owner token alone deletes it.
    const json created = post_ok("/api/bespoke", json{{"level", "oa"}, {"codes", {codes[0], codes[1]}}, {"public", true}});
    CHECK(created["visibility"] == "public");
    const std::string id = created["id"];
    const std::string token = created["owner_token"];

    // A second server over the same store file sees it (saved in the store, not in memory).
    {
        smallarea::server::server_config config;
        config.db_path = server().db_path();
        config.host = "127.0.0.1";
        config.port = 0;
        smallarea::server::app second(config);
        const int port = second.bind();
        std::thread t([&] { second.serve(); });
        httplib::Client c("127.0.0.1", port);
        const auto r = c.Get(("/api/bespoke/" + id).c_str());
        second.stop();
        t.join();
        REQUIRE(r);
        CHECK(r->status == 200);
        CHECK(json::parse(r->body)["member_count"] == 2);
    }

    auto c = client();
    auto r = c.Delete(("/api/bespoke/" + id).c_str());
    REQUIRE(r);
    CHECK(r->status == 401);
    r = c.Delete(("/api/bespoke/" + id).c_str(), httplib::Headers{{"X-Owner-Token", "not-the-token"}});
    REQUIRE(r);
    CHECK(r->status == 403);
    r = c.Delete(("/api/bespoke/" + id).c_str(), httplib::Headers{{"X-Owner-Token", token}});
    REQUIRE(r);
    CHECK(r->status == 204);
    CHECK(get_error("/api/bespoke/" + id, 404) == "UnknownBespoke");
}

TEST_CASE("targets - OAs in the household band ranked by protected rate, ties by code; CSV; outline") {
    const std::string path = "/api/targets?dataset=" + internal_ds + "&measure=referrals&within=E08000003&limit=15";
    const json t = get_ok(path);
    CHECK(t["level"] == "oa");
    CHECK(t["note"].is_null());
    CHECK(t["classification"] == "internal");
    REQUIRE(t["rows"].size() == 15);
    double previous = 1e9;
    std::string previous_code;
    for (std::size_t i = 0; i < t["rows"].size(); ++i) {
        const auto& r = t["rows"][i];
        CHECK(r["rank"] == i + 1);
        CHECK(r["households"].get<std::int64_t>() >= 100);
        CHECK(r["households"].get<std::int64_t>() <= 150);
        CHECK(r["value"].get<std::int64_t>() % 20 == 0);
        const double rate = r["rate"];
        CHECK(rate == doctest::Approx(100.0 * r["value"].get<double>() / r["households"].get<double>()).epsilon(0.001));
        CHECK(rate <= previous + 1e-9);
        if (rate == previous) CHECK(r["code"].get<std::string>() > previous_code);
        previous = rate;
        previous_code = r["code"];
    }
    CHECK(t["outline"]["type"].is_string());

    auto c = client();
    const auto csv = c.Get((path + "&format=csv").c_str(), auth());
    REQUIRE(csv);
    CHECK(csv->status == 200);
    // Header on line 1; the figures named for the measure, after the period and classification of every row.
    CHECK(csv->body.rfind("rank,band,tied_with_next,code,name,level,area_households,rate_low,rate_high,lsoa_code,lsoa_name,lad_code,lad_name,"
                          "neighbourhood,ward_code,ward_name,lat,lon,easting,northing,grid_ref,postcodes_live,postcodes,postcodes_truncated,"
                          "period,period_name,classification,households,referrals,referrals_per_100_households", 0) == 0);
    CHECK(csv->body.find("\n1,1," + std::string(t["rows"][0]["tied_with_next"].get<bool>() ? "true" : "false") + "," +
                         t["rows"][0]["code"].get<std::string>() + ",") != std::string::npos);

    // An LSOA-only dataset: LSOAs ranked, their OAs listed as patches, said plainly (see the test below).
    const json lsoa = get_ok("/api/targets?dataset=claimant_count&within=E08000003");
    CHECK(lsoa["level"] == "lsoa");
    CHECK(lsoa["patches"] == true);
    CHECK(lsoa["note"].get<std::string>().find("never apportioned") != std::string::npos);
    REQUIRE_FALSE(lsoa["rows"].empty());
    CHECK(lsoa["rows"][0]["level"] == "oa");
    CHECK(lsoa["rows"][0]["figure_for"]["level"] == "lsoa");

    // Percentage-only: ranked by percent.
    const json percent = get_ok("/api/targets?dataset=" + internal_ds + "&measure=job_outcomes_group_a&within=E08000003");
    CHECK(percent["ranked_by"].get<std::string>().find("percent") == 0);
    if (!percent["rows"].empty()) CHECK_FALSE(percent["rows"][0].contains("value"));

    // Within a bespoke area.
    const auto codes = oas_of(first_lsoa("E08000003", 7));
    const std::string id = post_ok("/api/bespoke", json{{"level", "oa"}, {"codes", codes}})["id"];
    const json inside = get_ok("/api/targets?dataset=" + internal_ds + "&measure=referrals&within=bespoke:" + id + "&min_households=0&max_households=100000");
    CHECK(inside["rows"].size() <= codes.size());
    for (const auto& r : inside["rows"]) CHECK(std::find(codes.begin(), codes.end(), r["code"]) != codes.end());

    CHECK(get_error("/api/targets?dataset=" + internal_ds + "&min_households=200&max_households=100", 400) == "InvalidParameter");
    CHECK(get_error("/api/targets?dataset=" + internal_ds + "&limit=0", 400) == "InvalidParameter");
    CHECK(get_error("/api/targets?dataset=nope", 404) == "UnknownDataset");
    CHECK(get_error("/api/targets?dataset=" + internal_ds + "&format=xml", 406) == "UnsupportedFormat");
}

TEST_CASE("targets - LSOA-only data gives the Output Areas to walk, each carrying its whole LSOA's figure, never apportioned") {
    const std::string q = "/api/targets?dataset=claimant_count&measure=claimants&period=2017-10&within=E08000003";
    const json t = get_ok(q + "&limit=1000");
    CHECK(t["patches"] == true);
    CHECK(t["min_households"] == 100);
    CHECK(t["max_households"] == 150);
    // The LSOAs' protected figures and the OAs' Census households, read independently.
    std::map<std::string, json> lsoa_rows;
    const json table = get_ok("/api/table?dataset=claimant_count&measure=claimants&period=2017-10&level=lsoa&within=E08000003");
    for (const auto& r : table["rows"]) lsoa_rows[r["code"]] = r;
    std::map<std::string, std::pair<std::string, long>> oa_parent_households; // OA -> (LSOA, households)
    std::size_t in_band = 0;
    const json oas = get_ok("/api/areas?level=oa&within=E08000003");
    for (const auto& a : oas["areas"]) {
        if (!a["households"].is_number()) continue;
        const long h = a["households"].get<long>();
        const std::string lsoa = a["parents"]["lsoa"]["code"];
        oa_parent_households[a["code"]] = {lsoa, h};
        const auto row = lsoa_rows.find(lsoa);
        if (h >= 100 && h <= 150 && row != lsoa_rows.end() && row->second["rate_per_100_households"].is_number()) ++in_band;
    }
    REQUIRE(in_band > 20);
    CHECK(t["eligible"] == in_band); // every OA in the band inside an LSOA with a figure, none twice
    REQUIRE(t["rows"].size() == in_band);
    double previous_rate = 1e9;
    std::string previous_lsoa, previous_oa;
    std::set<std::string> seen_lsoas;
    const std::regex grid_ref(R"(^[A-HJ-Z]{2} \d{4} \d{4}$)");
    for (const auto& r : t["rows"]) {
        INFO(r.dump());
        const std::string oa = r["code"];
        CHECK(r["level"] == "oa");
        REQUIRE(oa_parent_households.count(oa));
        const auto& [lsoa, households] = oa_parent_households.at(oa);
        CHECK(r["households"] == households); // the patch's own Census count
        CHECK(r["households"].get<long>() >= 100);
        CHECK(r["households"].get<long>() <= 150);
        // The figure is its LSOA's, exactly as /api/table serves it, labelled as the whole LSOA's.
        CHECK(r["figure_for"]["code"] == lsoa);
        CHECK(r["figure_for"]["level"] == "lsoa");
        CHECK(r["figure_for"]["note"] == "value for the whole LSOA");
        CHECK(r["places"]["lsoa"]["code"] == lsoa);
        CHECK(r["places"]["lad"]["code"] == "E08000003");
        const auto& l = lsoa_rows.at(lsoa);
        CHECK(r["value"] == l["value"]);
        CHECK(r["rate"] == l["rate_per_100_households"]);
        CHECK(r["uncertainty"] == l["uncertainty"]);
        CHECK(r["figure_for"]["households"] == l["households"]);
        // Ranked by the LSOA's rate; an LSOA's patches together and in code order.
        const double rate = r["rate"].get<double>();
        CHECK(rate <= previous_rate);
        if (lsoa == previous_lsoa) {
            CHECK(oa > previous_oa);
        } else {
            CHECK_MESSAGE(!seen_lsoas.count(lsoa), "the patches of " << lsoa << " are split up");
            seen_lsoas.insert(lsoa);
        }
        previous_rate = rate;
        previous_lsoa = lsoa;
        previous_oa = oa;
        // Somewhere to go: a point inside the patch's box, on the National Grid, with its grid reference.
        REQUIRE(r["point"].is_array());
        CHECK(r["point"][0].get<double>() >= r["bbox"][0].get<double>());
        CHECK(r["point"][0].get<double>() <= r["bbox"][2].get<double>());
        CHECK(r["point"][1].get<double>() >= r["bbox"][1].get<double>());
        CHECK(r["point"][1].get<double>() <= r["bbox"][3].get<double>());
        CHECK(std::regex_match(r["grid_ref"].get<std::string>(), grid_ref));
        CHECK(r["grid_ref"].get<std::string>().substr(0, 2) == (r["northing"].get<double>() >= 400000 ? "SD" : "SJ")); // Manchester
    }
    // Patches of one LSOA carry one figure and one band (their order is not a difference).
    for (std::size_t i = 0; i + 1 < t["rows"].size(); ++i) {
        if (t["rows"][i]["figure_for"]["code"] == t["rows"][i + 1]["figure_for"]["code"]) {
            CHECK(t["rows"][i]["band"] == t["rows"][i + 1]["band"]);
            CHECK(t["rows"][i]["tied_with_next"] == true);
        }
    }
    // The limit applies to patches.
    CHECK(get_ok(q + "&limit=7")["rows"].size() == 7);
    // The files carry the same rows, saying whose figure it is.
    const auto csv = get_file(q + "&limit=3&format=csv");
    REQUIRE(csv->status == 200);
    CHECK(csv->body.rfind("rank,band,tied_with_next,code,name,level,area_households,figure_for,figure_area_code,figure_area_name,rate_low,rate_high,"
                          "lsoa_code,lsoa_name,lad_code,lad_name,neighbourhood,ward_code,ward_name,lat,lon,easting,northing,grid_ref,"
                          "postcodes_live,postcodes,postcodes_truncated,period,", 0) == 0);
    const auto first = t["rows"][0];
    CHECK(csv->body.find("\n1," + std::to_string(first["band"].get<long>()) + ",") != std::string::npos);
    CHECK(csv->body.find("," + first["code"].get<std::string>() + "," + first["code"].get<std::string>() + ",oa," +
                         std::to_string(first["households"].get<long>()) + ",value for the whole LSOA," +
                         first["figure_for"]["code"].get<std::string>() + ",") != std::string::npos);
    // The patch's postcodes follow its grid reference, as the JSON row lists them (one cell, spaces between).
    std::string postcodes;
    for (const auto& pc : first["postcodes"]) postcodes += (postcodes.empty() ? "" : " ") + pc.get<std::string>();
    CHECK(csv->body.find("," + first["grid_ref"].get<std::string>() + "," + std::to_string(first["postcodes_live"].get<long>()) + "," +
                         postcodes + ",false,2017-10,") != std::string::npos);
    const auto xlsx = get_file(q + "&limit=3&format=xlsx");
    CHECK(xlsx->status == 200);
}

TEST_CASE("zones - contiguous zones in the band, saved as bespoke areas whose values are sums of protected cells") {
    const json body{{"dataset", internal_ds}, {"measure", "referrals"}, {"within", "E08000003"},
                    {"min_households", 200}, {"max_households", 300}, {"contiguity", "rook"}, {"max_zones", 8}};
    const json z = post_ok("/api/zones", body);
    CHECK(z["classification"] == "internal");
    REQUIRE(z["zones"].size() == 8);
    CHECK(z["owner_token"].is_string());
    std::set<std::string> seen;
    for (const auto& zone : z["zones"]) {
        CHECK(zone["households"].get<std::int64_t>() >= 200);
        CHECK(zone["households"].get<std::int64_t>() <= 300);
        CHECK(zone["value"].get<std::int64_t>() % 20 == 0);
        for (const auto& m : zone["members"]) CHECK(seen.insert(m.get<std::string>()).second);
        const std::string id = zone["id"];
        // The zone is an ordinary bespoke area: its value is the sum of its members' protected values.
        const json members = get_ok("/api/table?dataset=" + internal_ds + "&measure=referrals&within=bespoke:" + id);
        CHECK(zone["value"] == sum_values(members["rows"]));
        CHECK(members["rows"].size() == zone["members"].size());
        const json meta = get_ok("/api/bespoke/" + id);
        CHECK(meta["source"] == "zones");
        CHECK(meta["households"] == zone["households"]);
        // Every member has a Census household count (areas without one are unplaced, never counted as 0).
        for (const auto& m : meta["members"]) CHECK(m["households"].is_number());
        const json outline = get_ok("/api/bespoke/" + id + ".geojson");
        CHECK(outline["geometry"]["type"] == "MultiPolygon");
    }
    for (const auto& u : z["unplaced"]) {
        const std::string reason = u["reason"];
        CHECK((reason == "above_ceiling" || reason == "cannot_reach_floor" || reason == "no_households" || reason == "no_boundary"));
        CHECK(seen.count(u["code"].get<std::string>()) == 0);
    }

    CHECK(post_error("/api/zones", json{{"dataset", internal_ds}, {"within", "E08000003"}, {"contiguity", "bishop"}}.dump(), 400) == "InvalidParameter");
    CHECK(post_error("/api/zones", json{{"dataset", internal_ds}}.dump(), 400) == "MissingParameter");
    CHECK(post_error("/api/zones", json{{"dataset", internal_ds}, {"within", "E08000003"}, {"measure", "job_outcomes_group_a"}}.dump(), 422) == "PercentageOnly");
    CHECK(post_error("/api/zones", json{{"dataset", internal_ds}, {"within", "E08000003"}, {"min_households", 300}, {"max_households", 200}}.dump(), 400) == "InvalidParameter");
    CHECK(post_error("/api/zones", "nope", 400) == "InvalidJson");
}

TEST_CASE("targets - the whole ranking is by protected rate, ties broken by code; finder errors") {
    const json t = get_ok("/api/targets?dataset=" + internal_ds + "&measure=referrals&within=E08000003&min_households=0&max_households=100000&limit=1000");
    REQUIRE(t["rows"].size() > 100);
    CHECK(t["eligible"].get<std::size_t>() >= t["rows"].size());
    std::size_t ties = 0;
    for (std::size_t i = 1; i < t["rows"].size(); ++i) {
        const auto& a = t["rows"][i - 1];
        const auto& b = t["rows"][i];
        // Compare the unrounded protected rate (value / households), not the 2-decimal display.
        const double ra = a["value"].get<double>() / a["households"].get<double>();
        const double rb = b["value"].get<double>() / b["households"].get<double>();
        INFO(a["code"] << " " << ra << " then " << b["code"] << " " << rb);
        CHECK(ra >= rb);
        if (ra == rb) {
            ++ties;
            CHECK(a["code"].get<std::string>() < b["code"].get<std::string>());
        }
    }
    CHECK(ties > 10); // multiples of 20 over small counts: plenty of equal rates, so the tie rule is exercised

    CHECK(get_error("/api/targets?dataset=" + internal_ds + "&min_households=abc", 400) == "InvalidParameter");
    CHECK(get_error("/api/targets?dataset=" + internal_ds + "&limit=1001", 400) == "InvalidParameter");
    CHECK(get_error("/api/targets?dataset=" + internal_ds + "&measure=nope", 404) == "UnknownMeasure");
    CHECK(get_error("/api/targets?dataset=" + internal_ds + "&within=E09999999", 404) == "UnknownArea");
    CHECK(get_error("/api/targets?dataset=" + internal_ds + "&within=bespoke:nosuchid22", 404) == "UnknownBespoke");
    CHECK(get_error("/api/targets?dataset=" + internal_ds + "&measure=job_outcomes_total", 422) == "PercentageOnly");
}

TEST_CASE("zones - every zone is connected, in the band, disjoint; unplaced areas say why; queen; inside a bespoke area") {
    // Rook zones: members share edges, so each zone's dissolved outline is ONE polygon (a zone linked only at a
    // corner would dissolve into two).
    const json z = post_ok("/api/zones", json{{"dataset", internal_ds}, {"measure", "referrals"}, {"within", "E08000003"},
                                              {"min_households", 200}, {"max_households", 300}, {"max_zones", 500}});
    REQUIRE(z["zones"].size() == 500);
    std::set<std::string> placed;
    std::size_t multi_member = 0;
    for (const auto& zone : z["zones"]) {
        CHECK(zone["households"].get<std::int64_t>() >= 200);
        CHECK(zone["households"].get<std::int64_t>() <= 300);
        for (const auto& m : zone["members"]) CHECK(placed.insert(m.get<std::string>()).second);
        multi_member += zone["members"].size() > 1 ? 1 : 0;
    }
    CHECK(multi_member > 100);
    for (std::size_t k = 0; k < z["zones"].size(); k += 25) { // a sample of outlines, to keep the test quick
        const auto& zone = z["zones"][k];
        const json outline = get_ok("/api/bespoke/" + zone["id"].get<std::string>() + ".geojson");
        INFO(zone["name"] << " members " << zone["members"].dump());
        CHECK(outline["geometry"]["coordinates"].size() == 1);
    }
    // Unplaced: areas without a Census household count, areas above the ceiling on their own, and seeds that
    // could not reach the floor (islands, or boxed in by zones already built). Never also in a zone.
    std::map<std::string, std::size_t> reasons;
    for (const auto& u : z["unplaced"]) {
        const std::string reason = u["reason"];
        ++reasons[reason];
        CHECK(placed.count(u["code"].get<std::string>()) == 0);
        if (reason == "no_households") CHECK(u["households"].is_null());
        if (reason == "above_ceiling") CHECK(u["households"].get<std::int64_t>() > 300);
        if (reason == "cannot_reach_floor") CHECK(u["households"].get<std::int64_t>() < 200);
    }
    CHECK(reasons["no_households"] > 0);
    CHECK(reasons["cannot_reach_floor"] + reasons["above_ceiling"] > 0);
    CHECK(placed.size() + z["unplaced"].size() <= z["areas"].get<std::size_t>() + reasons["no_households"]);

    // Queen contiguity is accepted and keeps the band and disjointness.
    const json q = post_ok("/api/zones", json{{"dataset", internal_ds}, {"within", "E08000003"}, {"contiguity", "queen"},
                                              {"min_households", 200}, {"max_households", 300}, {"max_zones", 10}});
    CHECK(q["contiguity"] == "queen");
    REQUIRE(q["zones"].size() == 10);
    std::set<std::string> queen_placed;
    for (const auto& zone : q["zones"]) {
        CHECK(zone["households"].get<std::int64_t>() <= 300);
        for (const auto& m : zone["members"]) CHECK(queen_placed.insert(m.get<std::string>()).second);
    }

    // Inside a bespoke area: only its members are used.
    const auto codes = oas_of(first_lsoa("E08000003", 9));
    std::vector<std::string> more = oas_of(first_lsoa("E08000003", 10));
    more.insert(more.end(), codes.begin(), codes.end());
    const std::string id = post_ok("/api/bespoke", json{{"level", "oa"}, {"codes", more}})["id"];
    const json inside = post_ok("/api/zones", json{{"dataset", internal_ds}, {"within", "bespoke:" + id},
                                                   {"min_households", 100}, {"max_households", 400}});
    CHECK(inside["areas"].get<std::size_t>() <= more.size());
    for (const auto& zone : inside["zones"]) {
        for (const auto& m : zone["members"]) CHECK(std::find(more.begin(), more.end(), m) != more.end());
    }

    // Errors.
    const std::string base = R"({"dataset":")" + internal_ds + R"(","within":"E08000003")";
    CHECK(post_error("/api/zones", base + R"(,"max_zones":0})", 400) == "InvalidParameter");
    CHECK(post_error("/api/zones", base + R"(,"max_zones":501})", 400) == "InvalidParameter");
    CHECK(post_error("/api/zones", base + R"(,"min_households":true})", 400) == "InvalidParameter");
    CHECK(post_error("/api/zones", base + R"(,"min_households":"abc"})", 400) == "InvalidParameter");
    CHECK(post_error("/api/zones", base + R"(,"min_households":-1})", 400) == "InvalidParameter");
    CHECK(post_error("/api/zones", base + R"(,"contiguity":7})", 400) == "InvalidParameter");
    CHECK(post_error("/api/zones", R"({"dataset":"nope","within":"E08000003"})", 404) == "UnknownDataset");
    CHECK(post_error("/api/zones", R"({"dataset":")" + internal_ds + R"(","within":"E09999999"})", 404) == "UnknownArea");
    CHECK(post_error("/api/zones", R"({"dataset":")" + internal_ds + R"(","within":"bespoke:nosuchid22"})", 404) == "UnknownBespoke");
    CHECK(post_error("/api/zones", base + R"(,"measure":"nope"})", 404) == "UnknownMeasure");
    CHECK(post_error("/api/zones", "[]", 400) == "InvalidJson");
    const std::string huge = base + R"(,"name":")" + std::string(1100000, 'x') + "\"}";
    CHECK(post_error("/api/zones", huge, 413) == "TooLarge");
    auto c = client();
    const auto anonymous = c.Post("/api/zones", base + "}", "application/json");
    REQUIRE(anonymous);
    CHECK(anonymous->status == 404); // an internal dataset is unknown to a caller without a key
    CHECK(json::parse(anonymous->body)["code"] == "UnknownDataset");
}

TEST_CASE("bespoke - internal values need a key like every other table") {
    const auto codes = oas_of(first_lsoa("E08000003", 8));
    const std::string id = post_ok("/api/bespoke", json{{"level", "oa"}, {"codes", codes}, {"public", true}})["id"];
    // Without a key an internal dataset is answered as an unknown one.
    const auto r = get("/api/table?dataset=" + internal_ds + "&measure=referrals&level=bespoke&ids=" + id);
    CHECK(r->status == 404);
    CHECK(json::parse(r->body)["code"] == "UnknownDataset");
    const auto t = get("/api/targets?dataset=" + internal_ds + "&measure=referrals");
    CHECK(t->status == 404);
    CHECK(json::parse(t->body)["code"] == "UnknownDataset");
    // The public area itself is readable without a key.
    CHECK(get("/api/bespoke/" + id)->status == 200);
}

TEST_CASE("bespoke - the member cap is the server's --max-bespoke-members") {
    smallarea::server::server_config config;
    config.db_path = server().db_path();
    config.host = "127.0.0.1";
    config.port = 0;
    config.max_bespoke_members = 3;
    smallarea::server::app capped(config);
    const int port = capped.bind();
    std::thread serving([&capped] { capped.serve(); });
    httplib::Client c("127.0.0.1", port);
    std::vector<std::string> four;
    for (std::size_t i = 0; i < 4; ++i) four.push_back(first_lsoa("E08000003", i));
    const auto refused = c.Post("/api/bespoke", json{{"level", "lsoa"}, {"codes", four}}.dump(), "application/json");
    REQUIRE(refused);
    CHECK(refused->status == 400);
    const json error = json::parse(refused->body);
    CHECK(error["code"] == "TooManyMembers");
    CHECK(error["message"].get<std::string>().find("at most 3") != std::string::npos);
    four.pop_back();
    const auto created = c.Post("/api/bespoke", json{{"level", "lsoa"}, {"codes", four}}.dump(), "application/json");
    REQUIRE(created);
    CHECK(created->status == 201);
    capped.stop();
    serving.join();
}
