// test_engine_store: the engine's query validation and table layout over a real snapshot of the bundled sample
// (ingested once into a temporary store): snapshot::make_query refuses unknown datasets, measures, periods,
// levels, vintages and areas, levels finer than the dataset's, the percentage base, and percentages on
// user-defined areas, each with its README code; select_targets lists OA patches of ranked LSOAs; an OGC items
// page lists areas in code order with next/prev links and carries the protected figures.

#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include "core/error.hpp"
#include "data/ingest.hpp"
#include "data/store.hpp"
#include "engine/catalog.hpp"
#include "engine/change.hpp"
#include "engine/encode.hpp"
#include "engine/encode_csv.hpp"
#include "engine/encode_xlsx.hpp"
#include "engine/export.hpp"
#include "engine/ogc_api.hpp"

#include "../data/test_support.hpp"

#include <algorithm>
#include <functional>
#include <map>
#include <set>
#include <limits>
#include <memory>
#include <string>

namespace data = smallarea::data;
namespace engine = smallarea::engine;
using test_support::temp_dir;

namespace {

const std::string sample_manifest = std::string(SMALLAREA_SOURCE_DIR) + "/data/sample/manifest.json";
const std::string internal_id = "synthetic_work_programme"; // OA 2011, periods 2017-09 and 2017-10
const std::string published_id = "claimant_count";          // LSOA 2011

/// A store ingested once into a temporary folder from the manifest `manifest_in` names (it may write one there),
/// opened for reading with its snapshot.
struct ingested_store {
    temp_dir dir;
    std::string path = new_store(dir);
    std::unique_ptr<data::database> db;
    std::unique_ptr<engine::snapshot> snap;
    explicit ingested_store(const std::function<std::string(const temp_dir&)>& manifest_in) {
        data::ingest_manifest(manifest_in(dir), path);
        db = std::make_unique<data::database>(data::open_store(path, false));
        snap = std::make_unique<engine::snapshot>(*db, false);
    }
};

ingested_store& sample() {
    static ingested_store s([](const temp_dir&) { return sample_manifest; });
    return s;
}

const engine::snapshot& snap() { return *sample().snap; }

/// make_query's refusal: the error type's code ("" when it accepts).
template <typename Error>
std::string refusal(const std::string& dataset, const std::string& measure, const std::string& period, const std::string& level,
                    const std::string& vintage, const std::string& within) {
    try {
        snap().make_query(dataset, measure, period, level, vintage, within);
    } catch (const Error& e) {
        return e.code();
    } catch (const smallarea::error& e) {
        return "wrong error type: " + e.code();
    }
    return "";
}

} // namespace

TEST_CASE("make_query - defaults: the first servable measure, the latest period, the dataset's level and vintage") {
    const auto q = snap().make_query(internal_id, "", "", "", "", "");
    CHECK(q.dataset->id == internal_id);
    CHECK(q.measure->id == "referrals");
    CHECK(q.period == "2017-10");
    CHECK(q.level == "oa");
    CHECK(q.vintage == 2011);
    CHECK_FALSE(q.within.has_value());
    CHECK(q.within_bespoke.empty());
    CHECK(q.groups.empty());
    const auto p = snap().make_query(published_id, "claimants", "2017-09", "lad", "2011", "E08000003");
    CHECK(p.level == "lad"); // coarser than the dataset's: aggregated
    REQUIRE(p.within.has_value());
    CHECK(snap().areas()[*p.within].code == "E08000003");
}

TEST_CASE("make_query - unknown dataset, measure, period, level and area are 404 with their codes") {
    CHECK(refusal<smallarea::not_found>("no_such_dataset", "", "", "", "", "") == "UnknownDataset");
    CHECK(refusal<smallarea::not_found>(internal_id, "no_such_measure", "", "", "", "") == "UnknownMeasure");
    CHECK(refusal<smallarea::not_found>(internal_id, "referrals", "2017-11", "", "", "") == "UnknownPeriod");
    CHECK(refusal<smallarea::not_found>(internal_id, "referrals", "2017-9", "", "", "") == "UnknownPeriod");
    CHECK(refusal<smallarea::not_found>(internal_id, "referrals", "", "ward", "", "") == "UnknownLevel");
    CHECK(refusal<smallarea::not_found>(internal_id, "referrals", "", "", "", "E99999999") == "UnknownArea");
    // a measure of another dataset is not this dataset's
    CHECK(refusal<smallarea::not_found>(published_id, "referrals", "", "", "", "") == "UnknownMeasure");
}

