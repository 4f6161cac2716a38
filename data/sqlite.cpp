#include "data/sqlite.hpp"

#include "core/error.hpp"
#include "data/postgres.hpp"

#include <spatialite.h>

namespace smallarea::data {

namespace {

[[noreturn]] void fail(sqlite3* db, const std::string& what) {
    throw store_error(what + ": " + (db ? std::string(sqlite3_errmsg(db)) + " (code " +
                                               std::to_string(sqlite3_extended_errcode(db)) + ")"
                                         : std::string("out of memory")));
}

} // namespace

bool is_postgresql_url(std::string_view path) noexcept {
    return path.rfind("postgresql://", 0) == 0 || path.rfind("postgres://", 0) == 0;
}

std::string store_display_name(const std::string& path) {
    if (!is_postgresql_url(path)) return path;
    // postgresql://user:password@host...: keep the user, drop the password.
    const auto scheme_end = path.find("://") + 3;
    const auto at = path.find('@', scheme_end);
    if (at == std::string::npos) return path;
    const auto colon = path.find(':', scheme_end);
    if (colon == std::string::npos || colon > at) return path;
    return path.substr(0, colon) + path.substr(at);
}

database::database(const std::string& path, deferred_t) : m_path(path) {
    if (!is_postgresql_url(path)) throw store_error("a deferred connection is for PostgreSQL stores only");
    m_pg = pg_connect(path, true);
}

database::database(const std::string& path, mode m) : m_path(path) {
    if (is_postgresql_url(path)) {
        m_pg = pg_connect(path);
        return;
    }
    int flags = SQLITE_OPEN_NOMUTEX; // one connection per thread, never shared
    switch (m) {
    case mode::read_only: flags |= SQLITE_OPEN_READONLY; break;
    case mode::read_write: flags |= SQLITE_OPEN_READWRITE; break;
    case mode::create: flags |= SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE; break;
    }
    if (sqlite3_open_v2(path.c_str(), &m_db, flags, nullptr) != SQLITE_OK) {
        std::string message = "cannot open store '" + path + "'";
        if (m_db) {
            message += ": ";
            message += sqlite3_errmsg(m_db);
            sqlite3_close(m_db);
        }
        m_db = nullptr;
        throw store_error(message);
    }
    sqlite3_extended_result_codes(m_db, 1);
    sqlite3_busy_timeout(m_db, 5000);
    // Linked, not loaded as an extension: no dlopen search path to get wrong on a user's machine.
    m_spatialite_cache = spatialite_alloc_connection();
    spatialite_init_ex(m_db, m_spatialite_cache, 0);
    try {
        if (m != mode::read_only) {
            exec("PRAGMA journal_mode=WAL");
            exec("PRAGMA synchronous=NORMAL");
        }
        exec("PRAGMA foreign_keys=ON");
    } catch (const std::exception& e) {
        spatialite_cleanup_ex(m_spatialite_cache);
        sqlite3_close(m_db);
        throw store_error("cannot use '" + path + "' as a store: " + e.what());
    }
}

database::~database() {
    if (m_db) {
        sqlite3_close_v2(m_db);
    }
    if (m_spatialite_cache) {
        spatialite_cleanup_ex(m_spatialite_cache);
    }
}

database::database(database&& other) noexcept
    : m_db(other.m_db), m_spatialite_cache(other.m_spatialite_cache), m_path(std::move(other.m_path)),
      m_pg(std::move(other.m_pg)) {
    other.m_db = nullptr;
    other.m_spatialite_cache = nullptr;
}

const void* database::identity() const noexcept {
    return m_pg ? static_cast<const void*>(m_pg.get()) : static_cast<const void*>(m_db);
}

bool database::has_table(const std::string& name) {
    if (m_pg) {
        statement s(*this, "SELECT 1 FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
                           "WHERE n.nspname = current_schema() AND c.relname = ?");
        s.bind(1, name);
        return s.step();
    }
    statement s(*this, "SELECT 1 FROM sqlite_master WHERE name = ?");
    s.bind(1, name);
    return s.step();
}

void database::lock_for_ingest() {
    // An arbitrary constant key: one advisory lock per database, taken for the transaction only.
    if (m_pg) exec("SELECT pg_advisory_xact_lock(73160016)");
}

void database::begin_bulk_writes() {
    if (m_pg) m_pg->bulk = true;
}

void database::notify_release(std::int64_t release) {
    if (m_pg) exec("NOTIFY smallarea_release, '" + std::to_string(release) + "'");
}

void database::exec(const std::string& sql) {
    if (m_pg) {
        pg_exec(*m_pg, sql);
        return;
    }
    char* message = nullptr;
    if (sqlite3_exec(m_db, sql.c_str(), nullptr, nullptr, &message) != SQLITE_OK) {
        std::string text = message ? message : sqlite3_errmsg(m_db);
        sqlite3_free(message);
        throw store_error("SQL failed (" + sql.substr(0, 120) + "): " + text);
    }
}

statement::statement(database& db, const std::string& sql) : m_db(db.handle()), m_sql(sql) {
    if (db.is_postgresql()) {
        m_pg = pg_make_statement(*db.pg(), sql);
        return;
    }
    if (sqlite3_prepare_v2(m_db, sql.c_str(), static_cast<int>(sql.size()), &m_stmt, nullptr) != SQLITE_OK) {
        fail(m_db, "cannot prepare (" + sql.substr(0, 160) + ")");
    }
}

statement::~statement() {
    if (m_stmt) sqlite3_finalize(m_stmt);
}

statement::statement(statement&& other) noexcept
    : m_stmt(other.m_stmt), m_db(other.m_db), m_sql(std::move(other.m_sql)), m_pg(std::move(other.m_pg)) {
    other.m_stmt = nullptr;
}

statement& statement::bind(int index, std::int64_t value) {
    if (m_pg) { pg_bind(*m_pg, index, value); return *this; }
    if (sqlite3_bind_int64(m_stmt, index, value) != SQLITE_OK) fail(m_db, "bind failed in " + m_sql.substr(0, 80));
    return *this;
}

statement& statement::bind(int index, double value) {
    if (m_pg) { pg_bind(*m_pg, index, value); return *this; }
    if (sqlite3_bind_double(m_stmt, index, value) != SQLITE_OK) fail(m_db, "bind failed in " + m_sql.substr(0, 80));
    return *this;
}

statement& statement::bind(int index, std::string_view text) {
    if (m_pg) { pg_bind(*m_pg, index, text); return *this; }
    if (sqlite3_bind_text(m_stmt, index, text.data(), static_cast<int>(text.size()), SQLITE_TRANSIENT) != SQLITE_OK) {
        fail(m_db, "bind failed in " + m_sql.substr(0, 80));
    }
    return *this;
}

statement& statement::bind_blob(int index, const void* data, std::size_t size) {
    if (m_pg) { pg_bind_blob(*m_pg, index, data, size); return *this; }
    if (sqlite3_bind_blob(m_stmt, index, data, static_cast<int>(size), SQLITE_TRANSIENT) != SQLITE_OK) {
        fail(m_db, "bind failed in " + m_sql.substr(0, 80));
    }
    return *this;
}

statement& statement::bind_null(int index) {
    if (m_pg) { pg_bind_null(*m_pg, index); return *this; }
    if (sqlite3_bind_null(m_stmt, index) != SQLITE_OK) fail(m_db, "bind failed in " + m_sql.substr(0, 80));
    return *this;
}

bool statement::step() {
    if (m_pg) return pg_step(*m_pg);
    const int rc = sqlite3_step(m_stmt);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    fail(m_db, "step failed (" + m_sql.substr(0, 160) + ")");
}

void statement::run() {
    while (step()) {
    }
    reset();
}

void statement::reset() {
    if (m_pg) { pg_reset(*m_pg); return; }
    sqlite3_reset(m_stmt);
    sqlite3_clear_bindings(m_stmt);
}

bool statement::is_null(int column) const noexcept {
    if (m_pg) return pg_is_null(*m_pg, column);
    return sqlite3_column_type(m_stmt, column) == SQLITE_NULL;
}
std::int64_t statement::int64(int column) const noexcept {
    if (m_pg) return pg_int64(*m_pg, column);
    return sqlite3_column_int64(m_stmt, column);
}
double statement::real(int column) const noexcept {
    if (m_pg) return pg_real(*m_pg, column);
    return sqlite3_column_double(m_stmt, column);
}

std::string statement::text(int column) const {
    if (m_pg) return std::string(pg_text(*m_pg, column));
    const auto* p = sqlite3_column_text(m_stmt, column);
    return p ? std::string(reinterpret_cast<const char*>(p), static_cast<std::size_t>(sqlite3_column_bytes(m_stmt, column)))
             : std::string();
}

std::optional<std::int64_t> statement::optional_int64(int column) const noexcept {
    if (is_null(column)) return std::nullopt;
    return int64(column);
}

std::string_view statement::blob(int column) const noexcept {
    if (m_pg) return pg_blob(*m_pg, column);
    const void* p = sqlite3_column_blob(m_stmt, column);
    return p ? std::string_view(static_cast<const char*>(p), static_cast<std::size_t>(sqlite3_column_bytes(m_stmt, column)))
             : std::string_view();
}

transaction::transaction(database& db) : m_db(db) { m_db.exec(db.is_postgresql() ? "BEGIN" : "BEGIN IMMEDIATE"); }

transaction::~transaction() {
    if (m_done) return;
    if (m_db.is_postgresql()) {
        pg_rollback_quietly(*m_db.pg());
    } else {
        sqlite3_exec(m_db.handle(), "ROLLBACK", nullptr, nullptr, nullptr);
    }
}

void transaction::commit() {
    m_db.exec("COMMIT");
    m_done = true;
}

read_transaction::read_transaction(database& db) : m_db(db) {
    m_db.exec(db.is_postgresql() ? "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY" : "BEGIN");
}

read_transaction::~read_transaction() {
    // It only read: ROLLBACK loses nothing, and also ends a transaction a failed statement aborted.
    if (m_db.is_postgresql()) {
        pg_rollback_quietly(*m_db.pg());
    } else {
        sqlite3_exec(m_db.handle(), "ROLLBACK", nullptr, nullptr, nullptr);
    }
}

} // namespace smallarea::data
