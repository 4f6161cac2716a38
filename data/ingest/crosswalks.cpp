// Crosswalks: ONS's lookup between two vintages of one level (LSOA 2011 -> LSOA 2021: lsoa11cd, lsoa21cd,
// chgind), stored as (old area, new area, change code) pairs for the engine to move datasets between vintages.

#include "data/ingest/readers.hpp"

#include "core/error.hpp"
#include "data/csv_reader.hpp"
#include "data/ingest/values.hpp"
#include "data/inspect.hpp"
#include "data/store.hpp"
#include "data/text.hpp"

#include <cctype>
#include <cstdint>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <tuple>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

namespace smallarea::data::ingest {

using text::trim;

namespace {

struct crosswalk_columns {
    int from = -1, to = -1, change = -1, from_name = -1, to_name = -1;
};

/// ONS names for the two years (lsoa11cd / LSOA21CD, lsoa11nm, ...) and the change column (chgind in the LSOA
/// lookup, chnge in the OA one); the manifest's `columns` wins.
crosswalk_columns find_columns(const csv_reader& csv, const crosswalk_source& source) {
    crosswalk_columns c;
    for (std::size_t i = 0; i < csv.header().size(); ++i) {
        const std::string& header = csv.header()[i];
        const int index = static_cast<int>(i);
        std::string level;
        int year = 0;
        bool is_name = false;
        if (parse_ons_column(header, level, year, is_name) && level == source.level) {
            if (year == source.from % 100) (is_name ? c.from_name : c.from) = index;
            if (year == source.to % 100) (is_name ? c.to_name : c.to) = index;
        }
        const std::string h = text::lower(trim(header));
        if (h == "chgind" || h == "chnge" || h == "change" || h == "change_code") c.change = index;
    }
    const auto named = [&](const char* role, int& column) {
        const auto it = source.columns.find(role);
        if (it == source.columns.end()) return;
        column = csv.column(it->second);
        if (column < 0) throw ingest_error(source.path, 1, "no column \"" + it->second + "\" (columns." + role + ")");
    };
    named("from", c.from);
    named("to", c.to);
    named("change", c.change);
    std::string seen;
    for (const auto& h : csv.header()) seen += (seen.empty() ? "" : ", ") + h;
    if (c.from < 0 || c.to < 0) {
        throw ingest_error(source.path, 1, "a crosswalk needs the " + source.level + " codes of both vintages (e.g. " +
                                               source.level + yy(source.from) + "cd and " + source.level + yy(source.to) +
                                               "cd); the header has " + seen + "; name them in \"columns\" (from, to)");
    }
    if (c.change < 0) {
        throw ingest_error(source.path, 1, "no change-code column (chgind: U, S, M or X); the header has " + seen +
                                               "; name it in \"columns\" (change)");
    }
    return c;
}

} // namespace

void ingest_crosswalk(ingest_context& ctx, const crosswalk_source& source) {
    csv_reader csv(source.path);
    const auto c = find_columns(csv, source);
    // Read first, keep after: a national lookup on a local store keeps every pair of each group of old and new
    // areas that share ground (a connected part of the lookup) in which the store has any area, old or new. So an
    // irregular area whose other part lies across a district line is never taken for an exact sum, and a split
    // area's pieces are all there to share it by their households.
    struct row {
        std::string from, to, from_name, to_name;
        char change;
        long line;
    };
    std::vector<row> rows;
    std::set<std::pair<std::string, std::string>> listed;
    std::vector<std::string> fields;
    while (csv.next(fields)) {
        const auto field = [&](int column) { return column < 0 ? std::string() : trim(fields[static_cast<std::size_t>(column)]); };
        row r{field(c.from), field(c.to), field(c.from_name), field(c.to_name), 'U', csv.line()};
        if (r.from.empty() || r.to.empty()) throw ingest_error(source.path, csv.line(), "empty " + source.level + " code");
        std::string change = field(c.change);
        for (auto& ch : change) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
        if (change != "U" && change != "S" && change != "M" && change != "X") {
            throw ingest_error(source.path, csv.line(), "change code \"" + field(c.change).substr(0, 20) +
                                                            "\" is not U (unchanged), S (split), M (merged) or X (irregular)");
        }
        r.change = change[0];
        if (!listed.emplace(r.from, r.to).second) {
            throw ingest_error(source.path, csv.line(), r.from + " -> " + r.to + " is listed twice");
        }
        rows.push_back(std::move(r));
    }
    // Union-find over the areas ("o:" old, "n:" new codes): the groups are a few areas each.
    std::unordered_map<std::string, std::string> parent;
    std::function<std::string(const std::string&)> root = [&](const std::string& k) -> std::string {
        auto it = parent.find(k);
        if (it == parent.end()) return parent[k] = k;
        if (it->second == k) return k;
        return it->second = root(it->second);
    };
    for (const auto& r : rows) {
        const auto a = root("o:" + r.from), b = root("n:" + r.to);
        if (a != b) parent[a] = b;
    }
    std::unordered_set<std::string> kept_groups;
    for (const auto& r : rows) {
        if (ctx.find_area(source.from, source.level, r.from) || ctx.find_area(source.to, source.level, r.to)) {
            kept_groups.insert(root("o:" + r.from));
        }
    }
    std::vector<std::tuple<std::int64_t, std::int64_t, char>> pairs;
    std::int64_t left_out = 0;
    for (const auto& r : rows) {
        if (!kept_groups.count(root("o:" + r.from))) {
            ++left_out;
            continue;
        }
        const auto from_id = ctx.ensure_area(source.from, source.level, r.from, r.from_name);
        const auto to_id = ctx.ensure_area(source.to, source.level, r.to, r.to_name);
        pairs.emplace_back(from_id, to_id, r.change);
    }
    if (left_out > 0) {
        ctx.summary.notes.push_back(source.path + ": " + std::to_string(left_out) + " crosswalk pairs of " + source.level +
                                    " " + std::to_string(source.from) + " and " + std::to_string(source.to) + " areas outside the store left out");
    }
    if (rows.empty()) throw ingest_error(source.path, 0, "the crosswalk has no rows");
    if (pairs.empty()) {
        throw ingest_error(source.path, 0, "no " + source.level + " area of the crosswalk (" + std::to_string(source.from) +
                                               " or " + std::to_string(source.to) + ") is in the store (ingest boundaries or a lookup first)");
    }
    {
        statement s(ctx.db(), "DELETE FROM crosswalks WHERE level = ? AND from_vintage = ? AND to_vintage = ?");
        s.bind(1, source.level).bind(2, std::int64_t{source.from}).bind(3, std::int64_t{source.to}).run();
    }
    statement insert(ctx.db(), "INSERT INTO crosswalks (level, from_vintage, to_vintage, from_area, to_area, change) "
                               "VALUES (?, ?, ?, ?, ?, ?)");
    std::map<char, std::int64_t> by_change;
    for (const auto& [from_id, to_id, change] : pairs) {
        insert.bind(1, source.level).bind(2, std::int64_t{source.from}).bind(3, std::int64_t{source.to});
        insert.bind(4, from_id).bind(5, to_id).bind(6, std::string(1, change)).run();
        ++by_change[change];
    }
    std::string counts;
    for (const auto& [change, n] : by_change) counts += (counts.empty() ? "" : ", ") + std::string(1, change) + " " + std::to_string(n);
    ctx.summary.notes.push_back(source.path + ": crosswalk " + source.level + " " + std::to_string(source.from) + " -> " +
                                std::to_string(source.to) + ", " + std::to_string(pairs.size()) + " pairs (" + counts + ")");
    ctx.say("crosswalk " + source.path + ": " + std::to_string(pairs.size()) + " pairs");
}

} // namespace smallarea::data::ingest
