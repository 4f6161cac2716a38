#include "engine/encode_xlsx.hpp"

#include "engine/scratch_dir.hpp"
#include "engine/encode.hpp"
#include "engine/encode_csv.hpp"

#include "core/error.hpp"
#include "core/utc.hpp"

#include <xlsxwriter.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdlib.h>
#include <unistd.h>

namespace smallarea::engine {

namespace {

void check(lxw_error e, const char* what) {
    if (e != LXW_NO_ERROR) throw error("ExportFailed", std::string("cannot write ") + what + ": " + lxw_strerror(e));
}

bool layout_has_total(const table_result& t, const row_layout& layout) {
    return !layout.rows.empty() && layout.rows.back().row == &t.table.total();
}

} // namespace

std::string uncertainty_note(const table_result& t) {
    const auto& p = t.query.dataset->policy;
    if (t.table.kind() == disclosure::measure_kind::percent_only) {
        return "Percentages are whole percent of unrounded counts (halves up), suppressed where the base is below " +
               std::to_string(p.percent_min_denominator) + "; no volumes are released for this measure.";
    }
    if (p.rounding_base <= 1) return "Values are not rounded: the uncertainty column is 0.";
    const std::string half = p.rounding_base % 2 == 0 ? std::to_string(p.rounding_base / 2)
                                                       : std::to_string(p.rounding_base / 2) + ".5";
    return "Each cell is a multiple of " + std::to_string(p.rounding_base) + ", so its true value lies within +/-" + half +
           " of it; a total or aggregate of n cells is the sum of rounded cells and lies within +/- n x " + half +
           " (the uncertainty column). Differences smaller than that between areas may not be real.";
}

row_layout table_layout(const table_result& t, const snapshot& s, bool totals) {
    row_layout layout;
    layout.label_header = {"code", "name", "level"};
    // Parent codes (lsoa_code, msoa_code, lad_code) of the coarser levels the rows have, so OA rows can be
    // joined to or grouped by their LSOA and local authority in a GIS or a pivot table.
    std::vector<std::string> parent_levels;
    for (const auto& level : data::known_levels()) {
        if (data::level_rank(level) <= data::level_rank(t.query.level)) continue;
        const bool any = std::any_of(t.row_areas.begin(), t.row_areas.end(), [&](std::size_t i) { return s.ancestor_at(i, level).has_value(); });
        if (any) {
            parent_levels.push_back(level);
            layout.label_header.push_back(level + "_code");
        }
    }
    // A table moved to another boundary vintage says, per row, how its area changed and whether its figure is an
    // estimate or withheld (README "Boundary vintages").
    const bool moved = t.query.crosswalked();
    const bool change_column = moved && !t.row_change.empty();
    if (change_column) layout.label_header.push_back("change");
    if (moved) {
        layout.label_header.push_back("estimated");
        layout.label_header.push_back("not_apportioned");
    }
    const auto flag = [](bool b) { return layout_label(std::string(b ? "true" : "false")); };
    for (std::size_t i = 0; i < t.table.rows().size(); ++i) {
        const auto& area = s.areas()[t.row_areas[i]];
        const auto& row = t.table.rows()[i];
        std::vector<layout_label> labels{row.code, area.name, area.level};
        for (const auto& level : parent_levels) {
            const auto parent = s.ancestor_at(t.row_areas[i], level);
            labels.emplace_back(parent ? s.areas()[*parent].code : std::string());
        }
        if (change_column) labels.emplace_back(t.row_change[i] ? std::string(1, t.row_change[i]) : std::string());
        if (moved) {
            labels.push_back(flag(row.estimated));
            labels.push_back(flag(row.not_apportioned));
        }
        layout.rows.push_back({std::move(labels), &row});
    }
    if (totals) {
        std::vector<layout_label> labels{t.table.total().code, std::string("Total"), t.query.level};
        for (std::size_t k = 0; k < parent_levels.size(); ++k) labels.emplace_back(std::string());
        if (change_column) labels.emplace_back(std::string());
        if (moved) {
            labels.push_back(flag(t.table.total().estimated));
            labels.push_back(flag(t.table.total().not_apportioned));
        }
        layout.rows.push_back({std::move(labels), &t.table.total()});
    }
    const std::string fit = best_fit_note(t.query);
    layout.geography = t.query.level + " " + std::to_string(t.query.vintage) +
                       (fit.empty() ? "" : " (best fit of " + t.query.dataset->level + "s)") +
                       (t.query.within ? " within " + s.areas()[*t.query.within].code + " " + s.areas()[*t.query.within].name : "");
    if (!fit.empty()) layout.notes.emplace_back("best fit", fit);
    if (moved) {
        layout.geography += " (moved from " + t.query.dataset->level + " " + std::to_string(t.query.dataset->vintage) + ")";
        layout.notes.emplace_back("boundary vintage", crosswalk_note(t.query));
    }
    return layout;
}

std::string table_xlsx(const table_result& t, const snapshot& s, bool totals) { return layout_xlsx(t, table_layout(t, s, totals)); }

std::string layout_xlsx(const table_result& t, const row_layout& layout) {
    const auto& d = *t.query.dataset;
    const bool percent = t.table.kind() == disclosure::measure_kind::percent_only;
    scratch_dir dir("smallarea-xlsx");
    const std::string file = dir.path() + "/table.xlsx";
    lxw_workbook_options options{};
    options.constant_memory = LXW_FALSE;
    options.tmpdir = const_cast<char*>(dir.path().c_str());
    lxw_workbook* book = workbook_new_opt(file.c_str(), &options);
    if (!book) throw error("ExportFailed", "cannot create the workbook");
    bool closed = false;
    try {
        lxw_format* bold = workbook_add_format(book);
        format_set_bold(bold);
        lxw_format* wrap = workbook_add_format(book);
        format_set_text_wrap(wrap);
        lxw_format* two_decimals = workbook_add_format(book);
        format_set_num_format(two_decimals, "0.00");
        lxw_format* six_decimals = workbook_add_format(book);
        format_set_num_format(six_decimals, "0.000000");

        lxw_worksheet* data = workbook_add_worksheet(book, "Data");
        // The classification travels with the Data sheet: a column on every row and the printed page header,
        // so a copied or printed sheet still says "Internal MI: not for onward sharing".
        const std::string classification_text = classification_label(d);
        auto header_text = [](const std::string& text) { // '&' starts a header code; Excel caps headers at 255
            std::string out;
            for (const char ch : text) out += ch == '&' ? std::string("&&") : std::string(1, ch);
            return out.substr(0, 120);
        };
        const std::string page_header = "&L" + header_text(classification_text) + "&R" +
                                        header_text(d.title + ": " + t.query.measure->title + ", " + layout_periods_text(t, layout));
        check(worksheet_set_header(data, page_header.c_str()), "the page header");
        const auto columns = file_columns(t, layout);
        for (std::size_t c = 0; c < columns.size(); ++c) {
            check(worksheet_write_string(data, 0, static_cast<lxw_col_t>(c), columns[c].name.c_str(), bold), "the header");
        }
        const std::string table_period_text = period_name(t.query.period);
        lxw_row_t r = 1;
        for (const auto& line : layout.rows) {
            lxw_col_t c = 0;
            for (const auto& label : line.labels) {
                if (const auto* text = std::get_if<std::string>(&label)) {
                    check(worksheet_write_string(data, r, c, text->c_str(), nullptr), "a row");
                } else if (const auto* whole = std::get_if<std::int64_t>(&label)) {
                    check(worksheet_write_number(data, r, c, static_cast<double>(*whole), nullptr), "a row");
                } else if (const auto* position = std::get_if<degrees_label>(&label)) {
                    check(worksheet_write_number(data, r, c, position->value, six_decimals), "a row");
                } else {
                    check(worksheet_write_number(data, r, c, std::round(std::get<double>(label) * 100.0) / 100.0, two_decimals), "a row");
                }
                ++c;
            }
            if (!layout.column_periods.empty()) {
                check(worksheet_write_string(data, r, c++, classification_text.c_str(), nullptr), "a row");
                if (line.row && line.row->households) {
                    check(worksheet_write_number(data, r, c, static_cast<double>(*line.row->households), nullptr), "a row");
                }
                ++c;
                for (const auto* p : line.period_rows) {
                    const auto* v = p ? (percent ? &p->percent : &p->value) : nullptr;
                    if (v && *v) check(worksheet_write_number(data, r, c, static_cast<double>(**v), nullptr), "a row");
                    ++c;
                    if (percent) continue;
                    if (p && p->rate_per_100_households) check(worksheet_write_number(data, r, c, *p->rate_per_100_households, two_decimals), "a row");
                    ++c;
                    if (p && p->value) check(worksheet_write_number(data, r, c, p->uncertainty, nullptr), "a row");
                    ++c;
                }
                ++r;
                continue;
            }
            const std::string& period = line.period.empty() ? t.query.period : line.period;
            const std::string period_text = line.period.empty() ? table_period_text : period_name(line.period);
            check(worksheet_write_string(data, r, c++, period.c_str(), nullptr), "a row");
            check(worksheet_write_string(data, r, c++, period_text.c_str(), nullptr), "a row");
            check(worksheet_write_string(data, r, c++, classification_text.c_str(), nullptr), "a row");
            const auto& row = *line.row;
            auto number = [&](const std::optional<std::int64_t>& v) {
                if (v) check(worksheet_write_number(data, r, c, static_cast<double>(*v), nullptr), "a row");
                ++c;
            };
            number(row.households);
            if (percent) {
                number(row.percent);
            } else {
                number(row.value);
                if (row.rate_per_100_households) {
                    check(worksheet_write_number(data, r, c, *row.rate_per_100_households, two_decimals), "a row");
                }
                ++c;
                check(worksheet_write_number(data, r, c++, row.uncertainty, nullptr), "a row");
            }
            check(worksheet_write_boolean(data, r, c++, row.suppressed, nullptr), "a row");
            check(worksheet_write_boolean(data, r, c++, row.missing, nullptr), "a row");
            check(worksheet_write_number(data, r, c++, static_cast<double>(row.cells), nullptr), "a row");
            check(worksheet_write_number(data, r, c++, static_cast<double>(row.cells_with_value), nullptr), "a row");
            check(worksheet_write_boolean(data, r, c++, row.complete(), nullptr), "a row");
            check(worksheet_write_boolean(data, r, c++, row.households_complete(), nullptr), "a row");
            if (!percent) check(worksheet_write_boolean(data, r, c++, row.rounding_dominates(), nullptr), "a row");
            ++r;
        }
        worksheet_freeze_panes(data, 1, 0);
        for (std::size_t c = 0; c < layout.label_header.size(); ++c) {
            const auto col = static_cast<lxw_col_t>(c);
            worksheet_set_column(data, col, col, layout.label_header[c] == "name" ? 36 : 12, nullptr);
        }

        lxw_worksheet* about = workbook_add_worksheet(book, "About");
        std::vector<std::pair<std::string, std::string>> lines{
            {"Title", d.title + ": " + t.query.measure->title + (percent ? " (percentage only)" : "")},
            {"Dataset", d.id + " (release " + std::to_string(d.release) + ")"},
            {"Measure", t.query.measure->id + (t.query.measure->unit.empty() ? "" : " (" + t.query.measure->unit + ")")},
            {"Period", layout_periods_data(t, layout) + " (" + layout_periods_text(t, layout) + ")"},
            {"Geography", layout.geography},
        };
        if (layout.first_period.empty()) lines.emplace_back("Revision", revision_text(d, t.query.period));
        lines.insert(lines.end(), layout.notes.begin(), layout.notes.end());
        lines.insert(lines.end(), {
            {"Publisher", d.publisher},
            {"Licence", d.licence},
            {"Attribution", d.attribution},
            {"Classification", disclosure::to_string(d.policy.classification) + std::string(": ") + classification_label(d)},
            {"Rounding base", std::to_string(d.policy.rounding_base)},
            {"Rounded by", disclosure::to_string(d.policy.rounded_by)},
            {"Rounding rule", disclosure::describe(d.policy)},
            {"Totals", "sum of rounded cells (never a separately rounded raw total)"},
            {"Suppression threshold", std::to_string(d.policy.suppression_threshold)},
            {"Uncertainty", uncertainty_note(t)},
            {"Rows", !layout.column_periods.empty() ? "one row per area, one column set per period (each the figure of that "
                                                      "period's table)" + std::string(layout_has_total(t, layout) ? ", then the total row" : "")
                     : !layout.first_period.empty() ? "one row per period of one area"
                     : layout_has_total(t, layout) ? "one row per area, then the total row (the sum of the rows' rounded cells)"
                                                   : "one row per area (no total row; ask totals=true)"},
            {"Generated", utc_now_text(utc_precision::date) + " by smallarea"},
        });
        if (rounding_dominates_in(layout)) lines.emplace_back("Note", rounding_suggestion);
        worksheet_set_column(about, 0, 0, 22, bold);
        worksheet_set_column(about, 1, 1, 100, wrap);
        for (std::size_t i = 0; i < lines.size(); ++i) {
            const auto row = static_cast<lxw_row_t>(i);
            check(worksheet_write_string(about, row, 0, lines[i].first.c_str(), bold), "the About sheet");
            check(worksheet_write_string(about, row, 1, lines[i].second.c_str(), wrap), "the About sheet");
        }
        closed = true;
        check(workbook_close(book), "the workbook");
    } catch (...) {
        if (!closed) workbook_close(book);
        throw;
    }
    std::ifstream in(file, std::ios::binary);
    if (!in) throw error("ExportFailed", "cannot read the workbook back");
    std::ostringstream bytes;
    bytes << in.rdbuf();
    return bytes.str();
}

} // namespace smallarea::engine
