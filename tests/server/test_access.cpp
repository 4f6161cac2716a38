// test_access: access control for internal MI. Store level (organisations, keys stored as hashes, revocation,
// suspension, the append-only audit log), the `smallarea keys` CLI (exit codes, the key printed once), and HTTP
// level against real servers on 127.0.0.1 (401/403 rules, listings, tiles with ETag/304, rate limit, audit rows).

#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include "data/access_store.hpp"
#include "core/error.hpp"
#include "data/ingest.hpp"
#include "data/store.hpp"
#include "server/app.hpp"

#include "server_fixture.hpp"

#include <httplib.h>
#include <nlohmann/json.hpp>

#include <array>
#include <chrono>
#include <cstdio>
#include <memory>
#include <set>
#include <string>
#include <thread>

using nlohmann::json;
using namespace test_support;
namespace data = smallarea::data;

namespace {

const std::string internal_id = "synthetic_work_programme";
const std::string published_id = "claimant_count";
const std::string internal_table = "/api/table?dataset=" + internal_id + "&measure=referrals&level=lad";
const std::string published_table = "/api/table?dataset=" + published_id + "&level=lad";

/// A server (test_fixture::test_server) on its own copy of the sample store, with the rate limit given; requests
/// carry an optional API key.
class access_server : public test_fixture::test_server {
public:
    explicit access_server(double rate = 0, double burst = 200)
        : test_server(test_fixture::copy_of_sample, [rate, burst](smallarea::server::server_config& config) {
              config.rate_limit_per_second = rate;
              config.rate_limit_burst = burst;
          }) {}
    const std::string& db() const noexcept { return db_path(); }

    /// GET with an optional key (hides test_server::get, which answers a status/body pair).
    httplib::Result get(const std::string& path, const std::string& key = {}, httplib::Headers headers = {}) {
        if (!key.empty()) headers.emplace("Authorization", "Bearer " + key);
        return request("GET", path, {}, headers);
    }

