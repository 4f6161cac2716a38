// test_postcodes: the postcode reader (data/ingest/postcodes.cpp) on the real Trafford postcode file and the
// bundled sample, checked against an independent computation with GDAL's OGR API (OGRGeometry::Contains on the OA
// boundary file as GDAL reads it, not the store's geometry or our R-tree), an ONSPD-layout fixture (oa11, doterm),
// and refusals of bad files with the file, the line and the store untouched.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include "core/error.hpp"
#include "data/ingest.hpp"
#include "data/postcodes.hpp"
#include "data/sqlite.hpp"
#include "data/store.hpp"
#include "test_support.hpp"

#include <gdal_priv.h>
#include <ogrsf_frmts.h>

#include <filesystem>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

namespace data = smallarea::data;
using namespace test_support;

namespace {

const std::string shared_data = SMALLAREA_SHARED_DATA;
const std::string source_dir = SMALLAREA_SOURCE_DIR;
const std::string sample_dir = source_dir + "/data/sample";
const std::string fixtures = source_dir + "/tests/fixtures/postcodes";
const std::string trafford_postcodes = shared_data + "/postcodes/trafford_postcodes_onspd_2025-02.csv";
const std::string sample_oas = sample_dir + "/boundaries/oa11_manchester_trafford.geojson";

/// A manifest in dir with the sample's OA and LSOA boundaries and lookup, plus `extra` sections (JSON text).
std::string manifest_with(const temp_dir& dir, const std::string& extra, const std::string& name = "manifest.json") {
    const std::string text = "{\"boundaries\": [{\"path\": \"" + sample_oas + "\", \"level\": \"oa\", \"vintage\": 2011, \"code_field\": \"OA11CD\"}],"
                             " \"lookups\": [{\"path\": \"" + sample_dir + "/lookups/oa11_lsoa11_lad11_manchester_trafford.csv\", \"vintage\": 2011}]" +
                             (extra.empty() ? "" : ", " + extra) + "}";
    const std::string path = dir.file(name);
    write_text(path, text);
    return path;
}

/// The sample's boundaries and lookup without postcodes, ingested once per run; tests copy it.
const std::string& boundaries_template() {
    static temp_dir dir;
    static std::string path;
    if (path.empty()) {
        const std::string p = new_store(dir, "boundaries.db");
        data::ingest_manifest(manifest_with(dir, ""), p);
        path = p;
    }
    return path;
}

std::string fresh_store(const temp_dir& dir) {
    return copy_store(boundaries_template(), dir);
}

std::string postcodes_section(const std::string& path, const std::string& more = "") {
    return "\"postcodes\": [{\"path\": \"" + path + "\", \"vintage\": 2011" + more + "}]";
}

/// What a refused ingest must leave alone: the file's bytes and every postcode and place row.
std::string store_state(const std::string& db_path) {
    std::string out = "bytes " + std::to_string(fnv1a(store_file_bytes(db_path)));
    auto db = data::open_store(db_path, false);
    data::statement s(db, "SELECT postcode || '|' || area_id || '|' || live || '|' || assigned_by FROM postcodes ORDER BY postcode");
    std::uint64_t h = fnv1a("");
    std::int64_t n = 0;
    while (s.step()) {
        h = fnv1a(s.text(0), h);
        ++n;
    }
    return out + " postcodes " + std::to_string(n) + " " + std::to_string(h) + " release " + std::to_string(data::data_release(db));
}

void check_refused(const std::string& manifest, const std::string& db_path, const std::string& bad_file, long line,
                   const std::string& what) {
    const std::string before = store_state(db_path);
    try {
        data::ingest_manifest(manifest, db_path);
        FAIL("ingest accepted " << bad_file);
    } catch (const smallarea::ingest_error& e) {
        const std::string message = e.what();
        INFO("message: " << message);
        CHECK(contains(e.file(), bad_file));
        CHECK(e.position() == line);
        if (line > 0) CHECK(contains(message, bad_file + ", line " + std::to_string(line) + ":"));
        CHECK(contains(message, what));
    }
    CHECK(store_state(db_path) == before);
}

/// The OA boundaries as GDAL reads the file: code, envelope, geometry.
struct gdal_oa {
    std::string code;
    OGREnvelope envelope;
    std::unique_ptr<OGRGeometry> geometry;
};

std::vector<gdal_oa> read_oas_with_gdal(const std::string& path) {
    GDALAllRegister();
    std::unique_ptr<GDALDataset> ds(static_cast<GDALDataset*>(GDALOpenEx(path.c_str(), GDAL_OF_VECTOR, nullptr, nullptr, nullptr)));
    REQUIRE(ds != nullptr);
    OGRLayer* layer = ds->GetLayer(0);
    std::vector<gdal_oa> out;
    for (auto& feature : *layer) {
        gdal_oa oa;
        oa.code = feature->GetFieldAsString("OA11CD");
        oa.geometry.reset(feature->GetGeometryRef()->clone());
        oa.geometry->getEnvelope(&oa.envelope);
        out.push_back(std::move(oa));
    }
    return out;
}

std::map<std::string, std::string> stored_oa_of_postcode(data::database& db) {
    std::map<std::string, std::string> out;
    data::statement s(db, "SELECT p.postcode, a.code FROM postcodes p JOIN areas a ON a.id = p.area_id");
    while (s.step()) out[s.text(0)] = s.text(1);
    return out;
}

} // namespace

