#pragma once
// RAII over the two store engines: database, statement, transaction (rolls back unless commit()ed, in the style
// of vtzero's builders). A store is a SQLite/SpatiaLite file (the embedded default) or a PostgreSQL/PostGIS
// database named by a postgresql:// URL (data/postgres.cpp, libpq). Callers write one SQL dialect, the common
// ground of both: `?` placeholders (numbered for libpq here), INSERT ... ON CONFLICT, RETURNING, ST_AsBinary /
// ST_GeomFromWKB (SpatiaLite and PostGIS both have them); the few differences (schema, spatial index, table
// lookups) ask is_postgresql(). Errors throw smallarea::store_error carrying the SQL and the engine's message.

#include <sqlite3.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace smallarea::data {

struct pg_connection; // data/postgres.hpp
struct pg_statement;

/// True for a store named by a PostgreSQL URL (postgresql://... or postgres://...), false for a SQLite path.
bool is_postgresql_url(std::string_view path) noexcept;
/// The store's name for messages and logs: a URL without its password.
std::string store_display_name(const std::string& path);

class database {
public:
    enum class mode { read_only, read_write, create };

    /// Opens (or creates) a SQLite file with SpatiaLite loaded, WAL journal and a busy timeout, or connects to
    /// a PostgreSQL URL. Throws store_error when it cannot be opened in the mode asked for.
    database(const std::string& path, mode m);
    /// A PostgreSQL connection that may start out unconnected: connecting (and re-connecting) happens on the
    /// first statement, so a server's worker thread can hold one while the database is down and only the
    /// requests that need the store fail. For a store already checked (the server opened it at start).
    /// PostgreSQL URLs only (store_error otherwise).
    struct deferred_t {};
    database(const std::string& path, deferred_t);
    ~database();
    database(const database&) = delete;
    database& operator=(const database&) = delete;
    database(database&& other) noexcept;
    database& operator=(database&&) = delete;

    /// Runs one or more statements that return no rows. Throws store_error.
    void exec(const std::string& sql);
    bool is_postgresql() const noexcept { return m_pg != nullptr; }
    /// SQLite only (null for PostgreSQL).
    sqlite3* handle() const noexcept { return m_db; }
    pg_connection* pg() const noexcept { return m_pg.get(); }
    /// Identifies this connection for per-connection caches (prepared statements kept by a thread).
    const void* identity() const noexcept;
    /// The path or URL it was opened with (messages use store_display_name()).
    const std::string& path() const noexcept { return m_path; }
    /// Whether a table (or, for SQLite, an index) of this name exists.
    bool has_table(const std::string& name);
    /// Inside a transaction: waits until no other ingest runs on the store, so two ingests never both take the
    /// next release number. SQLite's BEGIN IMMEDIATE already is that lock; PostgreSQL takes an advisory lock.
    void lock_for_ingest();
    /// Inside a transaction, until it ends: writes without rows need not be answered one by one (PostgreSQL
    /// pipelines them; their failures surface at the next statement that returns rows, or at COMMIT). SQLite
    /// runs in-process, so there is nothing to save. Only for writers that validate before they write (ingest).
    void begin_bulk_writes();
    /// Tells every server reading this store that a release was committed (PostgreSQL NOTIFY, delivered when
    /// the transaction commits; SQLite servers see it by polling the release number).
    void notify_release(std::int64_t release);

private:
    sqlite3* m_db = nullptr;
    void* m_spatialite_cache = nullptr;
    std::string m_path;
    std::unique_ptr<pg_connection> m_pg;
};

class statement {
public:
    statement(database& db, const std::string& sql);
    ~statement();
    statement(const statement&) = delete;
    statement& operator=(const statement&) = delete;
    statement(statement&& other) noexcept;

    statement& bind(int index, std::int64_t value);
    statement& bind(int index, int value) { return bind(index, static_cast<std::int64_t>(value)); }
    statement& bind(int index, double value);
    statement& bind(int index, std::string_view text);
    statement& bind(int index, const char* text) { return bind(index, std::string_view(text)); }
    statement& bind(int index, const std::string& text) { return bind(index, std::string_view(text)); }
    statement& bind_blob(int index, const void* data, std::size_t size);
    statement& bind_null(int index);
    template <typename T>
    statement& bind(int index, const std::optional<T>& value) {
        return value ? bind(index, *value) : bind_null(index);
    }

    /// Steps once: true when a row is available, false when done. Throws store_error.
    bool step();
    /// Steps to completion (for statements without rows) and resets for reuse.
    void run();
    void reset();

    bool is_null(int column) const noexcept;
    std::int64_t int64(int column) const noexcept;
    double real(int column) const noexcept;
    std::string text(int column) const;
    std::optional<std::int64_t> optional_int64(int column) const noexcept;
    std::string_view blob(int column) const noexcept;

private:
    sqlite3_stmt* m_stmt = nullptr;
    sqlite3* m_db = nullptr;
    std::string m_sql;
    std::unique_ptr<pg_statement> m_pg;
};

/// One consistent read of several tables (a snapshot): SQLite's BEGIN under WAL sees one committed release;
/// PostgreSQL needs REPEATABLE READ for the same (READ COMMITTED would let a release land between two SELECTs).
/// Ends (COMMIT) in the destructor: it only reads.
class read_transaction {
public:
    explicit read_transaction(database& db);
    ~read_transaction();
    read_transaction(const read_transaction&) = delete;
    read_transaction& operator=(const read_transaction&) = delete;

private:
    database& m_db;
};

/// BEGIN IMMEDIATE (SQLite) or BEGIN (PostgreSQL) on construction; ROLLBACK in the destructor unless commit() was called, so an exception
/// anywhere in an ingest leaves the store exactly as it was.
class transaction {
public:
    explicit transaction(database& db);
    ~transaction();
    transaction(const transaction&) = delete;
    transaction& operator=(const transaction&) = delete;
    void commit();

private:
    database& m_db;
    bool m_done = false;
};

} // namespace smallarea::data
