// test_data: the data module (ingest, store, csv_reader) against the real OGL files in shared/data, the bundled
// sample and small hand-made fixtures in tests/fixtures. Every test builds its own store in a temporary folder.

#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include "data/csv_reader.hpp"
#include "core/error.hpp"
#include "data/ingest.hpp"
#include "data/inspect.hpp"
#include "data/sqlite.hpp"
#include "data/store.hpp"

#include "test_support.hpp"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <vector>

namespace data = smallarea::data;
using namespace test_support;

namespace {

const std::string shared_data = SMALLAREA_SHARED_DATA;
const std::string source_dir = SMALLAREA_SOURCE_DIR;
const std::string fixtures = source_dir + "/tests/fixtures";
const std::string sample_manifest = source_dir + "/data/sample/manifest.json";
const std::string sample_dir = source_dir + "/data/sample";

std::string fixture(const std::string& name) { return fixtures + "/" + name; }

std::uint64_t checksum_of(data::database& db, const std::string& sql) {
    data::statement s(db, sql);
    std::uint64_t h = fnv1a("");
    while (s.step()) {
        // Every query selects one text column built with ||, so a row is one string.
        h = fnv1a(s.is_null(0) ? std::string("\x01NULL") : s.text(0), h);
        h = fnv1a("\n", h);
    }
    return h;
}

/// Everything a failed ingest must leave alone: release, row counts, checksums of the rows, and the file's bytes.
std::string store_state(const std::string& db_path) {
    std::string out = "file bytes " + std::to_string(fnv1a(store_file_bytes(db_path)));
    auto db = data::open_store(db_path, false);
    out += "\nrelease " + std::to_string(data::data_release(db));
    for (const char* table : {"areas", "area_ancestors", "denominators", "datasets", "measures", "observations"}) {
        out += std::string("\n") + table + " " + std::to_string(scalar(db, std::string("SELECT count(*) FROM ") + table));
    }
    out += "\nobservations checksum " +
           std::to_string(checksum_of(db, "SELECT dataset_id || '|' || measure_id || '|' || period || '|' || area_id || '|' "
                                          "|| coalesce(CAST(value AS TEXT), 'null') FROM observations "
                                          "ORDER BY dataset_id, measure_id, period, area_id"));
    out += "\nareas checksum " +
           std::to_string(checksum_of(db, "SELECT id || '|' || level || '|' || vintage || '|' || code || '|' || name || "
                                          "'|' || " + geometry_hex_sql(db) + " FROM areas ORDER BY id"));
    out += "\ndatasets checksum " +
           std::to_string(checksum_of(db, "SELECT id || '|' || release || '|' || ingested_at FROM datasets ORDER BY id"));
    return out;
}

/// The sample ingested once per run; tests copy the file rather than ingesting it again (it takes ~1 s).
const std::string& sample_store_template() {
    static temp_dir dir;
    static std::string path;
    if (path.empty()) {
        const std::string p = new_store(dir, "sample.db");
        data::ingest_manifest(sample_manifest, p);
        path = p;
    }
    return path;
}

/// A fresh store holding the sample, at dir/store.db.
std::string sample_store_in(const temp_dir& dir) {
    return copy_store(sample_store_template(), dir);
}

/// manifest_tiny.json written into dir with absolute paths; `replace` swaps a fixture name for another path.
std::string tiny_manifest(const temp_dir& dir, const std::map<std::string, std::string>& replace = {},
                          const std::string& name = "manifest.json") {
    std::string text = read_text(fixture("manifest_tiny.json"));
    for (const char* f : {"lsoa21_tiny.geojson", "households_lsoa21_tiny.csv", "counts_lsoa21_tiny.csv"}) {
        const auto it = replace.find(f);
        const std::string to = it == replace.end() ? fixture(f) : it->second;
        text = replace_all(text, std::string("\"") + f + "\"", "\"" + to + "\"");
    }
    for (const auto& [from, to] : replace) {
        if (from.find('.') == std::string::npos) text = replace_all(text, from, to); // free-text replacements
    }
    const std::string path = dir.file(name);
    write_text(path, text);
    return path;
}

/// Asserts ingest refuses the manifest with an ingest_error naming the file (and the line or feature when
/// position > 0) and saying what, and that the store is exactly as before.
void check_refused(const std::string& manifest, const std::string& db_path, const std::string& bad_file,
                   long position, const char* unit, const std::string& what) {
    const std::string before = store_state(db_path);
    CHECK_THROWS_AS(data::ingest_manifest(manifest, db_path), smallarea::ingest_error);
    try {
        data::ingest_manifest(manifest, db_path);
        FAIL("ingest accepted " << bad_file);
    } catch (const smallarea::ingest_error& e) {
        const std::string message = e.what();
        INFO("message: " << message);
        CHECK(contains(message, bad_file));
        CHECK(contains(e.file(), bad_file));
        CHECK(e.position() == position);
        if (position > 0) {
            CHECK(contains(message, bad_file + ", " + unit + " " + std::to_string(position) + ":"));
        }
        CHECK(contains(message, what));
    }
    CHECK(store_state(db_path) == before);
}

std::vector<data::area> areas_of(data::database& db, const std::string& level, int vintage) {
    std::vector<data::area> out;
    for (auto& a : data::load_areas(db)) {
        if (a.level == level && a.vintage == vintage) out.push_back(std::move(a));
    }
    return out;
}

const data::area* find_code(const std::vector<data::area>& areas, const std::string& code) {
    for (const auto& a : areas) {
        if (a.code == code) return &a;
    }
    return nullptr;
}

std::map<std::string, std::int64_t> observations_by_code(data::database& db, const std::string& dataset,
                                                         const std::string& measure, const std::string& period) {
    std::map<std::int64_t, std::string> code_of;
    for (const auto& a : data::load_areas(db)) code_of[a.id] = a.code;
    std::map<std::string, std::int64_t> out;
    for (const auto& o : data::load_observations(db, dataset, measure, period)) {
        out[code_of.at(o.area_id)] = o.value ? *o.value : -1;
    }
    return out;
}

/// Codes of one property in a GeoJSON text file ("OA11CD": "E00..."), read independently of GDAL.
std::set<std::string> geojson_codes(const std::string& path, const std::string& property) {
    const std::string text = read_text(path);
    std::set<std::string> out;
    const std::string key = "\"" + property + "\"";
    for (std::size_t pos = 0; (pos = text.find(key, pos)) != std::string::npos; pos += key.size()) {
        const auto open = text.find('"', text.find(':', pos + key.size()) + 1);
        const auto close = text.find('"', open + 1);
        out.insert(text.substr(open + 1, close - open - 1));
    }
    return out;
}

std::pair<double, double> centroid(data::database& db, const std::string& code, int vintage) {
    data::statement s(db, "SELECT X(Centroid(geom)), Y(Centroid(geom)) FROM areas WHERE code = ? AND vintage = ?");
    s.bind(1, code).bind(2, vintage);
    REQUIRE(s.step());
    return {s.real(0), s.real(1)};
}

bool ogr2ogr_available() { return std::system("ogr2ogr --version > /dev/null 2>&1") == 0; }

} // namespace

// ---------------------------------------------------------------------------------------------------------------

TEST_CASE("normalise_period - NOMIS and Stat-Xplore dates become YYYY or YYYY-MM") {
    std::string out;
    SUBCASE("a full date keeps year and month") {
        REQUIRE(data::normalise_period("2017-09-01", out));
        CHECK(out == "2017-09");
    }
    SUBCASE("a year stays a year") {
        REQUIRE(data::normalise_period("2017", out));
        CHECK(out == "2017");
    }
    SUBCASE("a month name and year (NOMIS DATE_NAME) becomes YYYY-MM") {
        REQUIRE(data::normalise_period("September 2017", out));
        CHECK(out == "2017-09");
        REQUIRE(data::normalise_period("Jan 2020", out));
        CHECK(out == "2020-01");
        REQUIRE(data::normalise_period("Sept 2021", out));
        CHECK(out == "2021-09");
        REQUIRE(data::normalise_period("DECEMBER 2019", out));
        CHECK(out == "2019-12");
    }
    SUBCASE("a year and month stays as it is, surrounding spaces are ignored") {
        REQUIRE(data::normalise_period(" 2017-10 ", out));
        CHECK(out == "2017-10");
    }
    SUBCASE("month 13, month 0, day 32 and non-dates are rejected") {
        CHECK_FALSE(data::normalise_period("2017-13", out));
        CHECK_FALSE(data::normalise_period("2017-00", out));
        CHECK_FALSE(data::normalise_period("2017-12-32", out));
        CHECK_FALSE(data::normalise_period("Sep-17", out));
        CHECK_FALSE(data::normalise_period("17", out));
        CHECK_FALSE(data::normalise_period("", out));
        CHECK_FALSE(data::normalise_period("Septober 2017", out));
    }
}

// ---------------------------------------------------------------------------------------------------------------
// The bundled sample

