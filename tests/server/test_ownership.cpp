// test_ownership: who may see bespoke areas and zones (DESIGN rule 7), the representative an organisation must
// name before internal MI is shared, and that a hidden internal dataset is answered exactly as an unknown one.
// Against real servers on 127.0.0.1 over copies of the bundled sample; every check is written to fail if the
// rule it names were dropped.

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
#include <fstream>
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
const std::string unknown_id = "no_such_dataset_xyz"; // as long as nothing: the bodies are compared with ids swapped
const data::representative rep{"Ann Example", "ann@example.org"};

struct reply {
    int status = 0;
    std::string body;
    httplib::Headers headers;
    json j() const { return json::parse(body, nullptr, false); }
    std::string code() const {
        const auto b = j();
        return b.is_object() && b.contains("code") && b["code"].is_string() ? b["code"].get<std::string>() : "";
    }
    std::string header(const std::string& name) const {
        const auto it = headers.find(name);
        return it == headers.end() ? "" : it->second;
    }
};

/// A server (test_fixture::test_server) on its own copy of the sample, rate limit off; stop() and start() restart
/// it over the same store.
class own_server : public test_fixture::test_server {
public:
    own_server() : test_server(test_fixture::copy_of_sample, [](smallarea::server::server_config& config) { config.rate_limit_per_second = 0; }) {}
    const std::string& db() const noexcept { return db_path(); }

    reply send(const std::string& method, const std::string& path, const std::string& key = {}, const std::string& body = {},
               httplib::Headers headers = {}) {
        if (!key.empty()) headers.emplace("Authorization", "Bearer " + key);
        const auto r = request(method, path, body, headers);
        return reply{r->status, r->body, r->headers};
    }
    /// GET with an optional key (hides test_server::get, which answers a status/body pair).
    reply get(const std::string& path, const std::string& key = {}) { return send("GET", path, key); }
};

/// Organisations A and B (internal + published shared with both), each with a key.
struct partners {
    std::string a, b;
    std::int64_t a_key_id = 0;
};

partners add_partners(own_server& srv) {
    auto db = data::open_store(srv.db(), true);
    data::add_organisation(db, "Org A", "2024-01-01", {internal_id, published_id}, rep);
    data::add_organisation(db, "Org B", "2024-01-01", {internal_id, published_id}, {"Bob Example", "+44 161 496 0000"});
    partners p;
    const auto ka = data::issue_key(db, "Org A");
    p.a = ka.key;
    p.a_key_id = ka.id;
    p.b = data::issue_key(db, "Org B").key;
    return p;
}

