#pragma once
// Helpers shared by the data and server tests: a temporary folder removed on scope exit, small file helpers and
// a CSV loader (on the product's own strict reader, so what a test compares against is read the same way).

#include "data/csv_reader.hpp"
#include "data/sqlite.hpp"

#include <cstdint>
#include <cstdlib>
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

/// FNV-1a, for checksums of store contents.
inline std::uint64_t fnv1a(const std::string& data, std::uint64_t h = 1469598103934665603ULL) {
    for (const unsigned char c : data) {
        h ^= c;
        h *= 1099511628211ULL;
    }
    return h;
}

} // namespace test_support