TEST_CASE("sample - the bundled sample ingests with the counts its files imply") {
    temp_dir dir;
    const std::string db_path = dir.file("store.db");
    const auto summary = data::ingest_manifest(sample_manifest, db_path);

    const auto oa_codes = geojson_codes(sample_dir + "/boundaries/oa11_manchester_trafford.geojson", "OA11CD");
    const auto lsoa_codes = geojson_codes(sample_dir + "/boundaries/lsoa11_manchester_trafford.geojson", "LSOA11CD");
    const auto ward_codes = geojson_codes(sample_dir + "/boundaries/wards_manchester_trafford.geojson", "area_code");
    const auto lsoa21_codes = geojson_codes(sample_dir + "/boundaries/lsoa21_manchester_trafford.geojson", "area_code");
    const auto lookup = read_csv(sample_dir + "/lookups/oa11_lsoa11_lad11_manchester_trafford.csv");
    const auto ward_lookup = read_csv(sample_dir + "/lookups/lsoa21_ward24_manchester_trafford.csv");
    const auto hh_lsoa = read_csv(sample_dir + "/counts/households_lsoa11_census2011.csv");
    const auto hh_lsoa21 = read_csv(sample_dir + "/counts/households_lsoa21_census2021.csv");
    const auto hh_oa = read_csv(sample_dir + "/counts/households_oa11_census2021_unchanged_codes.csv");
    const auto cc09 = read_csv(sample_dir + "/counts/claimant_count_lsoa11_manchester_trafford_2017-09.csv");
    const auto cc10 = read_csv(sample_dir + "/counts/claimant_count_lsoa11_manchester_trafford_2017-10.csv");
    const auto mi = read_csv(sample_dir + "/counts/synthetic_mi_work_programme_oa11.csv");

    // The derived percentage base (job_outcomes_total) adds one cell per (period, OA) that has any job outcome row.
    std::set<std::pair<std::string, std::string>> outcome_cells;
    for (std::size_t i = 0; i < mi.rows.size(); ++i) {
        if (mi.at(i, "measure").rfind("job_outcomes_group_", 0) == 0) {
            outcome_cells.emplace(mi.at(i, "period"), mi.at(i, "oa11cd"));
        }
    }

    CHECK(oa_codes.size() == 2261);
    CHECK(lsoa_codes.size() == 420);
    // The manifest derives one LAD boundary per district of the lookup by dissolving its LSOAs.
    std::set<std::string> lookup_lads;
    for (std::size_t i = 0; i < lookup.rows.size(); ++i) lookup_lads.insert(lookup.at(i, "lad11cd"));
    CHECK(lookup_lads.size() == 2);
    CHECK(ward_codes.size() == 53); // the two districts' ONS wards (32 Manchester, 21 Trafford)
    // 2021 geography: the districts' 2021 LSOAs (the 2024 ward lookup's), their Census 2021 households.
    CHECK(lsoa21_codes.size() == 434);
    CHECK(ward_lookup.rows.size() == lsoa21_codes.size());
    CHECK(summary.features == static_cast<std::int64_t>(oa_codes.size() + lsoa_codes.size() + ward_codes.size() + lsoa21_codes.size()));
    CHECK(summary.derived_boundaries == static_cast<std::int64_t>(lookup_lads.size()));
    CHECK(summary.lookup_rows == static_cast<std::int64_t>(lookup.rows.size() + ward_lookup.rows.size()));
    CHECK(summary.denominator_rows ==
          static_cast<std::int64_t>(hh_lsoa.rows.size() + hh_oa.rows.size() + hh_lsoa21.rows.size()));
    CHECK(summary.observation_rows ==
          static_cast<std::int64_t>(cc09.rows.size() + cc10.rows.size() + mi.rows.size() + outcome_cells.size()));
    CHECK(summary.observation_rows == 32456);
    CHECK(summary.release == 1);
    CHECK(summary.datasets.size() == 2);

    auto db = data::open_store(db_path, false);
    CHECK(data::data_release(db) == 1);
    const auto datasets = data::load_datasets(db);
    REQUIRE(datasets.size() == 2);
    const auto& cc = datasets[0];
    const auto& wp = datasets[1];
    CHECK(cc.id == "claimant_count");
    CHECK(cc.policy.classification == smallarea::disclosure::classification::published);
    CHECK(cc.policy.rounding_base == 5);
    CHECK(cc.periods == std::vector<std::string>{"2017-09", "2017-10"});
    CHECK(cc.observations == static_cast<std::int64_t>(cc09.rows.size() + cc10.rows.size()));
    CHECK(cc.release == 1);
    CHECK(wp.id == "synthetic_work_programme");
    CHECK(wp.policy.classification == smallarea::disclosure::classification::internal);
    CHECK(wp.policy.rounding_base == 20);
    CHECK(wp.level == "oa");
    REQUIRE(wp.find_measure("job_outcomes_total"));
    CHECK(wp.find_measure("job_outcomes_total")->kind == data::measure_kind::percent_base);
    CHECK(wp.find_measure("job_outcomes_group_a")->kind == data::measure_kind::percent_only);

    SUBCASE("every claimant count equals the source CSV, area by area") {
        const auto stored = observations_by_code(db, "claimant_count", "claimants", "2017-09");
        REQUIRE(stored.size() == cc09.rows.size());
        for (std::size_t i = 0; i < cc09.rows.size(); ++i) {
            const auto it = stored.find(cc09.at(i, "lsoa11cd"));
            REQUIRE(it != stored.end());
            CHECK(it->second == std::stoll(cc09.at(i, "value")));
        }
    }
    SUBCASE("the derived job_outcomes_total is the sum of the three payment groups") {
        std::map<std::string, std::int64_t> expected;
        for (std::size_t i = 0; i < mi.rows.size(); ++i) {
            if (mi.at(i, "period") == "2017-10" && mi.at(i, "measure").rfind("job_outcomes_group_", 0) == 0) {
                expected[mi.at(i, "oa11cd")] += std::stoll(mi.at(i, "value"));
            }
        }
        const auto stored = observations_by_code(db, "synthetic_work_programme", "job_outcomes_total", "2017-10");
        CHECK(stored == expected);
    }
    SUBCASE("areas carry names, denominators and lookup parents") {
        const auto lsoas = areas_of(db, "lsoa", 2011);
        CHECK(lsoas.size() == lsoa_codes.size());
        const auto lads = areas_of(db, "lad", 2011);
        CHECK(lads.size() == 2);
        for (const auto& lad : lads) CHECK(lad.has_geometry);
        const auto& code = hh_lsoa.at(0, "lsoa11cd");
        const auto* a = find_code(lsoas, code);
        REQUIRE(a);
        CHECK(a->denominators.at("households") == std::stoll(hh_lsoa.at(0, "households_total")));
        CHECK(a->has_geometry);
        // Its LAD parent is the one the lookup names for it.
        std::string lad;
        for (std::size_t i = 0; i < lookup.rows.size(); ++i) {
            if (lookup.at(i, "lsoa11cd") == code) lad = lookup.at(i, "lad11cd");
        }
        const auto* parent = find_code(lads, lad);
        REQUIRE(parent);
        CHECK(std::find(a->ancestors.begin(), a->ancestors.end(), parent->id) != a->ancestors.end());
    }
}

TEST_CASE("sample - re-ingest bumps the release and replaces each dataset atomically") {
    temp_dir dir;
    const std::string db_path = sample_store_in(dir);
    std::string observations_before;
    std::int64_t cells_before = 0;
    {
        auto db = data::open_store(db_path, false);
        REQUIRE(data::data_release(db) == 1);
        cells_before = scalar(db, "SELECT count(*) FROM observations");
        observations_before = std::to_string(checksum_of(
            db, "SELECT dataset_id || measure_id || period || area_id || coalesce(CAST(value AS TEXT), 'n') FROM observations "
                "ORDER BY 1"));
    }
    SUBCASE("the same manifest again: same cells, release + 1, no duplicate areas") {
        const auto summary = data::ingest_manifest(sample_manifest, db_path);
        CHECK(summary.release == 2);
        auto db = data::open_store(db_path, false);
        CHECK(data::data_release(db) == 2);
        CHECK(scalar(db, "SELECT count(*) FROM observations") == cells_before);
        CHECK(std::to_string(checksum_of(db, "SELECT dataset_id || measure_id || period || area_id || "
                                             "coalesce(CAST(value AS TEXT), 'n') FROM observations ORDER BY 1")) == observations_before);
        CHECK(scalar(db, "SELECT count(*) FROM areas WHERE level = 'lsoa' AND vintage = 2011") == 420);
        CHECK(scalar(db, "SELECT count(*) FROM areas WHERE level = 'lsoa' AND vintage = 2021") == 434);
        for (const auto& d : data::load_datasets(db)) CHECK(d.release == 2);
    }
    SUBCASE("a manifest with one month fewer replaces the dataset, leaving the other dataset alone") {
        const std::string manifest = dir.file("one_month.json");
        write_text(manifest, R"({
  "datasets": [{
    "id": "claimant_count", "title": "Claimant count", "publisher": "DWP / ONS via Nomis",
    "licence": "Open Government Licence v3.0", "attribution": "Source: DWP / ONS via Nomis.",
    "classification": "published", "level": "lsoa", "vintage": 2011,
    "files": [{"path": ")" + sample_dir + R"(/counts/claimant_count_lsoa11_manchester_trafford_2017-09.csv", "layout": "long"}],
    "measures": [{"id": "claimants", "title": "Claimants", "unit": "people", "kind": "count", "denominator": "households",
                  "source_names": ["Residents claiming JSA or Universal Credit"]}],
    "disclosure": {"rounding_base": 5, "rounded_by": "publisher"}
  }]
})");
        const auto summary = data::ingest_manifest(manifest, db_path);
        CHECK(summary.release == 2);
        auto db = data::open_store(db_path, false);
        const auto datasets = data::load_datasets(db);
        REQUIRE(datasets.size() == 2);
        CHECK(datasets[0].id == "claimant_count");
        CHECK(datasets[0].release == 2);
        CHECK(datasets[0].periods == std::vector<std::string>{"2017-09"});
        CHECK(datasets[0].observations == 420);
        CHECK(datasets[1].release == 1);
        CHECK(datasets[1].observations == 31654);
        CHECK(data::data_release(db) == 2);
    }
}

// ---------------------------------------------------------------------------------------------------------------
// Bad input: every rule refuses with file + line/feature and leaves a pre-filled store exactly as it was.

TEST_CASE("bad input - the tiny fixture itself ingests on top of the sample (the base of the refusals)") {
    temp_dir dir;
    const std::string db_path = sample_store_in(dir);
    const auto summary = data::ingest_manifest(tiny_manifest(dir), db_path);
    CHECK(summary.features == 3);
    CHECK(summary.observation_rows == 3);
    CHECK(summary.release == 2);
    auto db = data::open_store(db_path, false);
    const auto stored = observations_by_code(db, "tiny_claimants", "claimants", "2017-09");
    CHECK(stored == std::map<std::string, std::int64_t>{{"E01012001", 15}, {"E01012002", 20}, {"W01000001", 5}});
}

TEST_CASE("bad input - CSV rows are refused with the file and line, the store untouched") {
    temp_dir dir;
    const std::string db_path = sample_store_in(dir);
    auto refuse = [&](const std::string& csv, long line, const std::string& what) {
        const auto manifest = tiny_manifest(dir, {{"counts_lsoa21_tiny.csv", fixture(csv)}});
        check_refused(manifest, db_path, csv, line, "line", what);
    };
    SUBCASE("an unknown area code: a 2011 LSOA code in a 2021 dataset (Manchester 017A, split in 2021)") {
        refuse("counts_unknown_area.csv", 3, "E01005108");
    }
    SUBCASE("a duplicate (area, measure, period), even when the dates are written differently") {
        refuse("counts_duplicate.csv", 4, "duplicate");
    }
    SUBCASE("a non-numeric value") { refuse("counts_non_numeric.csv", 3, "twenty"); }
    SUBCASE("a negative value") { refuse("counts_negative.csv", 2, "negative"); }
    SUBCASE("a non-integer value (an integral 20.0 on the line before is fine)") {
        refuse("counts_non_integer.csv", 4, "5.5");
    }
    SUBCASE("a missing value column") { refuse("counts_missing_column.csv", 1, "value"); }
    SUBCASE("a ragged row") { refuse("counts_ragged.csv", 3, "fields"); }
    SUBCASE("an unterminated quote") { refuse("counts_unterminated_quote.csv", 3, "unterminated"); }
    SUBCASE("invalid UTF-8 (a Latin-1 byte)") {
        const std::string csv = dir.file("latin1.csv");
        write_text(csv, "date,lsoa21cd,measure,value\n2017-09-01,E01012001,Claimant count,15\n"
                        "2017-09-01,E01012002,Claimant c\xF6unt,20\n");
        const auto manifest = tiny_manifest(dir, {{"counts_lsoa21_tiny.csv", csv}});
        check_refused(manifest, db_path, csv, 3, "line", "UTF-8");
    }
    SUBCASE("a measure name the manifest does not declare") {
        const std::string csv = dir.file("undeclared.csv");
        write_text(csv, "date,lsoa21cd,measure,value\n2017-09-01,E01012001,Claimant count,15\n"
                        "2017-09-01,E01012002,Claimants (experimental),20\n");
        const auto manifest = tiny_manifest(dir, {{"counts_lsoa21_tiny.csv", csv}});
        check_refused(manifest, db_path, csv, 3, "line", "Claimants (experimental)");
    }
    SUBCASE("a period that is not a date") {
        const std::string csv = dir.file("period.csv");
        write_text(csv, "date,lsoa21cd,measure,value\n2017-09-01,E01012001,Claimant count,15\n"
                        "2017-13,E01012002,Claimant count,20\n");
        const auto manifest = tiny_manifest(dir, {{"counts_lsoa21_tiny.csv", csv}});
        check_refused(manifest, db_path, csv, 3, "line", "2017-13");
    }
    SUBCASE("a denominator for an unknown area") {
        const std::string csv = dir.file("households.csv");
        write_text(csv, "lsoa21cd,households\nE01012001,600\nE01099999,700\n");
        const auto manifest = tiny_manifest(dir, {{"households_lsoa21_tiny.csv", csv}});
        check_refused(manifest, db_path, csv, 3, "line", "E01099999");
    }
}