TEST_CASE("postcode text - written forms normalise to the ONS form; non-postcodes are refused") {
    CHECK(data::normalise_postcode("m154ab") == std::optional<std::string>("M15 4AB"));
    CHECK(data::normalise_postcode(" M15  4ab ") == std::optional<std::string>("M15 4AB"));
    CHECK(data::normalise_postcode("M1  1AA") == std::optional<std::string>("M1 1AA")); // ONSPD pcd, fixed width
    CHECK(data::normalise_postcode("EC1A1BB") == std::optional<std::string>("EC1A 1BB"));
    CHECK_FALSE(data::normalise_postcode("M15"));
    CHECK_FALSE(data::normalise_postcode("15 4AB"));
    CHECK_FALSE(data::normalise_postcode("M15 4A1"));
    CHECK_FALSE(data::normalise_postcode("M15-4AB"));
    CHECK_FALSE(data::normalise_postcode("ABCDE 4AB"));
    CHECK(data::postcode_prefix(" m15   4 ") == "M15 4");
    CHECK(data::postcode_prefix("M15;") == "");
}

TEST_CASE("real data - every Trafford postcode is in the OA GDAL's OGRGeometry::Contains finds, or reported outside") {
    temp_dir dir;
    const auto db_path = fresh_store(dir);
    const auto summary = data::ingest_manifest(manifest_with(dir, postcodes_section(trafford_postcodes), "pc.json"), db_path);
    const auto source = read_csv(trafford_postcodes);
    REQUIRE(source.rows.size() == 11264);

    // The independent computation: every OA polygon GDAL says contains the centroid (envelope first, then Contains).
    const auto oas = read_oas_with_gdal(sample_oas);
    REQUIRE(oas.size() == 2261);
    auto db = data::open_store(db_path, false);
    const auto stored = stored_oa_of_postcode(db);
    std::size_t inside = 0, on_edge = 0, outside = 0, mismatched = 0;
    for (std::size_t i = 0; i < source.rows.size(); ++i) {
        const std::string pc = source.at(i, "postcode");
        const double lon = std::stod(source.at(i, "lon"));
        const double lat = std::stod(source.at(i, "lat"));
        OGRPoint point(lon, lat);
        std::set<std::string> containing, touching;
        for (const auto& oa : oas) {
            if (lon < oa.envelope.MinX || lon > oa.envelope.MaxX || lat < oa.envelope.MinY || lat > oa.envelope.MaxY) continue;
            if (oa.geometry->Contains(&point)) containing.insert(oa.code);
            else if (oa.geometry->Intersects(&point)) touching.insert(oa.code);
        }
        const auto it = stored.find(pc);
        if (!containing.empty()) {
            ++inside;
            if (it == stored.end() || !containing.count(it->second)) {
                ++mismatched;
                MESSAGE(pc << " stored in " << (it == stored.end() ? "nothing" : it->second) << ", GDAL: " << *containing.begin());
            }
        } else if (!touching.empty()) {
            ++on_edge; // on a shared edge: in one of the OAs it touches
            if (it == stored.end() || !touching.count(it->second)) ++mismatched;
        } else {
            ++outside;
            if (it != stored.end()) {
                ++mismatched;
                MESSAGE(pc << " stored in " << it->second << " but GDAL finds no OA");
            }
        }
    }
    MESSAGE("Trafford postcodes: " << inside << " inside an OA, " << on_edge << " on an edge, " << outside << " outside");
    CHECK(mismatched == 0);
    CHECK(stored.size() == inside + on_edge);
    CHECK(static_cast<std::size_t>(summary.postcodes) == stored.size());
    CHECK(static_cast<std::size_t>(summary.postcodes_outside) == outside);
    CHECK(inside > 11000); // the 2011 generalised boundaries still hold nearly all of Trafford's 2025 postcodes
    CHECK(summary.postcodes_terminated == 0);
    CHECK(scalar(db, "SELECT count(*) FROM postcodes WHERE assigned_by <> 'point_in_polygon' OR live <> 1") == 0);
    // Names kept: the ward and the House of Commons Library neighbourhood name of M15 4AB.
    {
        data::statement s(db, "SELECT ward_code, ward_name, msoa_name FROM postcodes WHERE postcode = 'M15 4AB'");
        REQUIRE(s.step());
        CHECK(s.text(0) == "E05015247");
        CHECK(s.text(1) == "Gorse Hill & Cornbrook");
        CHECK(s.text(2) == "Old Trafford");
    }
    // Wards and neighbourhoods become place names, each with its live postcodes counted.
    std::set<std::string> wards, hoods;
    for (std::size_t i = 0; i < source.rows.size(); ++i) {
        if (stored.count(source.at(i, "postcode"))) {
            wards.insert(source.at(i, "ward_code"));
            hoods.insert(source.at(i, "msoa_hcl_name"));
        }
    }
    CHECK(scalar(db, "SELECT count(*) FROM place_names WHERE kind = 'ward'") == static_cast<std::int64_t>(wards.size()));
    CHECK(scalar(db, "SELECT count(*) FROM place_names WHERE kind = 'neighbourhood'") == static_cast<std::int64_t>(hoods.size()));
    CHECK(scalar(db, "SELECT sum(postcodes) FROM place_names WHERE kind = 'ward'") == static_cast<std::int64_t>(stored.size()));
    // Outside postcodes are named in the notes.
    bool noted = false;
    for (const auto& n : summary.notes) noted = noted || (contains(n, "outside every 2011 OA") && contains(n, "(line "));
    CHECK(noted == (outside > 0));
}