std::pair<int, std::string> run_command(const std::string& command) {
    std::string out;
    FILE* pipe = popen((command + " 2>&1").c_str(), "r");
    REQUIRE(pipe);
    std::array<char, 4096> buffer{};
    while (const auto n = fread(buffer.data(), 1, buffer.size(), pipe)) out.append(buffer.data(), n);
    const int status = pclose(pipe);
    return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

/// Ids of the features of an OGC bespoke collection for a key (empty set when the collection is absent for it:
/// 404, or the key's own 401/403 refusal).
std::set<std::string> ogc_ids(own_server& srv, const std::string& collection, const std::string& key) {
    const auto r = srv.get("/ogc/collections/" + collection + "/items?limit=10000", key);
    std::set<std::string> out;
    if (r.status == 404 || r.status == 401 || r.status == 403) return out;
    REQUIRE_MESSAGE(r.status == 200, r.body.substr(0, 300));
    const json body = r.j();
    for (const auto& f : body["features"]) out.insert(f["id"].get<std::string>());
    return out;
}

/// OA codes of the first LSOA of Manchester.
std::vector<std::string> some_oas(own_server& srv, std::size_t n) {
    const auto lsoa = srv.get("/api/areas?level=lsoa&within=E08000003").j()["areas"][0]["code"].get<std::string>();
    std::vector<std::string> out;
    const json oas = srv.get("/api/areas?level=oa&within=" + lsoa).j();
    for (const auto& a : oas["areas"]) {
        if (out.size() < n) out.push_back(a["code"]);
    }
    return out;
}

/// Every way a bespoke id can be read, with the status an authorised caller gets. `internal_ok`: paths that
/// need the internal dataset (a caller without a key gets UnknownDataset there before the area is looked at).
struct bespoke_path {
    std::string method;
    std::string path;
    std::string body;
    bool needs_internal = false;
};

std::vector<bespoke_path> paths_of(const std::string& id) {
    const std::string iq = "dataset=" + internal_id + "&measure=referrals";
    return {
        {"GET", "/api/bespoke/" + id, "", false},
        {"GET", "/api/bespoke/" + id + ".geojson", "", false},
        {"GET", "/api/bespoke/" + id + ".geojson?members=true", "", false},
        {"GET", "/api/table?" + iq + "&within=bespoke:" + id, "", true},
        {"GET", "/api/table?" + iq + "&within=bespoke:" + id + "&format=csv", "", true},
        {"GET", "/api/table?" + iq + "&level=bespoke&ids=" + id, "", true},
        {"GET", "/api/table?" + iq + "&level=bespoke&ids=" + id + "&format=csv", "", true},
        // published data on OA members is LevelTooFine (400) once the area is read: the gate must answer first
        {"GET", "/api/table?dataset=" + published_id + "&within=bespoke:" + id, "", false},
        {"GET", "/api/export/bespoke.geojson?ids=" + id, "", false},
        {"GET", "/api/export/bespoke.gpkg?ids=" + id, "", false},
        {"GET", "/api/export/bespoke.csv?" + iq + "&ids=" + id, "", true},
        {"GET", "/api/export/areas.geojson?level=bespoke&ids=" + id, "", false},
        {"GET", "/api/export/areas.csv?" + iq + "&within=bespoke:" + id, "", true},
        {"GET", "/api/targets?" + iq + "&within=bespoke:" + id, "", true},
        {"GET", "/api/targets?dataset=" + published_id + "&within=bespoke:" + id, "", false},
        {"POST", "/api/zones", json{{"dataset", internal_id}, {"measure", "referrals"}, {"within", "bespoke:" + id},
                                    {"min_households", 100}, {"max_households", 150}, {"max_zones", 2}}.dump(), true},
        {"GET", "/ogc/collections/bespoke/items/" + id, "", false},
        {"GET", "/ogc/collections/" + internal_id + ".referrals.bespoke/items/" + id, "", true},
    };
}

/// A caller that may not see the area gets, on every path, what it would get for an id that does not exist.
/// bad_key: the key itself is unusable, so 401 InvalidKey is also right where the request touches internal data
/// (what matters then is that it is the same answer as for an unknown id).
void check_hidden(own_server& srv, const std::string& id, const std::string& key, const std::string& who, bool bad_key = false) {
    for (const auto& p : paths_of(id)) {
        const auto r = srv.send(p.method, p.path, key, p.body);
        INFO(who << ": " << p.method << " " << p.path << " -> " << r.status << " " << r.body.substr(0, 200));
        if (bad_key && r.status == 401) {
            CHECK(r.code() == "InvalidKey");
        } else if (p.path.rfind("/ogc/", 0) == 0) {
            CHECK(r.status == 404);
            CHECK((r.code() == "UnknownFeature" || r.code() == "UnknownCollection"));
        } else if (key.empty() && p.needs_internal) {
            CHECK(r.status == 404);
            CHECK(r.code() == "UnknownDataset");
        } else {
            CHECK(r.status == 404);
            CHECK(r.code() == "UnknownBespoke");
        }
        // and the same answer as for an unknown id
        std::string unknown_path = p.path;
        if (const auto at = unknown_path.find(id); at != std::string::npos) unknown_path.replace(at, id.size(), "zzzzzzzzzz");
        std::string unknown_body = p.body;
        if (const auto b = unknown_body.find(id); b != std::string::npos) unknown_body.replace(b, id.size(), "zzzzzzzzzz");
        const auto u = srv.send(p.method, unknown_path, key, unknown_body);
        CHECK(u.status == r.status);
        CHECK(u.code() == r.code());
        std::string message = r.j().value("message", "");
        if (const auto m = message.find(id); m != std::string::npos) message.replace(m, id.size(), "zzzzzzzzzz");
        CHECK(u.j().value("message", "") == message);
    }
    // DELETE, even with the right owner token
    const auto d = srv.send("DELETE", "/api/bespoke/" + id, key, "", {{"X-Owner-Token", "whatever"}});
    CHECK(d.status == 404);
    CHECK(d.code() == "UnknownBespoke");
}

/// The owner reads the area on every path (no 404).
void check_readable(own_server& srv, const std::string& id, const std::string& key, const std::string& who) {
    for (const auto& p : paths_of(id)) {
        if (p.path.find("dataset=" + published_id) != std::string::npos) continue; // OA members: LevelTooFine, by design
        const auto r = srv.send(p.method, p.path, key, p.body);
        INFO(who << ": " << p.method << " " << p.path << " -> " << r.status << " " << r.body.substr(0, 200));
        CHECK((r.status == 200 || r.status == 201));
    }
}

} // namespace

