#pragma once
// The XLSX encoder for strategic planners: like every encoder it accepts only a protected table (table_result),
// so no unrounded internal value can reach the spreadsheet.

#include "engine/catalog.hpp"
#include "engine/table_layout.hpp"

#include <string>

namespace smallarea::engine {

/// A workbook with two sheets: "Data" (a header row, one row per area with period, period name and classification
/// columns, the total row (recomputed from protected cells) only when asked; numbers as numbers, null cells blank) and "About" (title, publisher, licence, attribution, period,
/// geography, classification with "Internal MI: not for onward sharing" for internal data, the rounding base and
/// rule, the uncertainty note, data release, generation date). Returns the .xlsx bytes.
/// libxlsxwriter 1.1.4 (Debian 12) only writes files, so it goes through a temporary file that is removed again.
/// Throws smallarea::error("ExportFailed") when the workbook cannot be written.
std::string table_xlsx(const table_result& t, const snapshot& s, bool totals = false);

/// The same workbook for rows laid out by the caller (bespoke areas, the target finder): the Data sheet has the
/// layout's leading cells (text, or whole numbers as numbers), then households, value, rate, uncertainty (or
/// percent), suppressed, missing, cells from each row's protected_row; the About sheet has layout.geography as
/// "Geography" and layout.notes after it. Every layout row must point into t.table. Throws as table_xlsx.
std::string layout_xlsx(const table_result& t, const row_layout& layout);

/// The layout of /api/table files: code, name, level and the parent codes (lsoa_code, msoa_code, lad_code of the
/// coarser levels the rows have) of each row's area, then the total row when `totals`.
row_layout table_layout(const table_result& t, const snapshot& s, bool totals);

/// The uncertainty note of a table in words (shared by the XLSX About sheet and the vector exports).
std::string uncertainty_note(const table_result& t);

} // namespace smallarea::engine
