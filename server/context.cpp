#include "server/context.hpp"

#include "core/error.hpp"
#include "data/store.hpp"
#include "server/access.hpp"
#include "server/bespoke.hpp"
#include "engine/export.hpp"
#include "server/http_util.hpp"

#include <chrono>
#include <cstdio>

namespace smallarea::server {

context::context(server_config c) : m_config(std::move(c)), m_tiles(m_config.tile_cache_bytes) {
    if (data::is_postgresql_url(m_config.db_path)) {
        // The one checked open (reachable, a smallarea store, this schema version) with its clear messages: the
        // request threads' connections are deferred and skip it (connection()).
        std::lock_guard<std::mutex> lock(m_writer_mutex);
        writer();
    }
    m_current = std::make_shared<const snapshot>(connection());
    // Checked before serving: a typo or a stale archive fails at start with the file named, not on a map later.
    m_archives = load_boundary_archives(m_config.boundaries_pmtiles);
    for (const auto& a : m_archives) {
        bool found = false;
        for (const auto& [key, layer] : m_current->layers()) found = found || (key.level == a.level && key.vintage == a.vintage);
        if (!found) {
            throw error("InvalidArchive", a.path + ": the store has no " + a.level + " " + std::to_string(a.vintage) +
                                              " boundaries (export the archive from this store)");
        }
    }
    m_access = std::make_unique<access_control>(
        [this]() -> data::database& { return connection(); },
        [this](const std::function<void(data::database&)>& f) { with_writer(f); }, m_config.rate_limit_per_second,
        m_config.rate_limit_burst);
    m_store_release = m_current->release();
    m_last_success_ms = now_ms();
    if (data::is_postgresql_url(m_config.db_path)) {
        m_listener = std::make_unique<data::release_listener>(m_config.db_path, [this] { reload_if_released(); });
    }
}

context::~context() = default;

data::database& context::connection() {
    thread_local std::unique_ptr<data::database> db;
    thread_local std::string path;
    if (!db || path != m_config.db_path) {
        // Opened read-write although requests only read: a read-only SQLite connection cannot recreate the WAL
        // index (-shm) after the last writer closed and removed it, and then fails with "disk I/O error".
        // PostgreSQL: checked at start; a deferred connection lets this thread serve from the snapshot while the
        // database is down, so only requests that need the store answer 503.
        db = data::is_postgresql_url(m_config.db_path)
                 ? std::make_unique<data::database>(m_config.db_path, data::database::deferred_t{})
                 : std::make_unique<data::database>(data::open_store(m_config.db_path, true));
        path = m_config.db_path;
    }
    return *db;
}

data::database& context::writer() {
    if (!m_writer) m_writer = std::make_unique<data::database>(data::open_store(m_config.db_path, true));
    return *m_writer;
}

std::int64_t context::now_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

void context::reload_if_released() {
    try {
        const auto release = data::data_release(connection());
        m_store_release = release;
        m_last_success_ms = now_ms();
        if (!m_reachable.exchange(true)) std::fprintf(stderr, "smallarea: store reachable again\n");
        std::shared_ptr<const snapshot> old;
        {
            std::shared_lock<std::shared_mutex> lock(m_snapshot_mutex);
            old = m_current;
        }
        if (release == old->release()) return;
        std::unique_lock<std::mutex> reload(m_reload_mutex, std::try_to_lock);
        if (!reload.owns_lock()) return; // another thread is building it
        auto fresh = std::make_shared<const snapshot>(connection());
        std::unique_lock<std::shared_mutex> lock(m_snapshot_mutex);
        m_current = std::move(fresh);
        std::lock_guard<std::mutex> values_lock(m_values_mutex);
        m_value_tables.clear();
    } catch (const std::exception& e) {
        // Keep serving the last snapshot: its figures were protected when it was built, and a map going dark
        // helps nobody. What needs the store per request (keys, bespoke areas, the audit log) fails on its own.
        if (m_reachable.exchange(false)) std::fprintf(stderr, "smallarea: cannot check the store for a new release: %s\n", e.what());
    }
}

std::shared_ptr<const snapshot> context::snap() {
    const auto now = now_ms();
    auto last = m_last_check_ms.load();
    if (now - last > 500 && m_last_check_ms.compare_exchange_strong(last, now)) reload_if_released();
    std::shared_lock<std::shared_mutex> lock(m_snapshot_mutex);
    return m_current;
}

context::store_status context::status() {
    store_status out;
    out.engine = data::is_postgresql_url(m_config.db_path) ? "postgresql" : "sqlite";
    out.reachable = m_reachable.load();
    out.store_release = m_store_release.load();
    out.checked_ms_ago = now_ms() - m_last_success_ms.load();
    const auto s = snap();
    out.current = out.reachable && out.checked_ms_ago < 5000 && out.store_release == s->release();
    if (m_listener) {
        out.listening = m_listener->connected();
        out.notifications = m_listener->notifications();
        out.reconnections = m_listener->reconnections();
    }
    return out;
}

namespace {

/// The cache key of a table query that is not bespoke: release, dataset, measure, period, level, vintage, within.
std::string table_cache_key(const snapshot& s, const table_query& q) {
    // Every input that changes the answer, each field tagged so that no two queries can spell the same key.
    // Bespoke queries (groups, within_bespoke) never reach the cache (table_values), so they have no part here.
    return "release=" + std::to_string(s.release()) + "|dataset=" + q.dataset->id + "|measure=" + q.measure->id +
           "|period=" + q.period + "|level=" + q.level + "|vintage=" + std::to_string(q.vintage) +
           "|within=" + (q.within ? std::to_string(s.areas()[*q.within].id) : std::string());
}

} // namespace

std::shared_ptr<const table_result> context::table_values(const snapshot& s, const table_query& q) {
    if (!q.groups.empty() || !q.within_bespoke.empty() || !m_config.value_cache) {
        // Bespoke areas can change (deleted, made private) without a new release: never cached.
        auto computed = s.table(connection(), q);
        computed.row_of_area = rows_by_area(computed, s.areas().size());
        return std::make_shared<const table_result>(std::move(computed));
    }
    const std::string key = table_cache_key(s, q);
    {
        std::lock_guard<std::mutex> lock(m_values_mutex);
        if (const auto it = m_value_tables.find(key); it != m_value_tables.end()) return it->second;
    }
    auto computed = s.table(connection(), q);
    computed.row_of_area = rows_by_area(computed, s.areas().size());
    auto result = std::make_shared<const table_result>(std::move(computed));
    std::lock_guard<std::mutex> lock(m_values_mutex);
    m_value_tables[key] = result;
    return result;
}

void context::authorize(const httplib::Request& req, const data::dataset_info& d) {
    if (!m_access->readable(req, &d, d.id)) throw unknown_dataset(d.id);
}

const data::dataset_info& context::dataset(const httplib::Request& req, const snapshot& s, const std::string& id) {
    const data::dataset_info* found = nullptr;
    for (const auto& d : s.datasets()) {
        if (d.id == id) found = &d;
    }
    if (!m_access->readable(req, found, id) || !found) throw unknown_dataset(id);
    return *found;
}

data::bespoke_reader context::bespoke_reader(const httplib::Request& req) {
    data::bespoke_reader who;
    who.organisation = m_access->organisation(req);
    // What is listed or readable now depends on the key: keep it out of shared caches.
    if (who.organisation) m_access->mark_private(req);
    return who;
}

bool context::visible(const httplib::Request& req, const data::dataset_info& d) { return m_access->visible(req, d); }

void context::begin_request(const httplib::Request& req) {
    m_access->begin_request(req);
    // A `dataset` parameter is resolved here, so tables, breaks, tiles (before the tile cache and ETags),
    // exports and whatever a route adds later cannot forget the check. param() refuses a repeated parameter
    // (400) as the routes do, so no route can read a second, unchecked value. An unknown id is refused here
    // too, exactly like a hidden one: were it left to the route, a route that validates other parameters
    // first would answer an unknown id differently (400) from a hidden one (404).
    const auto id = param(req, "dataset");
    if (!id.empty()) dataset(req, *snap(), id);
    // Bespoke ids in query parameters, for the same reason: a private area of another organisation answers as
    // an unknown id does, before the route looks at anything else.
    std::vector<std::string> bespoke_ids;
    for (const char* name : {"within", "area"}) {
        if (const auto v = param(req, name); v.rfind("bespoke:", 0) == 0) bespoke_ids.push_back(v.substr(8));
    }
    if (const auto ids = param(req, "ids"); !ids.empty()) {
        const auto list = split_ids(ids);
        if (list.size() <= 100) bespoke_ids.insert(bespoke_ids.end(), list.begin(), list.end()); // more: the route's 400
    }
    if (bespoke_ids.empty()) return;
    const auto who = bespoke_reader(req);
    for (const auto& b : bespoke_ids) {
        if (!b.empty()) resolve_bespoke_record(*this, req, who, b, false);
    }
}

void context::end_request(const httplib::Request& req, httplib::Response& res) { m_access->end_request(req, res); }

} // namespace smallarea::server
