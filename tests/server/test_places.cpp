// test_places: GET /api/search and GET /api/labels (issue #14) and the postcodes on GET /api/targets, against a real
// server on 127.0.0.1 over the bundled sample (Trafford's postcodes placed by point in polygon). Expected answers
// come from the sample's postcode file and from the store's SQLite file, never from the server.

#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include "data/postcodes.hpp"

#include "engine/places.hpp"
#include "server_fixture.hpp"

#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <vector>

using nlohmann::json;
using namespace test_support;
using namespace test_fixture;

// The targets checks read internal MI, which needs a key.
[[maybe_unused]] const bool sends_key = (send_fixture_key() = true);

namespace {

struct file_postcode {
    double lon = 0, lat = 0;
    std::string ward_code, ward_name, neighbourhood;
};

/// The sample's postcode file, by postcode.
const std::map<std::string, file_postcode>& sample_postcodes() {
    static const auto rows = [] {
        std::map<std::string, file_postcode> out;
        const auto t = read_csv(sample_dir + "/postcodes/trafford_postcodes_2025-02.csv.gz");
        for (std::size_t i = 0; i < t.rows.size(); ++i) {
            out[t.at(i, "postcode")] = {std::stod(t.at(i, "lon")), std::stod(t.at(i, "lat")), t.at(i, "ward_code"),
                                        t.at(i, "ward_name"), t.at(i, "msoa_hcl_name")};
        }
        return out;
    }();
    return rows;
}

/// OA code -> its live postcodes (sorted), from the server's store file.
std::map<std::string, std::vector<std::string>> store_live_postcodes() {
    std::map<std::string, std::vector<std::string>> out;
    auto db = smallarea::data::open_store(server().db_path(), false);
    smallarea::data::statement s(db, "SELECT a.code, p.postcode FROM postcodes p JOIN areas a ON a.id = p.area_id "
                                     "WHERE p.live = 1 ORDER BY a.code, p.postcode");
    while (s.step()) out[s.text(0)].push_back(s.text(1));
    return out;
}

std::string store_oa_of(const std::string& postcode) {
    auto db = smallarea::data::open_store(server().db_path(), false);
    smallarea::data::statement s(db, "SELECT a.code FROM postcodes p JOIN areas a ON a.id = p.area_id WHERE p.postcode = ?");
    s.bind(1, postcode);
    return s.step() ? s.text(0) : std::string();
}

bool in_box(const json& bbox, double lon, double lat) {
    return lon >= bbox[0].get<double>() - 1e-6 && lat >= bbox[1].get<double>() - 1e-6 && lon <= bbox[2].get<double>() + 1e-6 &&
           lat <= bbox[3].get<double>() + 1e-6;
}

} // namespace

TEST_CASE("search - a postcode however written: the store's OA, the file's point, ward and neighbourhood") {
    for (const char* q : {"m154ab", "M15%204AB", "%20m15%20%204ab%20"}) {
        INFO(q);
        const auto j = get_json(std::string("/api/search?q=") + q);
        REQUIRE(j["results"].size() >= 1);
        const auto& r = j["results"][0];
        CHECK(r["kind"] == "postcode");
        CHECK(r["code"] == "M15 4AB");
        const auto& f = sample_postcodes().at("M15 4AB");
        CHECK(r["point"][0].get<double>() == doctest::Approx(f.lon).epsilon(1e-9));
        CHECK(r["point"][1].get<double>() == doctest::Approx(f.lat).epsilon(1e-9));
        CHECK(r["area"]["code"] == store_oa_of("M15 4AB"));
        CHECK(r["area"]["level"] == "oa");
        CHECK(r["vintage"] == 2011);
        CHECK(r["ward"]["code"] == f.ward_code);
        CHECK(r["ward"]["name"] == f.ward_name);
        CHECK(r["neighbourhood"] == f.neighbourhood);
        CHECK(r["live"] == true);
    }
}

TEST_CASE("search - a partial postcode lists that district's postcodes in order, up to the limit") {
    std::vector<std::string> m15;
    for (const auto& [pc, f] : sample_postcodes()) {
        if (pc.rfind("M15 ", 0) == 0) m15.push_back(pc);
    }
    REQUIRE(m15.size() > 10);
    for (const int limit : {5, 50}) {
        const auto j = get_json("/api/search?q=m15&limit=" + std::to_string(limit));
        std::vector<std::string> got;
        for (const auto& r : j["results"]) {
            CHECK(r["kind"] == "postcode");
            got.push_back(r["code"].get<std::string>());
        }
        const std::vector<std::string> want(m15.begin(), m15.begin() + std::min<std::size_t>(static_cast<std::size_t>(limit), m15.size()));
        CHECK(got == want); // "M15" never lists M150.. or M1 5..: the outward code is followed by its space
    }
}

