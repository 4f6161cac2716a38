// Lookups: an ONS lookup CSV (OA -> LSOA -> MSOA -> LAD), its columns found from ONS names for the vintage.

#include "data/ingest/readers.hpp"

#include "core/error.hpp"
#include "data/csv_reader.hpp"
#include "data/ingest/values.hpp"
#include "data/inspect.hpp"
#include "data/store.hpp"
#include "data/text.hpp"

#include <cstdint>
#include <map>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

namespace smallarea::data::ingest {

using text::trim;

namespace {

/// Lookup columns from ONS names when the manifest does not name them: oa21cd, lsoa11cd, lsoa11nm, LAD22CD, ...
/// (case-insensitive). Census geographies (OA, LSOA, MSOA) must carry the lookup's vintage year, since an
/// lsoa11cd column in a 2021 lookup is a different set of areas. Districts are re-issued in any year (LAD22CD,
/// LAD24CD) on the same census building blocks, so for them the vintage year wins when present, else the latest.
void detect_lookup_columns(const csv_reader& csv, lookup_source& source) {
    const int v = source.vintage % 100;
    std::map<std::string, std::pair<int, std::string>> codes, names; // level -> (year, column)
    for (const auto& header : csv.header()) {
        std::string level;
        int year = 0;
        bool is_name = false;
        if (!parse_ons_column(header, level, year, is_name)) continue;
        if (!is_reissued_level(level) && year != v) continue;
        auto& chosen = is_name ? names : codes;
        const auto it = chosen.find(level);
        auto rank = [v](int y) { return y == v ? 1000 : y; }; // the vintage year first, then the latest
        if (it == chosen.end() || rank(year) > rank(it->second.first)) chosen[level] = {year, header};
    }
    for (const auto& [level, chosen] : codes) {
        if (!source.code_columns.count(level)) source.code_columns[level] = chosen.second;
    }
    for (const auto& [level, chosen] : names) {
        // A name column goes with the code column of the same year only (lad22nm names lad22cd areas).
        const auto code = codes.find(level);
        if (source.name_columns.count(level)) continue;
        if (code != codes.end() && source.code_columns[level] == code->second.second &&
            code->second.first != chosen.first) {
            continue;
        }
        source.name_columns[level] = chosen.second;
    }
}

} // namespace

void ingest_lookup(ingest_context& ctx, const lookup_source& original) {
    lookup_source source = original;
    csv_reader csv(source.path);
    detect_lookup_columns(csv, source);
    if (source.code_columns.size() < 2) {
        std::string seen;
        for (const auto& h : csv.header()) seen += (seen.empty() ? "" : ", ") + h;
        throw ingest_error(source.path, 1, "a lookup needs code columns of at least two levels (e.g. oa" +
                                               yy(source.vintage) + "cd and lsoa" + yy(source.vintage) +
                                               "cd; census levels must carry the vintage year " + yy(source.vintage) +
                                               "); the header has " + seen + "; name them in \"columns\"");
    }
    struct column_pair {
        std::string level;
        int code = -1;
        int name = -1;
    };
    std::vector<column_pair> columns;
    for (const auto& level : known_levels()) { // finest first
        const auto it = source.code_columns.find(level);
        if (it == source.code_columns.end()) continue;
        column_pair c;
        c.level = level;
        c.code = csv.column(it->second);
        if (c.code < 0) throw ingest_error(source.path, 1, "no column \"" + it->second + "\"");
        if (const auto n = source.name_columns.find(level); n != source.name_columns.end()) {
            c.name = csv.column(n->second);
            if (c.name < 0) throw ingest_error(source.path, 1, "no column \"" + n->second + "\"");
        }
        columns.push_back(c);
    }
    // Which column pairs become ancestor links: a finer area in a coarser one where the levels nest, never across a
    // best-fit level (an LSOA's district comes from its own chain, not through its best-fit ward: a ward lookup of
    // 2024 names 2024 districts, which may differ from the LSOA's 2021 one), and never MSOA -> ward.
    std::vector<std::vector<bool>> linked(columns.size(), std::vector<bool>(columns.size(), false));
    for (std::size_t i = 0; i < columns.size(); ++i) {
        for (std::size_t j = i + 1; j < columns.size(); ++j) {
            bool across_best_fit = false;
            for (std::size_t k = i + 1; k < j; ++k) across_best_fit = across_best_fit || is_best_fit_level(columns[k].level);
            linked[i][j] = nests_in(columns[i].level, columns[j].level) && !across_best_fit;
        }
    }
    statement link(ctx.db(), "INSERT INTO area_ancestors (area_id, ancestor_id) VALUES (?, ?) ON CONFLICT DO NOTHING");
    // One parent per coarser level: a lookup row that contradicts an earlier one is an error, not a second parent.
    std::unordered_map<std::int64_t, std::map<std::string, std::pair<std::int64_t, long>>> parents;
    {
        statement s(ctx.db(), "SELECT a.area_id, p.level, a.ancestor_id FROM area_ancestors a JOIN areas p ON p.id = a.ancestor_id");
        while (s.step()) parents[s.int64(0)][s.text(1)] = {s.int64(2), 0};
    }
    std::unordered_map<std::int64_t, bool> named;
    std::vector<std::string> fields;
    std::int64_t rows = 0;
    while (csv.next(fields)) {
        std::vector<std::int64_t> ids;
        for (const auto& c : columns) {
            const std::string code = trim(fields[static_cast<std::size_t>(c.code)]);
            if (code.empty()) throw ingest_error(source.path, csv.line(), "empty " + c.level + " code");
            const std::string name = c.name >= 0 ? trim(fields[static_cast<std::size_t>(c.name)]) : std::string();
            std::int64_t id;
            if (auto existing = ctx.find_area(source.vintage, c.level, code)) {
                id = *existing;
                if (!name.empty() && !named[id]) {
                    ctx.name_area(id, name);
                    named[id] = true;
                }
            } else {
                id = ctx.ensure_area(source.vintage, c.level, code, name);
                named[id] = true;
            }
            ids.push_back(id);
        }
        for (std::size_t i = 0; i < ids.size(); ++i) {
            for (std::size_t j = i + 1; j < ids.size(); ++j) {
                if (!linked[i][j]) continue;
                auto& known = parents[ids[i]];
                const auto it = known.find(columns[j].level);
                if (it != known.end() && it->second.first != ids[j]) {
                    throw ingest_error(source.path, csv.line(),
                                       columns[i].level + " " + fields[static_cast<std::size_t>(columns[i].code)] +
                                           " is already in another " + columns[j].level +
                                           (it->second.second > 0 ? " (line " + std::to_string(it->second.second) + ")"
                                                                  : " (an earlier ingest)"));
                }
                if (it == known.end()) {
                    known[columns[j].level] = {ids[j], csv.line()};
                    link.bind(1, ids[i]).bind(2, ids[j]).run();
                }
            }
        }
        ++rows;
        if (rows % 50000 == 0) ctx.say("  " + source.path + ": " + std::to_string(rows) + " rows");
    }
    ctx.summary.lookup_rows += rows;
    ctx.say("lookup " + source.path + ": " + std::to_string(rows) + " rows");
}

void link_through_parents(ingest_context& ctx) {
    // In memory: the national store has ~190,000 OAs with ~4 links each, and one pass per level depth is enough
    // (the chain is at most oa < lsoa < ward < lad).
    std::unordered_map<std::int64_t, std::string> level_of;
    {
        statement s(ctx.db(), "SELECT id, level FROM areas");
        while (s.step()) level_of[s.int64(0)] = s.text(1);
    }
    std::unordered_map<std::int64_t, std::map<std::string, std::int64_t>> parents;
    {
        statement s(ctx.db(), "SELECT area_id, ancestor_id FROM area_ancestors");
        while (s.step()) parents[s.int64(0)][level_of[s.int64(1)]] = s.int64(1);
    }
    statement link(ctx.db(), "INSERT INTO area_ancestors (area_id, ancestor_id) VALUES (?, ?) ON CONFLICT DO NOTHING");
    std::int64_t added = 0;
    for (bool changed = true; changed;) {
        changed = false;
        for (auto& [area, own] : parents) {
            const std::string& level = level_of[area];
            std::vector<std::pair<std::string, std::int64_t>> found;
            for (const auto& [parent_level, parent] : own) {
                const auto up = parents.find(parent);
                if (up == parents.end()) continue;
                for (const auto& [grand_level, grand] : up->second) {
                    if (!own.count(grand_level) && nests_in(level, grand_level)) found.emplace_back(grand_level, grand);
                }
            }
            for (const auto& [l, id] : found) {
                if (own.emplace(l, id).second) {
                    link.bind(1, area).bind(2, id).run();
                    ++added;
                    changed = true;
                }
            }
        }
    }
    if (added > 0) ctx.say("lookups: " + std::to_string(added) + " links through parents (e.g. OA to its LSOA's ward)");
}

} // namespace smallarea::data::ingest
