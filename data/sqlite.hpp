#pragma once
// RAII over the SQLite C API: database, statement, transaction (rolls back unless commit()ed, in the style of
// vtzero's builders). Errors throw smallarea::store_error carrying the SQL and SQLite's message.

#include <sqlite3.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace smallarea::data {

class database {
public:
    enum class mode { read_only, read_write, create };

    /// Opens (or creates) a SQLite file with SpatiaLite loaded, WAL journal and a busy timeout.
    /// Throws store_error when it cannot be opened in the mode asked for.
    database(const std::string& path, mode m);
    ~database();
    database(const database&) = delete;
    database& operator=(const database&) = delete;
    database(database&& other) noexcept;
    database& operator=(database&&) = delete;

    /// Runs one or more statements that return no rows. Throws store_error.
    void exec(const std::string& sql);
    sqlite3* handle() const noexcept { return m_db; }
    const std::string& path() const noexcept { return m_path; }
    std::int64_t last_insert_rowid() const noexcept { return sqlite3_last_insert_rowid(m_db); }
    int changes() const noexcept { return sqlite3_changes(m_db); }

private:
    sqlite3* m_db = nullptr;
    void* m_spatialite_cache = nullptr;
    std::string m_path;
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
};

/// BEGIN IMMEDIATE on construction; ROLLBACK in the destructor unless commit() was called, so an exception
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