TEST_CASE("sample - the bundled sample's postcodes are Trafford's, placed by point in polygon, and a re-ingest replaces them") {
    temp_dir dir;
    const auto db_path = dir.file("sample.db");
    const auto first = data::ingest_manifest(sample_dir + "/manifest.json", db_path);
    CHECK(first.postcodes > 11000);
    CHECK(first.postcodes + first.postcodes_outside == 11264);
    auto count = [&] {
        auto db = data::open_store(db_path, false);
        return scalar(db, "SELECT count(*) FROM postcodes");
    };
    CHECK(count() == first.postcodes);
    const auto second = data::ingest_manifest(sample_dir + "/manifest.json", db_path);
    CHECK(second.postcodes == first.postcodes);
    CHECK(count() == first.postcodes);
    auto db = data::open_store(db_path, false);
    CHECK(schema_version_of(db) == data::schema_version); // postcodes came with 7
    // Every stored postcode is in a Trafford or Manchester OA (the sample's), never in another level.
    CHECK(scalar(db, "SELECT count(*) FROM postcodes p JOIN areas a ON a.id = p.area_id WHERE a.level <> 'oa' OR a.vintage <> 2011") == 0);
}

TEST_CASE("ONSPD layout - the directory's columns: oa11 assigns, doterm marks terminated, outside rows are counted") {
    temp_dir dir;
    const auto db_path = fresh_store(dir);
    const auto fixture = fixtures + "/onspd_tiny.csv";
    const auto summary = data::ingest_manifest(manifest_with(dir, postcodes_section(fixture, ", \"layout\": \"onspd\""), "pc.json"), db_path);
    const auto source = read_csv(fixture);
    auto db = data::open_store(db_path, false);
    // Expected from the fixture itself: rows whose oa11 is one of the store's OAs are stored.
    std::set<std::string> store_oas;
    for (const auto& a : data::load_areas(db)) {
        if (a.level == "oa" && a.vintage == 2011) store_oas.insert(a.code);
    }
    std::int64_t expect_stored = 0, expect_terminated = 0;
    for (std::size_t i = 0; i < source.rows.size(); ++i) {
        if (!store_oas.count(source.at(i, "oa11"))) continue;
        ++expect_stored;
        if (!source.at(i, "doterm").empty()) ++expect_terminated;
    }
    REQUIRE(expect_stored >= 4);
    REQUIRE(expect_terminated >= 1);
    CHECK(summary.postcodes == expect_stored);
    CHECK(summary.postcodes_terminated == expect_terminated);
    CHECK(summary.postcodes_outside == static_cast<std::int64_t>(source.rows.size()) - expect_stored);
    const auto stored = stored_oa_of_postcode(db);
    for (std::size_t i = 0; i < source.rows.size(); ++i) {
        const auto pc = *data::normalise_postcode(source.at(i, "pcds"));
        if (!store_oas.count(source.at(i, "oa11"))) {
            CHECK(stored.count(pc) == 0);
            continue;
        }
        REQUIRE(stored.count(pc) == 1);
        CHECK(stored.at(pc) == source.at(i, "oa11"));
        data::statement s(db, "SELECT live, coalesce(terminated, ''), coalesce(introduced, ''), assigned_by, lat IS NULL FROM postcodes WHERE postcode = ?");
        s.bind(1, pc);
        REQUIRE(s.step());
        const std::string doterm = source.at(i, "doterm");
        CHECK(s.int64(0) == (doterm.empty() ? 1 : 0));
        CHECK(s.text(1) == (doterm.empty() ? "" : doterm.substr(0, 4) + "-" + doterm.substr(4)));
        CHECK(s.text(2) == source.at(i, "dointr").substr(0, 4) + "-" + source.at(i, "dointr").substr(4));
        CHECK(s.text(3) == "lookup");
        CHECK((s.int64(4) == 1) == (source.at(i, "lat") == "99.999999")); // ONSPD's "no grid reference"
    }
    // The terminated postcode is kept but never a live one of its OA.
    std::int64_t live_listed = 0;
    for (const auto& [area, rows] : data::load_postcodes_of(db, {scalar(db, "SELECT area_id FROM postcodes WHERE live = 0 LIMIT 1")})) {
        for (const auto& r : rows) live_listed += r.live ? 0 : 1;
    }
    CHECK(live_listed == 1);
}

