#pragma once
// A real smallarea server for end-to-end tests: the bundled sample ingested into a temporary store, served on
// 127.0.0.1 on an ephemeral port for the whole test run, stopped at exit; plus small request helpers.
// Needs SMALLAREA_SOURCE_DIR defined by CMake.

#include <doctest/doctest.h>

#include "data/access_store.hpp"
#include "data/ingest.hpp"
#include "data/store.hpp"
#include "server/app.hpp"

#include "../data/test_support.hpp"

#include <httplib.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <functional>
#include <map>
#include <memory>
#include <regex>
#include <set>
#include <string>
#include <thread>

namespace test_fixture {

using nlohmann::json;
using namespace test_support;

inline const std::string source_dir = SMALLAREA_SOURCE_DIR;
inline const std::string sample_dir = source_dir + "/data/sample";
inline const std::string sample_manifest = sample_dir + "/manifest.json";

/// A real server over a temporary store ingested from a manifest (the bundled sample by default), served on an
/// ephemeral port of 127.0.0.1 until destroyed. `configure` may change the server's settings (caches, limits).
class test_server {
public:
    explicit test_server(const std::string& manifest = sample_manifest,
                         const std::function<void(smallarea::server::server_config&)>& configure = {}) {
        m_db = m_dir.file("store.db");
        smallarea::data::ingest_manifest(manifest, m_db);
        smallarea::server::server_config config;
        config.db_path = m_db;
        config.host = "127.0.0.1";
        config.port = 0;
        if (configure) configure(config);
        m_app = std::make_unique<smallarea::server::app>(config);
        m_port = m_app->bind();
        m_thread = std::thread([this] { m_app->serve(); });
    }
    ~test_server() {
        m_app->stop();
        m_thread.join();
    }
    test_server(const test_server&) = delete;
    test_server& operator=(const test_server&) = delete;
    int port() const noexcept { return m_port; }
    const std::string& db_path() const noexcept { return m_db; }

    /// Mints a key of a new organisation every dataset of the store is shared with.
    std::string mint_key(const std::string& organisation) const {
        auto db = smallarea::data::open_store(m_db, true);
        std::vector<std::string> all;
        for (const auto& d : smallarea::data::load_datasets(db)) all.push_back(d.id);
        smallarea::data::add_organisation(db, organisation, "2024-01-01", all, {"Test Representative", "rep@example.org"});
        return smallarea::data::issue_key(db, organisation).key;
    }