TEST_CASE("search - a code both vintages share answers on the data's vintage; a 2021-only code on 2021") {
    const auto unchanged = get_json("/api/search?q=E01005061")["results"];
    REQUIRE(unchanged.size() >= 1);
    CHECK(unchanged[0]["code"] == "E01005061");
    CHECK(unchanged[0]["vintage"] == 2011); // the sample's datasets are on 2011 areas
    const auto split = get_json("/api/search?q=E01034111")["results"]; // Manchester 017G, a piece of 017A
    REQUIRE(split.size() >= 1);
    CHECK(split[0]["vintage"] == 2021);
    // A name both vintages give one area is listed once.
    const auto named = get_json("/api/search?q=Trafford%20001A&limit=50")["results"];
    int times = 0;
    for (const auto& r : named) times += r["code"] == "E01006109" ? 1 : 0;
    CHECK(times == 1);
}

TEST_CASE("search - area codes of any level, and names of districts, LSOAs, wards and neighbourhoods") {
    const auto oa = get_json("/api/search?q=e00031366")["results"];
    REQUIRE(oa.size() >= 1);
    CHECK(oa[0]["kind"] == "area");
    CHECK(oa[0]["code"] == "E00031366");
    CHECK(oa[0]["level"] == "oa");
    CHECK(in_box(oa[0]["bbox"], oa[0]["point"][0].get<double>(), oa[0]["point"][1].get<double>()));
    // The postcodes the store placed in that OA lie in its box.
    const auto live = store_live_postcodes();
    REQUIRE(live.count("E00031366"));
    for (const auto& pc : live.at("E00031366")) {
        const auto& f = sample_postcodes().at(pc);
        CHECK(in_box(oa[0]["bbox"], f.lon, f.lat));
    }
    const auto lad = get_json("/api/search?q=trafford&limit=5")["results"];
    REQUIRE(lad.size() == 5);
    CHECK(lad[0]["code"] == "E08000009"); // the district before its LSOAs "Trafford 001A"...
    CHECK(lad[0]["level"] == "lad");
    CHECK(lad[1]["level"] == "lsoa");
    CHECK(lad[1]["name"].get<std::string>().rfind("Trafford ", 0) == 0);

    // A ward by part of its name: every live postcode the file puts in it lies in the ward's box.
    const auto wards = get_json("/api/search?q=gorse%20hill&limit=10")["results"];
    const json* ward = nullptr;
    for (const auto& r : wards) {
        if (r["kind"] == "ward") ward = &r;
    }
    REQUIRE(ward != nullptr);
    CHECK((*ward)["code"] == "E05015247");
    CHECK((*ward)["name"] == "Gorse Hill & Cornbrook");
    std::size_t in_ward = 0;
    for (const auto& [pc, f] : sample_postcodes()) {
        if (f.ward_code != "E05015247") continue;
        ++in_ward;
        CHECK(in_box((*ward)["bbox"], f.lon, f.lat));
    }
    CHECK((*ward)["postcodes"] == in_ward);
    // A neighbourhood (House of Commons Library MSOA name).
    bool hood = false;
    const auto named = get_json("/api/search?q=old%20trafford");
    for (const auto& r : named["results"]) hood = hood || (r["kind"] == "neighbourhood" && r["name"] == "Old Trafford");
    CHECK(hood);
    CHECK(get_json("/api/search?q=nowhere%20at%20all")["results"].empty());
}

