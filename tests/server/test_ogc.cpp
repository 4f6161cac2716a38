// test_ogc: OGC API Features and the exports, end to end against a real server on 127.0.0.1 (ephemeral port)
// over the bundled sample, read by real clients: GDAL's OAPIF driver (ogrinfo/ogr2ogr), GDAL's GPKG and XLSX
// drivers, and the `smallarea export` command line.

#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include "server_fixture.hpp"

#include "data/access_store.hpp"
#include "data/store.hpp"

#include <gdal_priv.h>
#include <ogrsf_frmts.h>

#include <cstdlib>
#include <regex>
#include <set>

using namespace test_fixture;

namespace {

const std::string internal_id = "synthetic_work_programme";

/// Its own server (rate limit off: GDAL pages through collections quickly), with an API key minted in the store
/// for an organisation the internal dataset is shared with.
class ogc_server {
public:
    ogc_server() {
        m_db = m_dir.file("store.db");
        smallarea::data::ingest_manifest(sample_manifest, m_db);
        {
            auto db = smallarea::data::open_store(m_db, true);
            smallarea::data::add_organisation(db, "OGC test partner", "2024-01-01", {internal_id});
            m_key = smallarea::data::issue_key(db, "OGC test partner").key;
        }
        smallarea::server::server_config config;
        config.db_path = m_db;
        config.host = "127.0.0.1";
        config.port = 0;
        config.rate_limit_per_second = 0;
        m_app = std::make_unique<smallarea::server::app>(config);
        m_port = m_app->bind();
        m_thread = std::thread([this] { m_app->serve(); });
    }
    ~ogc_server() {
        m_app->stop();
        m_thread.join();
    }
    int port() const noexcept { return m_port; }
    const std::string& db_path() const noexcept { return m_db; }
    const std::string& key() const noexcept { return m_key; }
    std::string file(const std::string& name) const { return m_dir.file(name); }
    std::string root() const { return "http://127.0.0.1:" + std::to_string(m_port) + "/ogc"; }

private:
    temp_dir m_dir;
    std::string m_db;
    std::string m_key;
    std::unique_ptr<smallarea::server::app> m_app;
    int m_port = 0;
    std::thread m_thread;
};

ogc_server& srv() {
    static ogc_server s;
    return s;
}

httplib::Result fetch(const std::string& path, bool with_key = false, const httplib::Headers& extra = {}) {
    httplib::Client c("127.0.0.1", srv().port());
    c.set_connection_timeout(5);
    c.set_read_timeout(60);
    httplib::Headers headers = extra;
    if (with_key) headers.emplace("Authorization", "Bearer " + srv().key());
    auto r = c.Get(path.c_str(), headers);
    REQUIRE_MESSAGE(r, "no response for " << path);
    return r;
}

json fetch_json(const std::string& path, bool with_key = false) {
    const auto r = fetch(path, with_key);
    INFO(path << " -> " << r->status << " " << r->body.substr(0, 300));
    REQUIRE(r->status == 200);
    return json::parse(r->body);
}

std::string fetch_error(const std::string& path, int status, bool with_key = false) {
    const auto r = fetch(path, with_key);
    INFO(path << " -> " << r->status << " " << r->body.substr(0, 300));
    CHECK(r->status == status);
    const auto body = json::parse(r->body, nullptr, false);
    REQUIRE_FALSE(body.is_discarded());
    REQUIRE(body.contains("code"));
    REQUIRE(body.contains("message"));
    return body["code"].get<std::string>();
}

/// Path and query of an absolute link to this server.
std::string local(const std::string& href) {
    const std::string prefix = "http://127.0.0.1:" + std::to_string(srv().port());
    REQUIRE(href.rfind(prefix, 0) == 0);
    return href.substr(prefix.size());
}

std::optional<std::string> link_of(const json& doc, const std::string& rel) {
    for (const auto& l : doc["links"]) {
        if (l["rel"] == rel) return l["href"].get<std::string>();
    }
    return std::nullopt;
}

/// Runs a shell command; its output goes to `output` (default: discarded).
int run(const std::string& command, const std::string& output = "/dev/null") {
    return std::system((command + " > '" + output + "' 2>&1").c_str());
}

GDALDatasetUniquePtr open_vector(const std::string& path, const char* const* options = nullptr) {
    static const bool registered = [] {
        GDALAllRegister();
        return true;
    }();
    (void)registered;
    return GDALDatasetUniquePtr(GDALDataset::FromHandle(
        GDALOpenEx(path.c_str(), GDAL_OF_VECTOR | GDAL_OF_READONLY, nullptr, options, nullptr)));
}

std::size_t store_count(const std::string& level, int vintage) {
    auto db = smallarea::data::open_store(srv().db_path(), false);
    return smallarea::data::load_geometries(db, level, vintage).size();
}

/// code -> value (or percent) of /api/table rows.
std::map<std::string, json> table_values(const std::string& query, const char* field = "value", bool with_key = false) {
    const auto t = fetch_json("/api/table?" + query, with_key);
    std::map<std::string, json> out;
    for (const auto& r : t["rows"]) out[r["code"].get<std::string>()] = r[field];
    return out;
}

void write_file(const std::string& path, const std::string& bytes) { write_text(path, bytes); }

} // namespace