TEST_CASE("bad input - unreadable and missing files are refused, naming the file") {
    temp_dir dir;
    const std::string db_path = sample_store_in(dir);
    SUBCASE("a missing CSV") {
        const std::string missing = dir.file("no_such_counts.csv");
        check_refused(tiny_manifest(dir, {{"counts_lsoa21_tiny.csv", missing}}), db_path, missing, 0, "line", "open");
    }
    SUBCASE("a missing boundary file") {
        const std::string missing = dir.file("no_such_boundaries.geojson");
        check_refused(tiny_manifest(dir, {{"lsoa21_tiny.geojson", missing}}), db_path, missing, 0, "feature",
                      "cannot read");
    }
    SUBCASE("a folder where a CSV should be") {
        const std::string folder = dir.file("a_folder.csv");
        std::filesystem::create_directory(folder);
        const std::string before = store_state(db_path);
        CHECK_THROWS_AS(data::ingest_manifest(tiny_manifest(dir, {{"counts_lsoa21_tiny.csv", folder}}), db_path),
                        smallarea::ingest_error);
        try {
            data::ingest_manifest(tiny_manifest(dir, {{"counts_lsoa21_tiny.csv", folder}}), db_path);
        } catch (const smallarea::ingest_error& e) {
            CHECK(contains(e.what(), folder));
        }
        CHECK(store_state(db_path) == before);
    }
    SUBCASE("an empty CSV (no header)") {
        const std::string empty = dir.file("empty.csv");
        write_text(empty, "");
        check_refused(tiny_manifest(dir, {{"counts_lsoa21_tiny.csv", empty}}), db_path, empty, 1, "line", "header");
    }
    SUBCASE("a missing manifest") {
        const std::string missing = dir.file("no_such_manifest.json");
        check_refused(missing, db_path, missing, 0, "line", "manifest");
    }
}

TEST_CASE("bad input - manifests: malformed JSON and unknown keys are refused") {
    temp_dir dir;
    const std::string db_path = sample_store_in(dir);
    SUBCASE("malformed JSON names the manifest and the line of the syntax error") {
        check_refused(fixture("manifest_malformed.json"), db_path, "manifest_malformed.json", 0, "line", "line 3");
    }
    SUBCASE("an unknown top-level key (a typo of boundaries)") {
        check_refused(fixture("manifest_unknown_key.json"), db_path, "manifest_unknown_key.json", 0, "line",
                      "boundries");
    }
    SUBCASE("an unknown key inside a boundary entry (a typo of code_field)") {
        const auto manifest = tiny_manifest(dir, {{"\"vintage\": 2021}", "\"vintage\": 2021, \"code_feild\": \"lsoa21cd\"}"}});
        check_refused(manifest, db_path, manifest, 0, "line", "code_feild");
    }
    SUBCASE("an unknown key inside a dataset's disclosure (a typo of rounding_base)") {
        const auto manifest = tiny_manifest(dir, {{"\"rounding_base\": 5", "\"rounding_bsae\": 5"}});
        check_refused(manifest, db_path, manifest, 0, "line", "rounding_bsae");
    }
    SUBCASE("an unknown key inside a dataset file (a typo of columns)") {
        const auto manifest = tiny_manifest(dir, {{"\"layout\": \"long\"", "\"layout\": \"long\", \"colums\": {}"}});
        check_refused(manifest, db_path, manifest, 0, "line", "colums");
    }
    SUBCASE("an unknown column role inside a file's columns") {
        const auto manifest =
            tiny_manifest(dir, {{"\"layout\": \"long\"", "\"layout\": \"long\", \"columns\": {\"areacode\": \"lsoa21cd\"}"}});
        check_refused(manifest, db_path, manifest, 0, "line", "areacode");
    }
    SUBCASE("an unknown key inside a measure (a typo of source_names)") {
        const auto manifest = tiny_manifest(dir, {{"\"source_names\"", "\"source_name\""}});
        check_refused(manifest, db_path, manifest, 0, "line", "source_name");
    }
}

TEST_CASE("bad input - boundaries: broken, empty, non-polygon and wrong-CRS geometry are refused by feature") {
    temp_dir dir;
    const std::string db_path = sample_store_in(dir);
    auto refuse = [&](const std::string& geojson, long feature, const std::string& what) {
        const auto manifest = tiny_manifest(dir, {{"lsoa21_tiny.geojson", fixture(geojson)}});
        check_refused(manifest, db_path, geojson, feature, "feature", what);
    };
    SUBCASE("broken GeoJSON (truncated mid-feature)") { refuse("lsoa21_broken.geojson", 0, "GeoJSON"); }
    SUBCASE("an empty polygon") { refuse("lsoa21_empty_geometry.geojson", 2, "no geometry"); }
    SUBCASE("a null geometry") { refuse("lsoa21_null_geometry.geojson", 2, "no geometry"); }
    SUBCASE("a point") { refuse("lsoa21_point.geojson", 3, "not a polygon"); }
    SUBCASE("a line") { refuse("lsoa21_linestring.geojson", 2, "not a polygon"); }
    SUBCASE("British National Grid metres with no CRS given") { refuse("lsoa21_bng_no_crs.geojson", 1, "srs"); }
    SUBCASE("a repeated area code") {
        const std::string path = dir.file("repeated.geojson");
        write_text(path, replace_all(read_text(fixture("lsoa21_tiny.geojson")), "W01000001", "E01012001"));
        const auto manifest = tiny_manifest(dir, {{"lsoa21_tiny.geojson", path}});
        check_refused(manifest, db_path, path, 3, "feature", "E01012001");
    }
    SUBCASE("a name that is not UTF-8") {
        const std::string path = dir.file("latin1.geojson");
        write_text(path, replace_all(read_text(fixture("lsoa21_tiny.geojson")), "Ynys M\xC3\xB4n", "Ynys M\xF4n"));
        const auto manifest = tiny_manifest(dir, {{"lsoa21_tiny.geojson", path}});
        const std::string before = store_state(db_path);
        CHECK_THROWS_AS(data::ingest_manifest(manifest, db_path), smallarea::ingest_error);
        try {
            data::ingest_manifest(manifest, db_path);
        } catch (const smallarea::ingest_error& e) {
            INFO("message: " << e.what());
            CHECK(contains(e.what(), path));
        }
        CHECK(store_state(db_path) == before);
    }
}

// ---------------------------------------------------------------------------------------------------------------
// Awkward but valid input that must work

TEST_CASE("valid input - a UTF-8 byte-order mark, quoted fields with commas and Welsh names ingest") {
    temp_dir dir;
    const std::string db_path = dir.file("store.db");
    SUBCASE("a CSV with a UTF-8 BOM (as Excel writes it)") {
        const std::string csv = dir.file("bom.csv");
        write_text(csv, "\xEF\xBB\xBF" + read_text(fixture("counts_lsoa21_tiny.csv")));
        const auto summary = data::ingest_manifest(tiny_manifest(dir, {{"counts_lsoa21_tiny.csv", csv}}), db_path);
        CHECK(summary.observation_rows == 3);
    }
    SUBCASE("a CSV with a UTF-8 BOM before a quoted header (every field quoted, NOMIS style)") {
        const std::string csv = dir.file("bom_quoted.csv");
        write_text(csv, "\xEF\xBB\xBF" + read_text(fixture("nomis_claimants_lsoa21.csv")));
        const auto summary = data::ingest_manifest(tiny_manifest(dir, {{"counts_lsoa21_tiny.csv", csv}}), db_path);
        CHECK(summary.observation_rows == 3);
    }
    SUBCASE("quoted fields with commas and doubled quotes") {
        const auto summary =
            data::ingest_manifest(tiny_manifest(dir, {{"counts_lsoa21_tiny.csv", fixture("counts_quoted_commas.csv")}}),
                                  db_path);
        CHECK(summary.observation_rows == 3);
        auto db = data::open_store(db_path, false);
        CHECK(observations_by_code(db, "tiny_claimants", "claimants", "2017-09") ==
              std::map<std::string, std::int64_t>{{"E01012001", 15}, {"E01012002", 20}, {"W01000001", 5}});
        // And the reader itself splits them as RFC 4180 says.
        const auto t = read_csv(fixture("counts_quoted_commas.csv"));
        CHECK(t.at(0, "lsoa21nm") == "Trafford 001A, Altrincham");
        CHECK(t.at(1, "lsoa21nm") == "Trafford \"001B\"");
        CHECK(t.at(0, "measure") == "Claimants, JSA or UC");
    }
    SUBCASE("a NOMIS download (DATE, GEOGRAPHY_CODE, MEASURE_NAME, OBS_VALUE) is recognised without naming columns") {
        const auto summary = data::ingest_manifest(
            tiny_manifest(dir, {{"counts_lsoa21_tiny.csv", fixture("nomis_claimants_lsoa21.csv")}}), db_path);
        CHECK(summary.observation_rows == 3);
        auto db = data::open_store(db_path, false);
        CHECK(observations_by_code(db, "tiny_claimants", "claimants", "2017-09").at("E01012002") == 20);
    }
    SUBCASE("\"Ynys Môn\": UTF-8 names survive ingest unchanged") {
        data::ingest_manifest(tiny_manifest(dir), db_path);
        auto db = data::open_store(db_path, false);
        const auto lsoas = areas_of(db, "lsoa", 2021);
        const auto* a = find_code(lsoas, "W01000001");
        REQUIRE(a);
        CHECK(a->name == "Ynys M\xC3\xB4n 001A");
        CHECK(data::valid_utf8(a->name));
        CHECK(a->denominators.at("households") == 650);
    }
}