TEST_CASE("make_query - a missing dataset, another vintage and a level finer than the dataset's are 400") {
    CHECK(refusal<smallarea::bad_request>("", "", "", "", "", "") == "MissingParameter");
    CHECK(refusal<smallarea::bad_request>(internal_id, "", "", "", "2021", "") == "InvalidVintage");
    CHECK(refusal<smallarea::bad_request>(internal_id, "", "", "", "twenty", "") == "InvalidVintage");
    CHECK(refusal<smallarea::bad_request>(internal_id, "", "", "", "2011", "") == "");
    // LSOA data is never apportioned down to OAs; OA data aggregates up to every coarser level
    CHECK(refusal<smallarea::bad_request>(published_id, "", "", "oa", "", "") == "LevelTooFine");
    for (const char* level : {"oa", "lsoa", "lad"}) CHECK(refusal<smallarea::bad_request>(internal_id, "", "", level, "", "") == "");
    // ... that the store has: the sample has no MSOAs or wards, and an empty table would read as "no data here"
    for (const char* level : {"msoa", "ward"}) CHECK(refusal<smallarea::not_found>(internal_id, "", "", level, "", "") == "UnknownLevel");
    CHECK(refusal<smallarea::bad_request>(internal_id, "", "", "", "", "bespoke:") == "InvalidParameter");
}

TEST_CASE("make_query - the percentage base is never a measure; percentages are refused on user-defined areas only") {
    CHECK(refusal<smallarea::disclosure_refused>(internal_id, "job_outcomes_total", "", "", "", "") == "PercentageOnly");
    CHECK(refusal<smallarea::disclosure_refused>(internal_id, "job_outcomes_total", "", "lad", "", "E08000003") == "PercentageOnly");
    // a percentage-only measure: standard areas yes, within=bespoke: no (before any bespoke area is looked up)
    CHECK(refusal<smallarea::disclosure_refused>(internal_id, "job_outcomes_group_a", "", "lsoa", "", "E08000003") == "");
    CHECK(refusal<smallarea::disclosure_refused>(internal_id, "job_outcomes_group_a", "", "", "", "bespoke:anything") == "PercentageOnly");
    // a count measure within a bespoke area is validated, its members read later by snapshot::table
    const auto q = snap().make_query(internal_id, "referrals", "", "", "", "bespoke:abc123");
    CHECK(q.within_bespoke == "abc123");
    CHECK_FALSE(q.within.has_value());
}

TEST_CASE("table - rows in code order with their parents' codes; the total is the sum of the rows shown") {
    auto& s = sample();
    const auto q = s.snap->make_query(internal_id, "referrals", "2017-10", "oa", "", "E01005061");
    const auto t = s.snap->table(*s.db, q);
    REQUIRE(t.table.rows().size() >= 4);
    std::int64_t sum = 0;
    for (std::size_t i = 0; i < t.table.rows().size(); ++i) {
        if (i) CHECK(t.table.rows()[i - 1].code < t.table.rows()[i].code);
        if (t.table.rows()[i].value) {
            CHECK(*t.table.rows()[i].value % 20 == 0);
            sum += *t.table.rows()[i].value;
        }
    }
    CHECK(t.table.total().value.value_or(0) == sum);
    const auto layout = engine::table_layout(t, *s.snap, true);
    CHECK(layout.label_header == std::vector<std::string>{"code", "name", "level", "lsoa_code", "lad_code"});
    CHECK(layout.rows.size() == t.table.rows().size() + 1);
    CHECK(std::get<std::string>(layout.rows.front().labels[3]) == "E01005061");
    CHECK(std::get<std::string>(layout.rows.back().labels[1]) == "Total");
    CHECK(layout.geography.rfind("oa 2011 within E01005061 ", 0) == 0);
    const auto j = engine::table_json(t, *s.snap);
    CHECK(j["classification"] == "internal");
    CHECK(j["within"]["code"] == "E01005061");
    CHECK(j["rows"].size() == t.table.rows().size());
}

TEST_CASE("targets - the ranking of a real table is inside its band, best first") {
    auto& s = sample();
    const auto t = s.snap->table(*s.db, s.snap->make_query(internal_id, "referrals", "2017-10", "", "", "E08000003"));
    const auto sel = engine::rank_targets(t, 100, 150, 20, "E08000003");
    REQUIRE(sel.picked.size() == 20);
    CHECK(sel.eligible >= 20);
    for (std::size_t k = 0; k < sel.picked.size(); ++k) {
        const auto& r = t.table.rows()[sel.picked[k]];
        CHECK(*r.households >= 100);
        CHECK(*r.households <= 150);
        if (k) CHECK(*t.table.rows()[sel.picked[k - 1]].rate_per_100_households >= *r.rate_per_100_households);
    }
    CHECK(sel.bands >= 1);
    CHECK(sel.bands <= 20);
}

