#pragma once
// What every route needs: the configuration, the current snapshot (swapped when an ingest makes a new release),
// one SQLite connection per worker thread, the tile cache and the cache of protected value tables, and the
// access check for internal datasets.

#include "data/bespoke_store.hpp"
#include "data/release_listener.hpp"
#include "server/app.hpp"
#include "server/boundaries.hpp"
#include "engine/catalog.hpp"
#include "engine/tile_cache.hpp"

#include <httplib.h>

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>

namespace smallarea::server {

// Routes speak the engine's vocabulary (snapshot, table_query, export_request...) unqualified: the server is a
// thin layer over it, and the engine never sees HTTP.
using namespace smallarea::engine;

class access_control;

class context {
public:
    /// Opens the store and builds the first snapshot. Throws store_error.
    explicit context(server_config c);
    /// Flushes the audit queue through the writer before the writer closes.
    ~context();

    const server_config& config() const noexcept { return m_config; }
    tile_cache& tiles() noexcept { return m_tiles; }
    /// The boundary archives of --boundaries-pmtiles, checked at start (server/boundaries.hpp).
    const std::vector<boundary_archive>& archives() const noexcept { return m_archives; }
    /// The archive of a level and vintage, or null.
    const boundary_archive* archive(const std::string& level, int vintage) const noexcept {
        for (const auto& a : m_archives) {
            if (a.level == level && a.vintage == vintage) return &a;
        }
        return nullptr;
    }

    /// One read-only connection per thread (cpp-httplib's pool): SQLite handles are not shared across threads.
    data::database& connection();

    /// The current snapshot; at most every 500 ms it checks whether an ingest made a new release and, if so,
    /// builds the new snapshot while requests keep using the old one. On a PostgreSQL store a listener thread
    /// also reloads as soon as an ingest commits (NOTIFY); the 500 ms check is then the fallback. When the store
    /// cannot be reached the last snapshot keeps serving (see store_status).
    std::shared_ptr<const snapshot> snap();

    /// What /health reports about the store behind the snapshot.
    struct store_status {
        std::string engine;             ///< "sqlite" or "postgresql"
        bool reachable = true;          ///< the last release check reached the store
        bool current = true;            ///< reachable, checked within 5 s, and no newer release seen
        std::int64_t store_release = 0; ///< the release the store had at the last successful check
        std::int64_t checked_ms_ago = 0;
        bool listening = false;         ///< PostgreSQL: the NOTIFY listener is connected
        std::int64_t notifications = 0;
        std::int64_t reconnections = 0;
    };
    store_status status();

    /// The protected table of a query, cached per data release under a key naming every input that changes the
    /// answer (table_cache_key): what tiles, class breaks and OGC items read. Bespoke queries are not cached.
    std::shared_ptr<const table_result> table_values(const snapshot& s, const table_query& q);

    /// Runs f(database&) on the server's one read-write connection, serialised by a mutex (SQLite has one
    /// writer at a time): bespoke areas, the audit log.
    template <typename F>
    auto with_writer(F&& f) {
        std::lock_guard<std::mutex> lock(m_writer_mutex);
        return f(writer());
    }

    /// Throws unless the request may read this dataset: for an internal one, unauthorized/forbidden for key
    /// problems, else not_found("UnknownDataset") exactly as for an unknown id (access_control::readable).
    void authorize(const httplib::Request& req, const data::dataset_info& d);
    /// The one way a request's dataset id is resolved: the dataset when the request may read it; otherwise the
    /// same refusal whether it is internal or does not exist (key problems 401/403, else 404 UnknownDataset).
    const data::dataset_info& dataset(const httplib::Request& req, const snapshot& s, const std::string& id);
    /// Who this request is when it reads stored bespoke areas: public ones, plus its organisation's own when its
    /// key may be used (data::bespoke_reader). Marks the response private when it carries a usable key.
    data::bespoke_reader bespoke_reader(const httplib::Request& req);
    /// Whether the dataset is listed for this request (internal datasets are not listed to others).
    bool visible(const httplib::Request& req, const data::dataset_info& d);
    /// Called by app for every request before routing: rate limits (429), then the access gate, before any route
    /// or cache runs: a `dataset` query parameter is resolved (context::dataset), and bespoke ids in
    /// `within=bespoke:ID` and `ids=` are resolved (private areas of others answer 404 UnknownBespoke).
    void begin_request(const httplib::Request& req);
    /// Called by app for every response: audit entries with the final status; private caching of internal data.
    void end_request(const httplib::Request& req, httplib::Response& res);
    access_control& access() noexcept { return *m_access; }

private:
    data::database& writer(); // call with m_writer_mutex held
    /// Checks the store's release and swaps in a new snapshot when it moved (one builder at a time: others keep
    /// serving the old one). Never throws: an unreachable store is recorded for /health.
    void reload_if_released();
    static std::int64_t now_ms();

    server_config m_config;
    std::vector<boundary_archive> m_archives;
    std::mutex m_writer_mutex;
    std::unique_ptr<data::database> m_writer;
    tile_cache m_tiles;
    std::shared_mutex m_snapshot_mutex;
    std::shared_ptr<const snapshot> m_current;
    std::mutex m_reload_mutex;
    std::atomic<std::int64_t> m_last_check_ms{0};
    std::atomic<std::int64_t> m_last_success_ms{0};
    std::atomic<std::int64_t> m_store_release{0};
    std::atomic<bool> m_reachable{true};
    std::mutex m_values_mutex;
    std::map<std::string, std::shared_ptr<const table_result>> m_value_tables;
    std::unique_ptr<access_control> m_access; // destroyed before the writer: its audit flush still needs it
    std::unique_ptr<data::release_listener> m_listener; // last: destroyed first, so it never reloads a dying context
};

/// Route registration, one function per file.
void register_api_routes(httplib::Server& http, context& ctx);
void register_tile_routes(httplib::Server& http, context& ctx);
void register_ogc_routes(httplib::Server& http, context& ctx);    // routes_ogc.cpp: /ogc (OGC API Features)
void register_export_routes(httplib::Server& http, context& ctx); // routes_export.cpp: /api/export/...
void register_bespoke_routes(httplib::Server& http, context& ctx);
void register_places_routes(httplib::Server& http, context& ctx);  // routes_places.cpp: /api/search, /api/labels

} // namespace smallarea::server