TEST_CASE("ogc - landing page, conformance and OpenAPI document link to each other") {
    const auto landing = fetch_json("/ogc");
    for (const char* rel : {"self", "service-desc", "service-doc", "conformance", "data"}) {
        CHECK_MESSAGE(link_of(landing, rel), rel);
    }
    bool typed = false;
    for (const auto& l : landing["links"]) {
        if (l["rel"] == "service-desc") typed = l["type"] == "application/vnd.oai.openapi+json;version=3.0";
    }
    CHECK(typed);
    const auto conformance = fetch_json("/ogc/conformance");
    std::set<std::string> classes(conformance["conformsTo"].begin(), conformance["conformsTo"].end());
    for (const char* c : {"core", "oas30", "geojson", "html"}) {
        CHECK(classes.count(std::string("http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/") + c));
    }
    const auto api = fetch("/ogc/api");
    CHECK(api->status == 200);
    CHECK(contains(api->get_header_value("Content-Type"), "application/vnd.oai.openapi+json"));
    const auto doc = json::parse(api->body);
    CHECK(doc["openapi"].get<std::string>().rfind("3.0", 0) == 0);
    CHECK(doc["paths"].contains("/collections/{collectionId}/items"));
    CHECK(doc["components"]["parameters"]["limit"]["schema"]["maximum"] == 10000);
    const auto html = fetch("/ogc?f=html");
    CHECK(html->status == 200);
    CHECK(contains(html->get_header_value("Content-Type"), "text/html"));
    CHECK(contains(fetch("/ogc/collections/lsoa-2011/items?f=html&limit=3")->body, "<table>"));
}

TEST_CASE("ogc - collections: boundaries per level, one per servable measure, internal ones only with a key") {
    auto ids = [](const json& doc) {
        std::set<std::string> out;
        for (const auto& c : doc["collections"]) out.insert(c["id"].get<std::string>());
        return out;
    };
    const auto anonymous = ids(fetch_json("/ogc/collections"));
    CHECK(anonymous.count("lsoa-2011"));
    CHECK(anonymous.count("oa-2011"));
    CHECK(anonymous.count("claimant_count.claimants"));
    CHECK_FALSE(anonymous.count(internal_id + ".referrals"));
    const auto keyed = ids(fetch_json("/ogc/collections", true));
    CHECK(keyed.count(internal_id + ".referrals"));
    CHECK(keyed.count(internal_id + ".job_outcomes_group_a"));
    CHECK_FALSE(keyed.count(internal_id + ".job_outcomes_total")); // a percentage base is never served
    CHECK(fetch("/ogc/collections/" + internal_id + ".referrals/items")->status == 401);
    CHECK(fetch_error("/ogc/collections/" + internal_id + ".job_outcomes_total/items", 404, true) == "UnknownCollection");

    const auto c = fetch_json("/ogc/collections/claimant_count.claimants");
    CHECK(c["itemType"] == "feature");
    CHECK(c["classification"] == "published");
    CHECK(c["extent"]["spatial"]["bbox"][0].size() == 4);
    CHECK(c["extent"]["temporal"]["interval"][0][0] == "2017-09-01T00:00:00Z");
    CHECK(link_of(c, "items"));
}