    /// GET with optional headers; the status and body (REQUIREs an answer).
    std::pair<int, std::string> get(const std::string& path, const httplib::Headers& headers = {}) const {
        httplib::Client c("127.0.0.1", m_port);
        c.set_read_timeout(60);
        auto r = c.Get(path.c_str(), headers);
        REQUIRE_MESSAGE(r, "no response for " << path);
        return {r->status, r->body};
    }
    std::pair<int, std::string> post(const std::string& path, const std::string& body, const httplib::Headers& headers = {}) const {
        httplib::Client c("127.0.0.1", m_port);
        c.set_read_timeout(60);
        auto r = c.Post(path.c_str(), headers, body, "application/json");
        REQUIRE_MESSAGE(r, "no response for POST " << path);
        return {r->status, r->body};
    }

private:
    temp_dir m_dir;
    std::string m_db;
    std::unique_ptr<smallarea::server::app> m_app;
    int m_port = 0;
    std::thread m_thread;
};

inline test_server& server() {
    static test_server s;
    return s;
}

/// A key of an organisation every dataset is shared with (made once in the fixture's store). Internal MI needs
/// `Authorization: Bearer KEY` (server/access.hpp).
inline const std::string& fixture_key() {
    static const std::string key = [] {
        return server().mint_key("test-fixture");
    }();
    return key;
}

/// When true, get()/get_json()/error_code() send fixture_key() unless the caller passes an Authorization header
/// (test_server reads internal MI throughout; tests of refusals leave it false).
inline bool& send_fixture_key() {
    static bool on = false;
    return on;
}

inline httplib::Client client() {
    httplib::Client c("127.0.0.1", server().port());
    c.set_connection_timeout(5);
    c.set_read_timeout(20);
    return c;
}

inline httplib::Result get(const std::string& path, const httplib::Headers& headers = {}) {
    auto c = client();
    httplib::Headers sent = headers;
    if (send_fixture_key() && sent.find("Authorization") == sent.end()) {
        sent.emplace("Authorization", "Bearer " + fixture_key());
    }
    auto r = c.Get(path.c_str(), sent);
    REQUIRE_MESSAGE(r, "no response for " << path);
    return r;
}

inline json get_json(const std::string& path, int expected_status = 200) {
    const auto r = get(path);
    INFO(path << " -> " << r->status << " " << r->body.substr(0, 300));
    REQUIRE(r->status == expected_status);
    return json::parse(r->body);
}

/// An error response: the status and a JSON body {"code", "message"}; returns the code.
inline std::string error_code(const std::string& path, int status) {
    const auto r = get(path);
    INFO(path << " -> " << r->status << " " << r->body.substr(0, 300));
    CHECK(r->status == status);
    const auto body = json::parse(r->body, nullptr, false);
    REQUIRE_FALSE(body.is_discarded());
    REQUIRE(body.contains("code"));
    REQUIRE(body.contains("message"));
    CHECK(body["code"].is_string());
    CHECK_FALSE(body["message"].get<std::string>().empty());
    return body["code"].get<std::string>();
}

/// LSOA code -> LAD code from the sample lookup.
inline std::map<std::string, std::string> lad_of_lsoa() {
    const auto t = read_csv(sample_dir + "/lookups/oa11_lsoa11_lad11_manchester_trafford.csv");
    std::map<std::string, std::string> out;
    for (std::size_t i = 0; i < t.rows.size(); ++i) out[t.at(i, "lsoa11cd")] = t.at(i, "lad11cd");
    return out;
}

inline std::map<std::string, std::string> lad_of_oa() {
    const auto t = read_csv(sample_dir + "/lookups/oa11_lsoa11_lad11_manchester_trafford.csv");
    std::map<std::string, std::string> out;
    for (std::size_t i = 0; i < t.rows.size(); ++i) out[t.at(i, "oa11cd")] = t.at(i, "lad11cd");
    return out;
}

/// Raw values of one measure and period of the synthetic MI file, by OA.
inline std::map<std::string, std::int64_t> raw_mi(const std::string& measure, const std::string& period) {
    const auto t = read_csv(sample_dir + "/counts/synthetic_mi_work_programme_oa11.csv");
    std::map<std::string, std::int64_t> out;
    for (std::size_t i = 0; i < t.rows.size(); ++i) {
        if (t.at(i, "measure") == measure && t.at(i, "period") == period) out[t.at(i, "oa11cd")] = std::stoll(t.at(i, "value"));
    }
    return out;
}

inline std::int64_t sum_values(const json& rows) {
    std::int64_t sum = 0;
    for (const auto& r : rows) {
        if (r["value"].is_number()) sum += r["value"].get<std::int64_t>();
    }
    return sum;
}

/// Web-mercator tile containing lon/lat (EPSG:4326) at zoom z.
inline std::pair<int, int> tile_of(double lon, double lat, int z) {
    const double n = std::pow(2.0, z);
    const double rad = lat * M_PI / 180.0;
    const int x = static_cast<int>(std::floor((lon + 180.0) / 360.0 * n));
    const int y = static_cast<int>(std::floor((1.0 - std::log(std::tan(rad) + 1.0 / std::cos(rad)) / M_PI) / 2.0 * n));
    return {x, y};
}

inline std::string manchester_tile(int z = 12) {
    const auto [x, y] = tile_of(-2.2426, 53.4808, z); // Manchester city centre
    return "/tiles/lsoa/" + std::to_string(z) + "/" + std::to_string(x) + "/" + std::to_string(y) + ".mvt";
}


/// Validates a CSV against its W3C CSV on the Web metadata: the header is line 1 and names exactly the described
/// columns in order; every cell parses as its column's datatype (or is the declared null ""); the metadata says
/// title, publisher, licence, rights, classification (accessRights), period (temporal), geography (spatial) and
/// the rule (description). Returns the parsed table.
inline csv_table check_csvw(const std::string& csv, const json& meta) {
    temp_dir dir;
    write_text(dir.file("t.csv"), csv);
    const auto t = read_csv(dir.file("t.csv")); // the product's strict reader: no ragged rows, valid quoting
    REQUIRE(meta.contains("tableSchema"));
    CHECK(meta["@context"] == "http://www.w3.org/ns/csvw");
    for (const char* key : {"url", "dc:title", "dc:publisher", "dc:license", "dc:rights", "dc:accessRights", "dc:temporal",
                            "dc:spatial", "dc:description"}) {
        CHECK_MESSAGE(meta.contains(key), "the CSVW metadata has no " << key);
    }
    const auto& columns = meta["tableSchema"]["columns"];
    REQUIRE(columns.size() == t.header.size());
    for (std::size_t c = 0; c < t.header.size(); ++c) {
        CHECK(columns[c]["name"] == t.header[c]);
        CHECK_FALSE(columns[c].value("dc:description", std::string()).empty());
        const std::string type = columns[c]["datatype"];
        const std::regex pattern(type == "integer" ? "-?[0-9]+" : type == "decimal" ? "-?[0-9]+(\\.[0-9]+)?"
                                 : type == "boolean" ? "true|false" : type == "date" ? "[0-9]{4}-[0-9]{2}-[0-9]{2}" : "[^]*");
        CHECK_MESSAGE((type == "integer" || type == "decimal" || type == "boolean" || type == "date" || type == "string"),
                      "unknown datatype " << type);
        for (std::size_t r = 0; r < t.rows.size(); ++r) {
            const auto& cell = t.rows[r][c];
            if (cell.empty()) continue; // "null": ""
            CHECK_MESSAGE(std::regex_match(cell, pattern), "row " << r << " column " << t.header[c] << " = \"" << cell << "\" is not " << type);
        }
    }
    if (meta["tableSchema"].contains("primaryKey")) {
        std::set<std::string> keys;
        const auto k = t.column(meta["tableSchema"]["primaryKey"].get<std::string>());
        for (const auto& row : t.rows) CHECK(keys.insert(row[static_cast<std::size_t>(k)]).second);
    }
    return t;
}

} // namespace test_fixture
