// test_hostile: hostile input never hurts the store or the server.
//  1. A corpus of malformed and hostile ingest files (tests/fixtures/hostile/, extending the refusals already in
//     tests/data/test_data.cpp) each end in ingest_error, with the store exactly as before.
//  2. Hostile requests against a real `smallarea serve` child process (with a web root): path traversal on static
//     files, SQL metacharacters in every parameter, huge numbers, repeated parameters, invalid UTF-8, NUL bytes,
//     very long URLs. Each gets 4xx JSON (or 404, or a harmless 2xx), never a 5xx, never a file outside the web
//     root, and the server is still alive afterwards. Requests are written to a raw socket, so nothing is
//     normalised or re-encoded by a client library.
//  3. Graceful shutdown: SIGTERM while a request is in flight lets it finish and the process exits 0.
//  4. Start-up errors: a missing store, a file that is not a smallarea store, a newer schema, a locked store and a
//     busy port each give a clear message and exit 1.

#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include "core/error.hpp"
#include "data/ingest.hpp"
#include "data/sqlite.hpp"
#include "data/store.hpp"

#include "../data/test_support.hpp"

#include <nlohmann/json.hpp>
#include <sqlite3.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <filesystem>
#include <map>
#include <string>
#include <thread>
#include <vector>

namespace data = smallarea::data;
using namespace test_support;
using nlohmann::json;

