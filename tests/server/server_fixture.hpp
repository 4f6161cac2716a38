#pragma once
// Real smallarea servers for end-to-end tests (test_server: a temporary store ingested from a manifest or copied
// from the sample's template, prepared, served on 127.0.0.1 on an ephemeral port, restartable) and the one shared
// by a test executable (server(): the bundled sample for the whole run, stopped at exit); plus request helpers.
// Needs SMALLAREA_SOURCE_DIR defined by CMake.

#include <doctest/doctest.h>

#include "data/access_store.hpp"
#include "data/ingest.hpp"
#include "data/sqlite.hpp"
#include "data/store.hpp"
#include "server/app.hpp"

#include "../data/test_support.hpp"

#include <httplib.h>
#include <nlohmann/json.hpp>

#include <chrono>
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

using configure_fn = std::function<void(smallarea::server::server_config&)>;
/// Prepares a test server's store (its path) before the server first opens it: organisations, keys, bespoke
/// areas, or a changed schema.
using prepare_fn = std::function<void(const std::string& db_path)>;

/// The bundled sample ingested once per test executable into a template store (ingest takes seconds); servers
/// that each need a fresh store copy it (test_server(copy_of_sample)).
inline const std::string& sample_store() {
    static temp_dir dir;
    static const std::string path = [] {
        const auto p = new_store(dir, "template.db");
        smallarea::data::ingest_manifest(sample_manifest, p);
        return p;
    }();
    return path;
}

/// A consistent copy of sample_store() at `to` (VACUUM INTO: the WAL is folded in, the template is untouched).
inline void copy_sample_store(const std::string& to) {
    if (postgres_mode()) throw std::logic_error("copy_sample_store: use sample_store_copy(dir) with PostgreSQL");
    auto src = smallarea::data::open_store(sample_store(), false);
    smallarea::data::statement s(src, "VACUUM INTO ?");
    s.bind(1, to);
    s.run();
}

/// A copy of sample_store() for a test: a file in `dir` (VACUUM INTO) or a database made from it as a template.
inline std::string sample_store_copy(const temp_dir& dir, const std::string& name = "store.db") {
    if (postgres_mode()) return copy_store(sample_store(), dir, name);
    const auto to = dir.file(name);
    copy_sample_store(to);
    return to;
}

/// The LSOA boundary archive of a test store: beside the file, or for a PostgreSQL database in the temp folder
/// under the database's name.
inline std::string archive_of(const std::string& db) {
    if (!smallarea::data::is_postgresql_url(db)) return db + ".lsoa.pmtiles";
    return (std::filesystem::temp_directory_path() / ("smallarea-" + db.substr(db.rfind('/') + 1) + ".lsoa.pmtiles")).string();
}

struct copy_of_sample_t {};
/// test_server(copy_of_sample, ...): the server's store is a copy of sample_store() instead of a fresh ingest.
inline constexpr copy_of_sample_t copy_of_sample{};

/// A real server over a temporary store ingested from a manifest (the bundled sample by default), or a copy of
/// the sample's template store, served on an ephemeral port of 127.0.0.1 until destroyed. `prepare` changes the
/// store before the server first opens it; `configure` the server's settings (caches, limits, rate limit).
/// stop() and start() restart it over the same store (which may be changed in between) on a new port.
class test_server {
public:
    explicit test_server(const std::string& manifest = sample_manifest, configure_fn configure = {}, const prepare_fn& prepare = {})
        : m_configure(std::move(configure)) {
        m_db = new_store(m_dir);
        smallarea::data::ingest_manifest(manifest, m_db);
        if (prepare) prepare(m_db);
        start();
    }
    explicit test_server(copy_of_sample_t, configure_fn configure = {}, const prepare_fn& prepare = {})
        : m_configure(std::move(configure)) {
        m_db = sample_store_copy(m_dir);
        if (prepare) prepare(m_db);
        start();
    }
    ~test_server() { stop(); }
    test_server(const test_server&) = delete;
    test_server& operator=(const test_server&) = delete;

    /// Opens the store (a new snapshot) and serves it on a new ephemeral port. No-op while running.
    void start() {
        if (m_app) return;
        smallarea::server::server_config config;
        config.db_path = m_db;
        config.host = "127.0.0.1";
        config.port = 0;
        if (m_configure) m_configure(config);
        m_app = std::make_unique<smallarea::server::app>(config);
        m_port = m_app->bind();
        m_thread = std::thread([this] { m_app->serve(); });
    }
    /// Stops serving (in-flight requests finish) and closes the store, so a test may change it exclusively.
    void stop() {
        if (!m_app) return;
        m_app->stop();
        m_thread.join();
        m_app.reset();
    }
    bool running() const noexcept { return m_app != nullptr; }
    int port() const noexcept { return m_port; }
    const std::string& db_path() const noexcept { return m_db; }
    /// A path in the server's temporary folder (removed with it), for files a test writes.
    std::string file(const std::string& name) const { return m_dir.file(name); }

    /// Mints a key of a new organisation with a representative, sharing `datasets` (default: every dataset of
    /// the store).
    std::string mint_key(const std::string& organisation, std::vector<std::string> datasets = {}) const {
        return add_partner(m_db, organisation, std::move(datasets));
    }
    /// The same in any store (for a prepare_fn, before the server opens it).
    static std::string add_partner(const std::string& db_path, const std::string& organisation, std::vector<std::string> datasets = {}) {
        auto db = smallarea::data::open_store(db_path, true);
        if (datasets.empty()) {
            for (const auto& d : smallarea::data::load_datasets(db)) datasets.push_back(d.id);
        }
        smallarea::data::add_organisation(db, organisation, "2024-01-01", datasets, {"Test Representative", "rep@example.org"});
        return smallarea::data::issue_key(db, organisation).key;
    }

    /// Any request (GET, POST, PATCH, DELETE) with headers; REQUIREs an answer.
    httplib::Result request(const std::string& method, const std::string& path, const std::string& body = {},
                            const httplib::Headers& headers = {}) const {
        httplib::Client c("127.0.0.1", m_port);
        c.set_connection_timeout(5);
        c.set_read_timeout(60);
        auto r = method == "POST"     ? c.Post(path.c_str(), headers, body, "application/json")
                 : method == "PATCH"  ? c.Patch(path.c_str(), headers, body, "application/json")
                 : method == "DELETE" ? c.Delete(path.c_str(), headers)
                                      : c.Get(path.c_str(), headers);
        REQUIRE_MESSAGE(r, "no response for " << method << " " << path);
        return r;
    }
    /// GET with optional headers; the status and body (REQUIREs an answer).
    std::pair<int, std::string> get(const std::string& path, const httplib::Headers& headers = {}) const {
        const auto r = request("GET", path, {}, headers);
        return {r->status, r->body};
    }
    std::pair<int, std::string> post(const std::string& path, const std::string& body, const httplib::Headers& headers = {}) const {
        const auto r = request("POST", path, body, headers);
        return {r->status, r->body};
    }

    /// The audit log (newest `limit` rows) once it holds at least `at_least` rows: the server's flusher writes
    /// it every 200 ms, so this waits up to 2 s.
    std::vector<smallarea::data::audit_row> audit(std::size_t at_least, int limit = 100000) const {
        std::vector<smallarea::data::audit_row> rows;
        for (int i = 0; i < 40; ++i) {
            auto db = smallarea::data::open_store(m_db, false);
            rows = smallarea::data::read_audit(db, limit);
            if (rows.size() >= at_least) break;
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
        return rows;
    }

private:
    temp_dir m_dir;
    std::string m_db;
    configure_fn m_configure;
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