TEST_CASE("valid input - a bow-tie polygon is repaired and counted") {
    temp_dir dir;
    const std::string db_path = dir.file("store.db");
    const auto summary =
        data::ingest_manifest(tiny_manifest(dir, {{"lsoa21_tiny.geojson", fixture("lsoa21_bowtie.geojson")}}), db_path);
    CHECK(summary.features == 3);
    CHECK(summary.repaired_geometries == 1);
    auto db = data::open_store(db_path, false);
    CHECK(scalar(db, "SELECT count(*) FROM areas WHERE vintage = 2021 AND ST_IsValid(geom) = 1") == 3);
    // The two triangles of the bow-tie keep their area (0.01 x 0.01 degrees / 2).
    data::statement s(db, "SELECT ST_Area(geom) FROM areas WHERE code = 'E01012002' AND vintage = 2021");
    REQUIRE(s.step());
    CHECK(s.real(0) == doctest::Approx(0.00005).epsilon(0.001));
}

TEST_CASE("valid input - a shapefile and a GeoPackage in EPSG:27700 are reprojected to EPSG:4326") {
    REQUIRE_MESSAGE(ogr2ogr_available(), "ogr2ogr (gdal-bin) is needed to make the EPSG:27700 fixtures");
    temp_dir dir;
    // gdaltransform -s_srs EPSG:27700 -t_srs EPSG:4326 of (383850, 398250), the centre of the first square.
    const double lon = -2.244821;
    const double lat = 53.480721;
    // The BNG fixture has two of the three areas: the counts must name only those.
    const std::string counts = dir.file("two.csv");
    write_text(counts, "date,lsoa21cd,measure,value\n2017-09-01,E01012001,Claimant count,15\n"
                       "2017-09-01,E01012002,Claimant count,20\n");
    const std::string households = dir.file("households.csv");
    write_text(households, "lsoa21cd,households\nE01012001,600\nE01012002,700\n");
    auto run = [&](const std::string& boundary_path, const std::string& extra_from = "", const std::string& extra_to = "") {
        const std::string db_path = dir.file("store.db");
        std::filesystem::remove(db_path);
        std::map<std::string, std::string> replace{{"lsoa21_tiny.geojson", boundary_path},
                                                   {"counts_lsoa21_tiny.csv", counts},
                                                   {"households_lsoa21_tiny.csv", households}};
        if (!extra_from.empty()) replace[extra_from] = extra_to;
        const auto summary = data::ingest_manifest(tiny_manifest(dir, replace), db_path);
        CHECK(summary.features == 2);
        auto db = data::open_store(db_path, false);
        const auto [x, y] = centroid(db, "E01012001", 2021);
        INFO("centroid " << x << ", " << y);
        CHECK(std::abs(x - lon) < 1e-4);
        CHECK(std::abs(y - lat) < 1e-4);
        CHECK(scalar(db, "SELECT count(*) FROM areas WHERE vintage = 2021 AND MbrMinX(geom) > -3 AND MbrMaxX(geom) < -2 "
                         "AND MbrMinY(geom) > 53 AND MbrMaxY(geom) < 54") == 2);
    };
    SUBCASE("an ESRI shapefile (.shp + .prj) made with ogr2ogr") {
        const std::string shp = dir.file("bng.shp");
        REQUIRE(std::system(("ogr2ogr -f 'ESRI Shapefile' '" + shp + "' '" + fixture("lsoa21_bng_27700.geojson") + "'").c_str()) == 0);
        run(shp);
    }
    SUBCASE("a GeoPackage made with ogr2ogr") {
        const std::string gpkg = dir.file("bng.gpkg");
        REQUIRE(std::system(("ogr2ogr -f GPKG '" + gpkg + "' '" + fixture("lsoa21_bng_27700.geojson") + "'").c_str()) == 0);
        run(gpkg);
    }
    SUBCASE("a GeoJSON with no CRS member and \"srs\": \"EPSG:27700\" in the manifest") {
        run(fixture("lsoa21_bng_no_crs.geojson"), "\"vintage\": 2021}", "\"vintage\": 2021, \"srs\": \"EPSG:27700\"}");
    }
}

// ---------------------------------------------------------------------------------------------------------------
// Real OGL files from shared/data

TEST_CASE("real data - the martinjc Trafford OA GeoJSON ingests all 731 output areas") {
    temp_dir dir;
    const std::string path = shared_data + "/boundaries/local/oa11_by_lad/E08000009.geojson";
    const std::string manifest = dir.file("manifest.json");
    write_text(manifest, R"({"boundaries": [{"path": ")" + path + R"(", "level": "oa", "vintage": 2011}]})");
    const std::string db_path = dir.file("store.db");
    const auto summary = data::ingest_manifest(manifest, db_path);
    const auto codes = geojson_codes(path, "OA11CD");
    CHECK(codes.size() == 731);
    CHECK(summary.features == 731);
    auto db = data::open_store(db_path, false);
    const auto oas = areas_of(db, "oa", 2011);
    std::set<std::string> stored;
    for (const auto& a : oas) {
        stored.insert(a.code);
        CHECK(a.has_geometry);
    }
    CHECK(stored == codes);
    CHECK(scalar(db, "SELECT count(*) FROM areas WHERE ST_IsValid(geom) = 1") == 731);
}

TEST_CASE("real data - the national 2021 LSOA gzip GeoJSON with Census households as denominators") {
    temp_dir dir;
    const std::string boundaries = shared_data + "/boundaries/national/lsoa21_ew_bsc_2021.geojson.gz";
    const std::string census = shared_data + "/counts/national/census2021_lsoa21_households_population_ew.csv.gz";
    const std::string manifest = dir.file("manifest.json");
    write_text(manifest, R"({"boundaries": [{"path": ")" + boundaries + R"(", "level": "lsoa", "vintage": 2021}],
  "denominators": [{"path": ")" + census + R"(", "level": "lsoa", "vintage": 2021,
                    "measures": {"households": "households_ts046", "residents": "usual_residents_ts001"}}]})");
    const std::string db_path = dir.file("store.db");
    const auto summary = data::ingest_manifest(manifest, db_path);
    const auto table = read_csv(census);
    CHECK(summary.features == 35511);
    CHECK(summary.denominator_rows == static_cast<std::int64_t>(table.rows.size()));
    CHECK(summary.denominator_rows == 35511);

    auto db = data::open_store(db_path, false);
    std::int64_t households = 0;
    for (std::size_t i = 0; i < table.rows.size(); ++i) households += std::stoll(table.at(i, "households_ts046"));
    CHECK(scalar(db, "SELECT sum(value) FROM denominators WHERE measure = 'households'") == households);
    const auto lsoas = areas_of(db, "lsoa", 2021);
    CHECK(lsoas.size() == 35511);
    // Names come from the boundary file; the census CSV names the same LSOAs the same way.
    for (const std::size_t row : {std::size_t{0}, table.rows.size() / 2, table.rows.size() - 1}) {
        const auto* a = find_code(lsoas, table.at(row, "lsoa21cd"));
        REQUIRE(a);
        CHECK(a->name == table.at(row, "lsoa21nm"));
        CHECK(a->denominators.at("households") == std::stoll(table.at(row, "households_ts046")));
        CHECK(a->denominators.at("residents") == std::stoll(table.at(row, "usual_residents_ts001")));
        CHECK(a->has_geometry);
    }
}

TEST_CASE("real data - the OA21 lookup gives an output area its LSOA, MSOA and LAD parents") {
    temp_dir dir;
    const std::string lookup = shared_data + "/lookups/oa21_lsoa21_msoa21_lad21_ew.csv.gz";
    const std::string manifest = dir.file("manifest.json");
    write_text(manifest, R"({"lookups": [{"path": ")" + lookup + R"(", "vintage": 2021}]})");
    const std::string db_path = dir.file("store.db");
    const auto summary = data::ingest_manifest(manifest, db_path);
    const auto table = read_csv(lookup);
    CHECK(summary.lookup_rows == static_cast<std::int64_t>(table.rows.size()));
    CHECK(summary.lookup_rows == 188007);
    std::set<std::string> lads;
    for (std::size_t i = 0; i < table.rows.size(); ++i) lads.insert(table.at(i, "lad21cd"));

    auto db = data::open_store(db_path, false);
    const auto areas = data::load_areas(db);
    std::map<std::int64_t, const data::area*> by_id;
    std::map<std::string, const data::area*> oa_by_code;
    std::size_t lad_count = 0;
    for (const auto& a : areas) {
        by_id[a.id] = &a;
        if (a.level == "oa") oa_by_code[a.code] = &a;
        if (a.level == "lad") ++lad_count;
    }
    CHECK(oa_by_code.size() == 188007);
    CHECK(lad_count == lads.size());
    auto parents_of = [&](const std::string& oa) {
        std::map<std::string, std::string> out;
        const auto it = oa_by_code.find(oa);
        REQUIRE(it != oa_by_code.end());
        for (const auto id : it->second->ancestors) out[by_id.at(id)->level] = by_id.at(id)->code + "|" + by_id.at(id)->name;
        return out;
    };
    // A known one: the first OA of the City of London.
    const auto first = parents_of("E00000001");
    CHECK(first.at("lsoa") == "E01000001|City of London 001A");
    CHECK(first.at("lad").rfind("E09000001|", 0) == 0);
    // And rows read from the file itself.
    for (const std::size_t row : {std::size_t{0}, std::size_t{100000}, table.rows.size() - 1}) {
        const auto p = parents_of(table.at(row, "oa21cd"));
        CHECK(p.at("lsoa") == table.at(row, "lsoa21cd") + "|" + table.at(row, "lsoa21nm"));
        CHECK(p.at("msoa") == table.at(row, "msoa21cd") + "|" + table.at(row, "msoa21nm"));
        CHECK(p.at("lad") == table.at(row, "lad21cd") + "|" + table.at(row, "lad21nm"));
    }
}

TEST_CASE("real data - NOMIS claimant counts for nine GM districts land on the martinjc LSOA boundaries") {
    temp_dir dir;
    const std::vector<std::string> lads{"E08000001", "E08000002", "E08000003", "E08000004", "E08000005",
                                        "E08000007", "E08000008", "E08000009", "E08000010"};
    std::string boundaries;
    std::set<std::string> boundary_codes;
    for (const auto& lad : lads) {
        const std::string path = shared_data + "/boundaries/local/lsoa11_by_lad/" + lad + ".geojson";
        for (const auto& c : geojson_codes(path, "LSOA11CD")) boundary_codes.insert(c);
        boundaries += std::string(boundaries.empty() ? "" : ",\n") + R"({"path": ")" + path +
                      R"(", "level": "lsoa", "vintage": 2011})";
    }
    const std::string sep = shared_data + "/counts/local/claimant_count_lsoa11_greater_manchester_9lads_2017-09.csv";
    const std::string oct = shared_data + "/counts/local/claimant_count_lsoa11_greater_manchester_9lads_2017-10.csv";
    const std::string manifest = dir.file("manifest.json");
    write_text(manifest, R"({"boundaries": [)" + boundaries + R"(],
  "datasets": [{
    "id": "claimant_count", "title": "Claimant count", "publisher": "DWP / ONS via Nomis",
    "licence": "Open Government Licence v3.0", "attribution": "Source: DWP / ONS via Nomis.",
    "classification": "published", "level": "lsoa", "vintage": 2011,
    "files": [{"path": ")" + sep + R"("}, {"path": ")" + oct + R"("}],
    "measures": [{"id": "claimants", "kind": "count",
                  "source_names": ["Residents claiming JSA or Universal Credit", "Claimant count"]}],
    "disclosure": {"rounding_base": 5, "rounded_by": "publisher"}
  }]})");
    const std::string db_path = dir.file("store.db");
    const auto summary = data::ingest_manifest(manifest, db_path);
    const auto september = read_csv(sep);
    const auto october = read_csv(oct);
    CHECK(boundary_codes.size() == 1523);
    CHECK(summary.features == static_cast<std::int64_t>(boundary_codes.size()));
    CHECK(summary.observation_rows == static_cast<std::int64_t>(september.rows.size() + october.rows.size()));
    CHECK(september.rows.size() == 1523);

    auto db = data::open_store(db_path, false);
    const auto datasets = data::load_datasets(db);
    REQUIRE(datasets.size() == 1);
    CHECK(datasets[0].periods == std::vector<std::string>{"2017-09", "2017-10"});
    for (const auto& [table, period] : {std::pair{&september, "2017-09"}, std::pair{&october, "2017-10"}}) {
        const auto stored = observations_by_code(db, "claimant_count", "claimants", period);
        std::map<std::string, std::int64_t> expected;
        for (std::size_t i = 0; i < table->rows.size(); ++i) {
            expected[table->at(i, "lsoa11cd")] = std::stoll(table->at(i, "value"));
        }
        CHECK(stored == expected);
    }
}

