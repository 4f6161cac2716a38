// Denominators: household and resident counts per area (e.g. Census 2021 TS046 / TS001), the rates' bases.

#include "data/ingest/readers.hpp"

#include "core/error.hpp"
#include "data/csv_reader.hpp"
#include "data/ingest/values.hpp"
#include "data/text.hpp"

#include <cstdint>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

namespace smallarea::data::ingest {

using text::trim;

void ingest_denominators(ingest_context& ctx, const denominator_source& source) {
    csv_reader csv(source.path);
    const std::string v = yy(source.vintage);
    int code = -1;
    if (!source.code_column.empty()) {
        code = csv.column(source.code_column);
        if (code < 0) throw ingest_error(source.path, 1, "no column \"" + source.code_column + "\"");
    } else {
        for (const auto& candidate : {source.level + v + "cd", std::string("area_code"), std::string("geography code"),
                                      std::string("GEOGRAPHY_CODE"), std::string("areacd")}) {
            if ((code = csv.column(candidate)) >= 0) break;
        }
        if (code < 0) throw ingest_error(source.path, 1, "no area code column (looked for " + source.level + v + "cd); set \"code_column\"");
    }
    std::vector<std::pair<std::string, int>> measures;
    for (const auto& [name, column] : source.measures) {
        const int index = csv.column(column);
        if (index < 0) throw ingest_error(source.path, 1, "no column \"" + column + "\"");
        measures.emplace_back(name, index);
    }
    statement insert(ctx.db(), "INSERT INTO denominators (area_id, measure, value, source) VALUES (?, ?, ?, ?) "
                                "ON CONFLICT (area_id, measure) DO UPDATE SET value = excluded.value, source = excluded.source");
    std::unordered_map<std::string, long> seen;
    std::vector<std::string> fields;
    std::int64_t rows = 0;
    while (csv.next(fields)) {
        const std::string area_code = trim(fields[static_cast<std::size_t>(code)]);
        const auto id = ctx.find_area(source.vintage, source.level, area_code);
        if (!id) {
            throw ingest_error(source.path, csv.line(),
                               "unknown " + source.level + " " + std::to_string(source.vintage) + " area \"" +
                                   area_code + "\" (ingest its boundaries or lookup first)");
        }
        const auto [it, inserted] = seen.emplace(area_code, csv.line());
        if (!inserted) {
            throw ingest_error(source.path, csv.line(),
                               "area " + area_code + " appears again (first on line " + std::to_string(it->second) + ")");
        }
        for (const auto& [name, index] : measures) {
            const auto value = parse_count(fields[static_cast<std::size_t>(index)], source.path, csv.line());
            if (!value) continue;
            insert.bind(1, *id).bind(2, name).bind(3, *value).bind(4, source.source).run();
        }
        ++rows;
        if (rows % 50000 == 0) ctx.say("  " + source.path + ": " + std::to_string(rows) + " rows");
    }
    ctx.summary.denominator_rows += rows;
    ctx.say("denominators " + source.path + ": " + std::to_string(rows) + " rows");
}

} // namespace smallarea::data::ingest
