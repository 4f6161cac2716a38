#include "data/xlsx_sheet.hpp"

#include "core/error.hpp"

#include <cpl_error.h>
#include <cpl_vsi.h>
#include <gdal_priv.h>
#include <ogrsf_frmts.h>

#include <atomic>

namespace smallarea::data {

xlsx_as_csv::xlsx_as_csv(const std::string& gdal_path, const std::string& sheet, const std::string& display_path) {
    CPLErrorHandlerPusher quiet(CPLQuietErrorHandler);
    CPLErrorReset();
    const char* const options[] = {"HEADERS=DISABLE", "FIELD_TYPES=STRING", nullptr};
    GDALDatasetUniquePtr ds(GDALDataset::Open(gdal_path.c_str(), GDAL_OF_VECTOR | GDAL_OF_READONLY, nullptr,
                                              options, nullptr));
    if (!ds || ds->GetLayerCount() == 0) throw ingest_error(display_path, 0, "cannot read as an XLSX workbook");
    OGRLayer* layer = sheet.empty() ? ds->GetLayer(0) : ds->GetLayerByName(sheet.c_str());
    if (!layer) {
        std::string sheets;
        for (int i = 0; i < ds->GetLayerCount(); ++i) sheets += (i ? ", " : "") + std::string(ds->GetLayer(i)->GetName());
        throw ingest_error(display_path, 0, "no sheet named \"" + sheet + "\" (sheets: " + sheets + ")");
    }
    m_sheet = layer->GetName();
    std::string text;
    GIntBig row = 0;
    for (auto& feature : *layer) {
        // The XLSX driver numbers features by spreadsheet row; keep the numbering as line numbers.
        const GIntBig fid = feature->GetFID();
        for (++row; fid > row; ++row) text += "\r\n";
        int last = -1;
        for (int i = 0; i < feature->GetFieldCount(); ++i) {
            if (feature->IsFieldSetAndNotNull(i) && *feature->GetFieldAsString(i)) last = i;
        }
        // A row with any cell keeps the sheet's full width (a data row whose last cell is empty must not look
        // ragged); an empty row becomes a blank line, which can end a table before its footnotes.
        if (last >= 0) last = feature->GetFieldCount() - 1;
        for (int i = 0; i <= last; ++i) {
            if (i) text += ",";
            std::string cell = feature->IsFieldSetAndNotNull(i) ? feature->GetFieldAsString(i) : "";
            text += "\"";
            for (const char c : cell) text += c == '"' ? std::string("\"\"") : std::string(1, c);
            text += "\"";
        }
        text += "\r\n";
    }
    static std::atomic<int> counter{0};
    m_path = "/vsimem/smallarea_xlsx_" + std::to_string(++counter) + ".csv";
    VSILFILE* out = VSIFOpenL(m_path.c_str(), "wb");
    if (!out) throw ingest_error(display_path, 0, "cannot convert the sheet in memory");
    VSIFWriteL(text.data(), 1, text.size(), out);
    VSIFCloseL(out);
}

xlsx_as_csv::~xlsx_as_csv() {
    if (!m_path.empty()) VSIUnlink(m_path.c_str());
}

} // namespace smallarea::data