TEST_CASE("select_targets - LSOA-only data lists the Output Areas of the ranked LSOAs as patches; OA data is rank_targets") {
    auto& s = sample();
    const auto lsoa_table = s.snap->table(*s.db, s.snap->make_query(published_id, "claimants", "2017-10", "", "", ""));
    const auto patches = engine::select_targets(*s.snap, lsoa_table, 100, 150, 50, "");
    REQUIRE(patches.picked.size() == 50);
    REQUIRE(patches.patch_areas.size() == 50);
    CHECK(patches.eligible >= 50);
    const auto ranked = engine::rank_targets(lsoa_table, std::numeric_limits<long>::min(), std::numeric_limits<long>::max(), -1, "");
    std::size_t rank_of_previous = 0;
    for (std::size_t k = 0; k < patches.picked.size(); ++k) {
        const auto oa = patches.patch_areas[k];
        const auto& a = s.snap->areas()[oa];
        CHECK(a.level == "oa");
        const long h = a.denominators.at("households");
        CHECK(h >= 100);
        CHECK(h <= 150);
        // The patch lies in the LSOA whose row (and so figure) it carries, and LSOAs come in their ranked order.
        const auto lsoa = s.snap->ancestor_at(oa, "lsoa");
        REQUIRE(lsoa);
        CHECK(*lsoa == lsoa_table.row_areas[patches.picked[k]]);
        const auto at = std::find(ranked.picked.begin(), ranked.picked.end(), patches.picked[k]) - ranked.picked.begin();
        CHECK(static_cast<std::size_t>(at) >= rank_of_previous);
        rank_of_previous = static_cast<std::size_t>(at);
        if (k > 0 && patches.picked[k] == patches.picked[k - 1]) {
            CHECK(patches.band[k] == patches.band[k - 1]); // one LSOA, one figure: one band
            CHECK(patches.tied_with_next[k - 1]);
        }
    }
    CHECK(patches.note.find("never apportioned") != std::string::npos);
    CHECK_THROWS_AS(engine::select_targets(*s.snap, lsoa_table, 200, 100, 20, ""), smallarea::bad_request);

    // OA data: exactly rank_targets, no patches.
    const auto oa_table = s.snap->table(*s.db, s.snap->make_query(internal_id, "referrals", "2017-10", "", "", ""));
    const auto direct = engine::select_targets(*s.snap, oa_table, 100, 150, 20, "");
    const auto plain = engine::rank_targets(oa_table, 100, 150, 20, "");
    CHECK(direct.patch_areas.empty());
    CHECK(direct.picked == plain.picked);
    CHECK(direct.band == plain.band);
}

TEST_CASE("ogc_api - an items page lists a level's areas in code order from offset, links next and previous pages, "
          "and refuses what the collection cannot answer") {
    const engine::snapshot s(*sample().db, true);
    auto& db = *sample().db;
    const auto collections = engine::ogc_collections(s, false, [](const data::dataset_info&) { return true; });
    auto collection = [&](const std::string& id) {
        const auto it = std::find_if(collections.begin(), collections.end(), [&](const engine::ogc_collection& c) { return c.id == id; });
        REQUIRE(it != collections.end());
        return *it;
    };
    const engine::table_source tables = [&](const engine::table_query& q) {
        return std::make_shared<const engine::table_result>(s.table(db, q));
    };
    const auto oas = collection("oa-2011");
    std::vector<std::string> codes;
    for (const auto i : s.areas_of("oa", 2011, std::nullopt)) {
        if (s.areas()[i].has_geometry) codes.push_back(s.areas()[i].code);
    }
    REQUIRE(codes.size() > 10);

    engine::ogc_item_request r;
    r.limit = 5;
    r.offset = 3;
    const auto sel = engine::select_items(s, oas, r);
    const auto page = engine::area_features(s, db, tables, oas, sel);
    CHECK(page.matched == codes.size());
    CHECK(page.returned == 5);
    const auto features = nlohmann::json::parse("[" + page.features + "]");
    REQUIRE(features.size() == 5);
    for (std::size_t i = 0; i < 5; ++i) CHECK(features[i]["id"] == codes[3 + i]);
    const auto head = engine::items_head(oas, sel, page, "http://host", "within=E08000009");
    std::map<std::string, std::string> links;
    for (const auto& l : head["links"]) links[l["rel"]] = l["href"];
    CHECK(links["next"] == "http://host/ogc/collections/oa-2011/items?limit=5&offset=8&within=E08000009");
    CHECK(links["prev"] == "http://host/ogc/collections/oa-2011/items?limit=5&offset=0&within=E08000009");

    r.offset = static_cast<long>(codes.size()) - 2;
    const auto last_sel = engine::select_items(s, oas, r);
    const auto last = engine::area_features(s, db, tables, oas, last_sel);
    CHECK(last.returned == 2);
    const auto last_head = engine::items_head(oas, last_sel, last, "http://host", "");
    for (const auto& l : last_head["links"]) CHECK(l["rel"] != "next");

    engine::ogc_item_request unknown_area;
    unknown_area.within = "E99999999";
    CHECK_THROWS_AS(engine::select_items(s, oas, unknown_area), const smallarea::not_found&);
    engine::ogc_item_request period_on_boundaries;
    period_on_boundaries.period = "2017-09";
    CHECK_THROWS_AS(engine::select_items(s, oas, period_on_boundaries), const smallarea::bad_request&);

    const auto claimants = collection(published_id + ".claimants");
    engine::ogc_item_request both;
    both.period = "2017-09";
    both.datetime = "2017-09-15";
    CHECK_THROWS_AS(engine::select_items(s, claimants, both), const smallarea::bad_request&);
    engine::ogc_item_request unknown_period;
    unknown_period.period = "1999-01";
    CHECK_THROWS_AS(engine::select_items(s, claimants, unknown_period), const smallarea::not_found&);
    engine::ogc_item_request before_every_period;
    before_every_period.datetime = "1999-01-01/1999-12-31";
    const auto none = engine::select_items(s, claimants, before_every_period);
    CHECK(none.empty_period);
    CHECK(engine::area_features(s, db, tables, claimants, none).matched == 0);

    // A dataset page carries the protected table's figures, labelled with the dataset's classification.
    engine::ogc_item_request one;
    one.limit = 1;
    const auto dataset_sel = engine::select_items(s, claimants, one);
    REQUIRE(dataset_sel.query);
    const auto table = tables(*dataset_sel.query);
    const auto first = nlohmann::json::parse("[" + engine::area_features(s, db, tables, claimants, dataset_sel).features + "]")[0];
    const auto area = s.find_area(first["id"].get<std::string>(), 2011);
    REQUIRE(area);
    const auto row = std::find(table->row_areas.begin(), table->row_areas.end(), *area) - table->row_areas.begin();
    REQUIRE(row < static_cast<long>(table->row_areas.size()));
    CHECK(first["properties"]["classification"] == "published");
    const auto& protected_row = table->table.rows()[static_cast<std::size_t>(row)];
    if (protected_row.value) {
        CHECK(first["properties"]["value"] == *protected_row.value);
    } else {
        CHECK(first["properties"]["value"].is_null());
    }
    CHECK_THROWS_AS(engine::area_feature(s, db, tables, claimants, dataset_sel, "E00000000"), const smallarea::not_found&);
}