TEST_CASE("labels - a box with more postcodes than the cap gets labels spread over all of it, not the first codes") {
    const double w = -2.40, s = 53.39, e = -2.29, n = 53.455; // about 7.3 km across central Trafford
    const auto j = get_json("/api/labels?bbox=-2.40,53.39,-2.29,53.455&kinds=postcode");
    std::vector<std::pair<double, double>> all, labelled; // every file postcode in the box / the labels
    std::vector<std::string> codes;
    for (const auto& [pc, f] : sample_postcodes()) {
        if (f.lon >= w && f.lon <= e && f.lat >= s && f.lat <= n) {
            all.emplace_back(f.lon, f.lat);
            codes.push_back(pc);
        }
    }
    REQUIRE(all.size() > 1500);
    for (const auto& l : j["labels"]) labelled.emplace_back(l["point"][0].get<double>(), l["point"][1].get<double>());
    CHECK(labelled.size() == smallarea::engine::label_cap);
    CHECK(j["truncated"] == json::array({"postcode"}));
    // A 4 x 4 grid over the box: every cell that holds 20 or more postcodes has labels.
    const auto cell = [&](double lon, double lat) {
        const int c = std::min(3, static_cast<int>((lon - w) / (e - w) * 4)), r = std::min(3, static_cast<int>((lat - s) / (n - s) * 4));
        return r * 4 + c;
    };
    std::map<int, int> postcodes_in, labels_in, first_codes_in;
    for (const auto& [lon, lat] : all) ++postcodes_in[cell(lon, lat)];
    for (const auto& [lon, lat] : labelled) ++labels_in[cell(lon, lat)];
    for (std::size_t i = 0; i < smallarea::engine::label_cap && i < codes.size(); ++i) { // what the first codes would have given
        const auto& f = sample_postcodes().at(codes[i]);
        ++first_codes_in[cell(f.lon, f.lat)];
    }
    int dense = 0, missed_by_first_codes = 0;
    for (const auto& [c, count] : postcodes_in) {
        if (count < 20) continue;
        ++dense;
        CHECK_MESSAGE(labels_in[c] > 0, "cell " << c << " with " << count << " postcodes has no label");
        if (first_codes_in[c] == 0) ++missed_by_first_codes;
    }
    CHECK(dense >= 8);
    CHECK(missed_by_first_codes > 0); // the test box is one where code order would leave parts unlabelled
}

TEST_CASE("labels - postcodes in a small box are exactly the file's live postcodes there; wide boxes leave them out") {
    const double w = -2.275, s = 53.455, e = -2.255, n = 53.47;
    const auto j = get_json("/api/labels?bbox=-2.275,53.455,-2.255,53.47");
    CHECK(j["postcodes_omitted"] == false);
    std::set<std::string> got, want;
    std::size_t wards = 0;
    for (const auto& l : j["labels"]) {
        if (l["kind"] == "postcode") got.insert(l["code"].get<std::string>());
        if (l["kind"] == "ward") ++wards;
        CHECK(in_box(j["bbox"], l["point"][0].get<double>(), l["point"][1].get<double>()));
    }
    for (const auto& [pc, f] : sample_postcodes()) {
        if (f.lon >= w && f.lon <= e && f.lat >= s && f.lat <= n) want.insert(pc);
    }
    REQUIRE(want.size() > 50);
    CHECK(got == want);
    CHECK(wards >= 1);

    const auto wide = get_json("/api/labels?bbox=-2.5,53.3,-2.0,53.6");
    CHECK(wide["postcodes_omitted"] == true);
    std::set<std::string> kinds;
    for (const auto& l : wide["labels"]) kinds.insert(l["kind"].get<std::string>());
    CHECK(kinds.count("postcode") == 0);
    CHECK(kinds.count("ward") == 1);
    CHECK(kinds.count("lad") == 1);
    // Every ward with a boundary is labelled once, also Manchester's, which the Trafford postcode file does not name.
    std::map<std::string, int> ward_labels;
    for (const auto& l : wide["labels"]) {
        if (l["kind"] == "ward") ++ward_labels[l["code"].get<std::string>()];
    }
    CHECK(ward_labels.count("E05011350")); // Ancoats & Beswick, Manchester
    CHECK(ward_labels.size() == 53);       // the sample's wards: Manchester 32, Trafford 21
    for (const auto& [code, times] : ward_labels) CHECK_MESSAGE(times == 1, code << " labelled " << times << " times");
    // Area codes on demand.
    const auto oas = get_json("/api/labels?bbox=-2.275,53.455,-2.255,53.47&kinds=oa");
    REQUIRE(oas["labels"].size() > 5);
    for (const auto& l : oas["labels"]) CHECK(l["kind"] == "oa");
}