TEST_CASE("ownership - zones on internal MI are private to the organisation whose key built them, on every path") {
    own_server srv;
    const auto keys = add_partners(srv);
    const auto built = srv.send("POST", "/api/zones", keys.a,
                                json{{"dataset", internal_id}, {"measure", "referrals"}, {"within", "E08000003"},
                                     {"min_households", 100}, {"max_households", 150}, {"max_zones", 3}}.dump());
    REQUIRE_MESSAGE(built.status == 201, built.body.substr(0, 300));
    const auto z = built.j();
    REQUIRE(z["zones"].size() == 3);
    CHECK(z["visibility"] == "private");
    CHECK(z["organisation"] == "Org A");
    const std::string zone = z["zones"][0]["id"];
    const std::string token = z["owner_token"];
    for (const auto& one : z["zones"]) CHECK(one["visibility"] == "private");

    check_hidden(srv, zone, "", "no key");
    check_hidden(srv, zone, keys.b, "another organisation");
    check_hidden(srv, zone, "sak_000000000000000000000000000000000000000000000000", "an unknown key", true);
    check_readable(srv, zone, keys.a, "owner");

    // The owner sees that it is private and whose it is; it can never be published.
    const auto meta = srv.get("/api/bespoke/" + zone, keys.a);
    CHECK(meta.j()["visibility"] == "private");
    CHECK(meta.j()["organisation"] == "Org A");
    CHECK(meta.j()["publishable"] == false);
    CHECK(meta.header("Cache-Control") == "private, no-cache");
    CHECK(meta.header("Vary").find("Authorization") != std::string::npos);
    const auto publish = srv.send("PATCH", "/api/bespoke/" + zone, keys.a, R"({"public": true})");
    CHECK(publish.status == 422);
    CHECK(publish.code() == "AlwaysPrivate");
    CHECK(srv.get("/api/bespoke/" + zone).status == 404); // still private

    // OGC: the bespoke collections list public areas plus the caller's own.
    std::set<std::string> zone_ids;
    for (const auto& one : z["zones"]) zone_ids.insert(one["id"].get<std::string>());
    const auto own = ogc_ids(srv, "bespoke", keys.a);
    for (const auto& id : zone_ids) CHECK(own.count(id) == 1);
    for (const auto& id : zone_ids) {
        CHECK(ogc_ids(srv, "bespoke", "").count(id) == 0);
        CHECK(ogc_ids(srv, "bespoke", keys.b).count(id) == 0);
        CHECK(ogc_ids(srv, internal_id + ".referrals.bespoke", keys.b).count(id) == 0);
        CHECK(ogc_ids(srv, internal_id + ".referrals.bespoke", keys.a).count(id) == 1);
    }
    // With no area visible to them, the bespoke collection does not exist for others (as in an empty store).
    CHECK(srv.get("/ogc/collections/bespoke").status == 404);
    CHECK(srv.get("/ogc/collections/bespoke", keys.a).status == 200);
    bool listed = false;
    const json collections = srv.get("/ogc/collections").j();
    for (const auto& c : collections["collections"]) listed = listed || c["id"] == "bespoke";
    CHECK_FALSE(listed);

    // Refused reads of a private area are audited with the area, as refusals (404).
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    bool audited = false;
    for (const auto& row : srv.audit(1)) {
        audited = audited || (row.area == "bespoke:" + zone && row.outcome == 404 && !row.dataset);
    }
    CHECK(audited);

    // The CLI holds the store: it exports the zone.
    const std::string out = srv.file("zone.geojson");
    const auto cli = run_command(std::string(SMALLAREA_CLI) + " export --db " + srv.db() + " --level bespoke --ids " + zone +
                                 " --format geojson --out " + out);
    CHECK_MESSAGE(cli.first == 0, cli.second);
    CHECK(read_text(out).find(zone) != std::string::npos);

    // The owner deletes with the owner token (or its key); nobody else can.
    CHECK(srv.send("DELETE", "/api/bespoke/" + zone, "", "", {{"X-Owner-Token", token}}).status == 404);
    CHECK(srv.send("DELETE", "/api/bespoke/" + zone, keys.a, "", {{"X-Owner-Token", token}}).status == 204);
    CHECK(srv.get("/api/bespoke/" + zone, keys.a).status == 404);
    const std::string second = z["zones"][1]["id"];
    CHECK(srv.send("DELETE", "/api/bespoke/" + second, keys.a).status == 204); // the organisation's key alone
}