// ---------------------------------------------------------------------------------------------------------------
// Wards: a best-fit level beside the exact chain, on the real national 2021 lookups (OA -> LSOA -> MSOA -> LAD and
// ONS's LSOA -> ward 2024 best-fit lookup) with Census 2021 household deprivation as internal MI rounded to 20, so
// every ward figure must be the sum of rounded LSOA cells.

namespace {

const std::string shared = SMALLAREA_SHARED_DATA;

ingested_store& wards() {
    static ingested_store s([](const temp_dir& dir) {
        const std::string manifest = dir.file("manifest.json");
        const std::string msoa_csv = dir.file("msoa_counts.csv"); // City of London 001 and Barking and Dagenham 001
        test_support::write_text(msoa_csv, "msoa21cd,people\nE02000001,120\nE02000002,340\n");
        test_support::write_text(manifest, R"({
  "lookups": [
    {"path": ")" + shared + R"(/lookups/oa21_lsoa21_msoa21_lad21_ew.csv.gz", "vintage": 2021},
    {"path": ")" + shared + R"(/lookups/lsoa21_ward24_lad24_ew.csv.gz", "vintage": 2021}
  ],
  "crosswalks": [{"path": ")" + shared + R"(/lookups/lsoa11_lsoa21_lad22_ew.csv.gz", "level": "lsoa", "from": 2011, "to": 2021}],
  "denominators": [
    {"path": ")" + shared + R"(/counts/national/census2021_lsoa21_households_population_ew.csv.gz", "level": "lsoa",
     "vintage": 2021, "code_column": "lsoa21cd", "measures": {"households": "households_ts046"}, "source": "Census 2021 TS046"}
  ],
  "datasets": [{
    "id": "deprivation", "title": "Household deprivation", "publisher": "ONS", "licence": "OGL v3",
    "attribution": "ONS", "classification": "internal", "level": "lsoa", "vintage": 2021,
    "files": [{"path": ")" + shared + R"(/counts/national/census2021_household_deprivation_lsoa21_ew.csv.gz",
               "layout": "wide", "period": "2021-03"}],
    "measures": [{"id": "deprived_1", "title": "Households deprived in 1 dimension", "kind": "count",
                  "denominator": "households", "column": "hh_deprived_1_dim"},
                 {"id": "share_0", "kind": "percent_only", "percent_of": "deprivation_base", "column": "hh_deprived_0_dims"},
                 {"id": "share_2", "kind": "percent_only", "percent_of": "deprivation_base", "column": "hh_deprived_2_dims"},
                 {"id": "deprivation_base", "kind": "percent_base", "sum_of": ["share_0", "share_2"]}],
    "disclosure": {"rounding_base": 20, "rounded_by": "smallarea"}
  }, {
    "id": "msoa_counts", "title": "People by MSOA", "publisher": "p", "licence": "OGL v3", "attribution": "a",
    "classification": "published", "level": "msoa", "vintage": 2021,
    "files": [{"path": ")" + msoa_csv + R"(", "layout": "wide", "period": "2024-01"}],
    "measures": [{"id": "people", "kind": "count"}]
  }, {
    "id": "iod2019", "title": "English Indices of Deprivation 2019", "publisher": "MHCLG", "licence": "OGL v3",
    "attribution": "MHCLG", "classification": "published", "level": "lsoa", "vintage": 2011,
    "files": [{"path": ")" + shared + R"(/counts/national/iod2019_lsoa11_england.csv.gz", "layout": "wide", "period": "2019"}],
    "measures": [{"id": "income_deprived", "kind": "count", "column": "income_domain_numerator"}]
  }, {
    "id": "iod2025", "title": "English Indices of Deprivation 2025", "publisher": "MHCLG", "licence": "OGL v3",
    "attribution": "MHCLG", "classification": "published", "level": "lsoa", "vintage": 2021,
    "files": [{"path": ")" + shared + R"(/counts/national/iod2025_lsoa21_england.csv.gz", "layout": "wide", "period": "2025"}],
    "measures": [{"id": "income_deprived", "kind": "count", "column": "income_domain_numerator"}]
  }]
})");
        return manifest;
    });
    return s;
}

