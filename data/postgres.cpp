#include "data/postgres.hpp"

#include "core/error.hpp"
#include "data/sqlite.hpp"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <cstring>
#include <strings.h>

namespace smallarea::data {

namespace {

// pg_type OIDs of the typed binds (catalog/pg_type_d.h is not in libpq-dev's client headers).
constexpr Oid int8_oid = 20;
constexpr Oid float8_oid = 701;
constexpr Oid bytea_oid = 17;

/// libpq's messages end in a newline (and sometimes a space).
std::string trimmed(std::string m) {
    while (!m.empty() && (m.back() == '\n' || m.back() == ' ')) m.pop_back();
    return m;
}

std::string connection_message(PGconn* c) { return c ? trimmed(PQerrorMessage(c)) : "out of memory"; }

void ignore_notice(void*, const char*) {}

} // namespace

PGconn* pg_open(const std::string& url, const char* application_name) {
    // connect_timeout first: a URL naming its own timeout overrides it (later keywords win).
    const char* keywords[] = {"connect_timeout", "application_name", "dbname", nullptr};
    const char* values[] = {"3", application_name, url.c_str(), nullptr};
    PGconn* c = PQconnectdbParams(keywords, values, 1);
    if (c && PQstatus(c) == CONNECTION_OK) PQsetNoticeProcessor(c, ignore_notice, nullptr);
    return c;
}

namespace {

[[noreturn]] void fail(pg_connection& c, PGresult* r, const std::string& what) {
    const std::string message = r ? trimmed(PQresultErrorMessage(r)) : connection_message(c.conn);
    const char* state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : nullptr;
    const bool lost = PQstatus(c.conn) == CONNECTION_BAD || (state && std::strncmp(state, "08", 2) == 0) ||
                      (state && std::strcmp(state, "57P01") == 0); // admin_shutdown: the server is restarting
    if (r) PQclear(r);
    if (lost) throw store_unavailable("PostgreSQL store " + store_display_name(c.url) + " lost: " + message);
    throw store_error(what + ": " + message + (state ? std::string(" (SQLSTATE ") + state + ")" : ""));
}

bool succeeded(PGresult* r) {
    const auto status = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
    return status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK;
}

/// Re-makes a lost connection when that is safe: outside a transaction nothing is lost by running the statement
/// again on a new connection. Inside one the caller's work is gone, so the failure is reported instead.
bool reconnect_if_lost(pg_connection& c, bool was_idle) {
    if (PQstatus(c.conn) != CONNECTION_BAD) return false;
    if (!was_idle) {
        c.lost_in_transaction = true;
        return false;
    }
    PQreset(c.conn);
    if (PQstatus(c.conn) != CONNECTION_OK) return false;
    PQsetNoticeProcessor(c.conn, ignore_notice, nullptr);
    c.prepared.clear(); // prepared statements live in the old server session
    return true;
}

// A connection already lost before a statement is idle for our purpose: the transaction it was in (if any) failed
// with it, and its caller has rolled back; the statement begins a new piece of work.
bool idle(pg_connection& c) {
    if (PQstatus(c.conn) == CONNECTION_BAD) return !c.lost_in_transaction;
    return PQtransactionStatus(c.conn) == PQTRANS_IDLE;
}

std::string sql_head(const std::string& sql) { return sql.substr(0, 160); }

void decode_hex(std::string_view hex, std::string& out) {
    auto nibble = [](char ch) -> int {
        if (ch >= '0' && ch <= '9') return ch - '0';
        if (ch >= 'a' && ch <= 'f') return ch - 'a' + 10;
        if (ch >= 'A' && ch <= 'F') return ch - 'A' + 10;
        return 0;
    };
    out.resize(hex.size() / 2);
    for (std::size_t i = 0; i + 1 < hex.size(); i += 2) {
        out[i / 2] = static_cast<char>((nibble(hex[i]) << 4) | nibble(hex[i + 1]));
    }
}

} // namespace

pg_connection::~pg_connection() {
    if (conn) PQfinish(conn);
}

pg_statement::~pg_statement() {
    if (result) PQclear(result);
}

std::unique_ptr<pg_connection> pg_connect(const std::string& url, bool deferred) {
    auto c = std::make_unique<pg_connection>();
    c->url = url;
    c->conn = pg_open(url, "smallarea");
    if (!c->conn) throw store_unavailable("cannot open store '" + store_display_name(url) + "': out of memory");
    if (PQstatus(c->conn) != CONNECTION_OK && !deferred) {
        const auto message = connection_message(c->conn);
        throw store_unavailable("cannot open store '" + store_display_name(url) + "': " + message);
    }
    return c;
}

void pg_flush(pg_connection& c) {
    if (!c.in_pipeline) return;
    std::string failure;
    if (PQpipelineSync(c.conn) != 1) failure = connection_message(c.conn);
    // Each pipelined statement yields its result then a null; the sync point ends the batch.
    int ends = 0;
    while (failure.empty() || ends <= c.pending) {
        PGresult* r = PQgetResult(c.conn);
        if (!r) {
            if (++ends > c.pending + 1 || PQstatus(c.conn) != CONNECTION_OK) {
                if (failure.empty()) failure = connection_message(c.conn);
                break;
            }
            continue;
        }
        const auto status = PQresultStatus(r);
        if (status == PGRES_PIPELINE_SYNC) {
            PQclear(r);
            break;
        }
        if (status == PGRES_FATAL_ERROR && failure.empty()) failure = trimmed(PQresultErrorMessage(r));
        PQclear(r);
    }
    PQexitPipelineMode(c.conn);
    c.in_pipeline = false;
    c.pending = 0;
    const std::string sql = c.first_pending_sql;
    c.first_pending_sql.clear();
    if (!failure.empty()) {
        if (PQstatus(c.conn) == CONNECTION_BAD) {
            c.lost_in_transaction = true; // bulk writes are always inside the ingest's transaction
            throw store_unavailable("PostgreSQL store " + store_display_name(c.url) + " lost: " + failure);
        }
        throw store_error("a batched write failed (the batch began with " + sql_head(sql) + "): " + failure);
    }
}

void pg_exec(pg_connection& c, const std::string& sql) {
    pg_flush(c);
    // A transaction's end ends bulk mode (an ingest turns it on inside its transaction).
    if (sql == "COMMIT" || sql == "ROLLBACK") c.bulk = false;
    if (sql == "ROLLBACK" && c.lost_in_transaction) {
        c.lost_in_transaction = false; // the transaction died with the connection: nothing to roll back
        return;
    }
    // A COMMIT is never re-run on a new connection: the transaction it would end is gone.
    const bool was_idle = sql != "COMMIT" && idle(c);
    PGresult* r = PQexec(c.conn, sql.c_str());
    if (!succeeded(r) && reconnect_if_lost(c, was_idle)) {
        if (r) PQclear(r);
        r = PQexec(c.conn, sql.c_str());
    }
    if (!succeeded(r)) fail(c, r, "SQL failed (" + sql.substr(0, 120) + ")");
    PQclear(r);
}

void pg_rollback_quietly(pg_connection& c) noexcept {
    try {
        pg_flush(c);
    } catch (...) {
        // the failure is why we roll back
    }
    c.bulk = false;
    c.lost_in_transaction = false;
    if (PQstatus(c.conn) != CONNECTION_OK) return;
    if (PGresult* r = PQexec(c.conn, "ROLLBACK")) PQclear(r);
}

std::string pg_number_placeholders(const std::string& sql, int& parameters) {
    std::string out;
    out.reserve(sql.size() + 16);
    parameters = 0;
    int next = 0;
    char quote = 0;
    bool line_comment = false;
    for (std::size_t i = 0; i < sql.size(); ++i) {
        const char ch = sql[i];
        if (line_comment) {
            if (ch == '\n') line_comment = false;
        } else if (quote) {
            if (ch == quote) quote = 0; // a doubled quote closes and reopens: the same text
        } else if (ch == '\'' || ch == '"') {
            quote = ch;
        } else if (ch == '-' && i + 1 < sql.size() && sql[i + 1] == '-') {
            line_comment = true;
        } else if (ch == '?') {
            // ?NNN (SQLite's numbered form) keeps its number; a bare ? takes the next one.
            std::size_t end = i + 1;
            while (end < sql.size() && sql[end] >= '0' && sql[end] <= '9') ++end;
            int number = end > i + 1 ? std::atoi(sql.substr(i + 1, end - i - 1).c_str()) : ++next;
            parameters = std::max(parameters, number);
            out += '$';
            out += std::to_string(number);
            i = end - 1;
            continue;
        }
        out += ch;
    }
    return out;
}

namespace {

/// A statement that returns no rows (INSERT/UPDATE/DELETE without RETURNING): one bulk mode may pipeline.
bool rowless(const std::string& sql) {
    std::size_t i = 0;
    while (i < sql.size() && std::isspace(static_cast<unsigned char>(sql[i]))) ++i;
    auto starts = [&](const char* word) { return strncasecmp(sql.c_str() + i, word, std::strlen(word)) == 0; };
    if (!(starts("INSERT") || starts("UPDATE") || starts("DELETE"))) return false;
    std::string upper(sql);
    for (auto& ch : upper) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
    return upper.find("RETURNING") == std::string::npos;
}

} // namespace

std::unique_ptr<pg_statement> pg_make_statement(pg_connection& c, const std::string& sqlite_style_sql) {
    auto s = std::make_unique<pg_statement>();
    s->connection = &c;
    s->sql = pg_number_placeholders(sqlite_style_sql, s->parameters);
    s->rowless = rowless(s->sql);
    s->values.resize(s->parameters);
    s->is_null.assign(s->parameters, 1); // unbound reads as NULL, as in SQLite
    s->types.assign(s->parameters, 0);
    s->formats.assign(s->parameters, 0);
    return s;
}

namespace {

void check_index(const pg_statement& s, int index) {
    if (index < 1 || index > s.parameters) {
        throw store_error("bind index " + std::to_string(index) + " out of range in " + sql_head(s.sql));
    }
}

void set_parameter(pg_statement& s, int index, std::string value, Oid type, int format) {
    check_index(s, index);
    s.values[index - 1] = std::move(value);
    s.is_null[index - 1] = 0;
    s.types[index - 1] = type;
    s.formats[index - 1] = format;
}

PGresult* execute(pg_statement& s) {
    pg_connection& c = *s.connection;
    std::vector<const char*> values(s.parameters);
    std::vector<int> lengths(s.parameters);
    for (int i = 0; i < s.parameters; ++i) {
        values[i] = s.is_null[i] ? nullptr : s.values[i].data();
        lengths[i] = static_cast<int>(s.values[i].size());
    }
    // One prepared statement per SQL text and parameter types on this connection: ingest loops and per-request
    // lookups parse and plan once. Text bound to an untyped parameter lets the server infer it from the column.
    std::string key = s.sql;
    key += '\x1f';
    for (const auto t : s.types) key += std::to_string(t) + ",";
    const auto known = c.bulk && s.rowless && !idle(c) ? c.prepared.find(key) : c.prepared.end();
    if (known != c.prepared.end()) {
        if (!c.in_pipeline) {
            if (PQenterPipelineMode(c.conn) != 1) fail(c, nullptr, "cannot start a pipeline");
            c.in_pipeline = true;
        }
        if (PQsendQueryPrepared(c.conn, known->second.c_str(), s.parameters, values.data(), lengths.data(),
                                s.formats.data(), 0) != 1) {
            fail(c, nullptr, "cannot send (" + sql_head(s.sql) + ")");
        }
        if (c.pending++ == 0) c.first_pending_sql = s.sql;
        if (c.pending >= 2000) pg_flush(c);
        return nullptr; // no rows, by construction
    }
    pg_flush(c); // this statement needs its answer now: everything sent before it first
    for (int attempt = 0; attempt < 2; ++attempt) {
        const bool was_idle = idle(c);
        auto it = c.prepared.find(key);
        PGresult* r = nullptr;
        if (it == c.prepared.end() && c.prepared.size() < 2000) {
            const std::string name = "sa" + std::to_string(++c.next_statement);
            r = PQprepare(c.conn, name.c_str(), s.sql.c_str(), s.parameters, s.types.data());
            if (!succeeded(r)) {
                if (attempt == 0 && reconnect_if_lost(c, was_idle)) {
                    if (r) PQclear(r);
                    continue;
                }
                fail(c, r, "cannot prepare (" + sql_head(s.sql) + ")");
            }
            PQclear(r);
            it = c.prepared.emplace(key, name).first;
        }
        if (it != c.prepared.end()) {
            r = PQexecPrepared(c.conn, it->second.c_str(), s.parameters, values.data(), lengths.data(), s.formats.data(), 0);
        } else {
            r = PQexecParams(c.conn, s.sql.c_str(), s.parameters, s.types.data(), values.data(), lengths.data(),
                             s.formats.data(), 0);
        }
        if (succeeded(r)) return r;
        if (attempt == 0 && reconnect_if_lost(c, was_idle)) {
            if (r) PQclear(r);
            continue;
        }
        fail(c, r, "step failed (" + sql_head(s.sql) + ")");
    }
    throw store_unavailable("PostgreSQL store " + store_display_name(c.url) + " lost");
}

std::string_view value(const pg_statement& s, int column) noexcept {
    if (!s.result || s.row < 0 || column < 0 || column >= PQnfields(s.result) || PQgetisnull(s.result, s.row, column)) {
        return {};
    }
    return std::string_view(PQgetvalue(s.result, s.row, column), static_cast<std::size_t>(PQgetlength(s.result, s.row, column)));
}

} // namespace

void pg_bind(pg_statement& s, int index, std::int64_t v) { set_parameter(s, index, std::to_string(v), int8_oid, 0); }

void pg_bind(pg_statement& s, int index, double v) {
    char buffer[32];
    std::snprintf(buffer, sizeof buffer, "%.17g", v);
    set_parameter(s, index, buffer, float8_oid, 0);
}

void pg_bind(pg_statement& s, int index, std::string_view text) { set_parameter(s, index, std::string(text), 0, 0); }

void pg_bind_blob(pg_statement& s, int index, const void* data, std::size_t size) {
    set_parameter(s, index, std::string(static_cast<const char*>(data), size), bytea_oid, 1);
}

void pg_bind_null(pg_statement& s, int index) {
    check_index(s, index);
    s.is_null[index - 1] = 1;
    s.types[index - 1] = 0;
    s.formats[index - 1] = 0;
}

bool pg_step(pg_statement& s) {
    if (!s.executed) {
        if (s.result) PQclear(s.result);
        s.result = nullptr;
        s.result = execute(s); // null: sent in a pipeline (bulk mode), no rows
        s.executed = true;
        s.row = -1;
    }
    if (!s.result) return false;
    ++s.row;
    s.decoded_ok.assign(static_cast<std::size_t>(PQnfields(s.result)), 0);
    s.decoded.resize(static_cast<std::size_t>(PQnfields(s.result)));
    return s.row < PQntuples(s.result);
}

void pg_reset(pg_statement& s) {
    if (s.result) PQclear(s.result);
    s.result = nullptr;
    s.executed = false;
    s.row = -1;
    s.is_null.assign(s.parameters, 1);
    s.types.assign(s.parameters, 0);
    s.formats.assign(s.parameters, 0);
}

bool pg_is_null(const pg_statement& s, int column) noexcept {
    return !s.result || s.row < 0 || column < 0 || column >= PQnfields(s.result) || PQgetisnull(s.result, s.row, column);
}

std::int64_t pg_int64(const pg_statement& s, int column) noexcept {
    const auto v = value(s, column);
    if (v.empty()) return 0;
    if (v == "t") return 1; // booleans (IS NOT NULL, EXISTS, comparisons) read as 1/0, as SQLite returns them
    if (v == "f") return 0;
    return std::strtoll(std::string(v).c_str(), nullptr, 10);
}

double pg_real(const pg_statement& s, int column) noexcept {
    const auto v = value(s, column);
    if (v.empty()) return 0;
    return std::strtod(std::string(v).c_str(), nullptr);
}

std::string_view pg_text(const pg_statement& s, int column) noexcept { return value(s, column); }

std::string_view pg_blob(const pg_statement& s, int column) noexcept {
    const auto v = value(s, column);
    if (v.empty() || PQftype(s.result, column) != bytea_oid) return v;
    const auto i = static_cast<std::size_t>(column);
    if (!s.decoded_ok[i]) {
        // bytea_output = hex (the default since PostgreSQL 9.0): "\x" then two digits per byte.
        if (v.size() >= 2 && v[0] == '\\' && v[1] == 'x') {
            decode_hex(v.substr(2), s.decoded[i]);
        } else {
            std::size_t length = 0;
            unsigned char* raw = PQunescapeBytea(reinterpret_cast<const unsigned char*>(std::string(v).c_str()), &length);
            s.decoded[i].assign(reinterpret_cast<const char*>(raw), length);
            PQfreemem(raw);
        }
        s.decoded_ok[i] = 1;
    }
    return s.decoded[i];
}

} // namespace smallarea::data