TEST_CASE("ogc - GDAL's OAPIF driver lists the collections and copies every lsoa-2011 feature (paging followed)") {
    const std::string root = "OAPIF:" + srv().root();
    const std::string listing = srv().file("ogrinfo.txt");
    REQUIRE(run("ogrinfo -ro '" + root + "'", listing) == 0);
    const std::string text = read_text(listing);
    CHECK(contains(text, "lsoa-2011"));
    CHECK(contains(text, "claimant_count.claimants"));

    const std::string out = srv().file("lsoa.gpkg");
    REQUIRE(run("ogr2ogr -f GPKG '" + out + "' '" + root + "' lsoa-2011") == 0);
    auto ds = open_vector(out);
    REQUIRE(ds);
    OGRLayer* layer = ds->GetLayerByName("lsoa-2011");
    REQUIRE(layer);
    const auto expected = store_count("lsoa", 2011);
    CHECK(expected == 420);
    CHECK(static_cast<std::size_t>(layer->GetFeatureCount(TRUE)) == expected);
    std::set<std::string> codes;
    for (auto& f : *layer) {
        codes.insert(f->GetFieldAsString("code"));
        REQUIRE(f->GetGeometryRef());
        CHECK(wkbFlatten(f->GetGeometryRef()->getGeometryType()) == wkbMultiPolygon);
        CHECK(std::string(f->GetFieldAsString("lad_code")).rfind("E0800", 0) == 0);
    }
    CHECK(codes.size() == expected); // no duplicates across pages
}

TEST_CASE("ogc - a dataset collection copied by GDAL carries the values of /api/table") {
    const std::string out = srv().file("claimants.gpkg");
    REQUIRE(run("ogr2ogr -f GPKG '" + out + "' 'OAPIF:" + srv().root() + "' claimant_count.claimants") == 0);
    auto ds = open_vector(out);
    REQUIRE(ds);
    OGRLayer* layer = ds->GetLayer(0);
    REQUIRE(layer);
    const auto expected = table_values("dataset=claimant_count");
    CHECK(static_cast<std::size_t>(layer->GetFeatureCount(TRUE)) == expected.size());
    std::size_t compared = 0;
    for (auto& f : *layer) {
        const std::string code = f->GetFieldAsString("code");
        REQUIRE(expected.count(code));
        const auto& v = expected.at(code);
        if (v.is_null()) {
            CHECK_FALSE(f->IsFieldSetAndNotNull(f->GetFieldIndex("value")));
        } else {
            CHECK(f->GetFieldAsInteger64("value") == v.get<std::int64_t>());
            ++compared;
        }
        CHECK(std::string(f->GetFieldAsString("period")) == "2017-10");
        CHECK(std::string(f->GetFieldAsString("classification")) == "published");
    }
    std::size_t with_value = 0;
    for (const auto& [code, v] : expected) with_value += v.is_null() ? 0 : 1;
    CHECK(compared == with_value);
    CHECK(compared > 300);
}