/// The ward and district of every 2021 LSOA, read from the ONS file here (not through the store).
std::map<std::string, std::pair<std::string, std::string>> best_fit_lookup() {
    const auto t = test_support::read_csv(shared + "/lookups/lsoa21_ward24_lad24_ew.csv.gz");
    std::map<std::string, std::pair<std::string, std::string>> out;
    for (std::size_t i = 0; i < t.rows.size(); ++i) out[t.at(i, "lsoa21cd")] = {t.at(i, "wd24cd"), t.at(i, "lad24cd")};
    return out;
}

} // namespace

TEST_CASE("wards - a ward's figure is the sum of the rounded figures of the LSOAs the ONS best-fit lookup puts in it, "
          "wards sum to their district, and every ward figure says best fit") {
    auto& w = wards();
    const auto lsoa_table = w.snap->table(*w.db, w.snap->make_query("deprivation", "deprived_1", "", "lsoa", "", ""));
    std::map<std::string, std::int64_t> lsoa_value;
    for (const auto& r : lsoa_table.table.rows()) {
        if (r.value) lsoa_value[r.code] = *r.value;
    }
    REQUIRE(lsoa_value.size() > 35000);
    const auto lookup = best_fit_lookup();
    REQUIRE(lookup.size() > 35000);
    std::map<std::string, std::int64_t> expected_ward, expected_lad;
    for (const auto& [lsoa, value] : lsoa_value) {
        CHECK(value % 20 == 0);
        const auto it = lookup.find(lsoa);
        REQUIRE(it != lookup.end());
        expected_ward[it->second.first] += value;
    }
    const auto ward_table = w.snap->table(*w.db, w.snap->make_query("deprivation", "deprived_1", "", "ward", "", ""));
    CHECK(ward_table.table.rows().size() == expected_ward.size());
    std::map<std::string, std::int64_t> ward_sum_by_lad;
    for (std::size_t i = 0; i < ward_table.table.rows().size(); ++i) {
        const auto& r = ward_table.table.rows()[i];
        CAPTURE(r.code);
        CHECK(r.value.value_or(-1) == expected_ward[r.code]);
        const auto lad = w.snap->ancestor_at(ward_table.row_areas[i], "lad");
        REQUIRE(lad);
        ward_sum_by_lad[w.snap->areas()[*lad].code] += r.value.value_or(0);
    }
    // Districts from the 2021 chain: where every LSOA's 2021 district (the OA lookup) is the 2024 district of its
    // best-fit ward, the district's wards sum to it exactly. Districts reorganised by 2024 (Cumbria, North
    // Yorkshire, Somerset) and the few LSOAs whose ward lies over a moved district boundary are left out, found
    // here from the two ONS files, not from the store.
    std::set<std::string> disagreeing;
    {
        const auto oa = test_support::read_csv(shared + "/lookups/oa21_lsoa21_msoa21_lad21_ew.csv.gz");
        for (std::size_t i = 0; i < oa.rows.size(); ++i) {
            const auto it = lookup.find(oa.at(i, "lsoa21cd"));
            if (it != lookup.end() && it->second.second != oa.at(i, "lad21cd")) {
                disagreeing.insert(oa.at(i, "lad21cd"));
                disagreeing.insert(it->second.second);
            }
        }
    }
    MESSAGE("districts where the 2021 chain and the 2024 ward lookup disagree: " << disagreeing.size());
    CHECK(disagreeing.size() < 40);
    const auto lad_table = w.snap->table(*w.db, w.snap->make_query("deprivation", "deprived_1", "", "lad", "", ""));
    std::size_t compared = 0;
    for (const auto& r : lad_table.table.rows()) {
        if (disagreeing.count(r.code)) continue;
        CAPTURE(r.code);
        CHECK(r.value.value_or(-1) == ward_sum_by_lad[r.code]);
        ++compared;
    }
    CHECK(compared > 280);

    const auto j = engine::table_json(ward_table, *w.snap);
    CHECK(j["best_fit"] == true);
    CHECK(j["best_fit_note"].get<std::string>().find("best-fit lookup") != std::string::npos);
    CHECK(j["rows"][0]["best_fit"] == true);
    const auto layout = engine::table_layout(ward_table, *w.snap, false);
    CHECK(layout.geography.find("(best fit of lsoas)") != std::string::npos);
    CHECK(engine::table_json(lsoa_table, *w.snap)["best_fit"] == false);

    SUBCASE("an OA lies in its LSOA's ward, so within=ward lists the ward's LSOAs") {
        const auto& [ward_code, value] = *expected_ward.begin();
        const auto within = w.snap->table(*w.db, w.snap->make_query("deprivation", "deprived_1", "", "lsoa", "", ward_code));
        std::int64_t sum = 0;
        for (const auto& r : within.table.rows()) {
            CHECK(lookup.at(r.code).first == ward_code);
            sum += r.value.value_or(0);
        }
        CHECK(sum == value);
        const auto oa = w.snap->areas_of("oa", 2021, std::nullopt).front();
        const auto lsoa = w.snap->ancestor_at(oa, "lsoa");
        REQUIRE(lsoa);
        CHECK(w.snap->ancestor_at(oa, "ward") == w.snap->ancestor_at(*lsoa, "ward"));
        CHECK(w.snap->ancestor_at(oa, "ward").has_value());
    }
}