TEST_CASE("ownership - areas made with a key are private by default; the owner may publish; without a key public") {
    own_server srv;
    const auto keys = add_partners(srv);
    const auto codes = some_oas(srv, 3);
    const json area{{"name", "Our outreach patch"}, {"level", "oa"}, {"codes", codes}};

    const auto made = srv.send("POST", "/api/bespoke", keys.a, area.dump());
    REQUIRE_MESSAGE(made.status == 201, made.body);
    const std::string id = made.j()["id"];
    CHECK(made.j()["visibility"] == "private");
    CHECK(made.j()["organisation"] == "Org A");
    CHECK(made.j()["publishable"] == true);
    check_hidden(srv, id, "", "no key");
    check_hidden(srv, id, keys.b, "another organisation");
    check_readable(srv, id, keys.a, "owner");

    // Only the owner may publish; another organisation cannot even see it.
    CHECK(srv.send("PATCH", "/api/bespoke/" + id, keys.b, R"({"public": true})").status == 404);
    CHECK(srv.send("PATCH", "/api/bespoke/" + id, "", R"({"public": true})").status == 404);
    CHECK(srv.send("PATCH", "/api/bespoke/" + id, keys.a, R"({"public": "yes"})").status == 400);
    CHECK(srv.send("PATCH", "/api/bespoke/" + id, keys.a, R"({"name": "x"})").status == 400);
    const auto published = srv.send("PATCH", "/api/bespoke/" + id, keys.a, R"({"public": true})");
    REQUIRE_MESSAGE(published.status == 200, published.body);
    CHECK(published.j()["visibility"] == "public");

    // Public: readable by URL without a key, and listed to everyone; its owner is not named to others.
    const auto shared = srv.get("/api/bespoke/" + id);
    REQUIRE(shared.status == 200);
    CHECK(shared.j()["visibility"] == "public");
    CHECK_FALSE(shared.j().contains("organisation"));
    CHECK(srv.get("/api/bespoke/" + id, keys.b).j().contains("organisation") == false);
    CHECK(srv.get("/api/bespoke/" + id + ".geojson").status == 200);
    CHECK(srv.get("/api/export/bespoke.geojson?ids=" + id).status == 200);
    CHECK(ogc_ids(srv, "bespoke", "").count(id) == 1);
    CHECK(ogc_ids(srv, "bespoke", keys.b).count(id) == 1);
    CHECK(srv.get("/api/table?dataset=" + internal_id + "&measure=referrals&within=bespoke:" + id, keys.b).status == 200);
    // ...but another organisation may not change it
    const auto other = srv.send("PATCH", "/api/bespoke/" + id, keys.b, R"({"public": false})");
    CHECK(other.status == 403);
    CHECK(other.code() == "NotOwner");
    // The owner takes it back.
    CHECK(srv.send("PATCH", "/api/bespoke/" + id, keys.a, R"({"public": false})").status == 200);
    CHECK(srv.get("/api/bespoke/" + id).status == 404);

    // "public": true at creation
    const auto open = srv.send("POST", "/api/bespoke", keys.a, json{{"level", "oa"}, {"codes", codes}, {"public", true}}.dump());
    REQUIRE(open.status == 201);
    CHECK(open.j()["visibility"] == "public");
    CHECK(srv.get("/api/bespoke/" + open.j()["id"].get<std::string>()).status == 200);

    // Without a key: public (as before), and it cannot be private (it would belong to nobody).
    const auto anonymous = srv.send("POST", "/api/bespoke", "", area.dump());
    REQUIRE(anonymous.status == 201);
    CHECK(anonymous.j()["visibility"] == "public");
    CHECK_FALSE(anonymous.j().contains("organisation"));
    const std::string anon_id = anonymous.j()["id"];
    CHECK(srv.get("/api/bespoke/" + anon_id, keys.b).status == 200);
    CHECK(srv.send("POST", "/api/bespoke", "", json{{"level", "oa"}, {"codes", codes}, {"public", false}}.dump()).status == 400);
    const auto not_owner = srv.send("PATCH", "/api/bespoke/" + anon_id, keys.a, R"({"public": false})");
    CHECK(not_owner.status == 403);
    CHECK(not_owner.code() == "NotOwner");
    // the owner token still deletes it
    CHECK(srv.send("DELETE", "/api/bespoke/" + anon_id, "", "", {{"X-Owner-Token", anonymous.j()["owner_token"].get<std::string>()}}).status == 204);

    // A key that cannot be used never silently makes a public area.
    CHECK(srv.send("POST", "/api/bespoke", "sak_0000", area.dump()).status == 401);

    // An area named after an internal dataset says something about it: always private.
    const auto named = srv.send("POST", "/api/bespoke", keys.a,
                                json{{"name", "Where " + internal_id + " peaks"}, {"level", "oa"}, {"codes", codes}}.dump());
    REQUIRE(named.status == 201);
    CHECK(named.j()["publishable"] == false);
    CHECK(srv.send("PATCH", "/api/bespoke/" + named.j()["id"].get<std::string>(), keys.a, R"({"public": true})").code() ==
          "AlwaysPrivate");
    CHECK(srv.send("POST", "/api/bespoke", keys.a,
                   json{{"name", "Where " + internal_id + " peaks"}, {"level", "oa"}, {"codes", codes}, {"public", true}}.dump())
              .status == 422);
}