TEST_CASE("ogc - paging: limit 1, the last page, an offset beyond the end, and next links cover every feature once") {
    const auto first = fetch_json("/ogc/collections/lsoa-2011/items?limit=1");
    CHECK(first["type"] == "FeatureCollection");
    CHECK(first["numberMatched"] == 420);
    CHECK(first["numberReturned"] == 1);
    CHECK(first["features"].size() == 1);
    CHECK(link_of(first, "next"));
    CHECK_FALSE(link_of(first, "prev"));
    CHECK(first["features"][0]["id"] == first["features"][0]["properties"]["code"]);

    const auto last = fetch_json("/ogc/collections/lsoa-2011/items?limit=1&offset=419");
    CHECK(last["numberReturned"] == 1);
    CHECK_FALSE(link_of(last, "next"));
    CHECK(link_of(last, "prev"));

    const auto beyond = fetch_json("/ogc/collections/lsoa-2011/items?limit=10&offset=5000");
    CHECK(beyond["numberMatched"] == 420);
    CHECK(beyond["numberReturned"] == 0);
    CHECK(beyond["features"].empty());
    CHECK_FALSE(link_of(beyond, "next"));

    std::set<std::string> seen;
    std::string next = "/ogc/collections/lsoa-2011/items?limit=150&within=E08000003";
    const std::size_t in_manchester = fetch_json("/api/areas?level=lsoa&within=E08000003")["count"].get<std::size_t>();
    int pages = 0;
    while (!next.empty() && pages < 20) {
        const auto page = fetch_json(next);
        for (const auto& f : page["features"]) {
            CHECK(f["properties"]["lad_code"] == "E08000003");
            CHECK(seen.insert(f["id"].get<std::string>()).second);
        }
        const auto n = link_of(page, "next");
        next = n ? local(*n) : "";
        if (n) CHECK(contains(*n, "within=E08000003")); // filters survive paging
        ++pages;
    }
    CHECK(seen.size() == in_manchester);
    CHECK(pages == static_cast<int>((in_manchester + 149) / 150));
}

TEST_CASE("ogc - bad parameters are 4xx JSON errors") {
    CHECK(fetch_error("/ogc/collections/lsoa-2011/items?bbox=1,2,3", 400) == "InvalidParameter");
    CHECK(fetch_error("/ogc/collections/lsoa-2011/items?bbox=a,b,c,d", 400) == "InvalidParameter");
    CHECK(fetch_error("/ogc/collections/lsoa-2011/items?bbox=-2,54,-3,53", 400) == "InvalidParameter");
    CHECK(fetch_error("/ogc/collections/lsoa-2011/items?limit=0", 400) == "InvalidParameter");
    CHECK(fetch_error("/ogc/collections/lsoa-2011/items?limit=10001", 400) == "InvalidParameter");
    CHECK(fetch_error("/ogc/collections/lsoa-2011/items?limit=100001", 400) == "InvalidParameter");
    CHECK(fetch_error("/ogc/collections/lsoa-2011/items?offset=-1", 400) == "InvalidParameter");
    CHECK(fetch_error("/ogc/collections/lsoa-2011/items?bbox-crs=EPSG:27700&bbox=0,0,1,1", 400) == "InvalidParameter");
    CHECK(fetch_error("/ogc/collections/nope/items", 404) == "UnknownCollection");
    CHECK(fetch_error("/ogc/collections/nope", 404) == "UnknownCollection");
    CHECK(fetch_error("/ogc/collections/lsoa-2011/items/E00000000", 404) == "UnknownFeature");
    CHECK(fetch_error("/ogc/collections/lsoa-2011/items?f=xml", 406) == "UnsupportedFormat");
    CHECK(fetch_error("/ogc/collections/claimant_count.claimants/items?datetime=yesterday", 400) == "InvalidParameter");
    CHECK(fetch_error("/ogc/collections/claimant_count.claimants/items?period=1999-01", 404) == "UnknownPeriod");
    CHECK(fetch_error("/ogc/collections/lsoa-2011/items?within=E99999999", 404) == "UnknownArea");
    CHECK(fetch_error("/api/export/areas.gpkg?level=nowhere", 404) == "UnknownLevel");
    CHECK(fetch_error("/api/export/areas.csv?level=lsoa", 406) == "UnsupportedFormat");
}