TEST_CASE("bad input - postcode files are refused with the file and line, the store untouched") {
    temp_dir dir;
    const auto db_path = fresh_store(dir);
    data::ingest_manifest(manifest_with(dir, postcodes_section(fixtures + "/onspd_tiny.csv"), "ok.json"), db_path);
    const std::string header = read_text(fixtures + "/onspd_tiny.csv").substr(0, read_text(fixtures + "/onspd_tiny.csv").find('\n') + 1);
    const std::string good_row = "M15 4AB,E05015247,Gorse Hill & Cornbrook,Old Trafford,-2.26046,53.465578\n";
    auto bad = [&](const std::string& name, const std::string& text, long line, const std::string& what, const std::string& more = "") {
        INFO(name);
        const auto path = dir.file(name);
        write_text(path, text);
        check_refused(manifest_with(dir, postcodes_section(path, more), name + ".json"), db_path, name, line, what);
    };
    const std::string extract = "postcode,ward_code,ward_name,msoa_hcl_name,lon,lat\n";
    bad("no_lat.csv", "postcode,ward_code,lon\nM15 4AB,E05015247,-2.26\n", 1, "no lat column");
    bad("no_long.csv", "postcode,lat\nM15 4AB,53.4\n", 1, "no long column");
    bad("text_lat.csv", extract + good_row + "M15 4AD,E05015253,Old Trafford,Old Trafford,-2.260757,53.46x\n", 3, "lat \"53.46x\" is not a number");
    bad("range_lon.csv", extract + good_row + "M15 4AD,E05015253,Old Trafford,Old Trafford,402300,53.464903\n", 3, "outside -180..180");
    bad("duplicate.csv", extract + good_row + "M15 4AE,E05015253,Old Trafford,Old Trafford,-2.2604,53.4649\n" + "m154ab,E05015247,x,y,-2.26046,53.465578\n",
        4, "postcode M15 4AB appears again (first at");
    bad("not_postcode.csv", extract + good_row + "M15-4AB,E05015247,x,y,-2.26046,53.465578\n", 3, "is not a postcode");
    bad("ragged.csv", extract + good_row + "M15 4AD,E05015253,-2.26,53.46\n", 3, "");
    bad("no_doterm.csv", extract + good_row, 1, "needs the directory's doterm column", ", \"layout\": \"onspd\"");
    // Manifest mistakes name the entry before the store is touched.
    const std::string before = store_state(db_path);
    for (const auto& [more, what] : std::vector<std::pair<std::string, std::string>>{
             {", \"vintage\": 2015", "must be 2011 or 2021"}, {", \"layout\": \"csv\"", "\"layout\" must be"},
             {", \"columns\": {\"postcod\": \"pcds\"}", "unknown column role"}, {", \"colums\": {}", "unknown key"}}) {
        const std::string text = "{\"postcodes\": [{\"path\": \"" + fixtures + "/onspd_tiny.csv\"" +
                                 (contains(more, "vintage") ? more : ", \"vintage\": 2011" + more) + "}]}";
        const auto path = dir.file("m.json");
        write_text(path, text);
        try {
            data::ingest_manifest(path, db_path);
            FAIL("accepted " << more);
        } catch (const smallarea::ingest_error& e) {
            CHECK(contains(e.what(), "postcodes[0]"));
            CHECK(contains(e.what(), what));
        }
    }
    CHECK(store_state(db_path) == before);
}

