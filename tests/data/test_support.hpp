#pragma once
// Helpers shared by the data and server tests: a temporary folder removed on scope exit, small file helpers, a
// CSV loader (on the product's own strict reader, so what a test compares against is read the same way), and the
// test stores: SQLite files by default, PostgreSQL databases with SMALLAREA_TEST_PG=1 (a private cluster made by
// tools/pg_cluster.sh in a temporary folder on 127.0.0.1 and an ephemeral port, once per test executable, and
// removed at exit; SMALLAREA_TEST_PG_URL=postgresql://.../postgres uses a running server instead).

#include "data/csv_reader.hpp"
#include "data/sqlite.hpp"

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <unistd.h>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace test_support {

/// A unique folder under the system temp folder, removed with everything in it when the object goes.
class temp_dir {
public:
    temp_dir() {
        std::string pattern = (std::filesystem::temp_directory_path() / "smallarea-test-XXXXXX").string();
        if (!mkdtemp(pattern.data())) throw std::runtime_error("mkdtemp failed");
        m_path = pattern;
    }
    ~temp_dir() {
        std::error_code ec;
        std::filesystem::remove_all(m_path, ec);
    }
    temp_dir(const temp_dir&) = delete;
    temp_dir& operator=(const temp_dir&) = delete;

    const std::string& path() const noexcept { return m_path; }
    std::string file(const std::string& name) const { return m_path + "/" + name; }

private:
    std::string m_path;
};

inline std::string read_text(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw std::runtime_error("cannot read " + path);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

inline void write_text(const std::string& path, const std::string& text) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    if (!out) throw std::runtime_error("cannot write " + path);
    out << text;
}

inline bool contains(const std::string& haystack, const std::string& needle) {
    return haystack.find(needle) != std::string::npos;
}

/// Replaces every occurrence of from by to.
inline std::string replace_all(std::string text, const std::string& from, const std::string& to) {
    for (std::size_t pos = 0; (pos = text.find(from, pos)) != std::string::npos; pos += to.size()) {
        text.replace(pos, from.size(), to);
    }
    return text;
}

/// Occurrences of needle in haystack.
inline std::size_t count_of(const std::string& haystack, const std::string& needle) {
    std::size_t n = 0;
    for (std::size_t pos = 0; (pos = haystack.find(needle, pos)) != std::string::npos; pos += needle.size()) ++n;
    return n;
}

/// True when the tests' stores are PostgreSQL databases (SMALLAREA_TEST_PG=1 or SMALLAREA_TEST_PG_URL set).
inline bool postgres_mode() {
    const char* on = std::getenv("SMALLAREA_TEST_PG");
    const char* url = std::getenv("SMALLAREA_TEST_PG_URL");
    return (on && std::string(on) == "1") || (url && *url);
}

/// At the top of a test (or subcase) about SQLite files themselves (schema migrations of older files, file
/// locks, corrupt bytes): skipped, with the reason printed, when the stores are PostgreSQL databases.
#define SMALLAREA_SQLITE_ONLY(why)                                                                                   \
    if (test_support::postgres_mode()) {                                                                             \
        MESSAGE("SQLite only, skipped on PostgreSQL: " why);                                                         \
        return;                                                                                                      \
    }

#ifdef SMALLAREA_SOURCE_DIR
namespace detail {
/// The private cluster of this test executable, stopped and removed when the program exits.
struct pg_cluster {
    std::string dir;
    std::string url; ///< of its maintenance database `postgres`
    pg_cluster() {
        if (const char* given = std::getenv("SMALLAREA_TEST_PG_URL"); given && *given) {
            url = given;
            return;
        }
        std::string pattern = (std::filesystem::temp_directory_path() / "smallarea-pg-XXXXXX").string();
        if (!mkdtemp(pattern.data())) throw std::runtime_error("mkdtemp failed");
        dir = pattern;
        const std::string command = std::string("bash '") + SMALLAREA_SOURCE_DIR + "/tools/pg_cluster.sh' start '" + dir + "'";
        FILE* out = popen(command.c_str(), "r");
        if (!out) throw std::runtime_error("cannot run " + command);
        char line[1024];
        std::string printed;
        while (std::fgets(line, sizeof line, out)) printed += line;
        const int status = pclose(out);
        while (!printed.empty() && (printed.back() == '\n' || printed.back() == ' ')) printed.pop_back();
        if (status != 0 || printed.rfind("postgresql://", 0) != 0) {
            throw std::runtime_error("tools/pg_cluster.sh start failed (" + std::to_string(status) + "): " + printed);
        }
        // The script names the database `smallarea`; test databases are made from the maintenance one.
        url = printed.substr(0, printed.rfind('/')) + "/postgres";
    }
    ~pg_cluster() {
        if (dir.empty()) return;
        const std::string command = std::string("bash '") + SMALLAREA_SOURCE_DIR + "/tools/pg_cluster.sh' stop '" + dir + "' >/dev/null 2>&1";
        if (std::system(command.c_str()) != 0) std::fprintf(stderr, "test_support: could not stop the cluster in %s\n", dir.c_str());
    }
};

inline pg_cluster& cluster() {
    static pg_cluster c;
    return c;
}

inline std::string database_url(const std::string& name) {
    const auto& base = cluster().url;
    return base.substr(0, base.rfind('/')) + "/" + name;
}

/// CREATE DATABASE (optionally as a copy of a template database, which then must have no connections).
inline std::string create_database(const std::string& from_template = {}) {
    static std::atomic<int> counter{0};
    const std::string name = "t" + std::to_string(getpid()) + "_" + std::to_string(++counter);
    smallarea::data::database admin(cluster().url, smallarea::data::database::mode::read_write);
    admin.exec("CREATE DATABASE " + name + (from_template.empty() ? "" : " TEMPLATE " + from_template));
    return database_url(name);
}
} // namespace detail

/// A new, empty store for a test: a file in `dir`, or a new database in the private PostgreSQL cluster.
inline std::string new_store(const temp_dir& dir, const std::string& name = "store.db") {
    if (!postgres_mode()) return dir.file(name);
    return detail::create_database();
}

/// A copy of a store made by new_store (which nothing may have open): a file copy, or CREATE DATABASE ... TEMPLATE.
inline std::string copy_store(const std::string& from, const temp_dir& dir, const std::string& name = "store.db") {
    if (!smallarea::data::is_postgresql_url(from)) {
        const auto to = dir.file(name);
        std::filesystem::copy_file(from, to);
        return to;
    }
    return detail::create_database(from.substr(from.rfind('/') + 1));
}
#endif

struct csv_table {
    std::vector<std::string> header;
    std::vector<std::vector<std::string>> rows;

    int column(const std::string& name) const {
        for (std::size_t i = 0; i < header.size(); ++i) {
            if (header[i] == name) return static_cast<int>(i);
        }
        throw std::runtime_error("no column " + name);
    }
    const std::string& at(std::size_t row, const std::string& name) const {
        return rows[row][static_cast<std::size_t>(column(name))];
    }
};

/// The whole CSV (plain or .gz) as strings.
inline csv_table read_csv(const std::string& path) {
    smallarea::data::csv_reader reader(path);
    csv_table t;
    t.header = reader.header();
    std::vector<std::string> fields;
    while (reader.next(fields)) t.rows.push_back(fields);
    return t;
}

/// The first column of the first row of a query (-1 when it has no row): counts and checks on a store.
inline std::int64_t scalar(smallarea::data::database& db, const std::string& sql) {
    smallarea::data::statement s(db, sql);
    return s.step() ? s.int64(0) : -1;
}

/// The schema version a store says it has (SQLite PRAGMA user_version; PostgreSQL meta 'schema_version').
inline std::int64_t schema_version_of(smallarea::data::database& db) {
    if (db.is_postgresql()) {
        smallarea::data::statement s(db, "SELECT CAST(value AS BIGINT) FROM meta WHERE key = 'schema_version'");
        return s.step() ? s.int64(0) : -1;
    }
    return scalar(db, "PRAGMA user_version");
}

/// SQL for an area's geometry as hex text in either engine ('' when it has none), for checksums.
inline std::string geometry_hex_sql(const smallarea::data::database& db) {
    return db.is_postgresql() ? "coalesce(encode(ST_AsBinary(geom), 'hex'), '')" : "ifnull(hex(geom), '')";
}

/// A store's bytes on disk for "the file is untouched" checks; a PostgreSQL store has no file ("" then: its rows
/// are compared instead).
inline std::string store_file_bytes(const std::string& path) {
    return smallarea::data::is_postgresql_url(path) ? std::string() : read_text(path);
}

/// FNV-1a, for checksums of store contents.
inline std::uint64_t fnv1a(const std::string& data, std::uint64_t h = 1469598103934665603ULL) {
    for (const unsigned char c : data) {
        h ^= c;
        h *= 1099511628211ULL;
    }
    return h;
}

} // namespace test_support