TEST_CASE("ogc - bbox, code and within filters; a single feature by code") {
    // Around Manchester city centre (CRS84).
    const auto box = fetch_json("/ogc/collections/lsoa-2011/items?bbox=-2.25,53.47,-2.23,53.49&limit=1000");
    const auto n = box["numberMatched"].get<std::size_t>();
    CHECK(n > 0);
    CHECK(n < 420);
    CHECK(box["numberReturned"] == n);
    const auto everywhere = fetch_json("/ogc/collections/lsoa-2011/items?bbox=-10,49,3,60&limit=1000");
    CHECK(everywhere["numberMatched"] == 420);

    const auto two = fetch_json("/ogc/collections/lsoa-2011/items?code=E01005061,E01005062");
    CHECK(two["numberMatched"] == 2);

    const auto one = fetch_json("/ogc/collections/claimant_count.claimants/items/E01005061?period=2017-09");
    CHECK(one["type"] == "Feature");
    CHECK(one["id"] == "E01005061");
    CHECK(one["geometry"]["type"] == "MultiPolygon");
    CHECK(one["properties"]["value"] == table_values("dataset=claimant_count&period=2017-09").at("E01005061"));
}

TEST_CASE("ogc - datetime selects a dataset period (instant, interval, none)") {
    auto period_of = [](const std::string& query) {
        const auto doc = fetch_json("/ogc/collections/claimant_count.claimants/items?limit=1&" + query);
        return doc["numberReturned"] == 0 ? std::string("none") : doc["features"][0]["properties"]["period"].get<std::string>();
    };
    CHECK(period_of("") == "2017-10");
    CHECK(period_of("datetime=2017-09") == "2017-09");
    CHECK(period_of("datetime=2017-09-15T10:00:00Z") == "2017-09");
    CHECK(period_of("datetime=2017-01-01/2017-12-31") == "2017-10");
    CHECK(period_of("datetime=../2017-09-30") == "2017-09");
    CHECK(period_of("datetime=2010-01") == "none");
    CHECK(period_of("period=2017-09") == "2017-09");
    const auto page = fetch_json("/ogc/collections/claimant_count.claimants/items?datetime=2017-09&limit=10000");
    const auto expected = table_values("dataset=claimant_count&period=2017-09");
    for (const auto& f : page["features"]) CHECK(f["properties"]["value"] == expected.at(f["id"].get<std::string>()));
}

TEST_CASE("exports - XLSX of /api/table opens in a spreadsheet reader with numbers and an About sheet") {
    const auto r = fetch("/api/table?dataset=claimant_count&within=E08000003&period=2017-09&format=xlsx");
    REQUIRE(r->status == 200);
    CHECK(contains(r->get_header_value("Content-Type"), "spreadsheetml"));
    const auto disposition = r->get_header_value("Content-Disposition");
    CHECK(std::regex_search(disposition, std::regex(R"(claimant_count_claimants_2017-09_lsoa_E08000003_\d{4}-\d{2}-\d{2}\.xlsx)")));
    const std::string path = srv().file("table.xlsx");
    write_file(path, r->body);
    auto ds = open_vector(path);
    REQUIRE(ds);
    OGRLayer* data = ds->GetLayerByName("Data");
    REQUIRE(data);
    const auto expected = table_values("dataset=claimant_count&within=E08000003&period=2017-09");
    std::size_t rows = 0;
    const int value_field = data->GetLayerDefn()->GetFieldIndex("value");
    REQUIRE(value_field >= 0);
    CHECK(data->GetLayerDefn()->GetFieldDefn(value_field)->GetType() != OFTString); // numbers as numbers
    for (auto& f : *data) {
        const std::string code = f->GetFieldAsString("code");
        if (code == "total") continue;
        ++rows;
        REQUIRE(expected.count(code));
        if (!expected.at(code).is_null()) CHECK(f->GetFieldAsInteger64(value_field) == expected.at(code).get<std::int64_t>());
    }
    CHECK(rows == expected.size());
    OGRLayer* about = ds->GetLayerByName("About");
    REQUIRE(about);
    std::map<std::string, std::string> meta;
    for (auto& f : *about) meta[f->GetFieldAsString(0)] = f->GetFieldAsString(1);
    CHECK(contains(meta["Classification"], "published"));
    const auto rule = fetch_json("/api/datasets/claimant_count")["disclosure"]["rule"].get<std::string>();
    CHECK(meta["Rounding rule"] == rule);
    CHECK(meta["Rounding base"] == "5");
    CHECK(contains(meta["Uncertainty"], "2.5"));
    CHECK(contains(meta["Licence"], "Open Government Licence"));
    CHECK(meta["Period"] == "2017-09");
}