TEST_CASE("lookups - ONS district columns of any year (LAD22CD, lad24cd, LTLA23CD) are detected, case-insensitive") {
    temp_dir dir;
    const std::string db_path = dir.file("store.db");
    // The layout of ONS "LSOA (2021) to LAD (2022)" lookups: upper-case headers, a district year after the census.
    for (const std::string lad : {"LAD22", "lad24", "LTLA23"}) {
        CAPTURE(lad);
        const std::string lookup = dir.file("lookup_" + lad + ".csv");
        write_text(lookup, "LSOA21CD,LSOA21NM," + lad + "CD," + lad + "NM\r\n"
                           "E01012001,Trafford 001A,E08000009,Trafford\r\n"
                           "E01012002,Trafford 001B,E08000009,Trafford\r\n"
                           "W01000001,Ynys M\xC3\xB4n 001A,W06000001,Isle of Anglesey\r\n");
        const std::string manifest = dir.file("manifest_" + lad + ".json");
        write_text(manifest, R"({"boundaries": [{"path": ")" + fixture("lsoa21_tiny.geojson") +
                                 R"(", "level": "lsoa", "vintage": 2021}], "lookups": [{"path": ")" + lookup +
                                 R"(", "vintage": 2021}], "derive": [{"level": "lad", "vintage": 2021, "from": "lsoa"}]})");
        const std::string store = dir.file("store_" + lad + ".db");
        const auto summary = data::ingest_manifest(manifest, store);
        CHECK(summary.lookup_rows == 3);
        CHECK(summary.derived_boundaries == 2);
        auto db = data::open_store(store, false);
        const auto lads = areas_of(db, "lad", 2021);
        REQUIRE(lads.size() == 2);
        const auto* trafford = find_code(lads, "E08000009");
        REQUIRE(trafford);
        CHECK(trafford->name == "Trafford");
        CHECK(trafford->has_geometry);
    }
    (void)db_path;
}

TEST_CASE("lookups - an LSOA column of another census (lsoa11cd in a 2021 lookup) is not taken for the vintage") {
    temp_dir dir;
    const std::string lookup = dir.file("lookup.csv");
    write_text(lookup, "lsoa11cd,lsoa11nm,lad22cd\nE01006001,Trafford 001A,E08000009\n");
    const std::string manifest = dir.file("manifest.json");
    write_text(manifest, R"({"lookups": [{"path": ")" + lookup + R"(", "vintage": 2021}]})");
    try {
        data::ingest_manifest(manifest, dir.file("store.db"));
        FAIL("a 2011 LSOA column was taken as 2021");
    } catch (const smallarea::ingest_error& e) {
        const std::string message = e.what();
        CHECK(contains(message, "vintage year 21"));
        CHECK(contains(message, "lsoa11cd"));
    }
}

TEST_CASE("notes - districts whose LSOAs have household counts are not said to have no rates") {
    temp_dir dir;
    const std::string lookup = dir.file("lookup.csv");
    write_text(lookup, "lsoa21cd,lad22cd,lad22nm\nE01012001,E08000009,Trafford\nE01012002,E08000009,Trafford\n"
                       "W01000001,W06000001,Isle of Anglesey\n");
    const std::string manifest = tiny_manifest(dir);
    std::string text = read_text(manifest);
    text = replace_all(text, "\"denominators\"", "\"lookups\": [{\"path\": \"" + lookup +
                                                     "\", \"vintage\": 2021}], \"derive\": [{\"level\": \"lad\", "
                                                     "\"vintage\": 2021, \"from\": \"lsoa\"}],\n  \"denominators\"");
    write_text(manifest, text);
    const auto summary = data::ingest_manifest(manifest, dir.file("store.db"));
    for (const auto& note : summary.notes) {
        INFO(note);
        CHECK_FALSE(contains(note, "lad"));
    }
}

namespace {

const std::string real_fixtures = fixtures + "/real";

/// A manifest of one published dataset at the given level/vintage whose one file entry is `file_json` (paths
/// absolute) and whose measures are `measures_json`.
std::string one_dataset_manifest(const temp_dir& dir, const std::string& id, const std::string& level, int vintage,
                                 const std::string& file_json, const std::string& measures_json,
                                 const std::string& name = "manifest.json") {
    const std::string path = dir.file(name);
    write_text(path, R"({"datasets": [{"id": ")" + id + R"(", "title": "t", "publisher": "p", "licence": "Open Government Licence v3.0",
      "attribution": "a", "classification": "published", "level": ")" + level + R"(", "vintage": )" +
                         std::to_string(vintage) + R"(, "files": [)" + file_json + R"(], "measures": )" + measures_json +
                         "}]}");
    return path;
}

std::string refusal_of(const std::string& manifest, const std::string& db_path) {
    try {
        data::ingest_manifest(manifest, db_path);
    } catch (const smallarea::ingest_error& e) {
        return e.what();
    }
    return "(accepted)";
}

bool has_note(const data::ingest_summary& s, const std::string& text) {
    return std::any_of(s.notes.begin(), s.notes.end(), [&](const std::string& n) { return contains(n, text); });
}

const std::string claimants_measure =
    R"([{"id": "claimants", "title": "Claimants", "unit": "people", "column": "Claimant count", "source_names": ["Claimant count"]}])";

} // namespace

TEST_CASE("real layouts - a NOMIS web download: title block, mnemonic codes, period from the title, footnotes") {
    temp_dir dir;
    const std::string db_path = sample_store_in(dir);
    const std::string csv = real_fixtures + "/nomis_web_claimant_count_lsoa11_2017-09.csv";
    SUBCASE("as downloaded, the refusal names the title block and the fix") {
        const auto manifest = one_dataset_manifest(dir, "web", "lsoa", 2011, R"({"path": ")" + csv + R"(", "layout": "wide"})",
                                                   claimants_measure);
        const std::string before = store_state(db_path);
        const std::string message = refusal_of(manifest, db_path);
        CHECK(contains(message, "line 1:"));
        CHECK(contains(message, "lines 1-7 look like a NOMIS title block; the table starts at line 9"));
        CHECK(contains(message, "\"skip_lines\": 8"));
        CHECK(store_state(db_path) == before);
    }
    SUBCASE("without end_at_blank_line the footnote line is named as such") {
        const auto manifest = one_dataset_manifest(dir, "web", "lsoa", 2011,
                                                   R"({"path": ")" + csv + R"(", "layout": "wide", "skip_lines": 8})",
                                                   claimants_measure);
        const std::string message = refusal_of(manifest, db_path);
        CHECK(contains(message, "line 17:"));
        CHECK(contains(message, "footnotes"));
    }
    for (const std::string skip : {"8", "\"detect\""}) {
        CAPTURE(skip);
        const auto manifest = one_dataset_manifest(
            dir, "web", "lsoa", 2011,
            R"({"path": ")" + csv + R"(", "layout": "wide", "skip_lines": )" + skip + R"(, "end_at_blank_line": true})",
            claimants_measure);
        const auto summary = data::ingest_manifest(manifest, db_path);
        CHECK(summary.observation_rows == 6);
        CHECK(has_note(summary, "period 2017-09 from the title block (line 7)"));
        CHECK(has_note(summary, "footnotes from line 17 not read"));
        auto db = data::open_store(db_path, false);
        // The same numbers as the sample's own September 2017 file.
        CHECK(observations_by_code(db, "web", "claimants", "2017-09") ==
              std::map<std::string, std::int64_t>{{"E01005098", 40}, {"E01005099", 55}, {"E01005100", 25},
                                                  {"E01006109", 50}, {"E01006110", 25}, {"E01006116", 10}});
    }
}

TEST_CASE("real layouts - a NOMIS API file with gender and measures dimensions: the duplicate names the column, where picks one") {
    temp_dir dir;
    const std::string db_path = sample_store_in(dir);
    const std::string csv = real_fixtures + "/nomis_api_claimant_count_gender_measures.data.csv";
    SUBCASE("without where: the extra dimension is named") {
        const auto manifest = one_dataset_manifest(dir, "api", "lsoa", 2011, R"({"path": ")" + csv + R"("})", claimants_measure);
        const std::string message = refusal_of(manifest, db_path);
        CHECK(contains(message, "line 3:"));
        CHECK(contains(message, "duplicate row for area E01005098"));
        CHECK(contains(message, "MEASURES_NAME (Value vs Percent)"));
        CHECK_FALSE(contains(message, "URN"));
        CHECK(contains(message, R"("where": {"MEASURES_NAME": "Value"})"));
    }
    SUBCASE("measures filtered but not gender: GENDER_NAME is named") {
        const auto manifest = one_dataset_manifest(
            dir, "api", "lsoa", 2011, R"({"path": ")" + csv + R"(", "where": {"MEASURES_NAME": "Value"}})", claimants_measure);
        const std::string message = refusal_of(manifest, db_path);
        CHECK(contains(message, "GENDER_NAME (Total vs Male)"));
    }
    SUBCASE("a where column that is not in the file") {
        const auto manifest = one_dataset_manifest(
            dir, "api", "lsoa", 2011, R"({"path": ")" + csv + R"(", "where": {"SEX_NAME": "Total"}})", claimants_measure);
        CHECK(contains(refusal_of(manifest, db_path), "no column \"SEX_NAME\""));
    }
    for (const std::string gender : {"Total", "Female"}) {
        CAPTURE(gender);
        const auto manifest = one_dataset_manifest(
            dir, "api", "lsoa", 2011,
            R"({"path": ")" + csv + R"(", "where": {"GENDER_NAME": ")" + gender + R"(", "MEASURES_NAME": "Value"}})",
            claimants_measure);
        const auto summary = data::ingest_manifest(manifest, db_path);
        CHECK(summary.observation_rows == 6);
        CHECK(has_note(summary, "30 rows left out by \"where\""));
        auto db = data::open_store(db_path, false);
        const auto stored = observations_by_code(db, "api", "claimants", "2017-09");
        if (gender == "Total") {
            CHECK(stored == std::map<std::string, std::int64_t>{{"E01005098", 40}, {"E01005099", 55}, {"E01005100", 25},
                                                                {"E01006109", 50}, {"E01006110", 25}, {"E01006116", 10}});
        } else {
            CHECK(stored == std::map<std::string, std::int64_t>{{"E01005098", 15}, {"E01005099", 20}, {"E01005100", 10},
                                                                {"E01006109", 20}, {"E01006110", 10}, {"E01006116", 5}});
        }
    }
}