TEST_CASE("wards - MSOAs do not fit in wards, and percentage-only measures are not served on best-fit wards") {
    auto& w = wards();
    CHECK(w.snap->ancestor_at(w.snap->areas_of("msoa", 2021, std::nullopt).front(), "ward") == std::nullopt);
    try {
        (void)w.snap->make_query("deprivation", "share_2", "", "ward", "", "");
        FAIL("a percentage-only measure was served on wards");
    } catch (const smallarea::disclosure_refused& e) {
        CHECK(e.code() == "PercentageOnly");
    }
    CHECK_NOTHROW((void)w.snap->make_query("deprivation", "share_2", "", "lad", "", ""));
    // A dataset published by MSOA has no ward table (its MSOAs straddle wards): refused through the query itself,
    // on a store that has wards, while its district table is served.
    try {
        (void)w.snap->make_query("msoa_counts", "people", "", "ward", "", "");
        FAIL("an MSOA dataset was summed into wards");
    } catch (const smallarea::bad_request& e) {
        CHECK(e.code() == "NotNested");
    }
    const auto by_lad = w.snap->table(*w.db, w.snap->make_query("msoa_counts", "people", "", "lad", "", ""));
    CHECK(by_lad.table.total().value == 460);
    CHECK_FALSE(data::nests_in("msoa", "ward"));
    CHECK(data::nests_in("lsoa", "ward"));
    CHECK(data::nests_in("oa", "ward"));
    CHECK(data::nests_in("ward", "lad"));
    CHECK_FALSE(data::nests_in("ward", "msoa"));
}

// ---------------------------------------------------------------------------------------------------------------
// Boundary vintages: a 2011 LSOA dataset moved to 2021 LSOAs through ONS's national LSOA 2011 -> 2021 lookup, on
// real rows of each change code: Hartlepool 009A unchanged (U), Manchester 032D + 032E merged into 032F (M),
// Manchester 017A split into 017G and 017I (S), and the irregular St Albans / Welwyn Hatfield group (X: St Albans
// 015C and part of Welwyn Hatfield 014C make St Albans 021C; the rest of 014C is Welwyn Hatfield 017C). Shares of
// a split area follow Census 2021 households of the new areas (the national TS046 file).

namespace {

ingested_store& vintages() {
    static ingested_store s([](const temp_dir& dir) {
        const std::map<std::string, std::int64_t> figures{{"E01011949", 40}, {"E01005282", 25}, {"E01005283", 35},
                                                          {"E01005108", 100}, {"E01023964", 60}, {"E01023679", 30}};
        std::string lookup = "lsoa11cd,lad11cd\n", counts = "lsoa11cd,people\n";
        for (const auto& [code, value] : figures) {
            lookup += code + ",E08000003\n"; // one district: its code is not what is tested
            counts += code + "," + std::to_string(value) + "\n";
        }
        test_support::write_text(dir.file("lookup.csv"), lookup);
        test_support::write_text(dir.file("counts.csv"), counts);
        // Households of the 2021 areas the crosswalk reaches, from the national Census 2021 file.
        const std::set<std::string> reached{"E01011949", "E01034128", "E01034111", "E01034113", "E01035581", "E01035608"};
        const auto census = test_support::read_csv(shared + "/counts/national/census2021_lsoa21_households_population_ew.csv.gz");
        std::string households = "lsoa21cd,households\n";
        for (const auto& row : census.rows) {
            if (reached.count(row[0])) households += row[0] + "," + row[6] + "\n";
        }
        test_support::write_text(dir.file("households21.csv"), households);
        const std::string manifest = dir.file("manifest.json");
        const auto dataset = [&](const std::string& id, const std::string& classification) {
            return R"({"id": ")" + id + R"(", "title": "People", "publisher": "p", "licence": "l", "attribution": "a",
              "classification": ")" + classification + R"(", "level": "lsoa", "vintage": 2011,
              "files": [{"path": ")" + dir.file("counts.csv") + R"(", "layout": "wide", "period": "2019"}],
              "measures": [{"id": "people", "kind": "count"},
                           {"id": "share", "kind": "percent_only", "percent_of": "people", "column": "people"}]})";
        };
        test_support::write_text(manifest, R"({
  "lookups": [{"path": ")" + dir.file("lookup.csv") + R"(", "vintage": 2011, "columns": {"lsoa": "lsoa11cd", "lad": "lad11cd"}}],
  "crosswalks": [{"path": ")" + shared + R"(/lookups/lsoa11_lsoa21_lad22_ew.csv.gz", "level": "lsoa", "from": 2011, "to": 2021}],
  "denominators": [{"path": ")" + dir.file("households21.csv") + R"(", "level": "lsoa", "vintage": 2021,
                    "code_column": "lsoa21cd", "measures": {"households": "households"}}],
  "datasets": [)" + dataset("published", "published") + ", " + dataset("internal", "internal") + R"(]
})");
        return manifest;
    });
    return s;
}