TEST_CASE("exports - GeoJSON and GeoPackage of areas with protected values read back with GDAL") {
    const auto r = fetch("/api/export/areas.gpkg?dataset=claimant_count&within=E08000003");
    REQUIRE(r->status == 200);
    CHECK(std::regex_search(r->get_header_value("Content-Disposition"),
                            std::regex(R"(claimant_count_claimants_2017-10_lsoa_E08000003_\d{4}-\d{2}-\d{2}\.gpkg)")));
    const std::string path = srv().file("areas.gpkg");
    write_file(path, r->body);
    auto ds = open_vector(path);
    REQUIRE(ds);
    REQUIRE(ds->GetLayerCount() == 1);
    OGRLayer* layer = ds->GetLayer(0);
    CHECK(contains(layer->GetMetadataItem("DESCRIPTION"), "Published"));
    const auto expected = table_values("dataset=claimant_count&within=E08000003");
    CHECK(static_cast<std::size_t>(layer->GetFeatureCount(TRUE)) == expected.size());
    for (auto& f : *layer) {
        const auto& v = expected.at(f->GetFieldAsString("code"));
        if (!v.is_null()) CHECK(f->GetFieldAsInteger64("value") == v.get<std::int64_t>());
        REQUIRE(f->GetGeometryRef());
    }

    const auto g = fetch("/api/export/areas.geojson?dataset=claimant_count&within=E08000003");
    REQUIRE(g->status == 200);
    CHECK(contains(g->get_header_value("Content-Type"), "application/geo+json"));
    const auto doc = json::parse(g->body);
    CHECK(doc["classification"] == "published");
    CHECK(doc["disclosure"]["rounding_base"] == 5);
    CHECK(doc["features"].size() == expected.size());

    const auto oas = fetch_json("/api/export/areas.geojson?level=oa&within=E08000003");
    CHECK(oas["features"].size() == fetch_json("/api/areas?level=oa&within=E08000003")["count"].get<std::size_t>());
}