TEST_CASE("ownership - revocation, suspension and suspend-all hide an organisation's private areas") {
    own_server srv;
    const auto keys = add_partners(srv);
    const auto made = srv.send("POST", "/api/bespoke", keys.a, json{{"level", "oa"}, {"codes", some_oas(srv, 2)}}.dump());
    REQUIRE(made.status == 201);
    const std::string id = made.j()["id"];
    const std::string path = "/api/bespoke/" + id;
    CHECK(srv.get(path, keys.a).status == 200);
    auto with_store = [&](auto f) {
        auto db = data::open_store(srv.db(), true);
        f(db);
    };
    with_store([](data::database& db) { data::set_organisation_suspended(db, "Org A", true); });
    CHECK(srv.get(path, keys.a).status == 404);
    CHECK(ogc_ids(srv, "bespoke", keys.a).count(id) == 0);
    with_store([](data::database& db) { data::set_organisation_suspended(db, "Org A", false); });
    CHECK(srv.get(path, keys.a).status == 200);
    with_store([](data::database& db) { data::set_sharing_suspended(db, true); });
    CHECK(srv.get(path, keys.a).status == 404);
    CHECK(srv.get("/api/export/bespoke.geojson?ids=" + id, keys.a).status == 404);
    with_store([](data::database& db) { data::set_sharing_suspended(db, false); });
    CHECK(srv.get(path, keys.a).status == 200);
    with_store([&](data::database& db) { data::revoke_key(db, keys.a_key_id); });
    CHECK(srv.get(path, keys.a).status == 404);
    CHECK(srv.get("/api/table?dataset=" + published_id + "&within=bespoke:" + id, keys.a).code() == "UnknownBespoke");
    std::string fresh;
    with_store([&](data::database& db) { fresh = data::issue_key(db, "Org A").key; });
    CHECK(srv.get(path, fresh).status == 200); // the organisation's, not the key's
}