TEST_CASE("real layouts - a Stat-Xplore export: names, months as columns, markers, separators, Total row and column") {
    temp_dir dir;
    const std::string db_path = sample_store_in(dir);
    const std::string csv = real_fixtures + "/statxplore_uc_people_lsoa11_months.csv";
    const std::string uc = R"([{"id": "people", "title": "People on UC", "unit": "people"}])";
    const std::string area = R"x("columns": {"area": "Lower Layer Super Output Areas (2011)"})x";
    auto file = [&](const std::string& extra) {
        return R"({"path": ")" + csv + R"(", "layout": "periods_as_columns", )" + area + extra + "}";
    };
    SUBCASE("as downloaded, the title block is named as Stat-Xplore's") {
        const auto manifest = one_dataset_manifest(dir, "sx", "lsoa", 2011, file(""), uc);
        CHECK(contains(refusal_of(manifest, db_path), "lines 1-8 look like a Stat-Xplore title block; the table starts at line 10"));
    }
    SUBCASE("names without area_names") {
        const auto manifest = one_dataset_manifest(dir, "sx", "lsoa", 2011, file(R"(, "skip_lines": "detect", "end_at_blank_line": true)"), uc);
        CHECK(contains(refusal_of(manifest, db_path), "set \"area_names\": true"));
    }
    SUBCASE("the suppression marker unconfigured is named as Stat-Xplore's") {
        const auto manifest = one_dataset_manifest(
            dir, "sx", "lsoa", 2011,
            file(R"(, "skip_lines": "detect", "end_at_blank_line": true, "area_names": true, "drop_totals": true, "thousands_separator": true, "zero": ["-"])"), uc);
        const std::string message = refusal_of(manifest, db_path);
        CHECK(contains(message, "line 12:"));
        CHECK(contains(message, "Stat-Xplore's and ONS's suppression marker"));
    }
    SUBCASE("the thousands separator unconfigured") {
        const auto manifest = one_dataset_manifest(
            dir, "sx", "lsoa", 2011, file(R"(, "skip_lines": "detect", "end_at_blank_line": true, "area_names": true)"), uc);
        const std::string message = refusal_of(manifest, db_path);
        CHECK(contains(message, "line 11:"));
        CHECK(contains(message, "thousands_separator"));
    }
    SUBCASE("a Total row unconfigured") {
        const auto manifest = one_dataset_manifest(
            dir, "sx", "lsoa", 2011,
            file(R"(, "skip_lines": "detect", "end_at_blank_line": true, "area_names": true, "thousands_separator": true, "suppressed": [".."], "zero": ["-"])"), uc);
        const std::string message = refusal_of(manifest, db_path);
        CHECK(contains(message, "line 17:"));
        CHECK(contains(message, "drop_totals"));
    }
    SUBCASE("configured as the publisher defines its markers") {
        const auto manifest = one_dataset_manifest(
            dir, "sx", "lsoa", 2011,
            file(R"(, "skip_lines": "detect", "end_at_blank_line": true, "area_names": true, "drop_totals": true, "thousands_separator": true, "suppressed": [".."], "zero": ["-"])"), uc);
        const auto summary = data::ingest_manifest(manifest, db_path);
        CHECK(summary.observation_rows == 12);
        CHECK(has_note(summary, "1 Total rows dropped"));
        CHECK(has_note(summary, "2 cells marked \"..\" stored as suppressed"));
        CHECK(has_note(summary, "1 cells marked \"-\" stored as 0"));
        auto db = data::open_store(db_path, false);
        // -1: no value (the publisher suppressed it)
        CHECK(observations_by_code(db, "sx", "people", "2024-08") ==
              std::map<std::string, std::int64_t>{{"E01005098", 1030}, {"E01005099", -1}, {"E01005100", 0},
                                                  {"E01006109", 85}, {"E01006110", 40}, {"E01006116", 1205}});
        CHECK(observations_by_code(db, "sx", "people", "2024-09") ==
              std::map<std::string, std::int64_t>{{"E01005098", 1045}, {"E01005099", 12}, {"E01005100", 5},
                                                  {"E01006109", 90}, {"E01006110", -1}, {"E01006116", 1190}});
    }
}

TEST_CASE("real layouts - a NOMIS Census 2021 bulk zip: member by name, national rows filtered to the store") {
    temp_dir dir;
    const std::string boundaries = shared_data + "/boundaries/local/2021/oa21_bgc_trafford_E08000009.geojson";
    const std::string base = dir.file("base.json");
    write_text(base, R"({"boundaries": [{"path": ")" + boundaries + R"(", "level": "oa", "vintage": 2021}]})");
    const std::string db_path = dir.file("store.db");
    data::ingest_manifest(base, db_path);
    const std::string zip = real_fixtures + "/census2021-ts001.zip";
    const std::string measures =
        R"([{"id": "residents", "column": "Residence type: Total; measures: Value"},
            {"id": "in_households", "column": "Residence type: Lives in a household; measures: Value"},
            {"id": "in_communal", "column": "Residence type: Lives in a communal establishment; measures: Value"}])";
    SUBCASE("a zip given where a CSV is expected says so, not \"NUL byte\"") {
        const std::string manifest = dir.file("denominators.json");
        write_text(manifest, R"({"denominators": [{"path": ")" + zip +
                                 R"(", "level": "oa", "vintage": 2021, "measures": {"residents": "x"}}]})");
        const std::string message = refusal_of(manifest, db_path);
        CHECK(contains(message, "is a zip archive"));
        CHECK_FALSE(contains(message, "NUL"));
    }
    SUBCASE("a zip of several CSVs without a member lists them") {
        const auto manifest = one_dataset_manifest(dir, "ts001", "oa", 2021, R"({"path": ")" + zip + R"(", "layout": "wide"})", measures);
        const std::string message = refusal_of(manifest, db_path);
        CHECK(contains(message, "name one with \"member\""));
        CHECK(contains(message, "census2021-ts001-oa.csv"));
    }
    SUBCASE("the first area outside the store is refused, naming outside_store") {
        const auto manifest = one_dataset_manifest(
            dir, "ts001", "oa", 2021, R"({"path": ")" + zip + R"(", "member": "census2021-ts001-oa.csv", "layout": "wide"})", measures);
        const std::string message = refusal_of(manifest, db_path);
        CHECK(contains(message, "census2021-ts001.zip/census2021-ts001-oa.csv, line 2:"));
        CHECK(contains(message, "E00025605"));
        CHECK(contains(message, "\"outside_store\": \"skip\""));
    }
    SUBCASE("outside_store skip: counted, reported, the Trafford rows stored value by value") {
        const auto manifest = one_dataset_manifest(
            dir, "ts001", "oa", 2021,
            R"({"path": ")" + zip + R"(", "member": "census2021-ts001-oa.csv", "layout": "wide", "outside_store": "skip"})", measures);
        const auto summary = data::ingest_manifest(manifest, db_path);
        CHECK(summary.observation_rows == 12);
        CHECK(summary.skipped_rows == 3);
        CHECK(has_note(summary, "3 rows for areas outside the store skipped (first: E00025605 (line 2))"));
        auto db = data::open_store(db_path, false);
        CHECK(observations_by_code(db, "ts001", "residents", "2021") ==
              std::map<std::string, std::int64_t>{{"E00030771", 344}, {"E00030772", 305}, {"E00030773", 264}, {"E00030774", 285}});
        CHECK(observations_by_code(db, "ts001", "in_communal", "2021") ==
              std::map<std::string, std::int64_t>{{"E00030771", 0}, {"E00030772", 2}, {"E00030773", 1}, {"E00030774", 0}});
    }
}

TEST_CASE("hostile markers - bad marker and option configurations are refused before the store is touched") {
    temp_dir dir;
    const std::string db_path = sample_store_in(dir);
    const std::string csv = real_fixtures + "/statxplore_uc_people_lsoa11_months.csv";
    auto refused = [&](const std::string& extra, const std::string& what) {
        const auto manifest = one_dataset_manifest(dir, "sx", "lsoa", 2011,
                                                   R"({"path": ")" + csv + R"(", "layout": "periods_as_columns")" + extra + "}",
                                                   R"([{"id": "people"}])");
        const std::string before = store_state(db_path);
        const std::string message = refusal_of(manifest, db_path);
        INFO(message);
        CHECK(contains(message, what));
        CHECK(store_state(db_path) == before);
    };
    refused(R"(, "suppressed": ["0"])", "is a number");
    refused(R"(, "suppressed": [""])", "empty");
    refused(R"(, "suppressed": ["-"], "zero": ["-"])", "both");
    refused(R"(, "zero": ["5"])", "\"zero\" marker must be text");
    refused(R"(, "suppressed": "..")", "array of strings");
    refused(R"(, "skip_lines": -1)", "skip_lines");
    refused(R"(, "skip_lines": "auto")", "skip_lines");
    refused(R"(, "outside_store": "ignore")", "outside_store");
    refused(R"(, "member": "a.csv")", "only for a .zip");
    refused(R"(, "where": {"GENDER_NAME": 1})", "must be a string");
}

TEST_CASE("hostile names - an ambiguous area name is refused with the line and the candidate codes") {
    temp_dir dir;
    const std::string geojson = dir.file("twins.geojson");
    std::string text = read_text(fixture("lsoa21_tiny.geojson"));
    text = replace_all(text, "Trafford 001B", "Trafford 001A");
    write_text(geojson, text);
    const std::string base = dir.file("base.json");
    write_text(base, R"({"boundaries": [{"path": ")" + geojson + R"(", "level": "lsoa", "vintage": 2021}]})");
    const std::string db_path = dir.file("store.db");
    data::ingest_manifest(base, db_path);
    const std::string csv = dir.file("names.csv");
    write_text(csv, "area,value\nYnys M\xC3\xB4n 001A,5\nTrafford 001A,10\n");
    const auto manifest = one_dataset_manifest(
        dir, "names", "lsoa", 2021,
        R"({"path": ")" + csv + R"(", "layout": "wide", "period": "2024-09", "area_names": true, "columns": {"area": "area"}})",
        R"([{"id": "value"}])");
    const std::string before = store_state(db_path);
    const std::string message = refusal_of(manifest, db_path);
    CHECK(contains(message, "names.csv, line 3:"));
    CHECK(contains(message, "ambiguous"));
    CHECK(contains(message, "E01012001, E01012002"));
    CHECK(store_state(db_path) == before);
}