TEST_CASE("exports - internal values in every export and collection are multiples of 20 and say Internal MI") {
    const std::string q = "dataset=" + internal_id + "&measure=referrals&period=2017-09";
    CHECK(fetch("/api/export/areas.geojson?" + q)->status == 401);
    CHECK(fetch("/api/table?" + q + "&format=xlsx")->status == 401);
    std::size_t checked = 0;
    auto check_value = [&](std::int64_t v) {
        CHECK(v % 20 == 0);
        ++checked;
    };
    for (const std::string level : {"oa", "lsoa", "lad"}) {
        const auto g = json::parse(fetch("/api/export/areas.geojson?" + q + "&level=" + level, true)->body);
        CHECK(g["classification"] == "internal");
        for (const auto& f : g["features"]) {
            if (f["properties"]["value"].is_number()) check_value(f["properties"]["value"].get<std::int64_t>());
        }
        const auto gp = fetch("/api/export/areas.gpkg?" + q + "&level=" + level, true);
        REQUIRE(gp->status == 200);
        write_file(srv().file("internal.gpkg"), gp->body);
        {
            auto ds = open_vector(srv().file("internal.gpkg"));
            REQUIRE(ds);
            OGRLayer* layer = ds->GetLayer(0);
            CHECK(contains(layer->GetMetadataItem("DESCRIPTION"), "Internal MI: not for onward sharing"));
            for (auto& f : *layer) {
                if (f->IsFieldSetAndNotNull(f->GetFieldIndex("value"))) check_value(f->GetFieldAsInteger64("value"));
            }
        }
        const auto x = fetch("/api/table?" + q + "&level=" + level + "&format=xlsx", true);
        REQUIRE(x->status == 200);
        write_file(srv().file("internal.xlsx"), x->body);
        {
            auto ds = open_vector(srv().file("internal.xlsx"));
            REQUIRE(ds);
            OGRLayer* data = ds->GetLayerByName("Data");
            REQUIRE(data);
            for (auto& f : *data) {
                if (f->IsFieldSetAndNotNull(f->GetFieldIndex("value"))) check_value(f->GetFieldAsInteger64("value"));
            }
            std::map<std::string, std::string> meta;
            for (auto& f : *ds->GetLayerByName("About")) meta[f->GetFieldAsString(0)] = f->GetFieldAsString(1);
            CHECK(contains(meta["Classification"], "Internal MI: not for onward sharing"));
            CHECK(meta["Rounding base"] == "20");
            CHECK(contains(meta["Rounding rule"], "20"));
        }
    }
    const auto items = fetch_json("/ogc/collections/" + internal_id + ".referrals/items?limit=10000&period=2017-09", true);
    CHECK(items["classification"] == "internal");
    for (const auto& f : items["features"]) {
        if (f["properties"]["value"].is_number()) check_value(f["properties"]["value"].get<std::int64_t>());
    }
    const auto percent = fetch_json("/ogc/collections/" + internal_id + ".job_outcomes_group_a/items?limit=5", true);
    for (const auto& f : percent["features"]) CHECK_FALSE(f["properties"].contains("value"));
    CHECK(fetch("/api/export/areas.geojson?dataset=" + internal_id + "&measure=job_outcomes_total", true)->status == 422);
    CHECK(checked > 2000);
}

TEST_CASE("exports - `smallarea export` writes the same files from a store without a server") {
    const std::string cli = SMALLAREA_CLI;
    const std::string db = srv().db_path();
    const std::string xlsx = srv().file("cli.xlsx");
    REQUIRE(run(cli + " export --db '" + db + "' --dataset claimant_count --period 2017-09 --within E08000003 --format xlsx --out '" +
                xlsx + "'") == 0);
    {
        auto ds = open_vector(xlsx);
        REQUIRE(ds);
        CHECK(ds->GetLayerByName("About"));
    }
    const std::string gpkg = srv().file("cli.gpkg");
    REQUIRE(run(cli + " export --db '" + db + "' --dataset " + internal_id + " --measure referrals --level lsoa --format gpkg --out '" +
                gpkg + "'") == 0);
    {
        auto ds = open_vector(gpkg);
        REQUIRE(ds);
        OGRLayer* layer = ds->GetLayer(0);
        CHECK(layer->GetFeatureCount(TRUE) == 420);
        for (auto& f : *layer) {
            if (f->IsFieldSetAndNotNull(f->GetFieldIndex("value"))) CHECK(f->GetFieldAsInteger64("value") % 20 == 0);
        }
    }
    const std::string geojson = srv().file("cli.geojson");
    REQUIRE(run(cli + " export --db '" + db + "' --level oa --within E08000003 --format geojson --out '" + geojson + "'") == 0);
    CHECK(json::parse(read_text(geojson))["features"].size() ==
          fetch_json("/api/areas?level=oa&within=E08000003")["count"].get<std::size_t>());
    const std::string csv = srv().file("cli.csv");
    REQUIRE(run(cli + " export --db '" + db + "' --dataset claimant_count --format csv --out '" + csv + "'") == 0);
    CHECK(contains(read_text(csv), "# classification: published"));
    CHECK(run(cli + " export --db '" + db + "' --dataset claimant_count --format pdf --out '" + csv + "'") != 0);
    CHECK(run(cli + " export --db '" + db + "' --dataset nope --format csv --out '" + csv + "'") != 0);
}