struct moved_row {
    std::optional<std::int64_t> value;
    double uncertainty = 0;
    bool estimated = false, not_apportioned = false;
    char change = 0;
};

std::map<std::string, moved_row> moved(const std::string& dataset) {
    auto& v = vintages();
    const auto t = v.snap->table(*v.db, v.snap->make_query(dataset, "people", "", "lsoa", "2021", ""));
    std::map<std::string, moved_row> out;
    for (std::size_t i = 0; i < t.table.rows().size(); ++i) {
        const auto& r = t.table.rows()[i];
        out[r.code] = moved_row{r.value, r.uncertainty, r.estimated, r.not_apportioned, t.row_change.at(i)};
    }
    return out;
}

} // namespace

TEST_CASE("boundary vintages - published 2011 figures on 2021 LSOAs: U and M exact sums, S and X apportioned by households and flagged") {
    const auto rows = moved("published");
    REQUIRE(rows.size() == 6);
    CHECK(rows.at("E01011949").value == 40);
    CHECK(rows.at("E01011949").change == 'U');
    CHECK_FALSE(rows.at("E01011949").estimated);
    CHECK(rows.at("E01011949").uncertainty == 0);
    CHECK(rows.at("E01034128").value == 60); // 25 + 35
    CHECK(rows.at("E01034128").change == 'M');
    CHECK_FALSE(rows.at("E01034128").estimated);
    // 017A's 100 shared 555 : 565 households: 49.6 and 50.4, each anywhere from 0 to 100 in truth.
    for (const char* piece : {"E01034111", "E01034113"}) {
        CHECK(rows.at(piece).value == 50);
        CHECK(rows.at(piece).change == 'S');
        CHECK(rows.at(piece).estimated);
        CHECK(rows.at(piece).uncertainty >= 50);
        CHECK(rows.at(piece).uncertainty <= 51);
    }
    // 014C's 60 shared 629 : 616 between 021C and 017C; 021C also holds all of 015C's 30.
    CHECK(rows.at("E01035581").value == 60); // 30 + 30.3
    CHECK(rows.at("E01035581").change == 'X');
    CHECK(rows.at("E01035581").estimated);
    CHECK(rows.at("E01035608").value == 30); // 29.7
    CHECK(rows.at("E01035608").estimated);
    CHECK(rows.at("E01035608").change == 'X');
}

TEST_CASE("boundary vintages - internal MI is never apportioned: split and irregular areas have no figure, exact ones are sums of rounded cells") {
    const auto rows = moved("internal");
    CHECK(rows.at("E01011949").value == 40);
    CHECK(rows.at("E01034128").value == 60); // round(25) 20 + round(35) 40, never round(60) of the raw sum
    CHECK(rows.at("E01034128").uncertainty == 20); // two cells, each +/-10
    for (const char* piece : {"E01034111", "E01034113", "E01035581", "E01035608"}) {
        CAPTURE(piece);
        CHECK_FALSE(rows.at(piece).value.has_value());
        CHECK(rows.at(piece).not_apportioned);
        CHECK_FALSE(rows.at(piece).estimated);
    }
    auto& v = vintages();
    const auto t = v.snap->table(*v.db, v.snap->make_query("internal", "people", "", "lsoa", "2021", ""));
    CHECK(t.table.total().value == 100); // the rows shown: 40 + 60
    const auto j = engine::table_json(t, *v.snap);
    CHECK(j["crosswalk"]["to_vintage"] == 2021);
    CHECK(j["crosswalk"]["note"].get<std::string>().find("never") != std::string::npos);
}