namespace {

/// inspect, then ingest what it wrote as it is; the id of the one dataset ingested.
std::string inspect_then_ingest(const temp_dir& dir, const std::vector<std::string>& files, const std::string& db_path,
                                data::inspect_report& report) {
    report = data::inspect_files(files, db_path);
    const std::string manifest = dir.file("inspected.json");
    write_text(manifest, report.manifest);
    INFO(report.manifest);
    const auto summary = data::ingest_manifest(manifest, db_path);
    REQUIRE(summary.datasets.size() == 1);
    const std::string entry = summary.datasets.front();
    return entry.substr(0, entry.find(' '));
}

std::string all_findings(const data::inspect_report& r) {
    std::string out;
    for (const auto& f : r.findings) out += f + "\n";
    return out;
}

const std::map<std::string, std::int64_t> september_2017 = {{"E01005098", 40}, {"E01005099", 55}, {"E01005100", 25},
                                                            {"E01006109", 50}, {"E01006110", 25}, {"E01006116", 10}};

} // namespace

TEST_CASE("inspect - each publisher's download becomes a manifest that ingests as it is, value by value") {
    temp_dir dir;
    data::inspect_report report;
    SUBCASE("NOMIS web download") {
        const std::string db_path = sample_store_in(dir);
        const auto id = inspect_then_ingest(dir, {real_fixtures + "/nomis_web_claimant_count_lsoa11_2017-09.csv"}, db_path, report);
        const auto found = all_findings(report);
        INFO(found);
        CHECK(contains(found, "NOMIS web download"));
        CHECK(contains(found, "lines 1-7 are a title block; the table starts at line 9"));
        CHECK(contains(found, "lsoa 2011"));
        CHECK(contains(report.manifest, "\"skip_lines\": 8"));
        auto db = data::open_store(db_path, false);
        CHECK(observations_by_code(db, id, "claimant_count", "2017-09") == september_2017);
    }
    SUBCASE("NOMIS API file with extra dimensions: Total and Value chosen, the other values named") {
        const std::string db_path = sample_store_in(dir);
        const auto id = inspect_then_ingest(dir, {real_fixtures + "/nomis_api_claimant_count_gender_measures.data.csv"}, db_path, report);
        CHECK(contains(report.manifest, "\"GENDER_NAME\": \"Total\""));
        CHECK(contains(report.manifest, "\"MEASURES_NAME\": \"Value\""));
        CHECK(contains(report.manifest, "GENDER_NAME: Total chosen (also in the file: Male, Female)"));
        auto db = data::open_store(db_path, false);
        CHECK(observations_by_code(db, id, "claimant_count", "2017-09") == september_2017);
    }
    SUBCASE("Stat-Xplore export: names resolved, markers and totals configured") {
        const std::string db_path = sample_store_in(dir);
        const auto id = inspect_then_ingest(dir, {real_fixtures + "/statxplore_uc_people_lsoa11_months.csv"}, db_path, report);
        const auto found = all_findings(report);
        INFO(found);
        CHECK(contains(found, "Stat-Xplore export: area names"));
        CHECK(contains(report.manifest, "\"area_names\": true"));
        CHECK(contains(report.manifest, "\"suppressed\""));
        auto db = data::open_store(db_path, false);
        CHECK(observations_by_code(db, id, "people", "2024-08") ==
              std::map<std::string, std::int64_t>{{"E01005098", 1030}, {"E01005099", -1}, {"E01005100", 0},
                                                  {"E01006109", 85}, {"E01006110", 40}, {"E01006116", 1205}});
    }
    SUBCASE("Stat-Xplore XLSX export: the sheet named in the manifest") {
        const std::string db_path = sample_store_in(dir);
        const auto id = inspect_then_ingest(dir, {real_fixtures + "/statxplore_uc_people_lsoa11_months.xlsx"}, db_path, report);
        CHECK(contains(report.manifest, "\"sheet\": \"People on UC\""));
        auto db = data::open_store(db_path, false);
        CHECK(observations_by_code(db, id, "people", "2024-09") ==
              std::map<std::string, std::int64_t>{{"E01005098", 1045}, {"E01005099", 12}, {"E01005100", 5},
                                                  {"E01006109", 90}, {"E01006110", -1}, {"E01006116", 1190}});
    }
    SUBCASE("NOMIS Census bulk zip: the OA member chosen by the store's codes, outside rows skipped") {
        const std::string base = dir.file("base.json");
        write_text(base, R"({"boundaries": [{"path": ")" + shared_data +
                             R"(/boundaries/local/2021/oa21_bgc_trafford_E08000009.geojson", "level": "oa", "vintage": 2021}]})");
        const std::string db_path = dir.file("store.db");
        data::ingest_manifest(base, db_path);
        const auto id = inspect_then_ingest(dir, {real_fixtures + "/census2021-ts001.zip"}, db_path, report);
        const auto found = all_findings(report);
        INFO(found);
        CHECK(contains(found, "member census2021-ts001-oa.csv chosen"));
        CHECK(contains(found, "3 of 7 areas are outside the store"));
        auto db = data::open_store(db_path, false);
        CHECK(observations_by_code(db, id, "residence_type_total_measures_value", "2021") ==
              std::map<std::string, std::int64_t>{{"E00030771", 344}, {"E00030772", 305}, {"E00030773", 264}, {"E00030774", 285}});
    }
    SUBCASE("ONS boundary change lookup and the Trafford postcode extract: crosswalks and postcodes entries that ingest") {
        const std::string db_path = dir.file("store.db");
        write_text(dir.file("base.json"), R"({"boundaries": [{"path": ")" + sample_dir + R"(/boundaries/oa11_manchester_trafford.geojson",
          "level": "oa", "vintage": 2011, "code_field": "OA11CD"}, {"path": ")" + sample_dir +
                                              R"(/boundaries/lsoa11_manchester_trafford.geojson", "level": "lsoa", "vintage": 2011,
          "code_field": "LSOA11CD"}]})");
        data::ingest_manifest(dir.file("base.json"), db_path);
        report = data::inspect_files({shared_data + "/lookups/lsoa11_lsoa21_lad22_ew.csv.gz",
                                      shared_data + "/postcodes/trafford_postcodes_onspd_2025-02.csv"}, db_path);
        const auto found = all_findings(report);
        INFO(found);
        CHECK(contains(found, "ONS boundary change lookup (lsoa 2011 -> 2021"));
        CHECK(contains(found, "a \"postcodes\" entry, vintage 2011 from the store's OAs"));
        const auto m = nlohmann::json::parse(report.manifest);
        CHECK(m["crosswalks"][0]["level"] == "lsoa");
        CHECK(m["crosswalks"][0]["from"] == 2011);
        CHECK(m["crosswalks"][0]["to"] == 2021);
        CHECK_FALSE(m.contains("lookups")); // a change lookup is not a hierarchy
        CHECK(m["postcodes"][0]["vintage"] == 2011);
        const std::string manifest = dir.file("inspected.json");
        write_text(manifest, report.manifest);
        const auto summary = data::ingest_manifest(manifest, db_path);
        CHECK(summary.postcodes + summary.postcodes_outside == 11264);
        auto db = data::open_store(db_path, false);
        CHECK(scalar(db, "SELECT count(DISTINCT from_area) FROM crosswalks") == 420); // the store's 2011 LSOAs
    }
    SUBCASE("ONS lookup with LAD22CD and boundaries: both entries ingest") {
        const std::string lookup = dir.file("LSOA21_LAD22_EW_LU.csv");
        write_text(lookup, "LSOA21CD,LSOA21NM,LAD22CD,LAD22NM\r\nE01012001,Trafford 001A,E08000009,Trafford\r\n"
                           "E01012002,Trafford 001B,E08000009,Trafford\r\n");
        report = data::inspect_files({fixture("lsoa21_tiny.geojson"), lookup}, "");
        const auto found = all_findings(report);
        INFO(found);
        CHECK(contains(found, "ONS boundaries: 3 lsoa features, code field lsoa21cd"));
        CHECK(contains(found, "ONS lookup: columns LSOA21CD, LSOA21NM, LAD22CD, LAD22NM; vintage 2021"));
        const std::string manifest = dir.file("inspected.json");
        write_text(manifest, report.manifest);
        const auto summary = data::ingest_manifest(manifest, dir.file("fresh.db"));
        CHECK(summary.features == 3);
        CHECK(summary.lookup_rows == 2);
    }
}

TEST_CASE("real layouts - a Stat-Xplore XLSX export: the sheet by name through GDAL's XLSX driver, same values as the CSV") {
    temp_dir dir;
    const std::string db_path = sample_store_in(dir);
    const std::string xlsx = real_fixtures + "/statxplore_uc_people_lsoa11_months.xlsx";
    auto manifest_for = [&](const std::string& sheet) {
        return one_dataset_manifest(
            dir, "sx", "lsoa", 2011,
            R"x({"path": ")x" + xlsx + R"x(", "sheet": ")x" + sheet +
                R"x(", "layout": "periods_as_columns", "columns": {"area": "Lower Layer Super Output Areas (2011)"},
                "skip_lines": "detect", "end_at_blank_line": true, "area_names": true, "drop_totals": true,
                "suppressed": [".."], "zero": ["-"]})x",
            R"([{"id": "people"}])");
    };
    SUBCASE("an unknown sheet is refused, listing the sheets") {
        CHECK(contains(refusal_of(manifest_for("Sheet1"), db_path), "no sheet named \"Sheet1\" (sheets: People on UC)"));
    }
    SUBCASE("the sheet ingests with the CSV export's values") {
        const auto summary = data::ingest_manifest(manifest_for("People on UC"), db_path);
        CHECK(summary.observation_rows == 12);
        CHECK(has_note(summary, "2 cells marked \"..\""));
        auto db = data::open_store(db_path, false);
        CHECK(observations_by_code(db, "sx", "people", "2024-08") ==
              std::map<std::string, std::int64_t>{{"E01005098", 1030}, {"E01005099", -1}, {"E01005100", 0},
                                                  {"E01006109", 85}, {"E01006110", 40}, {"E01006116", 1205}});
        CHECK(observations_by_code(db, "sx", "people", "2024-09") ==
              std::map<std::string, std::int64_t>{{"E01005098", 1045}, {"E01005099", 12}, {"E01005100", 5},
                                                  {"E01006109", 90}, {"E01006110", -1}, {"E01006116", 1190}});
    }
    SUBCASE("sheet on a CSV path is refused") {
        const auto manifest = one_dataset_manifest(dir, "sx", "lsoa", 2011,
                                                   R"({"path": "/tmp/x.csv", "sheet": "People on UC"})", R"([{"id": "people"}])");
        CHECK(contains(refusal_of(manifest, db_path), "only for an .xlsx path"));
    }
}

