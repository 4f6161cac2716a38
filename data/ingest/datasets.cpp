// Datasets: the files of one dataset in any of the three layouts (long, wide, periods as columns) and the
// publishers' variants of them (NOMIS API and web, Census bulk zips, Stat-Xplore CSV and XLSX), collected into
// cells, checked for duplicates, then written as the dataset's new release in place of the old one.

#include "data/ingest/readers.hpp"

#include "core/error.hpp"
#include "data/csv_reader.hpp"
#include "data/disclosure/policy.hpp"
#include "data/disclosure/table.hpp"
#include "data/ingest.hpp"
#include "data/ingest/values.hpp"
#include "data/store.hpp"
#include "data/text.hpp"
#include "data/xlsx_sheet.hpp"

#include <cpl_string.h>
#include <cpl_vsi.h>

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

namespace smallarea::data::ingest {

using text::contains_ci;
using text::lower;
using text::trim;

namespace {

int find_first(const csv_reader& csv, const std::vector<std::string>& candidates) {
    for (const auto& c : candidates) {
        const int index = csv.column(c);
        if (index >= 0) return index;
    }
    return -1;
}

struct cell_key {
    std::string measure;
    std::string period;
    std::int64_t area_id;
    bool operator<(const cell_key& o) const {
        return std::tie(measure, period, area_id) < std::tie(o.measure, o.period, o.area_id);
    }
};

struct cell_value {
    std::optional<std::int64_t> value;
    std::string file;
    long line;
    bool suppressed = false; // the publisher's marker: no value, shown as suppressed rather than missing
};


/// The GDAL path of a dataset file: a .zip without "member" is read through its one CSV (refused, listing the
/// members, when it holds several or none).
std::string zip_member(const dataset_file& file) {
    const std::string& p = file.read_path;
    if (p.rfind("/vsizip/", 0) != 0 || p.size() < 4 || lower(p.substr(p.size() - 4)) != ".zip") return p;
    char** entries = VSIReadDirRecursive(p.c_str());
    std::vector<std::string> csvs, all;
    for (char** e = entries; e && *e; ++e) {
        const std::string name = *e;
        all.push_back(name);
        if (name.size() > 4 && lower(name.substr(name.size() - 4)) == ".csv") csvs.push_back(name);
    }
    CSLDestroy(entries);
    if (all.empty()) throw ingest_error(file.path, 0, "cannot read as a zip archive (or it is empty)");
    if (csvs.size() != 1) {
        std::string listed;
        for (const auto& n : all) listed += (listed.empty() ? "" : ", ") + n;
        throw ingest_error(file.path, 0, "the zip holds " + std::to_string(csvs.size()) +
                                             " CSV files; name one with \"member\" (members: " + listed + ")");
    }
    return p + "/" + csvs.front();
}

/// Called when line 1 has no area column: when a later record has one, the lines before it are a publisher's
/// title block, and the message says which publisher's and the manifest options that read it.
void explain_title_block(const dataset_file& file,
                         const std::function<bool(const std::vector<std::string>&)>& is_header) {
    csv_options probe;
    probe.is_header = is_header;
    std::unique_ptr<csv_reader> csv;
    try {
        csv = std::make_unique<csv_reader>(file.read_path, probe);
    } catch (const ingest_error&) {
        return; // no header anywhere near the top: the caller's "no area code column" says it
    }
    if (csv->title_block().empty()) return;
    std::string text;
    for (const auto& [line, record] : csv->title_block()) {
        for (const auto& f : record) text += f + "\n";
    }
    std::string who = "title block";
    if (contains_ci(text, "nomis")) who = "NOMIS title block";
    else if (contains_ci(text, "dataset:") || contains_ci(text, "stat-xplore") || contains_ci(text, "counting:"))
        who = "Stat-Xplore title block";
    const long first = csv->title_block().front().first;
    const long last = csv->title_block().back().first;
    const long header = csv->header_line();
    throw ingest_error(file.path, first,
                       "lines " + std::to_string(first) + "-" + std::to_string(last) + " look like a " + who +
                           "; the table starts at line " + std::to_string(header) + ": set \"skip_lines\": " +
                           std::to_string(header - 1) + " (or \"detect\") and, for footnotes after the rows, "
                           "\"end_at_blank_line\": true");
}

/// Why two rows of one file landed on the same cell: the columns in which they differ (other than the value) are
/// a dimension the manifest does not pick, e.g. GENDER_NAME Total/Male/Female.
std::string explain_duplicate(const dataset_file& file, const csv_options& options, long first_line,
                              const std::vector<std::string>& second, int value_column,
                              const std::vector<std::string>& header) {
    try {
        csv_options again = options;
        csv_reader csv(file.read_path, again);
        std::vector<std::string> first;
        while (csv.next(first)) {
            if (csv.line() != first_line) continue;
            // NOMIS API files repeat each dimension as X, X_NAME, X_CODE, ... and number rows (URN, RECORD_OFFSET):
            // the *_NAME columns say it in words, so only they are named when some differ.
            std::vector<std::size_t> differing;
            for (std::size_t i = 0; i < first.size() && i < second.size() && i < header.size(); ++i) {
                if (static_cast<int>(i) == value_column || trim(first[i]) == trim(second[i])) continue;
                differing.push_back(i);
            }
            const bool any_name = std::any_of(differing.begin(), differing.end(), [&](std::size_t i) {
                return header[i].size() > 5 && lower(header[i].substr(header[i].size() - 5)) == "_name";
            });
            std::string differ;
            std::string example;
            for (const auto i : differing) {
                if (any_name && !(header[i].size() > 5 && lower(header[i].substr(header[i].size() - 5)) == "_name")) continue;
                differ += (differ.empty() ? "" : ", ") + header[i] + " (" + trim(first[i]) + " vs " + trim(second[i]) + ")";
                if (example.empty()) example = "\"where\": {\"" + header[i] + "\": \"" + trim(first[i]) + "\"}";
            }
            if (differ.empty()) return {};
            return "; the rows differ in " + differ + ": an extra dimension the manifest does not pick; keep one value with " +
                   example;
        }
    } catch (const error&) {
        // the first read succeeded up to the duplicate, so this is not expected; the plain message still holds
    }
    return {};
}

void report_tally(ingest_context& ctx, const dataset_source& source, const dataset_file& file, const file_tally& tally) {
    const std::string head = source.id + ": " + file.path + ": ";
    if (tally.filtered > 0) {
        std::string kept;
        for (const auto& [c, value] : file.where) kept += (kept.empty() ? "" : ", ") + c + " = " + value;
        ctx.summary.notes.push_back(head + std::to_string(tally.filtered) + " rows left out by \"where\" (kept " + kept + ")");
    }
    if (tally.totals > 0) ctx.summary.notes.push_back(head + std::to_string(tally.totals) + " Total rows dropped");
    if (tally.outside > 0) {
        ctx.summary.notes.push_back(head + std::to_string(tally.outside) + " rows for areas outside the store skipped (first: " +
                                    tally.first_outside + ")");
    }
    for (const auto& [marker, n] : tally.suppressed) {
        ctx.summary.notes.push_back(head + std::to_string(n) + " cells marked \"" + marker + "\" stored as suppressed by the publisher (no value)");
    }
    for (const auto& [marker, n] : tally.zero) {
        ctx.summary.notes.push_back(head + std::to_string(n) + " cells marked \"" + marker + "\" stored as 0");
    }
    ctx.summary.skipped_rows += tally.filtered + tally.totals + tally.outside;
}

} // namespace

namespace {

/// FNV-1a over one cell, folded into its period's digest in (measure, period, area) order: the order of the
/// cells map and of the observations primary key, so the stored release and the new one digest alike.
void fold(std::uint64_t& h, const std::string& measure, std::int64_t area_id, const std::string& served) {
    const std::string text = measure + '\x1f' + std::to_string(area_id) + '\x1f' + served + '\x1e';
    for (const unsigned char c : text) {
        h ^= c;
        h *= 1099511628211ULL;
    }
}

/// What a cell contributes to its period's revision digest: what the server can show of it. A count is
/// digested as served (rounded, or hidden by the small-cell rule), so a raw change that rounding hides never
/// marks a period revised: the flag must not tell anyone that an internal cell moved within its rounding band.
/// Percentage-only measures and their bases are digested raw, because every percentage over several cells is
/// the ratio of their raw sums and so can move while each cell's whole percent stays; what that says is safe
/// for the same reason the percentages are (rule 3): "changed" is the same answer for every common multiple k
/// of the figures, so it narrows no volume.
std::string served_form(const std::optional<std::int64_t>& value, bool suppressed, measure_kind kind,
                        const disclosure::policy& policy) {
    if (!value) return suppressed ? "s" : "-";
    if (kind != measure_kind::count) return std::to_string(*value);
    const auto served = disclosure::protect_count_cell(*value, policy);
    return served ? std::to_string(*served) : "x";
}

/// The revision state of each period of the new release: a period in which anything served differs from the
/// stored release (any measure, area, protected value or suppression mark; see served_form) is revised; an
/// unchanged one keeps its releases; a new one starts at this release. Stores ingested before revisions were
/// kept date their periods from the old release. Each release is digested under its own policy and measure
/// kinds, so re-rounding a dataset to another base is a revision of every period it changes.
std::map<std::string, period_revision> period_revisions(ingest_context& ctx, const dataset_source& source,
                                                        const std::map<cell_key, cell_value>& cells) {
    const std::string& dataset_id = source.id;
    constexpr std::uint64_t offset = 14695981039346656037ULL;
    std::map<std::string, measure_kind> kinds;
    for (const auto& m : source.measures) kinds[m.info.id] = m.info.kind;
    std::map<std::string, std::uint64_t> fresh;
    for (const auto& [key, cell] : cells) {
        auto [it, added] = fresh.emplace(key.period, offset);
        (void)added;
        fold(it->second, key.measure, key.area_id, served_form(cell.value, cell.suppressed, kinds[key.measure], source.policy));
    }
    disclosure::policy old_policy = source.policy;
    {
        statement s(ctx.db(), "SELECT rounding_base, rounded_by, suppression_threshold, percent_min_denominator FROM datasets "
                              "WHERE id = ?");
        s.bind(1, dataset_id);
        if (s.step()) {
            old_policy.rounding_base = s.int64(0);
            disclosure::parse_rounded_by(s.text(1), old_policy.rounded_by);
            old_policy.suppression_threshold = s.int64(2);
            old_policy.percent_min_denominator = s.int64(3);
        }
    }
    std::map<std::string, measure_kind> old_kinds;
    {
        statement s(ctx.db(), "SELECT id, kind FROM measures WHERE dataset_id = ?");
        s.bind(1, dataset_id);
        while (s.step()) {
            old_kinds[s.text(0)] = parse_measure_kind(s.text(1));
        }
    }
    std::map<std::string, std::uint64_t> stored;
    {
        statement s(ctx.db(), "SELECT measure_id, period, area_id, value, suppressed FROM observations WHERE dataset_id = ? "
                              "ORDER BY measure_id, period, area_id");
        s.bind(1, dataset_id);
        while (s.step()) {
            auto [it, added] = stored.emplace(s.text(1), offset);
            (void)added;
            const auto value = s.is_null(3) ? std::nullopt : std::optional<std::int64_t>(s.int64(3));
            fold(it->second, s.text(0), s.int64(2), served_form(value, s.int64(4) != 0, old_kinds[s.text(0)], old_policy));
        }
    }
    std::int64_t old_release = 0;
    {
        statement s(ctx.db(), "SELECT release FROM datasets WHERE id = ?");
        s.bind(1, dataset_id);
        if (s.step()) old_release = s.int64(0);
    }
    std::map<std::string, period_revision> before;
    {
        statement s(ctx.db(), "SELECT period, first_release, release, revision, coalesce(revised_at, '') FROM dataset_periods "
                              "WHERE dataset_id = ?");
        s.bind(1, dataset_id);
        while (s.step()) before[s.text(0)] = period_revision{s.int64(1), s.int64(2), s.int64(3), s.text(4)};
    }
    std::map<std::string, period_revision> out;
    for (const auto& [period, digest] : fresh) {
        const auto old = stored.find(period);
        if (old == stored.end()) {
            out[period] = period_revision{ctx.release, ctx.release, 0, ""};
            continue;
        }
        const auto known = before.find(period);
        period_revision r = known != before.end() ? known->second : period_revision{old_release, old_release, 0, ""};
        if (old->second != digest) {
            r.release = ctx.release;
            r.revision += 1;
            r.revised_at = ctx.ingested_at;
        }
        out[period] = r;
    }
    return out;
}

} // namespace

void ingest_dataset(ingest_context& ctx, const dataset_source& source) {
    std::map<std::string, std::string> measure_by_name; // source name or id -> measure id
    for (const auto& m : source.measures) {
        if (m.info.kind == measure_kind::percent_base && !m.info.sum_of.empty()) continue; // derived below
        measure_by_name[m.info.id] = m.info.id;
        for (const auto& n : m.source_names) measure_by_name[n] = m.info.id;
    }
    std::map<cell_key, cell_value> cells;
    std::int64_t skipped = 0;
    std::vector<std::string> fields;
    const std::string v = yy(source.vintage);
    // "mnemonic" is the code column of NOMIS web downloads (the first column holds the names).
    const std::vector<std::string> area_candidates = {"GEOGRAPHY_CODE", source.level + v + "cd", "area_code",
                                                      "geography code", "areacd", "mnemonic"};
    for (const auto& original_file : source.files) {
        dataset_file file = original_file;
        file.read_path = zip_member(file);
        std::unique_ptr<xlsx_as_csv> sheet;
        if (file.read_path.size() > 5 && lower(file.read_path.substr(file.read_path.size() - 5)) == ".xlsx") {
            sheet = std::make_unique<xlsx_as_csv>(file.read_path, file.sheet, file.path);
            file.read_path = sheet->path();
        }
        const std::vector<std::string> wanted_area =
            file.area_column.empty() ? area_candidates : std::vector<std::string>{file.area_column};
        auto has_area_column = [&](const std::vector<std::string>& record) {
            for (const auto& field : record) {
                for (const auto& w : wanted_area) {
                    if (lower(trim(field)) == lower(w)) return true;
                }
            }
            return false;
        };
        csv_options options;
        options.skip_lines = file.skip_lines;
        if (file.detect_header) options.is_header = has_area_column;
        options.end_at_blank_line = file.end_at_blank_line;
        csv_reader csv(file.read_path, options);
        if (!has_area_column(csv.header()) && file.skip_lines == 0 && !file.detect_header) {
            explain_title_block(file, has_area_column); // throws when a title block is the cause
        }
        const long header_line = csv.header_line();
        auto column = [&](const std::string& named, const std::vector<std::string>& candidates, const char* what,
                          bool required) {
            if (!named.empty()) {
                const int index = csv.column(named);
                if (index < 0) throw ingest_error(file.path, header_line, "no column \"" + named + "\" (" + what + ")");
                return index;
            }
            const int index = find_first(csv, candidates);
            if (index < 0 && required) {
                throw ingest_error(file.path, header_line, std::string("no ") + what + " column (looked for " +
                                                               candidates.front() + "); name it in \"columns\"");
            }
            return index;
        };
        const int area = column(file.area_column, area_candidates, "area code", true);
        if (!csv.title_block().empty()) {
            ctx.summary.notes.push_back(file.path + ": lines " + std::to_string(csv.title_block().front().first) + "-" +
                                        std::to_string(csv.title_block().back().first) + " skipped as a title block");
        }
        // NOMIS web downloads say the period only in the title block ("date :","September 2017").
        if (file.period.empty() && file.period_column.empty() && find_first(csv, {"DATE", "date", "period", "DATE_CODE"}) < 0 &&
            file.layout != "periods_as_columns") {
            for (const auto& [line, record] : csv.title_block()) {
                if (record.size() < 2) continue;
                std::string key = lower(trim(record[0]));
                while (!key.empty() && (key.back() == ':' || key.back() == ' ')) key.pop_back();
                if (key != "date") continue;
                if (!normalise_period(record[1], file.period)) {
                    throw ingest_error(file.path, line, "\"" + record[1] + "\" in the title block is not a period");
                }
                ctx.summary.notes.push_back(file.path + ": period " + file.period + " from the title block (line " +
                                            std::to_string(line) + ")");
            }
        }
        const int period = file.layout == "periods_as_columns"
                               ? -1
                               : column(file.period_column, {"DATE", "date", "period", "DATE_CODE"}, "period",
                                        file.period.empty());
        if (period < 0 && file.period.empty() && file.layout != "periods_as_columns") {
            throw ingest_error(file.path, header_line, "no period column and no \"period\" given");
        }
        std::vector<std::pair<int, std::string>> filters;
        for (const auto& [name, value] : file.where) {
            const int index = csv.column(name);
            if (index < 0) throw ingest_error(file.path, header_line, "no column \"" + name + "\" (in \"where\")");
            filters.emplace_back(index, value);
        }
        file_tally tally;
        // The area of a row, or nullopt when the row is left out on purpose (filtered, a total, outside the store).
        auto row_area = [&](const std::vector<std::string>& row, std::string& code) -> std::optional<std::int64_t> {
            for (const auto& [index, value] : filters) {
                if (trim(row[static_cast<std::size_t>(index)]) != value) {
                    ++tally.filtered;
                    return std::nullopt;
                }
            }
            code = trim(row[static_cast<std::size_t>(area)]);
            if (file.drop_totals && lower(code) == "total") {
                ++tally.totals;
                return std::nullopt;
            }
            std::optional<std::int64_t> id;
            if (file.area_names) {
                id = ctx.area_by_name(source.level, source.vintage, file.path, csv.line(), code);
            } else {
                id = ctx.find_area(source.vintage, source.level, code);
            }
            if (!id) {
                if (file.skip_outside_store) {
                    if (tally.outside == 0) tally.first_outside = code + " (line " + std::to_string(csv.line()) + ")";
                    ++tally.outside;
                    return std::nullopt;
                }
                std::string hint;
                if (lower(code) == "total") hint = " (a total row: set \"drop_totals\": true)";
                else if (!file.area_names && !code.empty() && !std::isdigit(static_cast<unsigned char>(code.back())))
                    hint = " (a name, not a code? set \"area_names\": true)";
                else hint = " (a national file? set \"outside_store\": \"skip\" to keep only the store's areas)";
                throw ingest_error(file.path, csv.line(),
                                   "unknown " + source.level + " " + std::to_string(source.vintage) + " area \"" + code +
                                       "\" for dataset " + source.id + hint);
            }
            return id;
        };
        bool suppressed = false; // set by value_of for the cell it parsed last
        auto value_of = [&](const std::string& raw) { return parse_cell(raw, file, csv.line(), tally, suppressed); };
        auto duplicate = [&](const std::string& code, const std::string& what, const std::string& p, const cell_value& first,
                             int value_column) {
            std::string cause;
            if (first.file == file.path) cause = explain_duplicate(file, options, first.line, fields, value_column, csv.header());
            throw ingest_error(file.path, csv.line(),
                               "duplicate row for area " + code + what + ", period " + p + " (first at " + first.file +
                                   " line " + std::to_string(first.line) + ")" + cause);
        };
        if (file.layout == "long") {
            const bool one_measure = measure_by_name.size() == 1 ||
                                     std::count_if(source.measures.begin(), source.measures.end(), [](const auto& m) {
                                         return !(m.info.kind == measure_kind::percent_base && !m.info.sum_of.empty());
                                     }) == 1;
            const int measure = column(file.measure_column, {"MEASURE_NAME", "measure", "MEASURES_NAME", "indicator"},
                                       "measure", !one_measure);
            const int value = column(file.value_column, {"OBS_VALUE", "value", "count"}, "value", true);
            while (csv.next(fields)) {
                std::string code;
                const auto id = row_area(fields, code);
                if (!id) continue;
                std::string measure_id;
                if (measure >= 0) {
                    const std::string name = trim(fields[static_cast<std::size_t>(measure)]);
                    const auto it = measure_by_name.find(name);
                    if (it == measure_by_name.end()) {
                        if (source.skip_unknown_measures) {
                            ++skipped;
                            continue;
                        }
                        throw ingest_error(file.path, csv.line(),
                                           "measure \"" + name + "\" is not declared for dataset " + source.id +
                                               " (add it to \"source_names\" or set \"skip_unknown_measures\")");
                    }
                    measure_id = it->second;
                } else {
                    measure_id = measure_by_name.begin()->second;
                }
                std::string p = file.period;
                if (period >= 0 && !normalise_period(fields[static_cast<std::size_t>(period)], p)) {
                    throw ingest_error(file.path, csv.line(),
                                       "\"" + fields[static_cast<std::size_t>(period)] + "\" is not a period (YYYY, YYYY-MM, YYYY-MM-DD)");
                }
                // The duplicate first: a second row of another dimension (a Percent beside a Value) would otherwise be
                // refused for its value, hiding the real cause.
                const cell_key key{measure_id, p, *id};
                if (const auto it = cells.find(key); it != cells.end()) duplicate(code, ", measure " + measure_id, p, it->second, value);
                const auto parsed = value_of(fields[static_cast<std::size_t>(value)]);
                cells.emplace(key, cell_value{parsed, file.path, csv.line(), suppressed});
            }
        } else if (file.layout == "wide") {
            std::vector<std::pair<std::string, int>> measure_columns;
            for (const auto& m : source.measures) {
                if (m.info.kind == measure_kind::percent_base && !m.info.sum_of.empty()) continue;
                const int index = csv.column(m.column);
                if (index < 0) throw ingest_error(file.path, header_line, "no column \"" + m.column + "\" for measure " + m.info.id);
                measure_columns.emplace_back(m.info.id, index);
            }
            while (csv.next(fields)) {
                std::string code;
                const auto id = row_area(fields, code);
                if (!id) continue;
                std::string p = file.period;
                if (period >= 0 && !normalise_period(fields[static_cast<std::size_t>(period)], p)) {
                    throw ingest_error(file.path, csv.line(), "\"" + fields[static_cast<std::size_t>(period)] + "\" is not a period");
                }
                for (const auto& [measure_id, index] : measure_columns) {
                    const auto parsed = value_of(fields[static_cast<std::size_t>(index)]);
                    const auto [it, inserted] =
                        cells.emplace(cell_key{measure_id, p, *id}, cell_value{parsed, file.path, csv.line(), suppressed});
                    if (!inserted) duplicate(code, "", p, it->second, -1);
                }
            }
        } else {
            // periods_as_columns (Stat-Xplore "August 2024","September 2024",...,"Total"): one measure, one column
            // per period; a Total column is a sum the server recomputes, so it is not stored.
            std::vector<std::string> counted;
            for (const auto& m : source.measures) {
                if (!(m.info.kind == measure_kind::percent_base && !m.info.sum_of.empty())) counted.push_back(m.info.id);
            }
            if (counted.size() != 1) {
                throw ingest_error(file.path, header_line, "periods_as_columns needs exactly one measure (the dataset declares " +
                                                               std::to_string(counted.size()) + ")");
            }
            std::vector<std::pair<std::string, int>> period_columns;
            for (std::size_t i = 0; i < csv.header().size(); ++i) {
                std::string p;
                if (static_cast<int>(i) != area && normalise_period(csv.header()[i], p)) {
                    period_columns.emplace_back(p, static_cast<int>(i));
                }
            }
            if (period_columns.empty()) {
                throw ingest_error(file.path, header_line, "no column header is a period (e.g. \"September 2024\")");
            }
            while (csv.next(fields)) {
                std::string code;
                const auto id = row_area(fields, code);
                if (!id) continue;
                for (const auto& [p, index] : period_columns) {
                    const auto parsed = value_of(fields[static_cast<std::size_t>(index)]);
                    const auto [it, inserted] =
                        cells.emplace(cell_key{counted.front(), p, *id}, cell_value{parsed, file.path, csv.line(), suppressed});
                    if (!inserted) duplicate(code, "", p, it->second, -1);
                }
            }
        }
        if (csv.footer_line() > 0) {
            ctx.summary.notes.push_back(file.path + ": footnotes from line " + std::to_string(csv.footer_line()) + " not read");
        }
        report_tally(ctx, source, file, tally);
    }
    if (cells.empty()) throw ingest_error(source.files.front().path, 0, "dataset " + source.id + " has no rows");

    // Derived percentage bases (e.g. all job outcomes = the sum of the payment groups) are stored like any other
    // measure but are never served as volumes: their kind is percent_base.
    for (const auto& m : source.measures) {
        if (m.info.kind != measure_kind::percent_base || m.info.sum_of.empty()) continue;
        std::map<std::pair<std::string, std::int64_t>, std::optional<std::int64_t>> sums;
        for (const auto& [key, cell] : cells) {
            if (std::find(m.info.sum_of.begin(), m.info.sum_of.end(), key.measure) == m.info.sum_of.end()) continue;
            auto& sum = sums[{key.period, key.area_id}];
            if (cell.value) sum = sum.value_or(0) + *cell.value;
        }
        for (const auto& [key, sum] : sums) {
            cells.emplace(cell_key{m.info.id, key.first, key.second}, cell_value{sum, "(derived)", 0});
        }
    }

    const auto revisions = period_revisions(ctx, source, cells);

    // Replace atomically: the old release disappears in the same transaction that brings the new one.
    for (const char* sql : {"DELETE FROM observations WHERE dataset_id = ?", "DELETE FROM measures WHERE dataset_id = ?",
                            "DELETE FROM datasets WHERE id = ?", "DELETE FROM dataset_periods WHERE dataset_id = ?"}) {
        statement s(ctx.db(), sql);
        s.bind(1, source.id).run();
    }
    {
        statement s(ctx.db(), "INSERT INTO datasets (id, title, publisher, licence, attribution, classification, level, "
                              "vintage, rounding_base, rounded_by, suppression_threshold, percent_min_denominator, release, "
                              "ingested_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
        s.bind(1, source.id).bind(2, source.title).bind(3, source.publisher).bind(4, source.licence);
        s.bind(5, source.attribution).bind(6, disclosure::to_string(source.policy.classification));
        s.bind(7, source.level).bind(8, source.vintage).bind(9, source.policy.rounding_base);
        s.bind(10, disclosure::to_string(source.policy.rounded_by)).bind(11, source.policy.suppression_threshold);
        s.bind(12, source.policy.percent_min_denominator).bind(13, ctx.release).bind(14, ctx.ingested_at).run();
    }
    {
        statement s(ctx.db(), "INSERT INTO measures (dataset_id, id, ord, title, unit, kind, denominator, percent_of, sum_of) "
                              "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)");
        int ord = 0;
        for (const auto& m : source.measures) {
            std::string sum_of;
            for (const auto& part : m.info.sum_of) sum_of += (sum_of.empty() ? "" : ",") + part;
            s.bind(1, source.id).bind(2, m.info.id).bind(3, ord++).bind(4, m.info.title).bind(5, m.info.unit);
            s.bind(6, to_string(m.info.kind)).bind(7, m.info.denominator).bind(8, m.info.percent_of).bind(9, sum_of).run();
        }
    }
    statement insert(ctx.db(), "INSERT INTO observations (dataset_id, measure_id, period, area_id, value, suppressed) "
                               "VALUES (?, ?, ?, ?, ?, ?)");
    for (const auto& [key, cell] : cells) {
        insert.bind(1, source.id).bind(2, key.measure).bind(3, key.period).bind(4, key.area_id).bind(5, cell.value);
        insert.bind(6, std::int64_t{cell.suppressed ? 1 : 0}).run();
    }
    {
        statement s(ctx.db(), "INSERT INTO dataset_periods (dataset_id, period, first_release, release, revision, revised_at) "
                              "VALUES (?, ?, ?, ?, ?, ?)");
        for (const auto& [period, r] : revisions) {
            s.bind(1, source.id).bind(2, period).bind(3, r.first_release).bind(4, r.release).bind(5, r.revision);
            if (r.revised_at.empty()) {
                s.bind(6, std::optional<std::int64_t>{});
            } else {
                s.bind(6, r.revised_at);
            }
            s.run();
            if (r.revision > 0 && r.release == ctx.release) {
                ctx.summary.notes.push_back(source.id + ": period " + period + " revised (revision " + std::to_string(r.revision) +
                                            ", first published in release " + std::to_string(r.first_release) + ")");
            }
        }
    }
    ctx.summary.observation_rows += static_cast<std::int64_t>(cells.size());
    ctx.summary.skipped_rows += skipped;
    if (skipped > 0) {
        ctx.summary.notes.push_back(source.id + ": " + std::to_string(skipped) + " rows of undeclared measures skipped");
    }
    ctx.summary.datasets.push_back(source.id + " (release " + std::to_string(ctx.release) + ")");
    ctx.say("dataset " + source.id + ": " + std::to_string(cells.size()) + " cells, release " + std::to_string(ctx.release));
}

} // namespace smallarea::data::ingest