TEST_CASE("boundary vintages - refusals: percentages, bespoke areas, and vintages with no crosswalk") {
    auto& v = vintages();
    try {
        (void)v.snap->make_query("published", "share", "", "lsoa", "2021", "");
        FAIL("a percentage-only measure was moved across vintages");
    } catch (const smallarea::disclosure_refused& e) {
        CHECK(e.code() == "PercentageOnly");
    }
    for (const char* vintage : {"2031", "20x1", "1"}) {
        try {
            (void)v.snap->make_query("published", "people", "", "lsoa", vintage, "");
            FAIL("vintage " << vintage << " accepted");
        } catch (const smallarea::bad_request& e) {
            CHECK(e.code() == "InvalidVintage");
        }
    }
    try {
        (void)v.snap->make_query("published", "people", "", "lsoa", "2021", "bespoke:abc");
        FAIL("a bespoke area on a moved vintage was accepted");
    } catch (const smallarea::bad_request& e) {
        CHECK(e.code() == "InvalidVintage");
    }
    // Targets rank the dataset's own areas (their OAs and postcodes), never estimated pieces.
    const auto moved_table = v.snap->table(*v.db, v.snap->make_query("published", "people", "", "lsoa", "2021", ""));
    try {
        (void)engine::select_targets(*v.snap, moved_table, 100, 150, 10, "");
        FAIL("targets were ranked on a moved vintage");
    } catch (const smallarea::bad_request& e) {
        CHECK(e.code() == "InvalidVintage");
    }
    // On its own vintage nothing changes: six 2011 rows, no flags.
    const auto own = v.snap->table(*v.db, v.snap->make_query("published", "people", "", "lsoa", "", ""));
    CHECK(own.table.rows().size() == 6);
    CHECK(own.row_change.empty());
    CHECK(own.table.total().value == 290);
}

TEST_CASE("boundary vintages - IoD 2019 (LSOA 2011) against IoD 2025 (LSOA 2021) on 2021 LSOAs, through the national crosswalk") {
    auto& w = wards();
    const auto& s = *w.snap;
    // The national crosswalk on a 2021 store keeps every pair (each group touches a 2021 LSOA) and brings the
    // 2011 LSOAs with it; IoD 2019 (England) lands on them.
    const auto now_q = s.make_query("iod2025", "income_deprived", "", "lsoa", "", "");
    const auto then_q = engine::compare_query(s, now_q, "", "iod2019");
    CHECK(then_q.dataset->id == "iod2019");
    CHECK(then_q.crosswalked());
    CHECK(then_q.vintage == 2021);
    const auto now = s.table(*w.db, now_q);
    const auto then = s.table(*w.db, then_q);
    auto doc = engine::table_json(now, s);
    engine::add_changes(doc, now, then);
    CHECK(doc["compare"]["dataset"] == "iod2019");
    CHECK(doc["compare"]["vintage_moved"] == true);

    // Independent figures from the files: 2019 by LSOA 2011, 2025 by LSOA 2021, and the ONS change code.
    std::map<std::string, std::int64_t> iod2019, iod2025;
    for (const auto& [path, into] : {std::pair<std::string, std::map<std::string, std::int64_t>*>{"iod2019_lsoa11_england", &iod2019},
                                     {"iod2025_lsoa21_england", &iod2025}}) {
        const auto t = test_support::read_csv(shared + "/counts/national/" + path + ".csv.gz");
        for (const auto& row : t.rows) {
            if (!row[1].empty()) (*into)[row[0]] = std::stoll(row[1]);
        }
    }
    std::map<std::string, std::vector<std::string>> sources; // 2021 code -> 2011 codes
    std::map<std::string, int> pieces;                       // 2011 code -> number of 2021 areas
    const auto crosswalk = test_support::read_csv(shared + "/lookups/lsoa11_lsoa21_lad22_ew.csv.gz");
    for (const auto& row : crosswalk.rows) {
        sources[row[4]].push_back(row[1]);
        ++pieces[row[1]];
    }
    std::map<char, int> checked;
    for (std::size_t i = 0; i < now.table.rows().size(); ++i) {
        const auto& code = now.table.rows()[i].code;
        const auto& change = doc["rows"][i]["change"];
        if (!iod2025.count(code) || !sources.count(code)) continue;
        bool exact = true, all_known = true;
        std::int64_t old_sum = 0;
        for (const auto& old : sources[code]) {
            exact = exact && pieces[old] == 1;
            all_known = all_known && iod2019.count(old);
            old_sum += iod2019.count(old) ? iod2019[old] : 0;
        }
        if (!all_known) continue;
        const char kind = exact ? (sources[code].size() == 1 ? 'U' : 'M') : 'S';
        if (checked[kind] >= 200) continue; // enough of each kind
        CAPTURE(code);
        REQUIRE(change["comparable"] == true);
        if (exact) {
            // Unchanged and merged areas: the exact difference of published figures.
            CHECK(change["value"].get<std::int64_t>() == iod2025[code] - old_sum);
            CHECK(change["uncertainty"].get<double>() == 0);
        } else {
            CHECK(then.table.rows()[i].estimated);
            CHECK(change["uncertainty"].get<double>() > 0);
        }
        ++checked[kind];
    }
    MESSAGE("compared: U " << checked['U'] << ", M " << checked['M'] << ", S/X " << checked['S']);
    CHECK(checked['U'] == 200);
    CHECK(checked['M'] >= 50);
    CHECK(checked['S'] >= 50);

    SUBCASE("refusals: unlike measures, unlike classifications") {
        CHECK_THROWS_AS((void)engine::compare_query(s, now_q, "", "deprivation", "deprived_1"), smallarea::bad_request);
        CHECK_THROWS_AS((void)engine::compare_query(s, now_q, "", "", "income_deprived"), smallarea::bad_request);
    }
}