TEST_CASE("migration - a schema 6 store gains the postcodes tables and ingests postcodes") {
    SMALLAREA_SQLITE_ONLY("schema versions of SQLite files (a PostgreSQL store is made at the current one)");
    temp_dir dir;
    const auto db_path = fresh_store(dir);
    {
        auto db = data::create_or_open_store(db_path);
        db.exec("DROP TABLE postcodes");
        db.exec("DROP TABLE place_names");
        db.exec("PRAGMA user_version = 6");
    }
    CHECK_THROWS_AS(data::open_store(db_path, false), smallarea::store_error); // older: ingest migrates it
    const auto summary = data::ingest_manifest(manifest_with(dir, postcodes_section(fixtures + "/onspd_tiny.csv"), "pc.json"), db_path);
    CHECK(summary.postcodes >= 4);
    auto db = data::open_store(db_path, false);
    CHECK(schema_version_of(db) == data::schema_version);
    CHECK(scalar(db, "SELECT count(*) FROM postcodes") == summary.postcodes);
}

TEST_CASE("point in polygon - a postcode outside every OA is counted and named, not stored") {
    temp_dir dir;
    const auto db_path = fresh_store(dir);
    const auto path = dir.file("two.csv");
    write_text(path, "postcode,lon,lat\nM15 4AB,-2.26046,53.465578\nEC1A 1BB,-0.097567,51.520265\nM15 4AD,,\n");
    const auto summary = data::ingest_manifest(manifest_with(dir, postcodes_section(path), "pc.json"), db_path);
    CHECK(summary.postcodes == 1);
    CHECK(summary.postcodes_outside == 2);
    bool named = false;
    for (const auto& n : summary.notes) {
        named = named || (contains(n, "2 outside every 2011 OA") && contains(n, "EC1A 1BB (line 3)") && contains(n, "1 of them without a centroid"));
    }
    CHECK(named);
    auto db = data::open_store(db_path, false);
    CHECK(stored_oa_of_postcode(db) == std::map<std::string, std::string>{{"M15 4AB", "E00031366"}});
}