TEST_CASE("representative - internal MI is shared only once the organisation names one; org-update; old stores") {
    own_server srv;
    std::string key;
    {
        auto db = data::open_store(srv.db(), true);
        CHECK_THROWS_AS(data::add_organisation(db, "No rep", "2024-01-01", {internal_id}, {"", "ann@example.org"}), smallarea::bad_request);
        CHECK_THROWS_AS(data::add_organisation(db, "No rep", "2024-01-01", {internal_id}, {"Ann", ""}), smallarea::bad_request);
        CHECK_THROWS_AS(data::add_organisation(db, "No rep", "2024-01-01", {internal_id}, {"Ann", "ann@"}), smallarea::bad_request);
        CHECK_THROWS_AS(data::add_organisation(db, "No rep", "2024-01-01", {internal_id}, {"Ann", "12"}), smallarea::bad_request);
        CHECK(data::list_organisations(db).empty());
        data::add_organisation(db, "Older partner", "2023-06-01", {internal_id}, rep);
        key = data::issue_key(db, "Older partner").key;
    }
    const std::string table = "/api/table?dataset=" + internal_id + "&measure=referrals&level=lad";
    CHECK(srv.get(table, key).status == 200);
    srv.stop();
    SMALLAREA_SQLITE_ONLY("an older SQLite schema (a PostgreSQL store is made at the current one)");

    // Make the store as an older smallarea left it: schema v2, no representative, a zone on internal MI.
    {
        data::database db(srv.db(), data::database::mode::read_write);
        db.exec("ALTER TABLE organisations DROP COLUMN representative");
        db.exec("ALTER TABLE organisations DROP COLUMN representative_contact");
        db.exec("CREATE TABLE bespoke_v2 (id TEXT PRIMARY KEY, name TEXT NOT NULL, level TEXT NOT NULL, vintage INTEGER NOT NULL, "
                "owner TEXT NOT NULL DEFAULT '', source TEXT NOT NULL DEFAULT 'codes' CHECK (source IN ('codes', 'polygon', 'zones')), "
                "created_at TEXT NOT NULL, outline BLOB)");
        db.exec("DROP TABLE bespoke_areas");
        db.exec("ALTER TABLE bespoke_v2 RENAME TO bespoke_areas");
        db.exec("INSERT INTO bespoke_areas (id, name, level, vintage, source, created_at) VALUES "
                "('oldzone2222', 'Zone 1: " + internal_id + " referrals 2017-10 in E08000003', 'oa', 2011, 'zones', '2024-01-01'), "
                "('oldcodes222', 'A patch', 'oa', 2011, 'codes', '2024-01-01')");
        db.exec("INSERT INTO bespoke_members (bespoke_id, area_id) SELECT 'oldzone2222', id FROM areas WHERE level = 'oa' LIMIT 2");
        db.exec("INSERT INTO bespoke_members (bespoke_id, area_id) SELECT 'oldcodes222', id FROM areas WHERE level = 'oa' LIMIT 2");
        db.exec("PRAGMA user_version = 2");
    }
    const std::string cli = std::string(SMALLAREA_CLI) + " keys ";
    // serve refuses an older store and says how to migrate; any keys command migrates it
    CHECK_THROWS_AS(data::open_store(srv.db(), false), smallarea::store_error);
    const auto list = run_command(cli + "org-list --db " + srv.db());
    REQUIRE_MESSAGE(list.first == 0, list.second);
    CHECK(list.second.find("NO REPRESENTATIVE") != std::string::npos);
    srv.start();

    // Refused until a representative is named, with a message that says so; the same for an unknown dataset.
    const auto refused = srv.get(table, key);
    CHECK(refused.status == 403);
    CHECK(refused.code() == "DatasetNotShared");
    CHECK(refused.j()["message"].get<std::string>().find("representative") != std::string::npos);
    const auto unknown = srv.get("/api/table?dataset=" + unknown_id + "&measure=referrals&level=lad", key);
    CHECK(unknown.status == 403);
    CHECK(unknown.j() == refused.j());
    // not listed either
    const json listing = srv.get("/api/datasets", key).j();
    for (const auto& d : listing["datasets"]) CHECK(d["id"] != internal_id);
    // the old zone on internal MI became private to nobody; the old plain area stays public
    CHECK(srv.get("/api/bespoke/oldzone2222").status == 404);
    CHECK(srv.get("/api/bespoke/oldzone2222", key).status == 404);
    CHECK(srv.get("/api/bespoke/oldcodes222").status == 200);

    CHECK(run_command(cli + "org-update --db " + srv.db() + " --name 'Older partner' --representative 'Ann Example'").first == 2);
    CHECK(run_command(cli + "org-update --db " + srv.db() + " --name Nobody --representative Ann --representative-contact ann@example.org").first == 1);
    const auto updated = run_command(cli + "org-update --db " + srv.db() +
                                     " --name 'Older partner' --representative 'Ann Example' --representative-contact '0161 496 0000'");
    REQUIRE_MESSAGE(updated.first == 0, updated.second);
    CHECK(srv.get(table, key).status == 200);
    const auto after = run_command(cli + "org-list --db " + srv.db());
    CHECK(after.second.find("representative Ann Example <0161 496 0000>") != std::string::npos);
    const auto audit = run_command(cli + "audit --db " + srv.db() + " --org 'Older partner'");
    CHECK(audit.second.find("keys org-update") != std::string::npos);
    CHECK(audit.second.find("Ann Example <0161 496 0000>") != std::string::npos);
}