TEST_CASE("places - bad parameters are refused with 400 and a JSON code") {
    CHECK(error_code("/api/search", 400) == "MissingParameter");
    CHECK(error_code("/api/search?q=%20%20", 400) == "MissingParameter");
    CHECK(error_code("/api/search?q=" + std::string(101, 'a'), 400) == "InvalidParameter");
    for (const char* limit : {"0", "51", "ten", "-1"}) CHECK(error_code(std::string("/api/search?q=M15&limit=") + limit, 400) == "InvalidParameter");
    CHECK(error_code("/api/labels", 400) == "MissingParameter");
    for (const char* box : {"1,2,3", "1,2,3,4,5", "a,b,c,d", "-2.2,53.4,-2.3,53.5", "-2.3,53.5,-2.2,53.4", "-200,53,-2,54",
                            "-2.3,53.4,-2.2,nan", "-2.3,53.4,-2.2,inf", "-2.3,,-2.2,53.5"}) {
        INFO(box);
        CHECK(error_code(std::string("/api/labels?bbox=") + box, 400) == "InvalidParameter");
    }
    CHECK(error_code("/api/labels?bbox=-2.5,53.3,-2.0,53.6&kinds=postcode", 400) == "BoxTooLarge");
    CHECK(error_code("/api/labels?bbox=-2.27,53.46,-2.25,53.47&kinds=streets", 400) == "InvalidParameter");
}

TEST_CASE("targets - each row's postcodes are its OA's live postcodes in the store (OA data, and patches of LSOA data)") {
    const auto live = store_live_postcodes();
    std::size_t checked = 0, with_postcodes = 0;
    for (const char* path : {"/api/targets?dataset=synthetic_work_programme&measure=referrals&within=E08000009&limit=40",
                             "/api/targets?dataset=claimant_count&within=E08000009&limit=40"}) {
        INFO(path);
        const auto j = get_json(path);
        REQUIRE(j["rows"].size() > 10);
        for (const auto& r : j["rows"]) {
            CHECK(r["level"] == "oa");
            const auto it = live.find(r["code"].get<std::string>());
            const std::vector<std::string> want = it == live.end() ? std::vector<std::string>{} : it->second;
            CHECK(r["postcodes"].get<std::vector<std::string>>() == want);
            CHECK(r["postcodes_live"] == want.size());
            CHECK(r["postcodes_truncated"] == false);
            if (!want.empty()) {
                ++with_postcodes;
                // The ward most of its postcodes are in, by the file.
                std::map<std::string, int> wards;
                for (const auto& pc : want) ++wards[sample_postcodes().at(pc).ward_code];
                const auto best = std::max_element(wards.begin(), wards.end(), [](const auto& a, const auto& b) { return a.second < b.second; });
                CHECK(r["ward"]["code"] == best->first);
            }
            ++checked;
        }
    }
    CHECK(with_postcodes > 20); // Trafford's OAs have postcodes; an empty list everywhere would prove nothing
    MESSAGE(checked << " target rows checked, " << with_postcodes << " with postcodes");
}

TEST_CASE("places - a store without postcodes lists none: answers come only from the store served") {
    temp_dir dir;
    auto manifest = json::parse(read_text(sample_manifest));
    manifest.erase("postcodes");
    manifest.erase("datasets");
    for (const char* section : {"boundaries", "lookups", "denominators", "crosswalks"}) {
        for (auto& e : manifest[section]) e["path"] = sample_dir + "/" + e["path"].get<std::string>();
    }
    write_text(dir.file("m.json"), manifest.dump());
    test_server other(dir.file("m.json"));
    const auto c = [&](const std::string& path) {
        const auto r = other.get(path);
        REQUIRE(r.first == 200);
        return json::parse(r.second);
    };
    CHECK(c("/api/search?q=M15%204AB")["results"].empty());
    CHECK(c("/api/search?q=M15")["results"].empty());
    // Its ward boundaries are still found, as areas; no ward or neighbourhood named by a postcode file is.
    const auto gorse = c("/api/search?q=gorse")["results"];
    REQUIRE(gorse.size() == 1);
    CHECK(gorse[0]["kind"] == "area");
    CHECK(gorse[0]["level"] == "ward");
    CHECK(gorse[0]["code"] == "E05015247");
    CHECK(!gorse[0].contains("postcodes"));
    const auto labels = c("/api/labels?bbox=-2.275,53.455,-2.255,53.47");
    for (const auto& l : labels["labels"]) CHECK(l["kind"] != "postcode");
    CHECK(c("/api/search?q=E08000009")["results"].size() == 1); // its own areas are found
}