namespace {

const std::string source_dir = SMALLAREA_SOURCE_DIR;
const std::string cli = SMALLAREA_CLI;
const std::string fixtures = source_dir + "/tests/fixtures";
const std::string hostile = fixtures + "/hostile";
const std::string sample_manifest = source_dir + "/data/sample/manifest.json";

// ---------------------------------------------------------------------------------------------------------------
// Store state (release, row counts, checksums, file bytes): what a refused ingest must leave alone.

std::uint64_t checksum_of(data::database& db, const std::string& sql) {
    data::statement s(db, sql);
    std::uint64_t h = fnv1a("");
    while (s.step()) h = fnv1a((s.is_null(0) ? std::string("\x01NULL") : s.text(0)) + "\n", h);
    return h;
}

std::string store_state(const std::string& db_path) {
    std::string out = "file bytes " + std::to_string(fnv1a(store_file_bytes(db_path)));
    auto db = data::open_store(db_path, false);
    out += "\nrelease " + std::to_string(data::data_release(db));
    for (const char* table : {"areas", "area_ancestors", "denominators", "datasets", "measures", "observations"}) {
        out += std::string("\n") + table + " " + std::to_string(checksum_of(db, std::string("SELECT count(*) FROM ") + table));
    }
    out += "\nobservations " + std::to_string(checksum_of(db, "SELECT dataset_id || '|' || measure_id || '|' || period || '|' || "
                                                              "area_id || '|' || coalesce(CAST(value AS TEXT), 'null') FROM observations "
                                                              "ORDER BY 1"));
    out += "\nareas " + std::to_string(checksum_of(db, "SELECT id || '|' || code || '|' || name || '|' || " + geometry_hex_sql(db) +
                                                       " FROM areas ORDER BY id"));
    return out;
}

/// The sample ingested once per run; each test copies it.
const std::string& sample_store_template() {
    static temp_dir dir;
    static std::string path;
    if (path.empty()) {
        data::ingest_manifest(sample_manifest, dir.file("sample.db"));
        path = dir.file("sample.db");
    }
    return path;
}

std::string sample_store_in(const temp_dir& dir, const std::string& name = "store.db") {
    const std::string target = dir.file(name);
    std::filesystem::copy_file(sample_store_template(), target, std::filesystem::copy_options::overwrite_existing);
    return target;
}

/// tests/fixtures/manifest_tiny.json with absolute paths; `replace` maps a fixture name to another path, and any
/// key without a dot is a free-text replacement in the manifest.
std::string tiny_manifest(const temp_dir& dir, const std::map<std::string, std::string>& replace = {}) {
    std::string text = read_text(fixtures + "/manifest_tiny.json");
    for (const char* f : {"lsoa21_tiny.geojson", "households_lsoa21_tiny.csv", "counts_lsoa21_tiny.csv"}) {
        const auto it = replace.find(f);
        text = replace_all(text, std::string("\"") + f + "\"", "\"" + (it == replace.end() ? fixtures + "/" + f : it->second) + "\"");
    }
    for (const auto& [from, to] : replace) {
        if (from.find('.') == std::string::npos) text = replace_all(text, from, to);
    }
    const std::string path = dir.file("manifest.json");
    write_text(path, text);
    return path;
}

/// Ingest must throw ingest_error mentioning `what` (when given) and leave the store exactly as it was.
void check_refused(const std::string& manifest, const std::string& db_path, const std::string& what = "") {
    const std::string before = store_state(db_path);
    try {
        data::ingest_manifest(manifest, db_path);
        FAIL("ingest accepted it");
    } catch (const smallarea::ingest_error& e) {
        INFO("message: " << e.what());
        if (!what.empty()) CHECK(contains(e.what(), what));
    } catch (const std::exception& e) {
        FAIL("not an ingest_error: " << e.what());
    }
    CHECK(store_state(db_path) == before);
}

// ---------------------------------------------------------------------------------------------------------------
// Child processes and raw HTTP

struct child {
    pid_t pid = -1;
    std::string out, err; // files holding its stdout and stderr
};

child spawn(const std::vector<std::string>& args, const temp_dir& dir, const std::string& tag) {
    child c;
    c.out = dir.file(tag + ".out");
    c.err = dir.file(tag + ".err");
    // Created before the fork, so the parent can read them at once (the child truncates and fills them).
    std::ofstream(c.out).close();
    std::ofstream(c.err).close();
    c.pid = fork();
    REQUIRE(c.pid >= 0);
    if (c.pid == 0) {
        if (!freopen(c.out.c_str(), "w", stdout) || !freopen(c.err.c_str(), "w", stderr)) _exit(127);
        std::vector<char*> argv;
        for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
        argv.push_back(nullptr);
        execv(argv[0], argv.data());
        _exit(127);
    }
    return c;
}

/// Exit code, or -1 after `seconds` (the child is then killed).
int wait_exit(const child& c, double seconds) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
    while (std::chrono::steady_clock::now() < deadline) {
        int status = 0;
        if (waitpid(c.pid, &status, WNOHANG) == c.pid) return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    kill(c.pid, SIGKILL);
    waitpid(c.pid, nullptr, 0);
    return -1;
}

bool alive(const child& c) {
    int status = 0;
    return waitpid(c.pid, &status, WNOHANG) == 0;
}

/// The port from "listening on HOST:PORT", or 0 when the child exits or 20 s pass.
int wait_listening(const child& c) {
    for (int i = 0; i < 1000; ++i) {
        const std::string out = read_text(c.out);
        const auto at = out.find("listening on ");
        if (at != std::string::npos && out.find('\n', at) != std::string::npos) {
            return std::stoi(out.substr(out.rfind(':', out.find('\n', at)) + 1));
        }
        if (!alive(c)) return 0;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return 0;
}

struct raw_response {
    bool received = false;
    int status = 0;
    std::string head, body;
    bool complete = false; // Content-Length present and the body has exactly that many bytes
};

int connect_to(int port) {
    const int fd = socket(AF_INET, SOCK_STREAM, 0);
    REQUIRE(fd >= 0);
    timeval tv{30, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<std::uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

bool send_all(int fd, const std::string& text) {
    std::size_t sent = 0;
    while (sent < text.size()) {
        const auto n = send(fd, text.data() + sent, text.size() - sent, MSG_NOSIGNAL);
        if (n <= 0) return false;
        sent += static_cast<std::size_t>(n);
    }
    return true;
}

raw_response read_response(int fd) {
    std::string all;
    char buffer[65536];
    for (;;) {
        const auto n = recv(fd, buffer, sizeof buffer, 0);
        if (n <= 0) break;
        all.append(buffer, static_cast<std::size_t>(n));
    }
    close(fd);
    raw_response r;
    const auto end = all.find("\r\n\r\n");
    if (all.rfind("HTTP/1.", 0) != 0 || end == std::string::npos) return r;
    r.received = true;
    r.head = all.substr(0, end);
    r.body = all.substr(end + 4);
    r.status = std::stoi(all.substr(9, 3));
    std::string lower = r.head;
    std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
    const auto cl = lower.find("\r\ncontent-length:");
    if (cl != std::string::npos) r.complete = std::stoul(lower.substr(cl + 17)) == r.body.size();
    else r.complete = r.status == 204 || r.status == 304;
    return r;
}

/// GET target exactly as given (no encoding), Connection: close.
raw_response raw_get(int port, const std::string& target, const std::string& extra_headers = "") {
    const int fd = connect_to(port);
    if (fd < 0) return {};
    send_all(fd, "GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n" + extra_headers + "Connection: close\r\n\r\n");
    return read_response(fd);
}

/// A served store in a temporary folder with a web root and, beside it (outside the root), a secret file.
struct served {
    temp_dir dir;
    std::string db;
    std::string web;
    child process;
    int port = 0;

    served() {
        db = sample_store_in(dir);
        web = dir.file("web");
        std::filesystem::create_directories(web + "/assets");
        write_text(web + "/index.html", "<!doctype html><title>map</title>");
        write_text(web + "/assets/app.js", "console.log('map');");
        write_text(dir.file("secret.txt"), "SMALLAREA-SECRET-OUTSIDE-WEBROOT");
        process = spawn({cli, "serve", "--db", db, "--port", "0", "--web", web, "--threads", "4", "--rate-limit", "0"}, dir, "serve");
        port = wait_listening(process);
        REQUIRE_MESSAGE(port > 0, "server did not start: " << read_text(process.err));
    }
    ~served() {
        if (alive(process)) {
            kill(process.pid, SIGTERM);
            wait_exit(process, 10);
        }
    }
};

served& server() {
    static served s;
    return s;
}

/// The hostile-request rule: a response, never 5xx, 4xx bodies are JSON {code, message}, nothing from outside
/// the web root.
void check_hostile(const std::string& target, std::map<int, int>& statuses) {
    const auto r = raw_get(server().port, target);
    INFO("GET " << target.substr(0, 300) << " -> " << r.status << " " << r.body.substr(0, 200));
    REQUIRE_MESSAGE(r.received, "no HTTP response");
    ++statuses[r.status];
    CHECK(r.status < 500);
    CHECK(r.body.find("SMALLAREA-SECRET-OUTSIDE-WEBROOT") == std::string::npos);
    CHECK(r.body.find("root:x:0:0") == std::string::npos);
    if (r.status >= 400) {
        const auto body = json::parse(r.body, nullptr, false);
        CHECK_MESSAGE(!body.is_discarded(), "a 4xx without a JSON body");
        if (!body.is_discarded()) {
            CHECK(body.contains("code"));
            CHECK(body.contains("message"));
        }
    }
}

std::string percent_encode(const std::string& s) {
    static const char* hex = "0123456789ABCDEF";
    std::string out;
    for (const unsigned char c : s) {
        if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') out += static_cast<char>(c);
        else {
            out += '%';
            out += hex[c >> 4];
            out += hex[c & 15];
        }
    }
    return out;
}

std::string summary(const std::map<int, int>& statuses) {
    std::string out;
    for (const auto& [s, n] : statuses) out += " " + std::to_string(s) + "x" + std::to_string(n);
    return out;
}

} // namespace

// ---------------------------------------------------------------------------------------------------------------
// 1. Ingest corpus

TEST_CASE("hostile ingest - boundaries: non-finite, huge, empty, collection, degenerate, unlabelled, mislabelled") {
    temp_dir dir;
    const std::string db = sample_store_in(dir);
    const std::vector<std::pair<std::string, std::string>> cases{
        {"lsoa21_huge_coordinates.geojson", "lsoa21_huge_coordinates.geojson"},
        {"lsoa21_nan.geojson", "lsoa21_nan.geojson"},
        {"lsoa21_infinity.geojson", "lsoa21_infinity.geojson"},
        {"lsoa21_empty_multipolygon.geojson", "lsoa21_empty_multipolygon.geojson"},
        {"lsoa21_geometry_collection.geojson", "lsoa21_geometry_collection.geojson"},
        {"lsoa21_two_point_ring.geojson", "lsoa21_two_point_ring.geojson"},
        {"lsoa21_missing_code.geojson", "lsoa21_missing_code.geojson"},
        {"lsoa21_declared_4326_but_metres.geojson", "lsoa21_declared_4326_but_metres.geojson"},
        {"lsoa21_binary_garbage.geojson", "lsoa21_binary_garbage.geojson"},
        {"lsoa21_truncated.geojson.gz", "lsoa21_truncated.geojson.gz"},
        {"lsoa21_no_features.geojson", ""},
        {"lsoa21_sql_code.geojson", ""},
    };
    for (const auto& [file, what] : cases) {
        SUBCASE(file.c_str()) {
            check_refused(tiny_manifest(dir, {{"lsoa21_tiny.geojson", hostile + "/" + file}}), db, what);
        }
    }
}

TEST_CASE("hostile ingest - CSV cells and encodings") {
    temp_dir dir;
    const std::string db = sample_store_in(dir);
    const std::vector<std::pair<std::string, std::string>> cases{
        {"counts_huge_value.csv", "line 3"},         {"counts_exponent.csv", "line 3"},
        {"counts_nan.csv", "line 3"},                {"counts_infinity.csv", "line 3"},
        {"counts_hex.csv", "line 3"},                {"counts_plus_sign.csv", "line 3"},
        {"counts_thousands_separator.csv", "line 3"}, {"counts_text_after_quote.csv", "line 3"},
        {"counts_oa2011_code.csv", "E00025604"},     {"counts_sql_code.csv", "line 3"},
        {"counts_nul_byte.csv", "NUL"},              {"counts_bom_ragged.csv", "line 3"},
        {"counts_crlf_unterminated.csv", "line 3"},  {"counts_overlong_utf8.csv", "UTF-8"},
        {"counts_utf16.csv", "counts_utf16.csv"},
    };
    for (const auto& [file, what] : cases) {
        SUBCASE(file.c_str()) {
            check_refused(tiny_manifest(dir, {{"counts_lsoa21_tiny.csv", hostile + "/" + file}}), db, what);
        }
    }
    SUBCASE("a 1 MB measure name") {
        const std::string csv = dir.file("long.csv");
        std::string name;
        for (int i = 0; i < 80000; ++i) name += "Claimant count";
        write_text(csv, "date,lsoa21cd,measure,value\n2017-09-01,E01012001,Claimant count,15\n2017-09-01,E01012002," + name + ",20\n");
        check_refused(tiny_manifest(dir, {{"counts_lsoa21_tiny.csv", csv}}), db, "line 3");
    }
    SUBCASE("/dev/zero as a CSV (endless NUL bytes) is refused at once") {
        check_refused(tiny_manifest(dir, {{"counts_lsoa21_tiny.csv", "/dev/zero"}}), db, "/dev/zero");
    }
    SUBCASE("a path climbing out of the manifest's folder to /etc/passwd is read as a CSV and refused") {
        check_refused(tiny_manifest(dir, {{"counts_lsoa21_tiny.csv", "../../../../../../../../etc/passwd"}}), db, "passwd");
    }
}

TEST_CASE("hostile ingest - manifest values") {
    temp_dir dir;
    const std::string db = sample_store_in(dir);
    const std::vector<std::pair<std::string, std::string>> cases{
        {"\"rounding_base\": 5", "\"rounding_base\": 0"},
        {"\"rounding_base\": 5", "\"rounding_base\": -5"},
        {"\"rounding_base\": 5", "\"rounding_base\": 1e300"},
        {"\"rounding_base\": 5", "\"rounding_base\": 1e400"}, // beyond double: a JSON out_of_range (found by fuzz.sh)
        {"\"rounding_base\": 5", "\"rounding_base\": 22222.2222222222222222e3001111"},
        {"\"classification\": \"published\"", "\"classification\": \"published\", \"skip_unknown_measures\": \"yes\""},

        {"\"rounding_base\": 5", "\"rounding_base\": \"5\""},
        {"\"rounding_base\": 5", "\"rounding_base\": 5.5"},
        {"\"level\": \"lsoa\", \"vintage\": 2021}", "\"level\": \"../../etc\", \"vintage\": 2021}"},
        {"\"vintage\": 2021,\n      \"files\"", "\"vintage\": 99999,\n      \"files\""},
        {"\"vintage\": 2021,\n      \"files\"", "\"vintage\": \"2021\",\n      \"files\""},
        {"\"id\": \"tiny_claimants\"", "\"id\": \"tiny'; DROP TABLE datasets; --\""},
        {"\"id\": \"tiny_claimants\"", "\"id\": \"\""},
        {"\"id\": \"tiny_claimants\"", "\"id\": \"../../x\""},
        {"\"id\": \"claimants\"", "\"id\": \"claimants\\u0000\""},
        {"\"classification\": \"published\"", "\"classification\": \"public\""},
        {"\"layout\": \"long\"", "\"layout\": 7"},
        {"\"boundaries\": [", "\"derive\": {\"level\": \"lad\"}, \"boundaries\": ["},
    };
    int tried = 0;
    for (const auto& [from, to] : cases) {
        SUBCASE(to.c_str()) {
            const auto manifest = tiny_manifest(dir, {{from, to}});
            REQUIRE_MESSAGE(contains(read_text(manifest), to), "the replacement did not apply: " << from);
            check_refused(manifest, db);
        }
        ++tried;
    }
    SUBCASE("\"files\" and \"measures\" as objects instead of arrays") {
        const auto manifest = tiny_manifest(dir, {{"\"files\": [", "\"files\": "}, {"\"layout\": \"long\"}\n      ]", "\"layout\": \"long\"}"}});
        REQUIRE_FALSE(contains(read_text(manifest), "\"files\": ["));
        check_refused(manifest, db, "\"files\" must be an array");
        const auto measures = tiny_manifest(dir, {{"\"measures\": [", "\"measures\": "},
                                                  {"\"Claimants, JSA or UC\"]}\n      ]", "\"Claimants, JSA or UC\"]}"}});
        REQUIRE_FALSE(contains(read_text(measures), "\"measures\": ["));
        check_refused(measures, db, "\"measures\" must be an array");
    }
    SUBCASE("100,000 nested arrays") {
        const std::string path = dir.file("deep.json");
        write_text(path, "{\"boundaries\": " + std::string(100000, '[') + std::string(100000, ']') + "}");
        check_refused(path, db);
    }
    SUBCASE("not JSON at all (binary)") {
        const std::string path = dir.file("binary.json");
        write_text(path, std::string("\x00\xff\xfe{", 4));
        check_refused(path, db);
    }
    CHECK(tried == static_cast<int>(cases.size()));
}

// ---------------------------------------------------------------------------------------------------------------
// 2. Hostile requests

TEST_CASE("hostile requests - static files: no path leaves the web root") {
    std::map<int, int> statuses;
    const auto index = raw_get(server().port, "/index.html");
    REQUIRE(index.status == 200); // the web root is served, so traversal is really attempted against it
    for (const std::string& target : std::vector<std::string>{
             "/../secret.txt", "/../../etc/passwd", "/../../../../../../etc/passwd", "/%2e%2e/secret.txt",
             "/%2e%2e%2fsecret.txt", "/%2e%2e%2f%2e%2e%2f%2e%2e%2fetc%2fpasswd", "/..%2f..%2f..%2fetc%2fpasswd",
             "/assets/../../secret.txt", "/assets/%2e%2e/%2e%2e/secret.txt", "/assets/..%5c..%5csecret.txt",
             "/%252e%252e/secret.txt", "/.%2e/secret.txt", "/%2E%2E/%2E%2E/etc/passwd", "//etc/passwd",
             "/./../secret.txt", "/..;/secret.txt", "/index.html%00.png", "/%00", "/assets/%00/../../secret.txt",
             "/%c0%ae%c0%ae/secret.txt", "/%ff%fe/../../secret.txt", "/assets/app.js/../../../secret.txt",
             "/" + std::string(5000, 'a'), "/..", "/assets/..", "/%2e%2e"}) {
        check_hostile(target, statuses);
    }
    MESSAGE("static traversal: " << statuses.size() << " statuses:" << summary(statuses));
}

TEST_CASE("hostile requests - every parameter of every endpoint") {
    const std::vector<std::string> values{
        "' OR '1'='1", "\"; DROP TABLE areas; --", "1; SELECT * FROM api_keys", "%27%3B--", "claimant_count'--",
        "1e300", "99999999999999999999999999", "-1", "-0", "0x7fffffff", "NaN", "inf", "%ff", "%ff%fe%fd", "%c0%ae",
        "%00", "a%00b", "..%2f..%2fetc%2fpasswd", "../../etc/passwd", "%", "%zz", "%2", "", "<script>alert(1)</script>",
        "Ynys%20M%C3%B4n", std::string(300, 'x'), std::string(5000, '9'), "E01005061%0d%0aSet-Cookie:%20x=1"};
    const std::vector<std::string> params{"dataset", "measure", "period", "level", "vintage", "within",
                                          "format",  "method",  "classes", "of"};
    const std::vector<std::string> endpoints{
        "/api/table?dataset=claimant_count&", "/api/breaks?dataset=claimant_count&", "/api/areas?level=lsoa&",
        "/api/datasets?", "/tiles/lsoa/12/2020/1305.mvt?dataset=claimant_count&", "/tiles/lsoa.json?dataset=claimant_count&",
        "/health?", "/api/config?"};
    std::map<int, int> statuses;
    int tried = 0;
    for (const auto& e : endpoints) {
        for (const auto& p : params) {
            for (const auto& v : values) {
                // as written (the % forms decode server-side) and fully percent-encoded
                for (const auto& encoded : {v, percent_encode(v)}) {
                    if (encoded.find_first_of(" \r\n") != std::string::npos) continue; // not a valid request line
                    std::string target = e;
                    // replace a parameter the endpoint already names rather than repeating it
                    const auto at = target.find(p + "=");
                    if (at != std::string::npos && (at == 0 || target[at - 1] == '?' || target[at - 1] == '&')) {
                        const auto end = target.find('&', at);
                        target.erase(at, end == std::string::npos ? std::string::npos : end - at + 1);
                        if (target.back() != '?' && target.back() != '&') target += '&';
                    }
                    check_hostile(target + p + "=" + encoded, statuses);
                    ++tried;
                }
            }
        }
    }
    // path segments
    for (const auto& v : values) {
        const auto seg = percent_encode(v);
        for (const std::string& target : std::vector<std::string>{"/tiles/" + seg + "/1/0/0.mvt", "/tiles/lsoa/" + seg + "/0/0.mvt",
                                          "/tiles/lsoa/12/" + seg + "/1305.mvt", "/tiles/lsoa/12/2020/" + seg + ".mvt",
                                          "/tiles/" + seg + ".json", "/api/datasets/" + seg}) {
            check_hostile(target, statuses);
            ++tried;
        }
    }
    MESSAGE("hostile parameter requests: " << tried << ", statuses:" << summary(statuses));
    CHECK(tried > 3000);
    CHECK(raw_get(server().port, "/health").status == 200);
    CHECK(alive(server().process));
}

TEST_CASE("hostile requests - repeated parameters, huge numbers, long URLs, NUL, bad request lines") {
    std::map<int, int> statuses;
    // repeated parameters are refused, identical or not
    for (const std::string& target : std::vector<std::string>{"/api/table?dataset=claimant_count&dataset=claimant_count",
                                      "/api/table?dataset=claimant_count&dataset=synthetic_work_programme",
                                      "/api/table?dataset=claimant_count&level=lsoa&level=lad",
                                      "/api/table?dataset=claimant_count&lev%65l=lsoa&level=lsoa",
                                      "/api/breaks?dataset=claimant_count&classes=5&classes=5"}) {
        const auto r = raw_get(server().port, target);
        INFO(target << " -> " << r.status << " " << r.body);
        CHECK(r.status == 400);
        CHECK(contains(r.body, "RepeatedParameter"));
    }
    // huge numbers in every numeric slot
    for (const std::string& target : std::vector<std::string>{"/tiles/lsoa/99999999999999999999/0/0.mvt", "/tiles/lsoa/30/0/0.mvt",
                                      "/tiles/lsoa/2/4/0.mvt", "/tiles/lsoa/2/0/-1.mvt", "/tiles/lsoa/1e3/0/0.mvt",
                                      "/api/breaks?dataset=claimant_count&classes=18446744073709551617",
                                      "/api/areas?level=lsoa&vintage=2147483648", "/api/areas?level=lsoa&vintage=-2011"}) {
        check_hostile(target, statuses);
        CHECK(raw_get(server().port, target).status == 400);
    }
    // very long URLs: 10 kB, 100 kB, 1 MB
    for (const std::size_t n : {10000u, 100000u, 1000000u}) {
        check_hostile("/api/table?dataset=" + std::string(n, 'a'), statuses);
        check_hostile("/" + std::string(n, 'a'), statuses);
    }
    // NUL bytes, raw and encoded
    check_hostile("/api/table?dataset=claimant_count%00&level=lsoa", statuses);
    check_hostile("/api/datasets/claimant_count%00", statuses);
    {
        const int fd = connect_to(server().port);
        REQUIRE(fd >= 0);
        send_all(fd, std::string("GET /api/table?dataset=claimant\0count HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", 73));
        const auto r = read_response(fd);
        if (r.received) CHECK(r.status < 500);
    }
    // broken request lines and headers: a 4xx or a closed connection, never a crash
    for (const std::string& request : std::vector<std::string>{std::string("GARBAGE\r\n\r\n"), std::string("GET\r\n\r\n"),
                                       std::string("GET / HTTP/9.9\r\n\r\n"),
                                       "GET /health HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(100000, 'h') + "\r\n\r\n",
                                       std::string("GET /health HTTP/1.1\r\nContent-Length: -1\r\n\r\n"),
                                       std::string("GET /health HTTP/1.1\r\nContent-Length: 99999999999999999999\r\n\r\n"),
                                       std::string("POST /api/table HTTP/1.1\r\nContent-Length: 2000000\r\nConnection: close\r\n\r\n") +
                                           std::string(2000000, 'x')}) {
        const int fd = connect_to(server().port);
        REQUIRE(fd >= 0);
        send_all(fd, request);
        shutdown(fd, SHUT_WR);
        const auto r = read_response(fd);
        INFO(request.substr(0, 60) << " -> " << r.status);
        if (r.received) CHECK(r.status < 500);
        if (r.received) ++statuses[r.status];
    }
    // a keep-alive connection with many requests and a hostile one in the middle
    {
        const int fd = connect_to(server().port);
        REQUIRE(fd >= 0);
        std::string pipeline;
        for (int i = 0; i < 20; ++i) pipeline += "GET /api/areas?level=lsoa&within=%ff HTTP/1.1\r\nHost: x\r\n\r\n";
        pipeline += "GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
        send_all(fd, pipeline);
        std::string all;
        char buffer[65536];
        for (;;) {
            const auto n = recv(fd, buffer, sizeof buffer, 0);
            if (n <= 0) break;
            all.append(buffer, static_cast<std::size_t>(n));
        }
        close(fd);
        // cpp-httplib closes a kept-alive connection after answering a 400 (allowed by RFC 9112), so the
        // pipeline may end there; what matters is a 400 for the hostile request, no 5xx, and a working server.
        CHECK(count_of(all, "HTTP/1.1 400") >= 1);
        CHECK(count_of(all, "HTTP/1.1 5") == 0);
        CHECK(count_of(all, "HTTP/1.1 400") + count_of(all, "HTTP/1.1 200") == count_of(all, "HTTP/1.1 "));
    }
    MESSAGE("statuses:" << summary(statuses));
    CHECK(raw_get(server().port, "/health").status == 200);
    CHECK(alive(server().process));
}

// ---------------------------------------------------------------------------------------------------------------
// 3. Graceful shutdown

TEST_CASE("shutdown - SIGTERM lets an in-flight request finish and exits 0") {
    temp_dir dir;
    const std::string db = sample_store_in(dir);
    const auto process = spawn({cli, "serve", "--db", db, "--port", "0", "--threads", "8", "--rate-limit", "0"}, dir, "serve");
    const int port = wait_listening(process);
    REQUIRE(port > 0);
    // The in-flight request: its request line is sent, the rest of its headers only after SIGTERM. A worker is
    // already reading it, so shutdown must wait for it and answer it in full.
    const int slow = connect_to(port);
    REQUIRE(slow >= 0);
    REQUIRE(send_all(slow, "GET /api/table?dataset=claimant_count&level=lsoa&format=csv HTTP/1.1\r\nHost: 127.0.0.1\r\n"));
    // Meanwhile other clients keep requesting: every answer they get must be whole.
    std::atomic<bool> stop{false};
    std::atomic<int> whole{0}, partial{0}, refused{0};
    std::vector<std::thread> load;
    for (int t = 0; t < 3; ++t) {
        load.emplace_back([&, t] {
            int i = 0;
            while (!stop) {
                const int z = 8 + (i++ % 5);
                const auto r = raw_get(port, "/tiles/oa/" + std::to_string(z) + "/" + std::to_string((1 << z) * 254 / 256 + t) +
                                                 "/" + std::to_string((1 << z) * 81 / 256) + ".mvt?dataset=claimant_count");
                if (!r.received) ++refused;
                else if (r.complete) ++whole;
                else ++partial;
                if (!r.received) std::this_thread::sleep_for(std::chrono::milliseconds(5));
            }
        });
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(400));
    REQUIRE(kill(process.pid, SIGTERM) == 0);
    std::this_thread::sleep_for(std::chrono::milliseconds(400));
    REQUIRE(send_all(slow, "Connection: close\r\n\r\n"));
    const auto r = read_response(slow);
    const int code = wait_exit(process, 15);
    stop = true;
    for (auto& t : load) t.join();
    INFO("in-flight response: " << r.status << " " << r.body.size() << " bytes; stderr: " << read_text(process.err));
    CHECK(r.status == 200);
    CHECK(r.complete);
    CHECK(contains(r.body, "code,name,level,lad_code,period,period_name,classification,"));
    CHECK(contains(r.body, ",Published (Open Government Licence v3.0),"));
    CHECK(r.body.size() > 10000);
    CHECK(code == 0);
    CHECK(contains(read_text(process.err), "signal 15"));
    MESSAGE("during shutdown: " << whole << " whole responses, " << partial << " partial, " << refused << " refused connections");
    CHECK(partial == 0);
    CHECK(whole > 0);
}

TEST_CASE("shutdown - SIGINT on an idle server exits 0 at once") {
    temp_dir dir;
    const std::string db = sample_store_in(dir);
    const auto process = spawn({cli, "serve", "--db", db, "--port", "0"}, dir, "serve");
    REQUIRE(wait_listening(process) > 0);
    const auto started = std::chrono::steady_clock::now();
    kill(process.pid, SIGINT);
    CHECK(wait_exit(process, 10) == 0);
    CHECK(std::chrono::steady_clock::now() - started < std::chrono::seconds(3));
}

// ---------------------------------------------------------------------------------------------------------------
// 4. Start-up errors

/// Runs the CLI and expects exit 1 with `expected` in stderr, no "internal error" and no server listening.
void expect_clear_failure(const std::vector<std::string>& args, temp_dir& dir, const std::string& expected, int timeout_s) {
    const auto process = spawn(args, dir, "fail");
    const int code = wait_exit(process, timeout_s);
    const std::string err = read_text(process.err);
    INFO("stderr: " << err);
    CHECK(code == 1);
    CHECK(contains(err, expected));
    CHECK(err.find("internal error") == std::string::npos);
    CHECK_FALSE(contains(read_text(process.out), "listening"));
}

TEST_CASE("start-up - unusable stores and a busy port: a clear message and exit 1") {
    SMALLAREA_SQLITE_ONLY("schema versions of SQLite files (a PostgreSQL store is made at the current one)");
    temp_dir dir;
    auto serve_fails = [&](const std::string& db, const std::string& expected, const std::vector<std::string>& extra = {}) {
        std::vector<std::string> args{cli, "serve", "--db", db, "--port", "0"};
        args.insert(args.end(), extra.begin(), extra.end());
        expect_clear_failure(args, dir, expected, 20);
    };
    SUBCASE("missing store") { serve_fails(dir.file("nope.db"), "does not exist"); }
    SUBCASE("a text file") {
        write_text(dir.file("text.db"), "this is not a database\n");
        serve_fails(dir.file("text.db"), "text.db");
    }
    SUBCASE("an empty file") {
        write_text(dir.file("empty.db"), "");
        serve_fails(dir.file("empty.db"), "not a smallarea store");
    }
    SUBCASE("a SQLite database of something else") {
        data::database other(dir.file("other.db"), data::database::mode::create);
        other.exec("CREATE TABLE t (x)");
        serve_fails(dir.file("other.db"), "not a smallarea store");
    }
    SUBCASE("a store from a newer schema version") {
        const std::string db = sample_store_in(dir, "newer.db");
        {
            data::database d(db, data::database::mode::read_write);
            d.exec("PRAGMA user_version = 99");
        }
        serve_fails(db, "newer");
    }
    SUBCASE("a store held in exclusive locking mode by another process's writer") {
        // In WAL mode BEGIN EXCLUSIVE alone does not stop readers (tested below); locking_mode=EXCLUSIVE keeps
        // the WAL index private, so no other process can read: that is "locked" for a server.
        const std::string db = sample_store_in(dir, "locked.db");
        sqlite3* holder = nullptr;
        REQUIRE(sqlite3_open(db.c_str(), &holder) == SQLITE_OK);
        REQUIRE(sqlite3_exec(holder, "PRAGMA locking_mode=EXCLUSIVE; BEGIN EXCLUSIVE; "
                                     "UPDATE meta SET value = value WHERE key = 'release';", nullptr, nullptr, nullptr) == SQLITE_OK);
        const auto started = std::chrono::steady_clock::now();
        serve_fails(db, "locked.db");
        CHECK(std::chrono::steady_clock::now() - started < std::chrono::seconds(15));
        sqlite3_exec(holder, "ROLLBACK", nullptr, nullptr, nullptr);
        sqlite3_close(holder);
    }
    SUBCASE("a port already in use") {
        const std::string db = sample_store_in(dir, "ok.db");
        const int fd = socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        REQUIRE(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
        REQUIRE(listen(fd, 1) == 0);
        socklen_t len = sizeof addr;
        getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
        const int busy = ntohs(addr.sin_port);
        std::vector<std::string> args{cli, "serve", "--db", db, "--port", std::to_string(busy)};
        const auto process = spawn(args, dir, "busy");
        const int code = wait_exit(process, 20);
        INFO("stderr: " << read_text(process.err));
        CHECK(code == 1);
        CHECK(contains(read_text(process.err), std::to_string(busy)));
        close(fd);
    }
}

TEST_CASE("start-up - a writer's BEGIN EXCLUSIVE (WAL) does not stop the server from starting and reading") {
    temp_dir dir;
    const std::string db = sample_store_in(dir);
    sqlite3* holder = nullptr;
    REQUIRE(sqlite3_open(db.c_str(), &holder) == SQLITE_OK);
    REQUIRE(sqlite3_exec(holder, "BEGIN EXCLUSIVE; UPDATE meta SET value = value WHERE key = 'release';", nullptr, nullptr,
                         nullptr) == SQLITE_OK);
    const auto process = spawn({cli, "serve", "--db", db, "--port", "0"}, dir, "serve");
    const int port = wait_listening(process);
    INFO("stderr: " << read_text(process.err));
    CHECK(port > 0);
    if (port > 0) {
        const auto r = raw_get(port, "/api/table?dataset=claimant_count&level=lad");
        CHECK(r.status == 200);
        CHECK(r.complete);
    }
    sqlite3_exec(holder, "ROLLBACK", nullptr, nullptr, nullptr);
    sqlite3_close(holder);
    kill(process.pid, SIGTERM);
    CHECK(wait_exit(process, 10) == 0);
}

TEST_CASE("start-up - a store that is not one (an empty file path, an empty PostgreSQL database): a clear message, exit 1") {
    temp_dir dir;
    std::string db = new_store(dir, "empty.db");
    // A password in the URL must not reach the message (trust authentication ignores it).
    if (smallarea::data::is_postgresql_url(db)) db.insert(db.find("@"), ":sekret-password");
    const auto process = spawn({cli, "serve", "--db", db, "--port", "0"}, dir, "serve");
    CHECK(wait_exit(process, 30) == 1);
    const auto err = read_text(process.err);
    INFO("stderr: " << err);
    CHECK(contains(err, smallarea::data::is_postgresql_url(db) ? "is not a smallarea store" : "does not exist"));
    CHECK_FALSE(contains(err, "sekret-password"));
}

// ---------------------------------------------------------------------------------------------------------------
// 5. Gaps closed later: strict UTF-8, a percentage base that says nothing of its parts, more start-up cases

TEST_CASE("UTF-8 - overlong forms, surrogates and code points above U+10FFFF are not valid") {
    using namespace std::string_literals;
    for (const std::string& good : std::vector<std::string>{
             ""s, "plain ASCII"s, "Ynys M\xC3\xB4n"s, "\xC2\x80"s, "\xDF\xBF"s, "\xE0\xA0\x80"s /* U+0800 */,
             "\xED\x9F\xBF"s /* U+D7FF */, "\xEE\x80\x80"s /* U+E000 */, "\xEF\xBF\xBF"s /* U+FFFF */,
             "\xF0\x90\x80\x80"s /* U+10000 */, "\xF0\x9F\x98\x80"s, "\xF4\x8F\xBF\xBF"s /* U+10FFFF */}) {
        INFO("accepted: " << percent_encode(good));
        CHECK(data::valid_utf8(good));
    }
    for (const std::string& bad : std::vector<std::string>{
             "\xC0\xAE"s, "\xC1\xBF"s, "\xC0\x80"s /* overlong NUL */, "\xE0\x80\xAE"s, "\xE0\x9F\xBF"s,
             "\xF0\x80\x80\xAE"s, "\xF0\x8F\xBF\xBF"s,                            // overlong
             "\xED\xA0\x80"s, "\xED\xBF\xBF"s, "\xED\xA0\xBD\xED\xB8\x80"s,       // surrogates (CESU-8 pair)
             "\xF4\x90\x80\x80"s, "\xF5\x80\x80\x80"s, "\xF7\xBF\xBF\xBF"s,       // above U+10FFFF
             "\xFF"s, "\xFE"s, "\x80"s, "a\xBF"s, "\xE2\x82"s, "\xF0\x9F\x98"s, "\xE2\x28\xA1"s, // broken sequences
             "\xF8\x88\x80\x80\x80"s, "\xFC\x84\x80\x80\x80\x80"s}) {              // 5- and 6-byte forms
        INFO("refused: " << percent_encode(bad));
        CHECK_FALSE(data::valid_utf8(bad));
    }
}

TEST_CASE("hostile ingest - a CSV with a surrogate or an overlong form is refused with its line") {
    temp_dir dir;
    const std::string db = sample_store_in(dir);
    for (const std::string& bytes : {std::string("\xED\xA0\x80"), std::string("\xE0\x80\xAE"), std::string("\xF4\x90\x80\x80")}) {
        SUBCASE(percent_encode(bytes).c_str()) {
            const std::string csv = dir.file("bad_utf8.csv");
            write_text(csv, "date,lsoa21cd,measure,value\n2017-09-01,E01012001,Claimant count,15\n2017-09-01,E01012002,Claimant " +
                                bytes + "count,20\n");
            check_refused(tiny_manifest(dir, {{"counts_lsoa21_tiny.csv", csv}}), db, "line 3");
            check_refused(tiny_manifest(dir, {{"counts_lsoa21_tiny.csv", csv}}), db, "UTF-8");
        }
    }
}

TEST_CASE("hostile requests - parameters with surrogates or overlong UTF-8 are 400") {
    for (const char* v : {"%ED%A0%80", "%C0%AE%C0%AE", "%E0%80%AE", "%F4%90%80%80", "lsoa%ED%BF%BF"}) {
        for (const std::string& target : {"/api/table?dataset=claimant_count&level=" + std::string(v),
                                          "/api/areas?level=lsoa&within=" + std::string(v)}) {
            const auto r = raw_get(server().port, target);
            INFO(target << " -> " << r.status << " " << r.body);
            CHECK(r.status == 400);
            CHECK(contains(r.body, "UTF-8"));
        }
    }
}

TEST_CASE("hostile ingest - a percent_base measure without sum_of: a clear CLI error naming file and measure, exit 1") {
    temp_dir dir;
    const std::string db = sample_store_in(dir);
    const std::string manifest =
        tiny_manifest(dir, {{"\"source_names\": [\"Claimant count\", \"Claimants, JSA or UC\"]}",
                             "\"source_names\": [\"Claimant count\", \"Claimants, JSA or UC\"]},\n"
                             "        {\"id\": \"all_claimants\", \"kind\": \"percent_base\"}"}});
    REQUIRE(contains(read_text(manifest), "all_claimants"));
    check_refused(manifest, db, "all_claimants");
    const std::string before = store_state(db);
    const auto process = spawn({cli, "ingest", manifest, "--db", db}, dir, "ingest");
    const int code = wait_exit(process, 60);
    const std::string err = read_text(process.err);
    INFO("stderr: " << err);
    CHECK(code == 1);
    CHECK(contains(err, manifest));
    CHECK(contains(err, "all_claimants"));
    CHECK(contains(err, "sum_of"));
    CHECK(err.find("internal error") == std::string::npos);
    CHECK(store_state(db) == before);
    // With sum_of the same measure is a derived base and the manifest ingests.
    const std::string fixed = tiny_manifest(
        dir, {{"\"source_names\": [\"Claimant count\", \"Claimants, JSA or UC\"]}",
               "\"source_names\": [\"Claimant count\", \"Claimants, JSA or UC\"]},\n"
               "        {\"id\": \"all_claimants\", \"kind\": \"percent_base\", \"sum_of\": [\"claimants\"]}"}});
    CHECK_NOTHROW(data::ingest_manifest(fixed, dir.file("fresh.db")));
}

TEST_CASE("start-up - an older schema and a newer schema for ingest; a directory as the store") {
    SMALLAREA_SQLITE_ONLY("schema versions of SQLite files (a PostgreSQL store is made at the current one)");
    temp_dir dir;
    auto run_fails = [&](const std::vector<std::string>& args, const std::string& expected) {
        expect_clear_failure(args, dir, expected, 60);
    };
    SUBCASE("serve on a store from an older schema version says how to migrate") {
        const std::string db = sample_store_in(dir, "older.db");
        {
            data::database d(db, data::database::mode::read_write);
            d.exec("PRAGMA user_version = 1");
        }
        run_fails({cli, "serve", "--db", db, "--port", "0"}, "older");
    }
    SUBCASE("ingest into a store from a newer schema version is refused and the store left alone") {
        const std::string db = sample_store_in(dir, "newer.db");
        {
            data::database d(db, data::database::mode::read_write);
            d.exec("PRAGMA user_version = 99");
        }
        const std::string before = read_text(db);
        run_fails({cli, "ingest", sample_manifest, "--db", db}, "newer");
        CHECK(read_text(db) == before);
    }
    SUBCASE("a directory given as the store") {
        std::filesystem::create_directories(dir.file("a_folder.db"));
        run_fails({cli, "serve", "--db", dir.file("a_folder.db"), "--port", "0"}, "a_folder.db");
    }
}

TEST_CASE("shutdown - SIGTERM with idle keep-alive connections open exits 0 promptly") {
    temp_dir dir;
    const std::string db = sample_store_in(dir);
    const auto process = spawn({cli, "serve", "--db", db, "--port", "0", "--threads", "4", "--rate-limit", "0"}, dir, "serve");
    const int port = wait_listening(process);
    REQUIRE(port > 0);
    // Two clients that made a request and keep the connection open (browsers do), and one that connected and
    // sent nothing: none of them may hold the process up for long.
    std::vector<int> idle;
    for (int i = 0; i < 2; ++i) {
        const int fd = connect_to(port);
        REQUIRE(fd >= 0);
        REQUIRE(send_all(fd, "GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"));
        char buffer[4096];
        CHECK(recv(fd, buffer, sizeof buffer, 0) > 0);
        idle.push_back(fd);
    }
    idle.push_back(connect_to(port));
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    const auto started = std::chrono::steady_clock::now();
    REQUIRE(kill(process.pid, SIGTERM) == 0);
    const int code = wait_exit(process, 20);
    const auto took = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    for (const int fd : idle) close(fd);
    INFO("stderr: " << read_text(process.err));
    MESSAGE("SIGTERM with 3 idle connections: exit " << code << " after " << took << " s");
    CHECK(code == 0);
    CHECK(took < 10); // cpp-httplib's keep-alive and read timeouts are 5 s
}

TEST_CASE("hostile inspect - every file of the hostile corpus: a message and exit 0 or 1, never a crash or exit 3") {
    temp_dir dir;
    const std::string db = sample_store_in(dir);
    for (const auto& entry : std::filesystem::directory_iterator(hostile)) {
        const std::string file = entry.path().string();
        CAPTURE(file);
        const std::string command = cli + " inspect '" + file + "' --db '" + db + "' > /dev/null 2> " + dir.file("err");
        const int status = std::system(command.c_str());
        REQUIRE(WIFEXITED(status));
        CHECK(WEXITSTATUS(status) <= 1);
        if (WEXITSTATUS(status) == 1) {
            const std::string err = read_text(dir.file("err"));
            CHECK(err.find("inspect failed: ") != std::string::npos);
            CHECK(err.find("store is unchanged") == std::string::npos);
        }
    }
}
