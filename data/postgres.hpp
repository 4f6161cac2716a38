#pragma once
// The PostgreSQL side of data::database and data::statement (libpq), used only by data/sqlite.cpp's dispatch and
// by the release listener (data/release_listener.cpp). Statements are SQLite-style text with `?` placeholders: each
// becomes a numbered parameter, the text is prepared once per connection (and parameter types) and reused, rows
// come back in text form (bytea hex-decoded on demand), so callers keep one dialect for both engines.

#include <libpq-fe.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace smallarea::data {

struct pg_connection {
    PGconn* conn = nullptr;
    std::string url;
    /// SQL text + parameter types -> prepared statement name; cleared when the connection is re-established.
    std::unordered_map<std::string, std::string> prepared;
    int next_statement = 0;
    /// Bulk mode (an ingest): statements without rows are sent in a libpq pipeline and their results collected
    /// at the next statement that needs an answer, every 2,000 statements and before COMMIT, so a national
    /// ingest does not wait a round trip per row. The first failure is then reported at that point.
    bool bulk = false;
    /// The connection was lost inside a transaction: nothing may run on a new connection until the caller's
    /// ROLLBACK (a COMMIT there would "succeed" with no transaction in progress).
    bool lost_in_transaction = false;
    bool in_pipeline = false;
    int pending = 0;
    std::string first_pending_sql; ///< for the message when a pipelined statement fails
    ~pg_connection();
};

struct pg_statement {
    pg_connection* connection = nullptr;
    std::string sql;       ///< with $1, $2... in place of ?
    int parameters = 0;
    bool rowless = false;  ///< INSERT/UPDATE/DELETE without RETURNING: bulk mode may pipeline it
    std::vector<std::string> values;
    std::vector<char> is_null;
    std::vector<Oid> types;  ///< 0: let the server infer (text); int8, float8, bytea for typed binds
    std::vector<int> formats; ///< 1 (binary) for bytea, else 0 (text)
    PGresult* result = nullptr;
    int row = -1;
    bool executed = false;
    mutable std::vector<std::string> decoded; ///< bytea columns of the current row, hex-decoded
    mutable std::vector<char> decoded_ok;
    ~pg_statement();
};

/// A new libpq connection (connect_timeout 3 s unless the URL says otherwise, notices ignored); check PQstatus.
PGconn* pg_open(const std::string& url, const char* application_name);
/// Connects (connect_timeout 3 s unless the URL says otherwise). Throws store_unavailable naming the store, unless
/// `deferred`: then a failed connection is kept and re-made by the first statement.
std::unique_ptr<pg_connection> pg_connect(const std::string& url, bool deferred = false);
/// Runs SQL without parameters (several statements allowed). Throws store_error.
void pg_exec(pg_connection& c, const std::string& sql);
/// Collects every pipelined result (bulk mode) and leaves pipeline mode; throws the first failure.
void pg_flush(pg_connection& c);
/// ROLLBACK, ignoring failures (a destructor's last resort).
void pg_rollback_quietly(pg_connection& c) noexcept;

std::unique_ptr<pg_statement> pg_make_statement(pg_connection& c, const std::string& sqlite_style_sql);
void pg_bind(pg_statement& s, int index, std::int64_t value);
void pg_bind(pg_statement& s, int index, double value);
void pg_bind(pg_statement& s, int index, std::string_view text);
void pg_bind_blob(pg_statement& s, int index, const void* data, std::size_t size);
void pg_bind_null(pg_statement& s, int index);
bool pg_step(pg_statement& s);
void pg_reset(pg_statement& s);
bool pg_is_null(const pg_statement& s, int column) noexcept;
std::int64_t pg_int64(const pg_statement& s, int column) noexcept;
double pg_real(const pg_statement& s, int column) noexcept;
std::string_view pg_text(const pg_statement& s, int column) noexcept;
std::string_view pg_blob(const pg_statement& s, int column) noexcept;

/// `?` -> `$1`, `$2`... outside quoted strings and identifiers; the count of parameters in `parameters`.
std::string pg_number_placeholders(const std::string& sql, int& parameters);

} // namespace smallarea::data
