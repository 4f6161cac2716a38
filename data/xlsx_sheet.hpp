#pragma once
// One sheet of an .xlsx workbook (Stat-Xplore, ONS spreadsheets) as CSV text in GDAL's /vsimem/, read with GDAL's
// XLSX driver, so the strict CSV reader and every CSV rule (title block, footnotes, markers, line numbers in
// messages) apply to spreadsheets unchanged.

#include <string>

namespace smallarea::data {

class xlsx_as_csv {
public:
    /// Converts sheet (the first when empty) of the workbook at gdal_path: one spreadsheet row per CSV line (line
    /// N = row N), empty rows as blank lines, every non-empty row as wide as the sheet. Throws ingest_error naming
    /// display_path when the workbook cannot be read or has no such sheet (the message lists the sheets).
    xlsx_as_csv(const std::string& gdal_path, const std::string& sheet, const std::string& display_path);
    ~xlsx_as_csv();
    xlsx_as_csv(const xlsx_as_csv&) = delete;
    xlsx_as_csv& operator=(const xlsx_as_csv&) = delete;

    /// The /vsimem/ path of the CSV text (removed when the object goes).
    const std::string& path() const noexcept { return m_path; }
    /// The sheet read (its name when the first was taken).
    const std::string& sheet() const noexcept { return m_sheet; }

private:
    std::string m_path;
    std::string m_sheet;
};

} // namespace smallarea::data