    /// Audit rows after the server's flusher (every 200 ms) has written them.
    std::vector<data::audit_row> audit(std::size_t at_least) { return test_server::audit(at_least, 10000); }
};

std::string code_of(const httplib::Result& r) {
    const auto body = json::parse(r->body, nullptr, false);
    if (body.is_discarded() || !body.contains("code")) return "";
    return body["code"].get<std::string>();
}

/// Runs a shell command: (exit status, stdout).
std::pair<int, std::string> run_command(const std::string& command) {
    std::string out;
    FILE* pipe = popen((command + " 2>/dev/null").c_str(), "r");
    REQUIRE(pipe);
    std::array<char, 4096> buffer{};
    while (const auto n = fread(buffer.data(), 1, buffer.size(), pipe)) out.append(buffer.data(), n);
    const int status = pclose(pipe);
    return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

std::string trim(std::string s) {
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.pop_back();
    return s;
}

bool any_field_contains(const data::audit_row& r, const std::string& needle) {
    for (const auto& f : {r.at, r.client, r.endpoint, r.dataset.value_or(""), r.area.value_or(""), r.detail, r.organisation,
                          r.key_prefix}) {
        if (f.find(needle) != std::string::npos) return true;
    }
    return false;
}

} // namespace

TEST_CASE("store - an organisation is added with its datasets; bad dates, duplicates and unknown datasets are refused") {
    temp_dir dir;
    const auto path = test_fixture::sample_store_copy(dir, "s.db");
    auto db = data::open_store(path, true);
    const auto org = data::add_organisation(db, "Manchester City Council", "2024-02-29", {internal_id, published_id}, {"Test Representative", "rep@example.org"});
    CHECK(org.id > 0);
    const auto list = data::list_organisations(db);
    REQUIRE(list.size() == 1);
    CHECK(list[0].name == "Manchester City Council");
    CHECK_FALSE(list[0].suspended);
    CHECK(list[0].datasets == std::vector<std::string>{published_id, internal_id});
    CHECK_THROWS_AS(data::add_organisation(db, "X", "2023-02-29", {internal_id}, {"Test Representative", "rep@example.org"}), smallarea::bad_request); // not a leap year
    CHECK_THROWS_AS(data::add_organisation(db, "X", "2024-13-01", {internal_id}, {"Test Representative", "rep@example.org"}), smallarea::bad_request);
    CHECK_THROWS_AS(data::add_organisation(db, "X", "24-01-01", {internal_id}, {"Test Representative", "rep@example.org"}), smallarea::bad_request);
    CHECK_THROWS_AS(data::add_organisation(db, "X", "2024-01-01", {"no_such_dataset"}, {"Test Representative", "rep@example.org"}), smallarea::not_found);
    CHECK_THROWS_AS(data::add_organisation(db, "Manchester City Council", "2024-01-01", {internal_id}, {"Test Representative", "rep@example.org"}), smallarea::bad_request);
    CHECK_THROWS_AS(data::issue_key(db, "Nobody"), smallarea::not_found);
    CHECK_THROWS_AS(data::set_organisation_suspended(db, "Nobody", true), smallarea::not_found);
    CHECK_THROWS_AS(data::revoke_key(db, 999), smallarea::not_found);
    CHECK(data::list_organisations(db).size() == 1); // refused adds wrote nothing
}

TEST_CASE("store - only the key's SHA-256 hash is stored; revoke, suspend/resume and suspend-all change the lookup") {
    temp_dir dir;
    const auto path = test_fixture::sample_store_copy(dir, "s.db");
    auto db = data::open_store(path, true);
    data::add_organisation(db, "Trafford Council", "2024-01-15", {internal_id}, {"Test Representative", "rep@example.org"});
    const auto k = data::issue_key(db, "Trafford Council");
    CHECK(k.key.rfind("sak_", 0) == 0);
    CHECK(k.key.size() == 4 + 48);
    CHECK(data::hash_key("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"); // FIPS 180-2 vector
    {
        data::statement s(db, "SELECT key_hash, prefix FROM api_keys WHERE id = ?");
        s.bind(1, k.id);
        REQUIRE(s.step());
        CHECK(s.text(0) == data::hash_key(k.key));
        CHECK(s.text(0) != k.key);
        CHECK(k.key.find(s.text(1)) == 0);
        CHECK(s.text(1).size() < 16);
    }
    {
        // the key is in no column of any table
        data::statement s(db, "SELECT count(*) FROM api_keys WHERE key_hash = ?1 OR prefix = ?1");
        s.bind(1, k.key);
        REQUIRE(s.step());
        CHECK(s.int64(0) == 0);
    }
    auto a = data::lookup_key(db, data::hash_key(k.key));
    CHECK(a.found);
    CHECK(a.organisation == "Trafford Council");
    CHECK_FALSE(a.revoked);
    CHECK_FALSE(a.organisation_suspended);
    CHECK_FALSE(a.sharing_suspended);
    CHECK(a.datasets == std::vector<std::string>{internal_id});
    CHECK_FALSE(data::lookup_key(db, data::hash_key(k.key + "x")).found);

    data::set_organisation_suspended(db, "Trafford Council", true);
    CHECK(data::lookup_key(db, data::hash_key(k.key)).organisation_suspended);
    data::set_organisation_suspended(db, "Trafford Council", false);
    CHECK_FALSE(data::lookup_key(db, data::hash_key(k.key)).organisation_suspended);
    data::set_sharing_suspended(db, true);
    CHECK(data::sharing_suspended(db));
    CHECK(data::lookup_key(db, data::hash_key(k.key)).sharing_suspended);
    data::set_sharing_suspended(db, false);
    CHECK_FALSE(data::lookup_key(db, data::hash_key(k.key)).sharing_suspended);
    data::revoke_key(db, k.id);
    CHECK(data::lookup_key(db, data::hash_key(k.key)).revoked);
    const auto k2 = data::issue_key(db, "Trafford Council");
    CHECK(k2.key != k.key);
    CHECK_FALSE(data::lookup_key(db, data::hash_key(k2.key)).revoked);
}

TEST_CASE("store - the audit log is append-only: UPDATE and DELETE fail") {
    temp_dir dir;
    const auto path = test_fixture::sample_store_copy(dir, "s.db");
    auto db = data::open_store(path, true);
    data::audit_entry e;
    e.at = data::utc_now();
    e.client = "127.0.0.1";
    e.endpoint = "GET /api/table";
    e.dataset = internal_id;
    e.outcome = 200;
    data::append_audit(db, {e, e});
    CHECK(data::read_audit(db, 10).size() == 2);
    CHECK_THROWS_AS(db.exec("UPDATE audit_log SET outcome = 500"), smallarea::store_error);
    CHECK_THROWS_AS(db.exec("DELETE FROM audit_log"), smallarea::store_error);
    // PostgreSQL has TRUNCATE, which row triggers do not see: a statement trigger refuses it too.
    if (db.is_postgresql()) CHECK_THROWS_AS(db.exec("TRUNCATE audit_log"), smallarea::store_error);
    CHECK(data::read_audit(db, 10).size() == 2);
    CHECK(data::read_audit(db, 1).size() == 1);
}

TEST_CASE("cli - keys org-add, issue (the key printed once, alone), revoke, suspend, audit; clear errors exit 1") {
    temp_dir dir;
    const auto path = test_fixture::sample_store_copy(dir, "s.db");
    const std::string cli = std::string(SMALLAREA_CLI) + " keys ";
    const std::string db = " --db " + path;
    const std::string rep = " --representative 'Ann Example' --representative-contact ann@example.org";
    CHECK(run_command(cli + "org-add" + db + " --name 'Salford CVS' --agreement-signed 2024-03-01 --datasets " + internal_id + rep).first == 0);
    CHECK(run_command(cli + "org-add" + db + " --name Other --agreement-signed 2024-02-30 --datasets " + internal_id + rep).first == 1);
    // the representative is required (usage, exit 2) and checked (exit 1)
    CHECK(run_command(cli + "org-add" + db + " --name Other --agreement-signed 2024-02-01 --datasets " + internal_id).first == 2);
    CHECK(run_command(cli + "org-add" + db + " --name Other --agreement-signed 2024-02-01 --datasets " + internal_id +
                      " --representative Ann --representative-contact 'not a contact'").first == 1);
    CHECK(run_command(cli + "org-add" + db + " --name Other --agreement-signed 2024-02-01 --datasets nope" + rep).first == 1);
    CHECK(run_command(cli + "issue" + db + " --org Nobody").first == 1);
    CHECK(run_command(cli + "suspend" + db + " --org Nobody").first == 1);
    CHECK(run_command(cli + "revoke" + db + " --key-id 77").first == 1);
    CHECK(run_command(cli + "frobnicate" + db).first == 2);
    CHECK(run_command(cli + "issue" + db).first == 2); // missing --org
    const auto issued = run_command(cli + "issue" + db + " --org 'Salford CVS'");
    REQUIRE(issued.first == 0);
    const auto key = trim(issued.second);
    CHECK(key.rfind("sak_", 0) == 0);
    CHECK(key.find('\n') == std::string::npos);
    const auto list = run_command(cli + "org-list" + db);
    CHECK(list.first == 0);
    CHECK(list.second.find("Salford CVS") != std::string::npos);
    CHECK(list.second.find("representative Ann Example <ann@example.org>") != std::string::npos);
    CHECK(list.second.find(key) == std::string::npos);
    CHECK(run_command(cli + "suspend" + db + " --org 'Salford CVS'").first == 0);
    CHECK(run_command(cli + "org-list" + db).second.find("suspended") != std::string::npos);
    CHECK(run_command(cli + "resume" + db + " --org 'Salford CVS'").first == 0);
    CHECK(run_command(cli + "suspend-all" + db).first == 0);
    CHECK(run_command(cli + "org-list" + db).second.find("all sharing: SUSPENDED") != std::string::npos);
    CHECK(run_command(cli + "resume-all" + db).first == 0);
    CHECK(run_command(cli + "revoke" + db + " --key-id 1").first == 0);
    const auto audit = run_command(cli + "audit" + db + " --limit 5 --org 'Salford CVS'");
    CHECK(audit.first == 0);
    CHECK(audit.second.find(key) == std::string::npos);
    CHECK(run_command(cli + "audit" + db + " --org Nobody").first == 1);
}

TEST_CASE("http - published needs no key; internal needs an active key of an organisation it is shared with") {
    access_server srv;
    std::string key, other_key, revoked_key;
    {
        auto db = data::open_store(srv.db(), true);
        data::add_organisation(db, "Partner", "2024-01-01", {internal_id}, {"Test Representative", "rep@example.org"});
        data::add_organisation(db, "Published only", "2024-01-01", {published_id}, {"Test Representative", "rep@example.org"});
        key = data::issue_key(db, "Partner").key;
        other_key = data::issue_key(db, "Published only").key;
        const auto r = data::issue_key(db, "Partner");
        revoked_key = r.key;
        data::revoke_key(db, r.id);
    }
    CHECK(srv.get(published_table)->status == 200);
    CHECK(srv.get(published_table, "sak_not_a_key")->status == 200); // published data ignores keys

    // Without a key an internal dataset is answered exactly as an unknown one (it is not even admitted to exist).
    const auto none = srv.get(internal_table);
    CHECK(none->status == 404);
    CHECK(code_of(none) == "UnknownDataset");
    const auto bad = srv.get(internal_table, "sak_0000");
    CHECK(bad->status == 401);
    CHECK(code_of(bad) == "InvalidKey");
    CHECK(srv.get(internal_table, {}, {{"Authorization", "Basic dXNlcjpwYXNz"}})->status == 401);
    const auto revoked = srv.get(internal_table, revoked_key);
    CHECK(revoked->status == 401);
    CHECK(code_of(revoked) == "KeyRevoked");
    CHECK(srv.get(internal_table + "&key=" + key)->status == 404); // keys in the query string are not accepted
    const auto not_shared = srv.get(internal_table, other_key);
    CHECK(not_shared->status == 404); // not shared with this organisation: unknown to it
    CHECK(code_of(not_shared) == "UnknownDataset");

    const auto ok = srv.get(internal_table, key);
    REQUIRE(ok->status == 200);
    CHECK(json::parse(ok->body)["classification"] == "internal");
    CHECK(ok->get_header_value("Cache-Control") == "private, no-cache");
    CHECK(srv.get("/api/breaks?dataset=" + internal_id + "&measure=referrals", key)->status == 200);
    CHECK(srv.get("/api/breaks?dataset=" + internal_id + "&measure=referrals")->status == 404);
    CHECK(srv.get(internal_table + "&format=csv")->status == 404);
    CHECK(srv.get(internal_table + "&format=csv", key)->status == 200);

    SUBCASE("suspending the organisation takes effect on the next request; resuming restores it") {
        { auto db = data::open_store(srv.db(), true); data::set_organisation_suspended(db, "Partner", true); }
        const auto r = srv.get(internal_table, key);
        CHECK(r->status == 403);
        CHECK(code_of(r) == "OrganisationSuspended");
        { auto db = data::open_store(srv.db(), true); data::set_organisation_suspended(db, "Partner", false); }
        CHECK(srv.get(internal_table, key)->status == 200);
    }
    SUBCASE("suspend-all refuses every organisation; resume-all restores") {
        { auto db = data::open_store(srv.db(), true); data::set_sharing_suspended(db, true); }
        const auto r = srv.get(internal_table, key);
        CHECK(r->status == 403);
        CHECK(code_of(r) == "SharingSuspended");
        CHECK(srv.get(published_table)->status == 200);
        { auto db = data::open_store(srv.db(), true); data::set_sharing_suspended(db, false); }
        CHECK(srv.get(internal_table, key)->status == 200);
    }
    SUBCASE("internal datasets are listed only to a key that may read them") {
        auto ids = [&](const std::string& k) {
            std::set<std::string> out;
            const auto r = srv.get("/api/datasets", k);
            REQUIRE(r->status == 200);
            const auto body = json::parse(r->body);
            for (const auto& d : body["datasets"]) out.insert(d["id"].get<std::string>());
            return out;
        };
        CHECK(ids("") == std::set<std::string>{published_id});
        CHECK(ids("sak_bad") == std::set<std::string>{published_id});
        CHECK(ids(other_key) == std::set<std::string>{published_id});
        CHECK(ids(key) == std::set<std::string>{published_id, internal_id});
        CHECK(srv.get("/api/datasets/" + internal_id)->status == 404);
        CHECK(code_of(srv.get("/api/datasets/" + internal_id)) == "UnknownDataset");
        CHECK(srv.get("/api/datasets/" + internal_id, other_key)->status == 404);
        CHECK(srv.get("/api/datasets/" + internal_id, key)->status == 200);
        CHECK(srv.get("/api/datasets/" + published_id)->status == 200);
    }
    SUBCASE("tiles and TileJSON of internal data: 404 without a key, 200 with; 304 only after authorisation") {
        const auto tile = test_fixture::manchester_tile(12) + "?dataset=" + internal_id + "&measure=referrals";
        CHECK(srv.get(tile)->status == 404);
        const auto first = srv.get(tile, key);
        REQUIRE(first->status == 200);
        const auto etag = first->get_header_value("ETag");
        REQUIRE_FALSE(etag.empty());
        CHECK(first->get_header_value("Cache-Control") == "private, no-cache");
        CHECK(first->get_header_value("Vary").find("Authorization") != std::string::npos);
        // the tile is now cached: a request without a key, even with the right ETag, is still refused
        const auto sneaky = srv.get(tile, {}, {{"If-None-Match", etag}});
        CHECK(sneaky->status == 404);
        CHECK(sneaky->body.find("UnknownDataset") != std::string::npos);
        CHECK(srv.get(tile, other_key, {{"If-None-Match", etag}})->status == 404);
        CHECK(srv.get(tile, key, {{"If-None-Match", etag}})->status == 304);
        { auto db = data::open_store(srv.db(), true); data::set_organisation_suspended(db, "Partner", true); }
        CHECK(srv.get(tile, key, {{"If-None-Match", etag}})->status == 403);
        { auto db = data::open_store(srv.db(), true); data::set_organisation_suspended(db, "Partner", false); }
        // published tiles stay public and cacheable
        const auto pub = srv.get(test_fixture::manchester_tile(12) + "?dataset=" + published_id);
        CHECK(pub->status == 200);
        CHECK(pub->get_header_value("Cache-Control").find("public") != std::string::npos);
        CHECK(srv.get("/tiles/lsoa.json?dataset=" + internal_id)->status == 404);
        CHECK(srv.get("/tiles/lsoa.json?dataset=" + internal_id, key)->status == 200);
    }
}

TEST_CASE("http - every request touching internal data and every refused key is audited; the key never is") {
    access_server srv;
    std::string key;
    std::int64_t key_id = 0;
    {
        auto db = data::open_store(srv.db(), true);
        data::add_organisation(db, "Audited", "2024-01-01", {internal_id}, {"Test Representative", "rep@example.org"});
        const auto k = data::issue_key(db, "Audited");
        key = k.key;
        key_id = k.id;
    }
    CHECK(srv.get(published_table)->status == 200);                                  // not audited
    CHECK(srv.get(internal_table)->status == 404);                                   // no key: as unknown
    CHECK(srv.get(internal_table + "&within=E08000003", key)->status == 200);        // allowed, with area
    CHECK(srv.get(internal_table, "sak_wrong")->status == 401);                      // refused key
    CHECK(srv.get("/api/datasets", "sak_wrong2")->status == 200);                   // refused key on a listing
    const auto all_rows = srv.audit(5);
    REQUIRE(all_rows.size() == 5);
    // the oldest row is the org-add itself, with the representative named
    CHECK(all_rows[4].endpoint == "keys org-add");
    CHECK(all_rows[4].organisation == "Audited");
    CHECK(all_rows[4].detail.find("representative Test Representative <rep@example.org>") != std::string::npos);
    const std::vector<data::audit_row> rows(all_rows.begin(), all_rows.begin() + 4);
    // newest first
    CHECK(rows[0].endpoint == "GET /api/datasets");
    CHECK(rows[0].outcome == 401);
    CHECK_FALSE(rows[0].dataset);
    CHECK(rows[1].outcome == 401);
    CHECK(rows[1].detail == "unknown key");
    CHECK(rows[2].outcome == 200);
    CHECK(rows[2].organisation == "Audited");
    CHECK(rows[2].key_id == key_id);
    CHECK(rows[2].dataset == internal_id);
    CHECK(rows[2].area == std::string("E08000003"));
    CHECK(rows[2].endpoint == "GET /api/table");
    CHECK(rows[2].client == "127.0.0.1");
    CHECK(rows[3].outcome == 404); // the refused request is logged with the real dataset id
    CHECK(rows[3].dataset == internal_id);
    CHECK_FALSE(rows[3].organisation_id);
    for (const auto& r : rows) {
        CHECK_FALSE(any_field_contains(r, key));
        CHECK_FALSE(any_field_contains(r, key.substr(12))); // not even the secret part after the prefix
        CHECK_FALSE(any_field_contains(r, "sak_wrong"));
    }
}

TEST_CASE("http - the rate limit answers 429 with Retry-After per address, and refills") {
    access_server srv(2.0, 5.0); // 2 requests/s, burst 5
    int ok = 0;
    std::string limited_body, retry;
    for (int i = 0; i < 8; ++i) {
        const auto r = srv.get("/health");
        if (r->status == 200) ++ok;
        if (r->status == 429 && limited_body.empty()) {
            limited_body = r->body;
            retry = r->get_header_value("Retry-After");
        }
    }
    CHECK(ok >= 5);
    CHECK(ok <= 6); // burst + at most one refilled token during the loop
    REQUIRE_FALSE(limited_body.empty());
    CHECK(json::parse(limited_body)["code"] == "RateLimited");
    REQUIRE_FALSE(retry.empty());
    CHECK(std::stoi(retry) >= 1);
    std::this_thread::sleep_for(std::chrono::milliseconds(1100));
    CHECK(srv.get("/health")->status == 200);
}

TEST_CASE("http - CORS: a preflight is answered without a key; keyed responses and refusals allow any origin") {
    access_server srv;
    std::string key;
    {
        auto db = data::open_store(srv.db(), true);
        data::add_organisation(db, "Partner", "2024-01-01", {internal_id}, {"Test Representative", "rep@example.org"});
        key = data::issue_key(db, "Partner").key;
    }
    httplib::Client c("127.0.0.1", srv.port());
    const auto preflight = c.Options(internal_table.c_str(), {{"Origin", "https://partner.example"},
                                                                {"Access-Control-Request-Method", "GET"},
                                                                {"Access-Control-Request-Headers", "authorization"}});
    REQUIRE(preflight);
    CHECK(preflight->status == 204);
    CHECK(preflight->body.empty());
    CHECK(preflight->get_header_value("Access-Control-Allow-Origin") == "*");
    CHECK(preflight->get_header_value("Access-Control-Allow-Headers").find("Authorization") != std::string::npos);

    const auto ok = srv.get(internal_table, key, {{"Origin", "https://partner.example"}});
    CHECK(ok->status == 200);
    CHECK(ok->get_header_value("Access-Control-Allow-Origin") == "*");
    const auto refused = srv.get(internal_table, {}, {{"Origin", "https://partner.example"}});
    CHECK(refused->status == 404);
    CHECK(refused->get_header_value("Access-Control-Allow-Origin") == "*");
    const auto missing = srv.get("/api/no-such-thing");
    CHECK(missing->status == 404);
    CHECK(missing->get_header_value("Access-Control-Allow-Origin") == "*");
}