TEST_CASE("real data - Trafford's postcodes in the 2021 OAs (as ONS assigns them), neighbourhoods keyed by their 2021 MSOA") {
    temp_dir dir;
    const auto oa21 = shared_data + "/boundaries/local/2021/oa21_bgc_trafford_E08000009.geojson";
    const auto manifest = dir.file("m.json");
    const auto lookup = shared_data + "/lookups/oa21_lsoa21_msoa21_lad21_ew.csv.gz";
    write_text(manifest, "{\"boundaries\": [{\"path\": \"" + oa21 + "\", \"level\": \"oa\", \"vintage\": 2021}], "
                         "\"lookups\": [{\"path\": \"" + lookup + "\", \"vintage\": 2021}], "
                         "\"postcodes\": [{\"path\": \"" + trafford_postcodes + "\", \"vintage\": 2021}]}");
    const auto db_path = dir.file("store.db");
    const auto summary = data::ingest_manifest(manifest, db_path);
    // The file is Trafford's, the boundaries Trafford's 738 OAs: a generalised edge may leave a few outside.
    CHECK(summary.postcodes + summary.postcodes_outside == 11264);
    CHECK(summary.postcodes > 11000);
    auto db = data::open_store(db_path, false);
    CHECK(scalar(db, "SELECT count(*) FROM areas WHERE level = 'oa' AND vintage = 2021 AND geom IS NOT NULL") == 738);
    // The extract's msoa_code is of 2021, so in a 2021 store a neighbourhood is keyed by it.
    CHECK(scalar(db, "SELECT count(*) FROM place_names WHERE kind = 'neighbourhood' AND code NOT LIKE 'E02%'") == 0);
    CHECK(scalar(db, "SELECT count(*) FROM place_names WHERE kind = 'neighbourhood' AND vintage = 2021") == 28);
    // The LSOA the file names (2021) holds the OA the point fell in for nearly every postcode: an independent
    // check of the assignment against ONS's own postcode-to-LSOA link (generalised boundaries differ at the edges).
    const auto source = read_csv(trafford_postcodes);
    std::map<std::string, std::string> lsoa_of;
    for (std::size_t i = 0; i < source.rows.size(); ++i) lsoa_of[source.at(i, "postcode")] = source.at(i, "lsoa_code");
    data::statement q(db, "SELECT p.postcode, l.code FROM postcodes p JOIN area_ancestors aa ON aa.area_id = p.area_id "
                          "JOIN areas l ON l.id = aa.ancestor_id AND l.level = 'lsoa'");
    std::size_t same = 0, compared = 0;
    while (q.step()) {
        ++compared;
        if (lsoa_of.at(q.text(0)) == q.text(1)) ++same;
    }
    MESSAGE(same << " of " << compared << " postcodes placed in the LSOA the ONS directory gives them");
    CHECK(compared == static_cast<std::size_t>(summary.postcodes));
    CHECK(static_cast<double>(same) >= 0.99 * static_cast<double>(compared));
}
