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
#include <tuple>

using namespace test_fixture;

namespace {

const std::string internal_id = "synthetic_work_programme";

/// The key ogc_server mints while preparing its store: a base class of it, so that it exists before the
/// test_server base runs the preparation.
struct ogc_key {
    std::string value;
};

/// Its own server (rate limit off: GDAL pages through collections quickly), with an API key minted in the store,
/// before the server opens it, for an organisation the internal dataset is shared with.
class ogc_server : private ogc_key, public test_fixture::test_server {
public:
    ogc_server()
        : ogc_key{},
          test_server(
              sample_manifest, [](smallarea::server::server_config& config) { config.rate_limit_per_second = 0; },
              [this](const std::string& db) { ogc_key::value = add_partner(db, "OGC test partner", {internal_id}); }) {}
    const std::string& key() const noexcept { return ogc_key::value; }
    std::string root() const { return "http://127.0.0.1:" + std::to_string(port()) + "/ogc"; }
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

/// The CSVW sidecar a CSV response names in its Link header (rel="describedby"), validated against the CSV.
json sidecar_of(const httplib::Result& csv, bool with_key = false) {
    const auto link = csv->get_header_value("Link");
    REQUIRE_MESSAGE(link.find("rel=\"describedby\"") != std::string::npos, "no describedby link: " << link);
    const auto meta = fetch_json(link.substr(1, link.find('>') - 1), with_key);
    check_csvw(csv->body, meta);
    return meta;
}

/// Whether one of the sidecar's rdfs:comment lines (the rule as data, the layout's notes) starts with `start`.
bool comment_starts(const json& meta, const std::string& start) {
    for (const auto& line : meta["rdfs:comment"]) {
        if (line.get<std::string>().rfind(start, 0) == 0) return true;
    }
    return false;
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
    CHECK(fetch("/ogc/collections/" + internal_id + ".referrals/items")->status == 404); // as an unknown collection
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
    const int value_field = data->GetLayerDefn()->GetFieldIndex("claimants");
    REQUIRE(value_field >= 0);
    CHECK(data->GetLayerDefn()->GetFieldDefn(value_field)->GetType() != OFTString); // numbers as numbers
    for (auto& f : *data) {
        const std::string code = f->GetFieldAsString("code");
        if (code == "total") continue;
        ++rows;
        REQUIRE(expected.count(code));
        if (!expected.at(code).is_null()) CHECK(f->GetFieldAsInteger64(value_field) == expected.at(code).get<std::int64_t>());
        // What the row is, on the row: a copied Data sheet keeps its period, classification and parents.
        CHECK(std::string(f->GetFieldAsString("period")) == "2017-09");
        CHECK(std::string(f->GetFieldAsString("period_name")) == "September 2017");
        CHECK(std::string(f->GetFieldAsString("classification")) == "Published (Open Government Licence v3.0)");
        CHECK(std::string(f->GetFieldAsString("lad_code")) == "E08000003");
    }
    CHECK(rows == expected.size()); // one row per area: no total row unless asked (totals=true)
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
    CHECK(meta["Period"] == "2017-09 (September 2017)");
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
    CHECK(fetch("/api/export/areas.geojson?" + q)->status == 404); // without a key: as an unknown dataset
    CHECK(fetch("/api/table?" + q + "&format=xlsx")->status == 404);
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
                if (f->IsFieldSetAndNotNull(f->GetFieldIndex("referrals"))) check_value(f->GetFieldAsInteger64("referrals"));
                CHECK(std::string(f->GetFieldAsString("classification")) == "Internal MI: not for onward sharing");
                if (level == "oa") {
                    CHECK(std::string(f->GetFieldAsString("lsoa_code")).rfind("E01", 0) == 0);
                    CHECK(std::string(f->GetFieldAsString("lad_code")).rfind("E08", 0) == 0);
                }
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
    // The CSV with its CSVW sidecar next to it (FILE-metadata.json, CSVW's default name), its url relative.
    CHECK(read_text(csv).rfind("code,name,level,", 0) == 0);
    const auto sidecar = json::parse(read_text(csv + "-metadata.json"));
    check_csvw(read_text(csv), sidecar);
    CHECK(sidecar["url"] == "cli.csv");
    CHECK(contains(sidecar["dc:accessRights"].get<std::string>(), "Published"));
    CHECK(run(cli + " export --db '" + db + "' --dataset claimant_count --format pdf --out '" + csv + "'") != 0);
    CHECK(run(cli + " export --db '" + db + "' --dataset nope --format csv --out '" + csv + "'") != 0);
}

// ---------------------------------------------------------------------------------------------------------------
// Bespoke areas and targets as files and OGC collections

namespace {

std::string create_bespoke(const json& body) {
    httplib::Client c("127.0.0.1", srv().port());
    c.set_read_timeout(60);
    const auto r = c.Post("/api/bespoke", body.dump(), "application/json");
    REQUIRE(r);
    INFO(r->status << " " << r->body.substr(0, 300));
    REQUIRE(r->status == 201);
    return json::parse(r->body)["id"].get<std::string>();
}

std::vector<std::string> codes_of(const std::string& level, const std::string& within, std::size_t first, std::size_t n) {
    const auto areas = fetch_json("/api/areas?level=" + level + "&within=" + within)["areas"];
    std::vector<std::string> out;
    for (std::size_t i = first; i < areas.size() && out.size() < n; ++i) out.push_back(areas[i]["code"]);
    return out;
}

/// Bespoke areas made once for these tests: two of LSOAs (fit an LSOA dataset) and one of OAs (does not).
struct bespoke_set {
    std::string lsoa_a, lsoa_b, oa;
};

const bespoke_set& bespoke_areas() {
    static const bespoke_set b = [] {
        bespoke_set out;
        out.lsoa_a = create_bespoke(json{{"name", "Three LSOAs"}, {"level", "lsoa"}, {"codes", codes_of("lsoa", "E08000003", 0, 3)}});
        out.lsoa_b = create_bespoke(json{{"name", "Two Trafford LSOAs"}, {"level", "lsoa"}, {"codes", codes_of("lsoa", "E08000009", 10, 2)}});
        out.oa = create_bespoke(json{{"name", "Five OAs"}, {"level", "oa"}, {"codes", codes_of("oa", "E08000003", 0, 5)}});
        return out;
    }();
    return b;
}

/// id -> row of /api/table?level=bespoke (the reference every bespoke file is compared with).
std::map<std::string, json> bespoke_rows(const std::string& query, bool with_key = false) {
    std::map<std::string, json> out;
    const auto t = fetch_json("/api/table?level=bespoke&" + query, with_key);
    INFO(query << ": " << t.dump().substr(0, 300));
    REQUIRE(t.contains("rows"));
    for (const auto& r : t["rows"]) out[r["id"].get<std::string>()] = r;
    return out;
}

std::map<std::string, std::string> about_sheet(GDALDataset& ds) {
    std::map<std::string, std::string> meta;
    OGRLayer* about = ds.GetLayerByName("About");
    REQUIRE(about);
    for (auto& f : *about) meta[f->GetFieldAsString(0)] = f->GetFieldAsString(1);
    return meta;
}

} // namespace

TEST_CASE("exports - bespoke areas as XLSX, CSV, GeoJSON and GeoPackage carry the values of /api/table?level=bespoke") {
    const auto& b = bespoke_areas();
    const std::string ids = b.lsoa_a + "," + b.lsoa_b;
    const std::string q = "dataset=claimant_count&period=2017-09&ids=" + ids;
    const auto expected = bespoke_rows(q);
    REQUIRE(expected.size() == 2);
    const std::string stem = R"(claimant_count_claimants_2017-09_bespoke_)" + b.lsoa_a + "-" + b.lsoa_b + R"(_\d{4}-\d{2}-\d{2}\.)";

    // XLSX: numbers as numbers, the About sheet states what the file is.
    const auto x = fetch("/api/export/bespoke.xlsx?" + q);
    REQUIRE(x->status == 200);
    CHECK(contains(x->get_header_value("Content-Type"), "spreadsheetml"));
    CHECK(x->get_header_value("X-Smallarea-Classification") == "published");
    CHECK(std::regex_search(x->get_header_value("Content-Disposition"), std::regex(stem + "xlsx")));
    write_file(srv().file("bespoke.xlsx"), x->body);
    {
        auto ds = open_vector(srv().file("bespoke.xlsx"));
        REQUIRE(ds);
        OGRLayer* data = ds->GetLayerByName("Data");
        REQUIRE(data);
        const auto* defn = data->GetLayerDefn();
        for (const char* field : {"claimants", "households", "members", "claimants_per_100_households", "uncertainty", "cells"}) {
            const int i = defn->GetFieldIndex(field);
            REQUIRE_MESSAGE(i >= 0, field);
            CHECK_MESSAGE(defn->GetFieldDefn(i)->GetType() != OFTString, field); // numbers as numbers
        }
        std::size_t rows = 0;
        for (auto& f : *data) {
            const std::string code = f->GetFieldAsString("code");
            REQUIRE(expected.count(code));
            const auto& e = expected.at(code);
            CHECK(f->GetFieldAsInteger64("claimants") == e["value"].get<std::int64_t>());
            CHECK(f->GetFieldAsInteger64("households") == e["households"].get<std::int64_t>());
            CHECK(f->GetFieldAsDouble("uncertainty") == doctest::Approx(e["uncertainty"].get<double>()));
            CHECK(std::string(f->GetFieldAsString("member_level")) == "lsoa");
            ++rows;
        }
        CHECK(rows == 2);
        const auto meta = about_sheet(*ds);
        CHECK(contains(meta.at("Classification"), "published"));
        CHECK(meta.at("Rounding base") == "5");
        CHECK(meta.at("Rounding rule") == fetch_json("/api/datasets/claimant_count")["disclosure"]["rule"].get<std::string>());
        CHECK(contains(meta.at("Uncertainty"), "2.5"));
        CHECK(contains(meta.at("Geography"), "bespoke"));
        CHECK(meta.at("Period") == "2017-09 (September 2017)");
        CHECK(contains(meta.at("Licence"), "Open Government Licence"));
        CHECK_FALSE(meta.at("Attribution").empty());
        CHECK_FALSE(meta.at("Publisher").empty());
    }

    // CSV: header on line 1, one row per bespoke area; the statement in its CSVW sidecar.
    const auto c = fetch("/api/export/bespoke.csv?" + q);
    REQUIRE(c->status == 200);
    CHECK(std::regex_search(c->get_header_value("Content-Disposition"), std::regex(stem + "csv")));
    const auto csvw = sidecar_of(c);
    CHECK(comment_starts(csvw, "classification: published"));
    CHECK(comment_starts(csvw, "rounding base: 5"));
    CHECK(comment_starts(csvw, "licence: Open Government Licence"));
    CHECK(contains(csvw["dc:description"].get<std::string>(), fetch_json("/api/datasets/claimant_count")["disclosure"]["rule"].get<std::string>()));
    CHECK(contains(csvw["dc:description"].get<std::string>(), "2.5"));
    CHECK(csvw["dc:license"]["@id"] == "https://www.nationalarchives.gov.uk/doc/open-government-licence/version/3/");
    CHECK(csvw["tableSchema"]["primaryKey"] == "code");
    CHECK(c->body.rfind("code,name,member_level,members,period,period_name,classification,households,claimants,"
                        "claimants_per_100_households,uncertainty,suppressed,missing,cells,cells_with_value,complete,"
                        "households_complete,rounding_dominates\n", 0) == 0);
    CHECK(contains(c->body, "\n" + b.lsoa_a + ",Three LSOAs,lsoa,3,2017-09,September 2017,Published (Open Government Licence v3.0)," +
                                std::to_string(expected.at(b.lsoa_a)["households"].get<std::int64_t>()) + "," +
                                std::to_string(expected.at(b.lsoa_a)["value"].get<std::int64_t>()) + ","));

    // GeoPackage written with GDAL, read back with GDAL; the same through /api/export/areas.gpkg?level=bespoke.
    for (const auto& path : std::vector<std::string>{"/api/export/bespoke.gpkg?" + q, "/api/export/areas.gpkg?level=bespoke&" + q}) {
        const auto g = fetch(path);
        INFO(path);
        REQUIRE(g->status == 200);
        CHECK(std::regex_search(g->get_header_value("Content-Disposition"), std::regex(stem + "gpkg")));
        write_file(srv().file("bespoke.gpkg"), g->body);
        auto ds = open_vector(srv().file("bespoke.gpkg"));
        REQUIRE(ds);
        REQUIRE(ds->GetLayerCount() == 1);
        OGRLayer* layer = ds->GetLayer(0);
        CHECK(contains(layer->GetMetadataItem("DESCRIPTION"), "Published data"));
        CHECK(layer->GetFeatureCount(TRUE) == 2);
        for (auto& f : *layer) {
            const auto& e = expected.at(f->GetFieldAsString("code"));
            CHECK(f->GetFieldAsInteger64("value") == e["value"].get<std::int64_t>());
            CHECK(f->GetFieldAsDouble("rate_per_100_households") == doctest::Approx(e["rate_per_100_households"].get<double>()));
            CHECK(std::string(f->GetFieldAsString("classification")) == "published");
            CHECK(std::string(f->GetFieldAsString("period")) == "2017-09");
            REQUIRE(f->GetGeometryRef());
            CHECK(wkbFlatten(f->GetGeometryRef()->getGeometryType()) == wkbMultiPolygon);
        }
    }

    // GeoJSON: the disclosure block as foreign members, the dissolved outline as geometry.
    const auto gj = fetch("/api/export/bespoke.geojson?" + q);
    REQUIRE(gj->status == 200);
    CHECK(contains(gj->get_header_value("Content-Type"), "application/geo+json"));
    const auto doc = json::parse(gj->body);
    CHECK(doc["classification"] == "published");
    CHECK(doc["disclosure"]["rounding_base"] == 5);
    CHECK(doc["level"] == "bespoke");
    REQUIRE(doc["features"].size() == 2);
    for (const auto& f : doc["features"]) {
        CHECK(f["properties"]["value"] == expected.at(f["id"].get<std::string>())["value"]);
        CHECK(f["geometry"]["type"] == "MultiPolygon");
    }

    // Without a dataset: outlines with Census households only.
    const auto plain = fetch("/api/export/bespoke.geojson?ids=" + b.oa);
    REQUIRE(plain->status == 200);
    CHECK(std::regex_search(plain->get_header_value("Content-Disposition"), std::regex("bespoke_" + b.oa + R"(_\d{4}-\d{2}-\d{2}\.geojson)")));
    const auto outline = json::parse(plain->body)["features"][0];
    CHECK(outline["properties"]["members"] == 5);
    CHECK(outline["properties"]["households"].is_number());
    CHECK_FALSE(outline["properties"].contains("value"));

    // Internal MI: a key is needed; volumes are multiples of 20 and the files say Internal MI.
    const std::string iq = "dataset=" + internal_id + "&measure=referrals&ids=" + b.oa + "," + b.lsoa_a;
    CHECK(fetch("/api/export/bespoke.xlsx?" + iq)->status == 404);
    const auto internal_rows = bespoke_rows(iq, true);
    const auto ix = fetch("/api/export/bespoke.xlsx?" + iq, true);
    REQUIRE(ix->status == 200);
    CHECK(ix->get_header_value("X-Smallarea-Classification") == "internal");
    CHECK(ix->get_header_value("Cache-Control") == "private, no-cache"); // no shared cache keeps internal MI
    write_file(srv().file("bespoke_internal.xlsx"), ix->body);
    {
        auto ds = open_vector(srv().file("bespoke_internal.xlsx"));
        REQUIRE(ds);
        std::size_t rows = 0;
        for (auto& f : *ds->GetLayerByName("Data")) {
            const auto v = f->GetFieldAsInteger64("referrals");
            CHECK(v % 20 == 0);
            CHECK(v == internal_rows.at(f->GetFieldAsString("code"))["value"].get<std::int64_t>());
            ++rows;
        }
        CHECK(rows == 2);
        const auto meta = about_sheet(*ds);
        CHECK(contains(meta.at("Classification"), "Internal MI: not for onward sharing"));
        CHECK(meta.at("Rounding base") == "20");
    }
    const auto ig = fetch("/api/export/bespoke.gpkg?" + iq, true);
    REQUIRE(ig->status == 200);
    write_file(srv().file("bespoke_internal.gpkg"), ig->body);
    {
        auto ds = open_vector(srv().file("bespoke_internal.gpkg"));
        REQUIRE(ds);
        OGRLayer* layer = ds->GetLayer(0);
        CHECK(contains(layer->GetMetadataItem("DESCRIPTION"), "Internal MI: not for onward sharing"));
        for (auto& f : *layer) CHECK(f->GetFieldAsInteger64("value") % 20 == 0);
    }
    // A percentage-only measure is never served on bespoke areas (rule 3).
    const auto pc = fetch("/api/export/bespoke.geojson?dataset=" + internal_id + "&measure=job_outcomes_group_a&ids=" + b.oa, true);
    CHECK(pc->status == 422);
    CHECK(json::parse(pc->body)["code"] == "PercentageOnly");
}

TEST_CASE("exports - bad bespoke and targets export parameters are 4xx JSON errors") {
    const auto& b = bespoke_areas();
    CHECK(fetch_error("/api/export/bespoke.csv?dataset=claimant_count", 400) == "MissingParameter");
    CHECK(fetch_error("/api/export/areas.csv?dataset=claimant_count&level=bespoke", 400) == "MissingParameter");
    CHECK(fetch_error("/api/export/bespoke.csv?dataset=claimant_count&ids=nosuchid22", 404) == "UnknownBespoke");
    CHECK(fetch_error("/api/export/bespoke.csv?dataset=claimant_count&ids=NOT-VALID", 404) == "UnknownBespoke");
    CHECK(fetch_error("/api/export/bespoke.csv?dataset=claimant_count&ids=" + b.lsoa_a + ",", 404) == "UnknownBespoke");
    std::string many = b.lsoa_a;
    for (int i = 0; i < 100; ++i) many += "," + b.lsoa_a;
    CHECK(fetch_error("/api/export/bespoke.csv?dataset=claimant_count&ids=" + many, 400) == "InvalidParameter");
    CHECK(fetch_error("/api/export/bespoke.csv?ids=" + b.lsoa_a, 406) == "UnsupportedFormat");
    CHECK(fetch_error("/api/export/bespoke.xlsx?ids=" + b.lsoa_a, 406) == "UnsupportedFormat");
    CHECK(fetch_error("/api/export/bespoke.geojson?measure=claimants&ids=" + b.lsoa_a, 400) == "MissingParameter");
    CHECK(fetch_error("/api/export/bespoke.csv?dataset=claimant_count&ids=" + b.oa, 400) == "LevelTooFine");
    CHECK(fetch_error("/api/export/bespoke.csv?dataset=nope&ids=" + b.lsoa_a, 404) == "UnknownDataset");
    CHECK(fetch_error("/api/export/bespoke.csv?dataset=claimant_count&period=1999-01&ids=" + b.lsoa_a, 404) == "UnknownPeriod");
    CHECK(fetch_error("/api/export/bespoke.csv?dataset=claimant_count&measure=nope&ids=" + b.lsoa_a, 404) == "UnknownMeasure");
    CHECK(fetch_error("/api/export/bespoke.csv?dataset=claimant_count&vintage=2021&ids=" + b.lsoa_a, 400) == "InvalidVintage");
    CHECK(fetch_error("/api/export/bespoke.csv?dataset=claimant_count&level=lsoa&ids=" + b.lsoa_a, 400) == "InvalidParameter");
    CHECK(fetch_error("/api/export/bespoke.csv?dataset=claimant_count&within=E08000003&ids=" + b.lsoa_a, 400) == "InvalidParameter");
    CHECK(fetch_error("/api/export/areas.csv?dataset=claimant_count&ids=" + b.lsoa_a, 400) == "InvalidParameter");
    CHECK(fetch_error("/api/export/bespoke.csv?dataset=" + internal_id + "&measure=job_outcomes_total&ids=" + b.oa, 422, true) == "PercentageOnly");
    CHECK(fetch_error("/api/export/bespoke.csv?dataset=" + internal_id + "&ids=" + b.oa, 404) == "UnknownDataset");
    CHECK(fetch("/api/export/bespoke.pdf?ids=" + b.oa)->status == 404);
    CHECK(fetch_error("/api/targets?dataset=claimant_count&format=gpkg", 406) == "UnsupportedFormat");
    CHECK(fetch_error("/api/targets?dataset=" + internal_id + "&format=xlsx", 404) == "UnknownDataset");
}

TEST_CASE("exports - targets as XLSX and CSV: the ranked rows of /api/targets with the disclosure statement") {
    const std::string q = "dataset=" + internal_id + "&measure=referrals&within=E08000003&limit=12";
    const auto t = fetch_json("/api/targets?" + q, true);
    REQUIRE(t["rows"].size() == 12);
    const auto x = fetch("/api/targets?" + q + "&format=xlsx", true);
    REQUIRE(x->status == 200);
    CHECK(x->get_header_value("X-Smallarea-Classification") == "internal");
    CHECK(std::regex_search(x->get_header_value("Content-Disposition"),
                            std::regex(R"(targets_synthetic_work_programme_referrals_2017-10_oa_E08000003_\d{4}-\d{2}-\d{2}\.xlsx)")));
    write_file(srv().file("targets.xlsx"), x->body);
    {
        auto ds = open_vector(srv().file("targets.xlsx"));
        REQUIRE(ds);
        OGRLayer* data = ds->GetLayerByName("Data");
        REQUIRE(data);
        const auto* defn = data->GetLayerDefn();
        for (const char* field : {"rank", "households", "referrals", "referrals_per_100_households"}) {
            const int i = defn->GetFieldIndex(field);
            REQUIRE_MESSAGE(i >= 0, field);
            CHECK_MESSAGE(defn->GetFieldDefn(i)->GetType() != OFTString, field);
        }
        std::size_t k = 0;
        for (auto& f : *data) {
            REQUIRE(k < t["rows"].size());
            const auto& e = t["rows"][k];
            CHECK(f->GetFieldAsInteger64("rank") == e["rank"].get<std::int64_t>());
            CHECK(std::string(f->GetFieldAsString("code")) == e["code"].get<std::string>());
            CHECK(f->GetFieldAsInteger64("referrals") == e["value"].get<std::int64_t>());
            CHECK(f->GetFieldAsInteger64("referrals") % 20 == 0);
            CHECK(f->GetFieldAsDouble("referrals_per_100_households") == doctest::Approx(e["rate"].get<double>()));
            ++k;
        }
        CHECK(k == 12);
        const auto meta = about_sheet(*ds);
        CHECK(contains(meta.at("Classification"), "Internal MI: not for onward sharing"));
        CHECK(meta.at("Rounding base") == "20");
        CHECK(contains(meta.at("Rounding rule"), "20"));
        CHECK(contains(meta.at("Selection"), "100 to 150 households"));
        CHECK(contains(meta.at("Ranked by"), "rate per 100 households"));
        CHECK(contains(meta.at("Uncertainty"), "10"));
    }
    const auto c = fetch("/api/targets?" + q + "&format=csv", true);
    REQUIRE(c->status == 200);
    const auto meta = sidecar_of(c, true);
    CHECK(meta["dc:accessRights"] == "Internal MI: not for onward sharing");
    for (const char* line : {"classification: internal: Internal MI: not for onward sharing", "rounding base: 20", "Bands: ",
                             "Selection: areas with 100 to 150 households", "Ranked by: "}) {
        CHECK_MESSAGE(comment_starts(meta, line), line);
    }
    CHECK(contains(meta["dc:description"].get<std::string>(), "Internal management information"));
    CHECK(contains(meta["dc:description"].get<std::string>(), "10"));
    CHECK(c->body.rfind("rank,band,tied_with_next,code,name,level,area_households,rate_low,rate_high,lsoa_code,lsoa_name,lad_code,lad_name,"
                        "neighbourhood,ward_code,ward_name,lat,lon,easting,northing,grid_ref,postcodes_live,postcodes,postcodes_truncated,period,", 0) == 0);
    CHECK(contains(c->body, "\n1,1,"));
    CHECK(contains(c->body, "," + t["rows"][0]["code"].get<std::string>() + ","));
    CHECK(std::regex_search(c->get_header_value("Content-Disposition"),
                            std::regex(R"(targets_synthetic_work_programme_referrals_2017-10_oa_E08000003_\d{4}-\d{2}-\d{2}\.csv)")));
}

TEST_CASE("ogc - bespoke collections: one per dataset measure with the values of /api/table?level=bespoke, read by GDAL") {
    const auto& b = bespoke_areas();
    auto ids = [](const json& doc) {
        std::set<std::string> out;
        for (const auto& c : doc["collections"]) out.insert(c["id"].get<std::string>());
        return out;
    };
    const auto anonymous = ids(fetch_json("/ogc/collections"));
    CHECK(anonymous.count("bespoke"));
    CHECK(anonymous.count("claimant_count.claimants.bespoke"));
    CHECK_FALSE(anonymous.count(internal_id + ".referrals.bespoke"));
    const auto keyed = ids(fetch_json("/ogc/collections", true));
    CHECK(keyed.count(internal_id + ".referrals.bespoke"));
    // Percentage-only measures have no bespoke collection: they are never served on user-defined areas (rule 3).
    CHECK_FALSE(keyed.count(internal_id + ".job_outcomes_group_a.bespoke"));
    CHECK(fetch_error("/ogc/collections/" + internal_id + ".job_outcomes_group_a.bespoke/items", 404, true) == "UnknownCollection");
    CHECK_FALSE(keyed.count(internal_id + ".job_outcomes_total.bespoke"));
    CHECK(fetch_error("/ogc/collections/" + internal_id + ".referrals.bespoke/items", 404) == "UnknownCollection");
    CHECK(fetch_error("/ogc/collections/" + internal_id + ".job_outcomes_total.bespoke/items", 404, true) == "UnknownCollection");

    const auto meta = fetch_json("/ogc/collections/claimant_count.claimants.bespoke");
    CHECK(meta["classification"] == "published");
    CHECK(meta["disclosure"]["rounding_base"] == 5);
    CHECK(meta["extent"]["temporal"]["interval"][0][0] == "2017-09-01T00:00:00Z");

    // Only bespoke areas the dataset can be summed over (LSOA members or coarser for an LSOA dataset).
    const auto all = fetch_json("/ogc/collections/claimant_count.claimants.bespoke/items?limit=1000&period=2017-09");
    CHECK(all["classification"] == "published");
    CHECK(all["period"] == "2017-09");
    std::set<std::string> listed;
    for (const auto& f : all["features"]) listed.insert(f["id"].get<std::string>());
    CHECK(listed.count(b.lsoa_a));
    CHECK(listed.count(b.lsoa_b));
    CHECK_FALSE(listed.count(b.oa));
    CHECK(all["numberMatched"] == listed.size());
    std::string id_list;
    for (const auto& id : listed) id_list += (id_list.empty() ? "" : ",") + id;
    const auto expected = bespoke_rows("dataset=claimant_count&period=2017-09&ids=" + id_list);
    for (const auto& f : all["features"]) {
        const auto& e = expected.at(f["id"].get<std::string>());
        CHECK(f["properties"]["value"] == e["value"]);
        CHECK(f["properties"]["rate_per_100_households"] == e["rate_per_100_households"]);
        CHECK(f["properties"]["uncertainty"] == e["uncertainty"]);
        CHECK(f["properties"]["households"] == e["households"]);
        CHECK(f["properties"]["cells"] == e["cells"]);
        CHECK(f["properties"]["period"] == "2017-09");
        CHECK(f["geometry"]["type"] == "MultiPolygon");
    }
    // datetime selects the period; code filters; paging; a single feature.
    const auto latest = fetch_json("/ogc/collections/claimant_count.claimants.bespoke/items?code=" + b.lsoa_a + "&datetime=2017-10");
    REQUIRE(latest["numberReturned"] == 1);
    CHECK(latest["features"][0]["properties"]["value"] == bespoke_rows("dataset=claimant_count&period=2017-10&ids=" + b.lsoa_a).at(b.lsoa_a)["value"]);
    CHECK(fetch_json("/ogc/collections/claimant_count.claimants.bespoke/items?datetime=2010-01")["numberReturned"] == 0);
    const auto page = fetch_json("/ogc/collections/claimant_count.claimants.bespoke/items?limit=1");
    CHECK(page["numberReturned"] == 1);
    if (listed.size() > 1) CHECK(link_of(page, "next"));
    const auto one = fetch_json("/ogc/collections/claimant_count.claimants.bespoke/items/" + b.lsoa_b + "?period=2017-09");
    CHECK(one["id"] == b.lsoa_b);
    CHECK(one["properties"]["value"] == expected.at(b.lsoa_b)["value"]);
    CHECK(fetch_error("/ogc/collections/claimant_count.claimants.bespoke/items/" + b.oa, 404) == "UnknownFeature");
    CHECK(fetch_error("/ogc/collections/claimant_count.claimants.bespoke/items?period=1999-01", 404) == "UnknownPeriod");
    // The plain collection keeps outlines and Census households only, and lists every bespoke area.
    const auto plain = fetch_json("/ogc/collections/bespoke/items/" + b.oa);
    CHECK(plain["properties"]["members"] == 5);
    CHECK_FALSE(plain["properties"].contains("value"));
    // Internal: the OA bespoke area fits an OA dataset; values are multiples of 20.
    const auto internal = fetch_json("/ogc/collections/" + internal_id + ".referrals.bespoke/items?limit=1000", true);
    CHECK(internal["classification"] == "internal");
    bool has_oa = false;
    for (const auto& f : internal["features"]) {
        has_oa = has_oa || f["id"] == b.oa;
        CHECK(f["properties"]["value"].get<std::int64_t>() % 20 == 0);
    }
    CHECK(has_oa);

    // GDAL's OAPIF driver copies the collection with its values.
    const std::string out = srv().file("bespoke_oapif.gpkg");
    REQUIRE(run("ogr2ogr -f GPKG '" + out + "' 'OAPIF:" + srv().root() + "' claimant_count.claimants.bespoke") == 0);
    auto ds = open_vector(out);
    REQUIRE(ds);
    OGRLayer* layer = ds->GetLayer(0);
    REQUIRE(layer);
    CHECK(static_cast<std::size_t>(layer->GetFeatureCount(TRUE)) == listed.size());
    const auto latest_rows = bespoke_rows("dataset=claimant_count&ids=" + id_list);
    for (auto& f : *layer) {
        const std::string code = f->GetFieldAsString("code");
        REQUIRE(latest_rows.count(code));
        CHECK(f->GetFieldAsInteger64("value") == latest_rows.at(code)["value"].get<std::int64_t>());
        CHECK(std::string(f->GetFieldAsString("period")) == "2017-10");
        REQUIRE(f->GetGeometryRef());
    }
}

TEST_CASE("exports - `smallarea export` writes bespoke areas and targets like the HTTP exports") {
    const auto& b = bespoke_areas();
    const std::string cli = SMALLAREA_CLI;
    const std::string db = srv().db_path();
    // CSV bytes are identical to the HTTP export (the date is only in the file name).
    const std::string csv = srv().file("cli_bespoke.csv");
    REQUIRE(run(cli + " export --db '" + db + "' --level bespoke --ids " + b.lsoa_a + "," + b.lsoa_b +
                " --dataset claimant_count --period 2017-09 --format csv --out '" + csv + "'") == 0);
    CHECK(read_text(csv) == fetch("/api/export/bespoke.csv?dataset=claimant_count&period=2017-09&ids=" + b.lsoa_a + "," + b.lsoa_b)->body);
    const std::string gpkg = srv().file("cli_bespoke.gpkg");
    const std::string log = srv().file("cli_bespoke.txt");
    REQUIRE(run(cli + " export --db '" + db + "' --level bespoke --ids " + b.oa + " --dataset " + internal_id +
                " --measure referrals --format gpkg --out '" + gpkg + "'", log) == 0);
    CHECK(std::regex_search(read_text(log), std::regex(internal_id + "_referrals_2017-10_bespoke_" + b.oa + R"(_\d{4}-\d{2}-\d{2}\.gpkg)")));
    {
        auto ds = open_vector(gpkg);
        REQUIRE(ds);
        OGRLayer* layer = ds->GetLayer(0);
        CHECK(layer->GetFeatureCount(TRUE) == 1);
        for (auto& f : *layer) CHECK(f->GetFieldAsInteger64("value") % 20 == 0);
    }
    const std::string targets = srv().file("cli_targets.csv");
    REQUIRE(run(cli + " export --db '" + db + "' --targets 100-150 --limit 12 --dataset " + internal_id +
                " --measure referrals --within E08000003 --format csv --out '" + targets + "'") == 0);
    CHECK(read_text(targets) == fetch("/api/targets?dataset=" + internal_id + "&measure=referrals&within=E08000003&limit=12&format=csv", true)->body);
    const std::string txlsx = srv().file("cli_targets.xlsx");
    REQUIRE(run(cli + " export --db '" + db + "' --targets 100-150 --dataset " + internal_id + " --within E08000003 --format xlsx --out '" +
                txlsx + "'") == 0);
    {
        auto ds = open_vector(txlsx);
        REQUIRE(ds);
        CHECK(ds->GetLayerByName("Data")->GetFeatureCount(TRUE) == 20);
        CHECK(contains(about_sheet(*ds).at("Classification"), "Internal MI"));
    }
    // Refusals: exit 1 for bad input, 2 for usage.
    CHECK(run(cli + " export --db '" + db + "' --level bespoke --ids nosuchid22 --format geojson --out '" + csv + "'") != 0);
    CHECK(run(cli + " export --db '" + db + "' --level bespoke --ids " + b.oa + " --dataset claimant_count --format csv --out '" + csv + "'") != 0);
    CHECK(run(cli + " export --db '" + db + "' --targets 150-100 --dataset claimant_count --format csv --out '" + csv + "'") != 0);
    CHECK(run(cli + " export --db '" + db + "' --targets 100-150 --dataset claimant_count --format gpkg --out '" + csv + "'") != 0);
}

// ---------------------------------------------------------------------------------------------------------------
// Time, metadata and clean files, as GIS clients read them (issue #15)

TEST_CASE("ogc - time: every item has period and period_start; per-period and all-periods collections; datetime intervals") {
    const std::string all = "/ogc/collections/claimant_count.claimants.all-periods";
    const auto sep = table_values("dataset=claimant_count&period=2017-09");
    const auto oct = table_values("dataset=claimant_count&period=2017-10");
    REQUIRE(sep.size() == 420);
    const auto both = fetch_json(all + "/items?limit=10000");
    CHECK(both["numberMatched"] == 840); // one feature per area and period
    CHECK(both["periods"] == json::array({"2017-09", "2017-10"}));
    std::map<std::string, std::size_t> per_period;
    for (const auto& f : both["features"]) {
        const auto& p = f["properties"];
        const std::string period = p["period"];
        ++per_period[period];
        CHECK(f["id"] == p["code"].get<std::string>() + "_" + period);
        CHECK(p["period_start"] == period + "-01");
        CHECK(p["period_name"] == (period == "2017-09" ? "September 2017" : "October 2017"));
        CHECK(p["value"] == (period == "2017-09" ? sep : oct).at(p["code"].get<std::string>()));
    }
    CHECK(per_period["2017-09"] == 420);
    CHECK(per_period["2017-10"] == 420);
    // An interval over both months gives both (the single-period collection gives the latest within it).
    CHECK(fetch_json(all + "/items?limit=1&datetime=2017-09-01/2017-10-31")["numberMatched"] == 840);
    CHECK(fetch_json(all + "/items?limit=1&datetime=2017-09-15")["numberMatched"] == 420);
    CHECK(fetch_json(all + "/items?limit=1&datetime=2017-09-15")["features"][0]["properties"]["period"] == "2017-09");
    CHECK(fetch_json(all + "/items?limit=1&datetime=2017-10-01T00:00:00Z/..")["periods"] == json::array({"2017-10"}));
    CHECK(fetch_json(all + "/items?limit=1&datetime=2019-01-01")["numberMatched"] == 0);
    CHECK(fetch_json(all + "/items?limit=1&period=2017-09")["numberMatched"] == 420);
    CHECK(fetch_error(all + "/items?period=1999-01", 404) == "UnknownPeriod");
    // Paging runs across the period boundary without gaps or repeats.
    const auto page = fetch_json(all + "/items?limit=10&offset=415");
    REQUIRE(page["features"].size() == 10);
    CHECK(page["features"][4]["properties"]["period"] == "2017-09");
    CHECK(page["features"][5]["properties"]["period"] == "2017-10");
    // One feature by CODE_PERIOD.
    const std::string id = both["features"][0]["id"];
    CHECK(fetch_json(all + "/items/" + id)["id"] == id);
    CHECK(fetch(all + "/items/" + id.substr(0, id.find('_')))->status == 404);
    // The per-period collection: that month only, and nothing for a datetime outside it.
    const auto one = fetch_json("/ogc/collections/claimant_count.claimants.2017-09/items?limit=10000");
    CHECK(one["numberMatched"] == 420);
    for (const auto& f : one["features"]) CHECK(f["properties"]["value"] == sep.at(f["id"].get<std::string>()));
    CHECK(fetch_json("/ogc/collections/claimant_count.claimants.2017-09/items?datetime=2017-10-05")["numberMatched"] == 0);
    const auto collection = fetch_json("/ogc/collections/claimant_count.claimants.2017-09");
    CHECK(collection["extent"]["temporal"]["interval"][0][0] == "2017-09-01T00:00:00Z");
    CHECK(collection["extent"]["temporal"]["interval"][0][1] == "2017-09-30T23:59:59Z");
    // The latest-period collection's items carry the date too; the landing page says how to reach a month.
    CHECK(fetch_json("/ogc/collections/claimant_count.claimants/items?limit=1")["features"][0]["properties"]["period_start"] == "2017-10-01");
    const auto landing = fetch_json("/ogc");
    CHECK(contains(landing["description"].get<std::string>(), "?period="));
    CHECK(contains(landing["description"].get<std::string>(), "all-periods"));
}

TEST_CASE("ogc - change collections: each feature's change is compare=PERIOD's on /api/table, for counts and percentages") {
    for (const auto& [collection, table, key] :
         std::vector<std::tuple<std::string, std::string, bool>>{
             {"claimant_count.claimants.change", "dataset=claimant_count", false},
             {internal_id + ".referrals.change", "dataset=" + internal_id + "&measure=referrals", true},
             {internal_id + ".job_outcomes_group_a.change", "dataset=" + internal_id + "&measure=job_outcomes_group_a", true}}) {
        CAPTURE(collection);
        const bool percent = collection.find("job_outcomes") != std::string::npos;
        const auto doc = fetch_json("/api/table?" + table + "&period=2017-10&compare=2017-09", key);
        std::map<std::string, json> change_of;
        for (const auto& r : doc["rows"]) change_of[r["code"].get<std::string>()] = r["change"];
        const auto items = fetch_json("/ogc/collections/" + collection + "/items?limit=10000", key);
        REQUIRE(items["features"].size() == change_of.size());
        std::size_t comparable = 0;
        for (const auto& f : items["features"]) {
            const auto& p = f["properties"];
            const auto& c = change_of.at(p["code"].get<std::string>());
            CHECK(p["period"] == "2017-10");
            CHECK(p["compare_period"] == "2017-09");
            CHECK(p["comparable"] == c["comparable"]);
            if (!c["comparable"].get<bool>()) continue;
            ++comparable;
            if (percent) {
                CHECK(p["change_percent"] == c["percent"]);
                CHECK_FALSE(p.contains("change"));
            } else {
                CHECK(p["change"] == c["value"]);
                CHECK(p["change_rate"] == c["rate_per_100_households"]);
            }
            CHECK(p["change_uncertainty"].get<double>() == doctest::Approx(c["uncertainty"].get<double>()));
            CHECK(p["no_change_within_rounding"] == c["within_rounding"]);
        }
        CHECK(comparable > 0);
    }
    // compare= names the other period; the first period has nothing before it; compare elsewhere is refused.
    const auto same = fetch_json("/ogc/collections/claimant_count.claimants.change/items?limit=1&period=2017-10&compare=2017-09");
    CHECK(same["features"][0]["properties"]["compare_period"] == "2017-09");
    CHECK(fetch_json("/ogc/collections/claimant_count.claimants.change/items?limit=1&period=2017-09")["numberMatched"] == 0);
    CHECK(fetch_error("/ogc/collections/claimant_count.claimants.change/items?compare=2017-10", 400) == "InvalidParameter");
    CHECK(fetch_error("/ogc/collections/claimant_count.claimants.change/items?compare=2016-01", 404) == "UnknownPeriod");
    CHECK(fetch_error("/ogc/collections/claimant_count.claimants/items?compare=2017-09", 400) == "InvalidParameter");
    CHECK(fetch(std::string("/ogc/collections/") + internal_id + ".referrals.change/items")->status == 404); // without a key
}

TEST_CASE("ogc - GDAL's OAPIF driver reads period_start as a date and filters the all-periods collection by period") {
    const std::string out = srv().file("all_periods.gpkg");
    REQUIRE(run("ogr2ogr -f GPKG '" + out + "' 'OAPIF:" + srv().root() + "' claimant_count.claimants.all-periods -oo PAGE_SIZE=1000") == 0);
    auto ds = open_vector(out);
    REQUIRE(ds);
    OGRLayer* layer = ds->GetLayer(0);
    REQUIRE(layer);
    CHECK(layer->GetFeatureCount(TRUE) == 840);
    const int start = layer->GetLayerDefn()->GetFieldIndex("period_start");
    REQUIRE(start >= 0);
    CHECK(layer->GetLayerDefn()->GetFieldDefn(start)->GetType() == OFTDate); // QGIS's temporal controller can use it
    layer->SetAttributeFilter("period = '2017-09'");
    CHECK(layer->GetFeatureCount(TRUE) == 420);
    layer->SetAttributeFilter("period_start >= '2017-10-01'");
    CHECK(layer->GetFeatureCount(TRUE) == 420);
    // A datetime interval through GDAL (the URL form a client without a time filter can use).
    const std::string sep_out = srv().file("interval.gpkg");
    REQUIRE(run("ogr2ogr -f GPKG '" + sep_out + "' '" + srv().root() +
                "/collections/claimant_count.claimants.all-periods/items?datetime=2017-09-01/2017-09-30&limit=10000'") == 0);
    auto sep_ds = open_vector(sep_out);
    REQUIRE(sep_ds);
    CHECK(sep_ds->GetLayer(0)->GetFeatureCount(TRUE) == 420);
    // A per-period collection, picked by name.
    const std::string one_out = srv().file("one_period.gpkg");
    REQUIRE(run("ogr2ogr -f GPKG '" + one_out + "' 'OAPIF:" + srv().root() + "' claimant_count.claimants.2017-09 -oo PAGE_SIZE=1000") == 0);
    auto one_ds = open_vector(one_out);
    REQUIRE(one_ds);
    CHECK(one_ds->GetLayer(0)->GetFeatureCount(TRUE) == 420);
}

TEST_CASE("ogc - collections carry license links and rights; LAD boundaries have households summed from their LSOAs") {
    const auto c = fetch_json("/ogc/collections/claimant_count.claimants");
    bool licence_link = false;
    for (const auto& l : c["links"]) {
        if (l["rel"] == "license") licence_link = l["href"] == "https://www.nationalarchives.gov.uk/doc/open-government-licence/version/3/";
    }
    CHECK(licence_link);
    CHECK(contains(c["license"].get<std::string>(), "Open Government Licence"));
    CHECK_FALSE(c["rights"].get<std::string>().empty());
    const auto lads = fetch_json("/ogc/collections/lad-2011/items?limit=100");
    const auto table = fetch_json("/api/table?dataset=claimant_count&level=lad&period=2017-09");
    std::map<std::string, std::int64_t> households;
    for (const auto& r : table["rows"]) households[r["code"]] = r["households"].get<std::int64_t>();
    REQUIRE(lads["features"].size() == 2);
    for (const auto& f : lads["features"]) {
        REQUIRE(f["properties"]["households"].is_number());
        CHECK(f["properties"]["households"].get<std::int64_t>() == households.at(f["id"]));
        CHECK(f["properties"]["households_basis"] == "sum of the Census households of its lsoas");
    }
    // Levels with their own count say nothing of a basis.
    CHECK_FALSE(fetch_json("/ogc/collections/lsoa-2011/items?limit=1")["features"][0]["properties"].contains("households_basis"));
}

TEST_CASE("exports - every CSV opens in GDAL with the header on line 1, one row per area and typed columns") {
    struct file {
        std::string path;
        bool key;
        std::size_t rows;
    };
    const std::string internal = "dataset=" + internal_id + "&measure=referrals&period=2017-09";
    const auto& b = bespoke_areas();
    const std::vector<file> files{
        {"/api/table?dataset=claimant_count&period=2017-09&format=csv", false, 420},
        {"/api/table?" + internal + "&within=E08000003&format=csv", true, 0},
        {"/api/export/areas.csv?dataset=claimant_count&level=lad", false, 2},
        {"/api/export/bespoke.csv?dataset=claimant_count&ids=" + b.lsoa_a + "," + b.lsoa_b, false, 2},
        {"/api/targets?" + internal + "&within=E08000003&limit=12&format=csv", true, 12}};
    for (const auto& f : files) {
        INFO(f.path);
        const auto r = fetch(f.path, f.key);
        REQUIRE(r->status == 200);
        CHECK(std::regex_search(r->get_header_value("Content-Disposition"), std::regex(R"(_\d{4}-\d{2}-\d{2}\.csv")")));
        const auto meta = sidecar_of(r, f.key);
        const std::string path = srv().file("gdal.csv");
        write_file(path, r->body);
        const char* const options[] = {"AUTODETECT_TYPE=YES", "HEADERS=YES", nullptr};
        auto ds = open_vector(path, options);
        REQUIRE(ds);
        OGRLayer* layer = ds->GetLayer(0);
        const auto* defn = layer->GetLayerDefn();
        const auto& columns = meta["tableSchema"]["columns"];
        REQUIRE(static_cast<std::size_t>(defn->GetFieldCount()) == columns.size()); // GDAL keeps every column
        for (int i = 0; i < defn->GetFieldCount(); ++i) {
            const auto& col = columns[static_cast<std::size_t>(i)];
            CHECK(std::string(defn->GetFieldDefn(i)->GetNameRef()) == col["name"].get<std::string>());
            const auto type = defn->GetFieldDefn(i)->GetType();
            const std::string datatype = col["datatype"];
            // GDAL's detection agrees with the sidecar where the column has values to detect from.
            if (datatype == "integer") CHECK_MESSAGE((type == OFTInteger || type == OFTInteger64 || type == OFTString), col["name"]);
            if (datatype == "decimal") CHECK_MESSAGE((type == OFTReal || type == OFTInteger || type == OFTString), col["name"]);
        }
        for (const char* name : {"code", "period", "period_name", "classification", "households"}) {
            CHECK_MESSAGE(defn->GetFieldIndex(name) >= 0, name);
        }
        const auto n = static_cast<std::size_t>(layer->GetFeatureCount(TRUE));
        if (f.rows) CHECK(n == f.rows);
        for (auto& feature : *layer) CHECK(std::string(feature->GetFieldAsString("name")) != "Total");
    }
    // The claimant count column is detected as a number (a GIS can class it).
    const auto r = fetch("/api/table?dataset=claimant_count&period=2017-09&format=csv");
    write_file(srv().file("typed.csv"), r->body);
    const char* const options[] = {"AUTODETECT_TYPE=YES", nullptr};
    auto ds = open_vector(srv().file("typed.csv"), options);
    REQUIRE(ds);
    const auto* defn = ds->GetLayer(0)->GetLayerDefn();
    CHECK(defn->GetFieldDefn(defn->GetFieldIndex("claimants"))->GetType() == OFTInteger);
    CHECK(defn->GetFieldDefn(defn->GetFieldIndex("claimants_per_100_households"))->GetType() == OFTReal);
}

TEST_CASE("exports - GeoPackage and GeoJSON carry a title, a description and metadata where GDAL reads them") {
    const auto g = fetch("/api/export/areas.gpkg?dataset=claimant_count&period=2017-09&level=lad");
    REQUIRE(g->status == 200);
    write_file(srv().file("meta.gpkg"), g->body);
    {
        auto ds = open_vector(srv().file("meta.gpkg"));
        REQUIRE(ds);
        OGRLayer* layer = ds->GetLayer(0);
        const char* title = layer->GetMetadataItem("IDENTIFIER");
        REQUIRE(title);
        CHECK(std::string(title).rfind("Claimant count", 0) == 0);
        CHECK(contains(title, ": Claimants, September 2017, lad 2011"));
        CHECK(contains(layer->GetMetadataItem("DESCRIPTION"), "Published"));
        const char* licence = layer->GetMetadataItem("licence");
        REQUIRE(licence);
        CHECK(contains(licence, "Open Government Licence"));
        const int start = layer->GetLayerDefn()->GetFieldIndex("period_start");
        REQUIRE(start >= 0);
        CHECK(layer->GetLayerDefn()->GetFieldDefn(start)->GetType() == OFTDate);
    }
    CHECK(run("sqlite3 '" + srv().file("meta.gpkg") + "' 'SELECT count(*) FROM gpkg_metadata' | grep -q '^[1-9]'") == 0);
    const auto j = fetch("/api/export/areas.geojson?dataset=claimant_count&period=2017-09&level=lad");
    write_file(srv().file("meta.geojson"), j->body);
    auto ds = open_vector(srv().file("meta.geojson"));
    REQUIRE(ds);
    OGRLayer* layer = ds->GetLayer(0);
    CHECK(std::string(layer->GetName()).rfind("claimant_count_claimants_2017-09_lad", 0) == 0);
    const char* description = layer->GetMetadataItem("DESCRIPTION");
    REQUIRE(description);
    CHECK(contains(description, "Published"));
}

TEST_CASE("ogc - styles: QML, SLD and a MapLibre style with the web map's classes (quantile) and colours (YlGnBu)") {
    const std::string base = "/ogc/collections/claimant_count.claimants";
    bool styles_link = false;
    const auto collection = fetch_json(base); // kept: a range-for over a temporary's member would dangle
    for (const auto& l : collection["links"]) styles_link = styles_link || l["rel"] == "styles";
    CHECK(styles_link);
    const auto list = fetch_json(base + "/styles");
    REQUIRE(list["styles"].size() == 1);
    CHECK(list["styles"][0]["links"].size() == 3);
    const auto breaks = fetch_json("/api/breaks?dataset=claimant_count&measure=claimants&period=2017-10")["breaks"];
    REQUIRE(breaks.size() == 5);
    auto two = [](double v) {
        char b[32];
        std::snprintf(b, sizeof b, "%.2f", v);
        return std::string(b);
    };
    const auto qml = fetch(base + "/styles/default?f=qml");
    REQUIRE(qml->status == 200);
    CHECK(contains(qml->body, "attr=\"rate_per_100_households\""));
    CHECK(contains(qml->body, "graduatedSymbol"));
    for (const auto& b : breaks) CHECK(contains(qml->body, "upper=\"" + two(b.get<double>()) + "\""));
    for (const char* colour : {"255,255,204,255", "161,218,180,255", "65,182,196,255", "44,127,184,255", "37,52,148,255"}) {
        CHECK_MESSAGE(contains(qml->body, colour), colour); // web/src/style.js PALETTES[5]
    }
    const auto sld = fetch(base + "/styles/default?f=sld");
    REQUIRE(sld->status == 200);
    CHECK(contains(sld->get_header_value("Content-Type"), "sld"));
    for (const char* colour : {"#ffffcc", "#a1dab4", "#41b6c4", "#2c7fb8", "#253494"}) CHECK(contains(sld->body, colour));
    for (const auto& b : breaks) CHECK(contains(sld->body, "<ogc:Literal>" + two(b.get<double>()) + "</ogc:Literal>"));
    const auto style = json::parse(fetch(base + "/styles/default?f=mapbox")->body);
    CHECK(style["version"] == 8);
    CHECK(contains(style["sources"]["areas"]["tiles"][0].get<std::string>(), "/tiles/lsoa/{z}/{x}/{y}.mvt?dataset=claimant_count&measure=claimants&period=2017-10"));
    CHECK(style["layers"][0]["source-layer"] == "lsoa");
    // A period's collection styles that period; boundaries have no style; other formats are 406.
    CHECK(contains(fetch("/ogc/collections/claimant_count.claimants.2017-09/styles/default?f=mapbox")->body, "period=2017-09"));
    CHECK(fetch_error("/ogc/collections/lsoa-2011/styles", 404) == "UnknownStyle");
    CHECK(fetch_error(base + "/styles/default?f=png", 406) == "UnsupportedFormat");
    CHECK(fetch_error("/ogc/collections/" + internal_id + ".referrals/styles/default", 404) == "UnknownCollection"); // no key
    CHECK(fetch(("/ogc/collections/" + internal_id + ".referrals/styles/default?f=qml"), true)->status == 200);
}

TEST_CASE("qgis - the CSV, the all-periods collection and the QML style load in QGIS (skipped without python3-qgis)") {
    if (run("python3 -c 'import qgis.core'") != 0) {
        MESSAGE("python3-qgis is not installed: QGIS checks skipped (GDAL, which QGIS reads files and OAPIF with, is tested above)");
        return;
    }
    const auto csv = fetch("/api/table?dataset=claimant_count&period=2017-09&format=csv");
    write_file(srv().file("qgis.csv"), csv->body);
    write_file(srv().file("qgis.qml"), fetch("/ogc/collections/claimant_count.claimants/styles/default?f=qml")->body);
    const std::string script = srv().file("qgis_check.py");
    write_file(script, "import sys\n"
                       "from qgis.core import QgsApplication, QgsVectorLayer\n"
                       "app = QgsApplication([], False)\napp.initQgis()\n"
                       "t = QgsVectorLayer('file://" + srv().file("qgis.csv") + "?delimiter=,&detectTypes=yes&geomType=none', 't', 'delimitedtext')\n"
                       "assert t.isValid(), 'csv'\n"
                       "names = [f.name() for f in t.fields()]\n"
                       "assert names[0] == 'code' and 'claimants' in names and 'period_name' in names, names\n"
                       "assert t.featureCount() == 420, t.featureCount()\n"
                       "o = QgsVectorLayer(\"url='" + srv().root() + "' typename='claimant_count.claimants.all-periods'\", 'o', 'OAPIF')\n"
                       "assert o.isValid(), 'oapif'\n"
                       "assert o.featureCount() in (840, -1), o.featureCount()\n"
                       "msg, ok = o.loadNamedStyle('" + srv().file("qgis.qml") + "')\n"
                       "assert ok, msg\n"
                       "assert o.renderer().type() == 'graduatedSymbol', o.renderer().type()\n"
                       "print('qgis ok')\n");
    const std::string log = srv().file("qgis.log");
    CHECK_MESSAGE(run("QT_QPA_PLATFORM=offscreen python3 '" + script + "'", log) == 0, read_text(log));
}

TEST_CASE("ogc - a dataset moved to 2021 LSOAs: a .v2021 collection and the GeoPackage export, read by GDAL, carry /api/table?vintage=2021") {
    const auto table = fetch_json("/api/table?dataset=claimant_count&vintage=2021");
    std::map<std::string, json> rows;
    for (const auto& r : table["rows"]) rows[r["code"]] = r;
    REQUIRE(rows.size() == 434);
    const auto check_layer = [&](OGRLayer* layer) {
        REQUIRE(layer);
        CHECK(static_cast<std::size_t>(layer->GetFeatureCount(TRUE)) == rows.size());
        std::size_t estimated = 0;
        for (auto& f : *layer) {
            const auto& row = rows.at(f->GetFieldAsString("code"));
            if (row["value"].is_null()) {
                CHECK_FALSE(f->IsFieldSetAndNotNull(f->GetFieldIndex("value"))); // October lacks some 2011 LSOAs
            } else {
                CHECK(f->GetFieldAsInteger64("value") == row["value"].get<std::int64_t>());
            }
            CHECK(std::string(f->GetFieldAsString("change")) == row["change"].get<std::string>());
            CHECK((f->GetFieldAsInteger("estimated") != 0) == row["estimated"].get<bool>());
            CHECK(f->GetFieldAsInteger("not_apportioned") == 0);
            CHECK(f->GetFieldAsInteger("vintage") == 2021);
            REQUIRE(f->GetGeometryRef());
            estimated += row["estimated"].get<bool>() ? 1 : 0;
        }
        std::size_t expected = 0;
        for (const auto& [code, row] : rows) expected += row["estimated"].get<bool>() ? 1 : 0;
        CHECK(estimated == expected);
        CHECK(expected > 0);
    };
    const std::string out = srv().file("claimants_v2021.gpkg");
    REQUIRE(run("ogr2ogr -f GPKG '" + out + "' 'OAPIF:" + srv().root() + "' claimant_count.claimants.v2021") == 0);
    auto ds = open_vector(out);
    REQUIRE(ds);
    check_layer(ds->GetLayer(0));

    const auto r = fetch("/api/export/areas.gpkg?dataset=claimant_count&vintage=2021");
    REQUIRE(r->status == 200);
    const std::string path = srv().file("areas_v2021.gpkg");
    write_file(path, r->body);
    auto exported = open_vector(path);
    REQUIRE(exported);
    check_layer(exported->GetLayer(0));
    // Internal MI has no collection on another vintage (no OA crosswalk), percentages never have one.
    const auto collections = fetch_json("/ogc/collections");
    for (const auto& c : collections["collections"]) {
        const std::string id = c["id"];
        if (id.find(".v2021") != std::string::npos) CHECK(id.rfind("claimant_count.", 0) == 0);
    }
}