TEST_CASE("suppressed cells - a publisher's marker is stored as suppressed, an empty cell as no value (schema v4)") {
    temp_dir dir;
    const std::string db_path = sample_store_in(dir);
    const std::string csv = dir.file("marked.csv");
    write_text(csv, "lsoa11cd,value\nE01005098,..\nE01005099,\nE01005100,15\n");
    const auto manifest = one_dataset_manifest(
        dir, "marked", "lsoa", 2011, R"({"path": ")" + csv + R"(", "layout": "wide", "period": "2024-09", "suppressed": [".."]})",
        R"([{"id": "value"}])");
    data::ingest_manifest(manifest, db_path);
    auto db = data::open_store(db_path, false);
    CHECK(schema_version_of(db) == data::schema_version);
    std::map<std::int64_t, std::string> code_of;
    for (const auto& a : data::load_areas(db)) code_of[a.id] = a.code;
    std::map<std::string, std::string> seen;
    for (const auto& o : data::load_observations(db, "marked", "value", "2024-09")) {
        seen[code_of.at(o.area_id)] = o.suppressed ? "suppressed" : o.value ? std::to_string(*o.value) : "missing";
    }
    CHECK(seen == std::map<std::string, std::string>{{"E01005098", "suppressed"}, {"E01005099", "missing"}, {"E01005100", "15"}});
}

TEST_CASE("revisions - a re-published period whose figures changed is marked revised; unchanged and new ones are not (schema v6)") {
    temp_dir dir;
    const std::string db_path = sample_store_in(dir);
    const auto month = [&](const std::string& period, const std::string& rows) {
        const std::string csv = dir.file("m" + period + "_" + std::to_string(fnv1a(rows)) + ".csv");
        write_text(csv, "lsoa11cd,value\n" + rows);
        return R"({"path": ")" + csv + R"(", "layout": "wide", "period": ")" + period + R"(", "suppressed": [".."]})";
    };
    const std::string august = month("2024-08", "E01005098,10\nE01005099,20\n");
    const std::string september = month("2024-09", "E01005098,30\nE01005099,40\n");
    const auto ingest = [&](const std::vector<std::string>& files) {
        std::string list;
        for (const auto& f : files) list += (list.empty() ? "" : ", ") + f;
        return data::ingest_manifest(one_dataset_manifest(dir, "monthly", "lsoa", 2011, list, R"([{"id": "value"}])"), db_path);
    };
    const auto revisions = [&] {
        auto db = data::open_store(db_path, false);
        for (const auto& d : data::load_datasets(db)) {
            if (d.id == "monthly") return d.revisions;
        }
        FAIL("dataset monthly not in the store");
        return std::map<std::string, data::period_revision>{};
    };

    const auto first = ingest({august, september});
    const std::int64_t r1 = first.release;
    auto before = revisions();
    REQUIRE(before.size() == 2);
    CHECK(before.at("2024-08").first_release == r1);
    CHECK(before.at("2024-08").revision == 0);
    CHECK(before.at("2024-09").revised_at.empty());

    SUBCASE("the publisher revises September and adds October: September revised, August not, October new") {
        const auto second = ingest({august, month("2024-09", "E01005098,30\nE01005099,45\n"), month("2024-10", "E01005098,50\n")});
        const std::int64_t r2 = second.release;
        REQUIRE(r2 == r1 + 1);
        const auto after = revisions();
        REQUIRE(after.size() == 3);
        CHECK(after.at("2024-08").release == r1);
        CHECK(after.at("2024-08").revision == 0);
        CHECK(after.at("2024-09").first_release == r1);
        CHECK(after.at("2024-09").release == r2);
        CHECK(after.at("2024-09").revision == 1);
        CHECK(after.at("2024-09").revised_at.size() >= 10);
        CHECK(after.at("2024-10").first_release == r2);
        CHECK(after.at("2024-10").revision == 0);
        CHECK(has_note(second, "monthly: period 2024-09 revised (revision 1"));
        CHECK_FALSE(has_note(second, "period 2024-08 revised"));

        SUBCASE("the same files again change nothing: September stays at revision 1 from the release that changed it") {
            const auto third = ingest({august, month("2024-09", "E01005098,30\nE01005099,45\n"), month("2024-10", "E01005098,50\n")});
            const auto again = revisions();
            CHECK(again.at("2024-09").revision == 1);
            CHECK(again.at("2024-09").release == r2);
            CHECK(again.at("2024-10").release == r2);
            CHECK_FALSE(has_note(third, "revised"));
        }
    }
    SUBCASE("a cell that becomes suppressed, or a value that disappears, is a revision too") {
        ingest({month("2024-08", "E01005098,..\nE01005099,20\n"), month("2024-09", "E01005098,30\n")});
        const auto after = revisions();
        CHECK(after.at("2024-08").revision == 1);
        CHECK(after.at("2024-09").revision == 1);
    }
    SUBCASE("a store from schema v4 (no period table) migrates: its periods read as first published in their release") {
        SMALLAREA_SQLITE_ONLY("schema versions of SQLite files (a PostgreSQL store is made at the current one)");
        {
            auto db = data::open_store(db_path, true);
            db.exec("DROP TABLE dataset_periods");
            db.exec("PRAGMA user_version = 4");
        }
        // A write migrates; the existing datasets then have no period rows until they are re-ingested.
        const auto second = ingest({august, month("2024-09", "E01005098,31\nE01005099,40\n")});
        auto db = data::open_store(db_path, false);
        CHECK(schema_version_of(db) == data::schema_version);
        for (const auto& d : data::load_datasets(db)) {
            if (d.id == "monthly") {
                CHECK(d.revisions.at("2024-08").revision == 0);
                CHECK(d.revisions.at("2024-08").first_release == r1);
                CHECK(d.revisions.at("2024-09").revision == 1);
                CHECK(d.revisions.at("2024-09").release == second.release);
            } else {
                CHECK(d.revisions.empty());
            }
        }
    }
}

TEST_CASE("revisions of internal MI - a raw change that rounding hides is no revision; the flag follows served figures") {
    // The "revised" flag is served to everyone who may see the dataset; if it followed raw cells, a revision
    // with unchanged rounded figures would tell a partner that an internal count moved inside its rounding band.
    temp_dir dir;
    const std::string db_path = sample_store_in(dir);
    const auto ingest = [&](const std::string& rows, int rounding_base) {
        const std::string csv = dir.file("mi_" + std::to_string(fnv1a(rows)) + ".csv");
        write_text(csv, "oa11cd,period,measure,value\n" + rows);
        const std::string manifest = dir.file("mi.json");
        write_text(manifest, R"({"datasets": [{"id": "mi", "title": "t", "publisher": "p", "licence": "internal", "attribution": "a",
          "classification": "internal", "level": "oa", "vintage": 2011,
          "disclosure": {"rounding_base": )" + std::to_string(rounding_base) + R"(, "suppression_threshold": 20},
          "files": [{"path": ")" + csv + R"(", "layout": "long",
                     "columns": {"period": "period", "area": "oa11cd", "measure": "measure", "value": "value"}}],
          "measures": [{"id": "referrals", "kind": "count"},
                       {"id": "outcome_a", "kind": "percent_only", "percent_of": "outcomes"},
                       {"id": "outcome_b", "kind": "percent_only", "percent_of": "outcomes"},
                       {"id": "outcomes", "kind": "percent_base", "sum_of": ["outcome_a", "outcome_b"]}]}]})");
        return data::ingest_manifest(manifest, db_path);
    };
    const auto revision_of = [&](const std::string& period) {
        auto db = data::open_store(db_path, false);
        for (const auto& d : data::load_datasets(db)) {
            if (d.id == "mi") return d.revisions.at(period).revision;
        }
        FAIL("dataset mi not in the store");
        return std::int64_t{-1};
    };
    // E00026358 rounds 31 -> 40 and 5 -> 0 (hidden: below 20); outcomes give a percentage of 3 in 10.
    const std::string base = "E00026358,2024-08,referrals,31\nE00026359,2024-08,referrals,5\n"
                             "E00026358,2024-08,outcome_a,3\nE00026358,2024-08,outcome_b,7\n"
                             "E00026358,2024-09,referrals,31\n";
    ingest(base, 20);
    REQUIRE(revision_of("2024-08") == 0);

    SUBCASE("31 -> 39 (both served as 40) and 5 -> 9 (both hidden) revise nothing") {
        const auto second = ingest("E00026358,2024-08,referrals,39\nE00026359,2024-08,referrals,9\n"
                                   "E00026358,2024-08,outcome_a,3\nE00026358,2024-08,outcome_b,7\n"
                                   "E00026358,2024-09,referrals,30\n",
                                   20);
        CHECK(revision_of("2024-08") == 0);
        CHECK(revision_of("2024-09") == 0);
        CHECK_FALSE(has_note(second, "revised"));
    }
    SUBCASE("31 -> 50 (served 40 -> 60) is a revision of that period only") {
        ingest("E00026358,2024-08,referrals,50\nE00026359,2024-08,referrals,5\n"
               "E00026358,2024-08,outcome_a,3\nE00026358,2024-08,outcome_b,7\n"
               "E00026358,2024-09,referrals,31\n",
               20);
        CHECK(revision_of("2024-08") == 1);
        CHECK(revision_of("2024-09") == 0);
    }
    SUBCASE("a hidden cell that becomes served (9 -> 10 rounds to 20) is a revision") {
        ingest("E00026358,2024-08,referrals,31\nE00026359,2024-08,referrals,10\n"
               "E00026358,2024-08,outcome_a,3\nE00026358,2024-08,outcome_b,7\n"
               "E00026358,2024-09,referrals,31\n",
               20);
        CHECK(revision_of("2024-08") == 1);
    }
    SUBCASE("the same raw cells re-rounded to another base are revised where the served figure moves") {
        ingest(base, 10); // 31 -> 30 (was 40); September 31 -> 30 too
        CHECK(revision_of("2024-08") == 1);
        CHECK(revision_of("2024-09") == 1);
    }
    SUBCASE("percentage-only figures are compared raw: 3 and 7 -> 6 and 14 moves no cell's percentage but would move a "
            "percentage over several cells, and 'changed' holds for every common multiple of the figures") {
        ingest("E00026358,2024-08,referrals,31\nE00026359,2024-08,referrals,5\n"
               "E00026358,2024-08,outcome_a,6\nE00026358,2024-08,outcome_b,14\n"
               "E00026358,2024-09,referrals,31\n",
               20);
        CHECK(revision_of("2024-08") == 1);
    }
}

TEST_CASE("hostile files - a CSV renamed .xlsx and a truncated zip are refused by name, the store untouched") {
    temp_dir dir;
    const std::string db_path = sample_store_in(dir);
    const std::string hostile = fixtures + "/hostile";
    for (const auto& [file, what] : std::vector<std::pair<std::string, std::string>>{
             {"statxplore_csv_renamed.xlsx", "cannot read as an XLSX workbook"}, {"census_truncated.zip", "zip"}}) {
        CAPTURE(file);
        const auto manifest = one_dataset_manifest(dir, "h", "lsoa", 2011, R"({"path": ")" + hostile + "/" + file + R"(", "layout": "wide", "period": "2024"})",
                                                   R"([{"id": "people"}])");
        const std::string before = store_state(db_path);
        const std::string message = refusal_of(manifest, db_path);
        CHECK(contains(message, file));
        CHECK(contains(message, what));
        CHECK(store_state(db_path) == before);
    }
}