TEST_CASE("parity - a hidden internal dataset is answered exactly as an unknown one on every route; /health counts") {
    own_server srv;
    std::string other, partner, suspended;
    {
        auto db = data::open_store(srv.db(), true);
        data::add_organisation(db, "Published only", "2024-01-01", {published_id}, rep);
        data::add_organisation(db, "Partner", "2024-01-01", {internal_id}, rep);
        data::add_organisation(db, "Suspended", "2024-01-01", {internal_id}, rep);
        other = data::issue_key(db, "Published only").key;
        partner = data::issue_key(db, "Partner").key;
        suspended = data::issue_key(db, "Suspended").key;
        data::set_organisation_suspended(db, "Suspended", true);
    }
    const auto tile = test_fixture::manchester_tile(12);
    const std::vector<std::pair<std::string, std::string>> routes{
        {"GET", "/api/table?dataset=ID&measure=referrals"},
        {"GET", "/api/table?dataset=ID&format=xlsx"},
        {"GET", "/api/table?dataset=ID&level=bespoke&ids=abc"},
        {"GET", "/api/breaks?dataset=ID&measure=referrals"},
        {"GET", tile + "?dataset=ID&measure=referrals"},
        {"GET", "/tiles/oa.json?dataset=ID"},
        {"GET", "/api/export/areas.csv?dataset=ID"},
        {"GET", "/api/export/areas.geojson?dataset=ID&level=oa"},
        {"GET", "/api/export/bespoke.csv?dataset=ID&ids=abc"},
        {"GET", "/api/targets?dataset=ID&measure=referrals"},
        {"GET", "/api/targets?dataset=ID&min_households=abc"}, // a route that validates other parameters too
        {"GET", "/api/datasets/ID"},
        {"POST", "/api/zones"},
        {"GET", "/ogc/collections/ID.referrals"},
        {"GET", "/ogc/collections/ID.referrals/items"},
        {"GET", "/ogc/collections/ID.referrals/items/E00026255"},
        {"GET", "/ogc/collections/ID.referrals.bespoke/items"},
    };
    auto with_id = [](std::string text, const std::string& id) {
        for (auto at = text.find("ID"); at != std::string::npos; at = text.find("ID", at + id.size())) text.replace(at, 2, id);
        return text;
    };
    auto ask = [&](const std::pair<std::string, std::string>& route, const std::string& id, const std::string& key) {
        const std::string body = json{{"dataset", id}, {"measure", "referrals"}, {"within", "E08000003"}}.dump();
        return srv.send(route.first, with_id(route.second, id), key, body);
    };
    for (const auto& key : {std::string(), other}) {
        for (const auto& route : routes) {
            const auto hidden = ask(route, internal_id, key);
            const auto unknown = ask(route, unknown_id, key);
            INFO((key.empty() ? "no key" : "a key it is not shared with") << ": " << route.first << " " << route.second
                                                                          << " -> " << hidden.status << " " << hidden.body.substr(0, 200));
            CHECK(hidden.status == 404);
            CHECK(hidden.status == unknown.status);
            CHECK(hidden.code() == unknown.code());
            CHECK((hidden.code() == "UnknownDataset" || hidden.code() == "UnknownCollection"));
            auto shape = [](const reply& r, const std::string& id) {
                std::string m = r.j().value("message", "");
                for (auto at = m.find(id); at != std::string::npos; at = m.find(id)) m.replace(at, id.size(), "ID");
                return m;
            };
            CHECK(shape(hidden, internal_id) == shape(unknown, unknown_id));
            CHECK(hidden.header("WWW-Authenticate") == unknown.header("WWW-Authenticate"));
        }
    }
    // Key problems keep their codes, for a hidden and an unknown dataset alike.
    for (const auto& [key, status, code] : {std::tuple<std::string, int, std::string>{"sak_0000", 401, "InvalidKey"},
                                            {suspended, 403, "OrganisationSuspended"}}) {
        for (const auto& route : routes) {
            const auto hidden = ask(route, internal_id, key);
            const auto unknown = ask(route, unknown_id, key);
            INFO(code << ": " << route.first << " " << route.second << " -> " << hidden.status << " " << hidden.body.substr(0, 200));
            CHECK(unknown.status == hidden.status);
            CHECK(unknown.code() == hidden.code());
            if (route.second == "/api/datasets/ID") { // a listing: what cannot be read is not there
                CHECK(hidden.status == 404);
                continue;
            }
            CHECK(hidden.status == status);
            CHECK(hidden.code() == code);
            CHECK(unknown.j() == hidden.j());
        }
    }
    // The partner reads it (so the 404s above are about visibility, not a broken route).
    CHECK(srv.get("/api/table?dataset=" + internal_id + "&measure=referrals", partner).status == 200);
    CHECK(srv.get("/ogc/collections/" + internal_id + ".referrals", partner).status == 200);

    // /health counts only what the caller can see.
    CHECK(srv.get("/health").j()["datasets"] == 1);
    CHECK(srv.get("/health", other).j()["datasets"] == 1);
    CHECK(srv.get("/health", partner).j()["datasets"] == 2);

    // The refused request to the hidden dataset is audited with its real id and status 404.
    std::this_thread::sleep_for(std::chrono::milliseconds(500)); // the audit flusher writes every 200 ms
    bool audited = false;
    for (const auto& row : srv.audit(1)) {
        audited = audited || (row.dataset == internal_id && row.outcome == 404 && !row.organisation_id &&
                              row.endpoint == "GET /api/breaks");
    }
    CHECK(audited);
}
