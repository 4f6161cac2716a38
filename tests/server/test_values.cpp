// test_values: GET /api/values (the compact values document a map joins to boundaries from a static archive)
// against /api/table and /api/breaks on the same real server, and the boundary archive route
// (/boundaries/LEVEL.pmtiles, --boundaries-pmtiles) with byte ranges, over an archive exported from the sample.

#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include "core/error.hpp"
#include "engine/tile_export.hpp"
#include "server/app.hpp"

#include "server_fixture.hpp"

#include <fstream>
#include <set>
#include <sstream>

using namespace test_fixture;

namespace {

const std::string claimants = "dataset=claimant_count&measure=claimants&period=2017-09";
const std::string referrals = "dataset=synthetic_work_programme&measure=referrals&period=2017-09";
const std::string group_a = "dataset=synthetic_work_programme&measure=job_outcomes_group_a&period=2017-09";

httplib::Headers with_key() { return {{"Authorization", "Bearer " + fixture_key()}}; }

json get_json_with(const std::string& path, const httplib::Headers& headers) {
    const auto r = get(path, headers);
    INFO(path << " -> " << r->status << " " << r->body.substr(0, 300));
    REQUIRE(r->status == 200);
    return json::parse(r->body);
}

std::set<std::size_t> indices(const json& list) {
    std::set<std::size_t> out;
    for (const auto& i : list) out.insert(i.get<std::size_t>());
    return out;
}

// Every figure of the values document equals the /api/table row of its code, and every class is the one the
// /api/breaks breaks of the same query give (and their counts add up to the legend's).
void check_against_table(const std::string& query, const httplib::Headers& headers, std::size_t at_least = 10) {
    INFO("query " << query);
    const auto values = get_json_with("/api/values?" + query, headers);
    const auto table = get_json_with("/api/table?" + query, headers);
    const auto breaks = get_json_with("/api/breaks?" + query, headers);
    const bool percent = table["measure"]["kind"] == "percent_only";
    const auto& codes = values["codes"];
    REQUIRE(codes.size() == table["rows"].size());
    REQUIRE(values["count"] == codes.size());
    REQUIRE(codes.size() >= at_least);
    CHECK(values["breaks"] == breaks["breaks"]);
    CHECK(values["classes"] == breaks["classes"]);
    CHECK(values["classification"] == table["classification"]);
    std::map<std::string, json> rows;
    for (const auto& r : table["rows"]) rows[r["code"].get<std::string>()] = r;
    const auto suppressed = indices(values["suppressed"]), missing = indices(values["missing"]);
    std::vector<std::size_t> per_class(breaks["breaks"].size(), 0);
    std::size_t classed = 0, flagged = 0;
    for (std::size_t i = 0; i < codes.size(); ++i) {
        const auto& row = rows.at(codes[i].get<std::string>());
        INFO("area " << codes[i]);
        if (percent) {
            CHECK(values["percent"][i] == row["percent"]);
        } else {
            CHECK(values["value"][i] == row["value"]);
            CHECK(values["rate"][i] == row["rate_per_100_households"]);
        }
        CHECK((suppressed.count(i) == 1) == row["suppressed"].get<bool>());
        CHECK((missing.count(i) == 1) == row["missing"].get<bool>());
        flagged += suppressed.count(i) + missing.count(i);
        const json& figure = percent ? row["percent"] : row[breaks["of"] == "value" ? "value" : "rate_per_100_households"];
        const int cls = values["class"][i].get<int>();
        if (figure.is_null()) {
            CHECK(cls == -1);
            continue;
        }
        // The class as the legend draws it: the first break the figure does not exceed.
        const double v = figure.get<double>();
        int expected = -1;
        for (std::size_t b = 0; b < breaks["breaks"].size(); ++b) {
            if (v <= breaks["breaks"][b].get<double>()) {
                expected = static_cast<int>(b);
                break;
            }
        }
        CHECK(cls == expected);
        REQUIRE(cls >= 0);
        ++per_class[static_cast<std::size_t>(cls)];
        ++classed;
    }
    CHECK(classed > 0);
    for (std::size_t c = 0; c < per_class.size(); ++c) CHECK(per_class[c] == breaks["classes"][c]["count"].get<std::size_t>());
    MESSAGE(query << ": " << codes.size() << " areas, " << classed << " classed, " << flagged << " flagged");
}

std::string slurp(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

} // namespace

TEST_CASE("values - every figure equals the /api/table row and every class the /api/breaks class") {
    check_against_table(claimants, {});
    check_against_table(claimants + "&level=lad", {}, 2); // Manchester and Trafford
    check_against_table(claimants + "&of=value&classes=7&method=equal", {});
    check_against_table(referrals, with_key());
    check_against_table(referrals + "&level=lsoa&method=jenks", with_key());
    check_against_table(group_a, with_key());
}

TEST_CASE("values - internal MI: refused without a key exactly as /api/table, rounded to 20 and private with one") {
    const auto table = get("/api/table?" + referrals);
    const auto values = get("/api/values?" + referrals);
    CHECK(table->status >= 400);
    CHECK(values->status == table->status);
    CHECK(json::parse(values->body)["code"] == json::parse(table->body)["code"]);
    CHECK_FALSE(contains(values->body, "codes"));

    const auto r = get("/api/values?" + referrals, with_key());
    REQUIRE(r->status == 200);
    CHECK(r->get_header_value("X-Smallarea-Classification") == "internal");
    // No shared cache may keep internal MI (context::end_request), whatever the route set.
    CHECK(contains(r->get_header_value("Cache-Control"), "private"));
    CHECK_FALSE(contains(r->get_header_value("Cache-Control"), "public"));
    const auto body = json::parse(r->body);
    const auto raw = raw_mi("referrals", "2017-09");
    std::size_t differing = 0, checked = 0;
    for (std::size_t i = 0; i < body["codes"].size(); ++i) {
        const auto& v = body["value"][i];
        if (v.is_null()) continue;
        const auto served = v.get<std::int64_t>();
        CHECK(served % 20 == 0);
        const auto it = raw.find(body["codes"][i].get<std::string>());
        REQUIRE(it != raw.end());
        CHECK(served == (it->second + 10) / 20 * 20);
        differing += served != it->second ? 1 : 0;
        ++checked;
    }
    CHECK(checked > 0);
    CHECK(differing > 0); // the raw values are not multiples of 20: the checks above had something to catch

    const auto published = get("/api/values?" + claimants);
    CHECK(published->get_header_value("X-Smallarea-Classification") == "published");
    CHECK(contains(published->get_header_value("Cache-Control"), "public"));
}

TEST_CASE("values - a strong ETag per release and query, 304 on If-None-Match") {
    const auto first = get("/api/values?" + claimants);
    REQUIRE(first->status == 200);
    const auto etag = first->get_header_value("ETag");
    REQUIRE(etag.size() > 2);
    CHECK(etag.front() == '"'); // strong
    CHECK(get("/api/values?" + claimants)->get_header_value("ETag") == etag);
    const auto again = get("/api/values?" + claimants, {{"If-None-Match", etag}});
    CHECK(again->status == 304);
    CHECK(again->body.empty());
    CHECK(again->get_header_value("ETag") == etag);
    // Defaults are resolved before the ETag: naming them is the same document.
    CHECK(get("/api/values?" + claimants + "&classes=5&method=quantile&of=rate&level=lsoa")->get_header_value("ETag") == etag);
    std::set<std::string> etags{etag};
    for (const std::string& other : std::vector<std::string>{"dataset=claimant_count&measure=claimants&period=2017-10", claimants + "&classes=7",
                                    claimants + "&method=jenks", claimants + "&of=value", claimants + "&level=lad"}) {
        const auto r = get("/api/values?" + other);
        REQUIRE(r->status == 200);
        CHECK(etags.insert(r->get_header_value("ETag")).second);
        CHECK(get("/api/values?" + other, {{"If-None-Match", etag}})->status == 200);
    }
    // Internal MI: a refused caller gets no 304 for an ETag it learnt elsewhere (authorised before the ETag).
    const auto keyed = get("/api/values?" + referrals, with_key());
    const auto stolen = get("/api/values?" + referrals, {{"If-None-Match", keyed->get_header_value("ETag")}});
    CHECK(stolen->status >= 400);
}

TEST_CASE("values - a percentage-only measure has percent and no volume or rate array") {
    const auto body = get_json_with("/api/values?" + group_a, with_key());
    CHECK(body["kind"] == "percent_only");
    CHECK(body["of"] == "percent");
    REQUIRE(body.contains("percent"));
    CHECK_FALSE(body.contains("value"));
    CHECK_FALSE(body.contains("rate"));
    std::size_t with_percent = 0;
    for (const auto& p : body["percent"]) {
        if (p.is_null()) continue;
        CHECK(p.get<std::int64_t>() >= 0);
        CHECK(p.get<std::int64_t>() <= 100);
        ++with_percent;
    }
    CHECK(with_percent > 0);
    CHECK(json::parse(get("/api/values?" + group_a + "&of=value", with_key())->body)["code"] == "PercentageOnly");
    const auto base = get("/api/values?dataset=synthetic_work_programme&measure=job_outcomes_total&period=2017-09", with_key());
    CHECK(base->status == 422);
    CHECK(json::parse(base->body)["code"] == "PercentageOnly");
}

TEST_CASE("values - bad parameters are 4xx with a JSON code and message") {
    send_fixture_key() = true;
    CHECK(error_code("/api/values", 400) == "MissingParameter");
    CHECK(error_code("/api/values?dataset=nope&measure=claimants&period=2017-09", 404) == "UnknownDataset");
    CHECK(error_code("/api/values?dataset=claimant_count&measure=nope&period=2017-09", 404) == "UnknownMeasure");
    CHECK(error_code("/api/values?dataset=claimant_count&measure=claimants&period=1999-01", 404) == "UnknownPeriod");
    CHECK(error_code("/api/values?" + claimants + "&level=msoa", 404) == "UnknownLevel");
    CHECK(error_code("/api/values?" + claimants + "&level=oa", 400) == "LevelTooFine");
    CHECK(error_code("/api/values?" + claimants + "&classes=2", 400) == "InvalidParameter");
    CHECK(error_code("/api/values?" + claimants + "&classes=x", 400) == "InvalidParameter");
    CHECK(error_code("/api/values?" + claimants + "&method=magic", 400) == "InvalidMethod");
    CHECK(error_code("/api/values?" + claimants + "&of=percent", 400) == "InvalidParameter");
    CHECK(error_code("/api/values?" + claimants + "&within=E08000003", 400) == "InvalidParameter");
    CHECK(error_code("/api/values?" + claimants + "&compare=2017-10", 400) == "InvalidParameter");
    CHECK(error_code("/api/values?" + claimants + "&vintage=abc", 400) == "InvalidVintage");
    send_fixture_key() = false;
}

namespace {

// A server over a copy of the sample whose LSOA archive was exported from that store before it opened.
configure_fn with_archive(const std::string& spec_suffix = "") {
    return [spec_suffix](smallarea::server::server_config& c) {
        c.boundaries_pmtiles = "lsoa=" + archive_of(c.db_path) + spec_suffix;
    };
}
void export_lsoa(const std::string& db) { smallarea::engine::export_pmtiles_to_path(db, "lsoa", "", "0", "12", archive_of(db), 1); }

} // namespace

TEST_CASE("boundaries - the archive is served with byte ranges (206, Content-Range, 416) and listed in the catalog") {
    test_server s(copy_of_sample, with_archive(), export_lsoa);
    const std::string file = slurp(archive_of(s.db_path()));
    REQUIRE(file.size() > 1000);
    const std::string size = std::to_string(file.size());
    httplib::Client c("127.0.0.1", s.port());

    const auto whole = c.Get("/boundaries/lsoa.pmtiles");
    REQUIRE(whole);
    CHECK(whole->status == 200);
    CHECK(whole->body == file);
    CHECK(whole->get_header_value("Accept-Ranges") == "bytes");
    CHECK(contains(whole->get_header_value("Cache-Control"), "public"));
    const auto etag = whole->get_header_value("ETag");
    CHECK(etag.front() == '"');

    const auto header = c.Get("/boundaries/lsoa.pmtiles", {{"Range", "bytes=0-126"}});
    REQUIRE(header);
    CHECK(header->status == 206);
    CHECK(header->get_header_value("Content-Range") == "bytes 0-126/" + size);
    CHECK(header->body == file.substr(0, 127));
    CHECK(header->body.rfind("PMTiles\x03", 0) == 0);

    const auto middle = c.Get("/boundaries/lsoa.pmtiles", {{"Range", "bytes=500-899"}});
    REQUIRE(middle);
    CHECK(middle->status == 206);
    CHECK(middle->body == file.substr(500, 400));

    const auto tail = c.Get("/boundaries/lsoa.pmtiles", {{"Range", "bytes=-10"}});
    REQUIRE(tail);
    CHECK(tail->status == 206);
    CHECK(tail->body == file.substr(file.size() - 10));
    CHECK(tail->get_header_value("Content-Range") == "bytes " + std::to_string(file.size() - 10) + "-" +
                                                       std::to_string(file.size() - 1) + "/" + size);

    // A range running past the end is cut at the end (RFC 9110 14.1.2).
    const auto past = c.Get("/boundaries/lsoa.pmtiles", {{"Range", "bytes=" + std::to_string(file.size() - 5) + "-99999999"}});
    REQUIRE(past);
    CHECK(past->status == 206);
    CHECK(past->body == file.substr(file.size() - 5));

    for (const std::string& bad : std::vector<std::string>{"bytes=" + size + "-", "bytes=99999999-99999999", "bytes=-0", "bytes=abc", "pages=1-2"}) {
        INFO("Range: " << bad);
        const auto r = c.Get("/boundaries/lsoa.pmtiles", {{"Range", bad}});
        REQUIRE(r);
        CHECK(r->status == 416);
        const auto body = json::parse(r->body, nullptr, false);
        REQUIRE_FALSE(body.is_discarded());
        CHECK(body["code"] == "RangeNotSatisfiable");
        if (bad.rfind("bytes=9", 0) == 0 || bad == "bytes=" + size + "-") CHECK(r->get_header_value("Content-Range") == "bytes */" + size);
    }

    const auto revalidated = c.Get("/boundaries/lsoa.pmtiles", {{"If-None-Match", etag}, {"Range", "bytes=0-126"}});
    REQUIRE(revalidated);
    CHECK(revalidated->status == 304);

    const auto missing = c.Get("/boundaries/oa.pmtiles");
    REQUIRE(missing);
    CHECK(missing->status == 404);
    CHECK(json::parse(missing->body)["code"] == "UnknownArchive");

    const auto catalog = json::parse(c.Get("/tiles/catalog")->body);
    std::size_t with_archive = 0;
    for (const auto& layer : catalog["layers"]) {
        if (!layer.contains("pmtiles")) continue;
        ++with_archive;
        CHECK(layer["level"] == "lsoa");
        CHECK(contains(layer["pmtiles"].get<std::string>(), "/boundaries/lsoa.pmtiles"));
    }
    CHECK(with_archive == 1);
}

TEST_CASE("boundaries - a bad --boundaries-pmtiles stops the server at start with the file named") {
    temp_dir dir;
    const auto db = sample_store_copy(dir);
    export_lsoa(db);
    const auto not_archive = dir.file("not.pmtiles");
    std::ofstream(not_archive) << "this is not an archive";
    const auto start = [&](const std::string& spec) -> std::string {
        smallarea::server::server_config c;
        c.db_path = db;
        c.port = 0;
        c.boundaries_pmtiles = spec;
        try {
            smallarea::server::app a(c);
        } catch (const smallarea::error& e) {
            CHECK(e.code() == "InvalidArchive");
            return e.what();
        }
        return "started";
    };
    CHECK(contains(start("lsoa=" + not_archive), not_archive));
    CHECK(contains(start("lsoa=" + not_archive), "not a PMTiles archive"));
    CHECK(contains(start("lsoa=" + dir.file("absent.pmtiles")), "cannot be read"));
    CHECK(contains(start("oa=" + archive_of(db)), "holds level lsoa, not oa"));
    CHECK(contains(start("lsoa"), "neither LEVEL=PATH nor a folder"));
    CHECK(contains(start("lsoa=" + archive_of(db) + ",lsoa=" + archive_of(db)), "two archives of level lsoa"));
    CHECK(contains(start("=x"), "is not LEVEL=PATH"));
    CHECK(start("lsoa=" + archive_of(db)) == "started");
}

TEST_CASE("boundaries - a Range header on any other route is ignored: the whole answer, never a broken one") {
    for (const std::string& range : std::vector<std::string>{"bytes=99999999-", "bytes=5-10", "bytes=0-1,5-6"}) {
        INFO("Range: " << range);
        const auto r = get("/health", {{"Range", range}});
        CHECK(r->status == 200);
        CHECK_FALSE(json::parse(r->body, nullptr, false).is_discarded());
        const auto v = get("/api/values?" + claimants, {{"Range", range}});
        CHECK(v->status == 200);
        CHECK(json::parse(v->body, nullptr, false).contains("codes"));
    }
}
