#include "data/ingest.hpp"
#include "data/ingest/bounded_queue.hpp"
#include "data/ingest/context.hpp"
#include "data/ingest/manifest.hpp"
#include "data/ingest/values.hpp"
#include "data/text.hpp"

#include "data/csv_reader.hpp"
#include "data/disclosure/policy.hpp"
#include "core/error.hpp"
#include "data/inspect.hpp"
#include "data/xlsx_sheet.hpp"
#include "data/sqlite.hpp"
#include "data/store.hpp"
#include "geo/geometry_ops.hpp"

#include <cpl_error.h>
#include <cpl_string.h>
#include <cpl_vsi.h>
#include <gdal_priv.h>
#include <ogr_spatialref.h>
#include <ogrsf_frmts.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <thread>
#include <cmath>
#include <ctime>
#include <initializer_list>
#include <map>
#include <memory>
#include <set>
#include <unordered_map>

namespace smallarea::data {

namespace {

using ingest::boundary_source;
using ingest::ingest_context;
using ingest::bounded_queue;
using ingest::dataset_file;
using ingest::dataset_source;
using ingest::denominator_source;
using ingest::derived_boundary;
using ingest::lookup_source;
using text::contains_ci;
using text::lower;
using text::trim;
using ingest::file_tally;
using ingest::parse_cell;
using ingest::parse_count;
using ingest::yy;

// ---------------------------------------------------------------------------------------------------------------
// Writing to the store

/// ONS field names for a level and vintage: OA11CD, oa21cd, LSOA21CD, lsoa21_code, ... (case-insensitive).
int find_field(OGRFeatureDefn* defn, const std::vector<std::string>& candidates) {
    for (const auto& candidate : candidates) {
        for (int i = 0; i < defn->GetFieldCount(); ++i) {
            if (lower(defn->GetFieldDefn(i)->GetNameRef()) == candidate) return i;
        }
    }
    return -1;
}

/// Coordinates must be finite lon/lat after reprojection; anything else means a wrong or missing CRS.
bool lonlat_ok(const OGREnvelope& e) {
    return std::isfinite(e.MinX) && std::isfinite(e.MaxX) && std::isfinite(e.MinY) && std::isfinite(e.MaxY) &&
           e.MinX >= -180.0 && e.MaxX <= 180.0 && e.MinY >= -90.0 && e.MaxY <= 90.0;
}

void ingest_boundaries(ingest_context& ctx, const boundary_source& source) {
    CPLErrorHandlerPusher quiet(CPLQuietErrorHandler);
    CPLErrorReset();
    GDALDatasetUniquePtr ds(GDALDataset::Open(gdal_path(source.path).c_str(), GDAL_OF_VECTOR | GDAL_OF_READONLY));
    if (!ds) {
        const std::string detail = CPLGetLastErrorMsg();
        throw ingest_error(source.path, 0, "cannot read as a vector source" + (detail.empty() ? "" : ": " + detail),
                           "feature");
    }
    OGRLayer* layer = source.layer.empty() ? ds->GetLayer(0) : ds->GetLayerByName(source.layer.c_str());
    if (!layer) {
        throw ingest_error(source.path, 0,
                           source.layer.empty() ? "no layer in file" : "no layer named \"" + source.layer + "\"",
                           "feature");
    }
    OGRFeatureDefn* defn = layer->GetLayerDefn();
    const std::string lv = source.level;
    const std::string v = yy(source.vintage);
    const int code_field = source.code_field.empty()
                               ? find_field(defn, {lv + v + "cd", lv + v + "_code", lv + "_code", "area_code", "code",
                                                   "geography_code"})
                               : find_field(defn, {lower(source.code_field)});
    if (code_field < 0) {
        throw ingest_error(source.path, 0,
                           source.code_field.empty()
                               ? "no code field found (looked for " + lv + v + "cd, " + lv + v +
                                     "_code, area_code, code); name it with \"code_field\""
                               : "no field named \"" + source.code_field + "\"",
                           "feature");
    }
    const int name_field = source.name_field.empty()
                               ? find_field(defn, {lv + v + "nm", lv + v + "_name", lv + "_name", "area_name", "name"})
                               : find_field(defn, {lower(source.name_field)});
    if (!source.name_field.empty() && name_field < 0) {
        throw ingest_error(source.path, 0, "no field named \"" + source.name_field + "\"", "feature");
    }

    OGRSpatialReference target;
    target.importFromEPSG(4326);
    target.SetAxisMappingStrategy(OAMS_TRADITIONAL_GIS_ORDER);
    OGRSpatialReference override_srs;
    const OGRSpatialReference* layer_srs = layer->GetSpatialRef();
    if (!source.srs.empty()) {
        if (override_srs.SetFromUserInput(source.srs.c_str()) != OGRERR_NONE) {
            throw ingest_error(source.path, 0, "srs \"" + source.srs + "\" is not a coordinate system GDAL knows",
                               "feature");
        }
        override_srs.SetAxisMappingStrategy(OAMS_TRADITIONAL_GIS_ORDER);
        layer_srs = &override_srs;
    }
    std::unique_ptr<OGRCoordinateTransformation> transform;
    if (layer_srs && !layer_srs->IsSame(&target)) {
        OGRSpatialReference from(*layer_srs);
        from.SetAxisMappingStrategy(OAMS_TRADITIONAL_GIS_ORDER);
        transform.reset(OGRCreateCoordinateTransformation(&from, &target));
        if (!transform) throw ingest_error(source.path, 0, "cannot transform its CRS to EPSG:4326", "feature");
    }

    statement insert(ctx.db(), "INSERT INTO areas (level, vintage, code, name, geom) VALUES (?, ?, ?, ?, "
                           "GeomFromWKB(?, 4326))");
    statement update(ctx.db(), "UPDATE areas SET name = CASE WHEN ? <> '' THEN ? ELSE name END, "
                           "geom = GeomFromWKB(?, 4326) WHERE id = ?");
    // Two stages overlap: this thread reads features with GDAL (parse, reproject, checks, WKB), a second repairs
    // them with GEOS and writes them to SQLite. Reading is half of the work, so overlapping roughly halves the
    // wall time on two cores. The SQLite connection is used by the writer thread only while it runs.
    struct item {
        long feature_number;
        std::string code;
        std::string name;
        std::vector<unsigned char> wkb;
    };
    bounded_queue<std::vector<item>> queue(8);
    std::int64_t stored = 0;
    const GIntBig total = layer->GetFeatureCount(FALSE);
    std::exception_ptr writer_failure;
    std::thread writer([&]() {
        try {
            std::vector<item> batch;
            while (queue.pop(batch)) {
                for (const item& it : batch) {
                    geo::repaired_geometry repaired;
                    try {
                        repaired = geo::make_valid_multipolygon(it.wkb.data(), it.wkb.size());
                    } catch (const error& e) {
                        throw ingest_error(source.path, it.feature_number, "area " + it.code + ": " + e.what(), "feature");
                    }
                    if (repaired.empty) {
                        throw ingest_error(source.path, it.feature_number, "area " + it.code + " has no area once made valid",
                                           "feature");
                    }
                    if (repaired.was_repaired) ++ctx.summary.repaired_geometries;
                    if (auto id = ctx.find_area(source.vintage, source.level, it.code)) {
                        update.bind(1, it.name).bind(2, it.name).bind_blob(3, repaired.wkb.data(), repaired.wkb.size());
                        update.bind(4, *id).run();
                    } else {
                        insert.bind(1, source.level).bind(2, source.vintage).bind(3, it.code).bind(4, it.name);
                        insert.bind_blob(5, repaired.wkb.data(), repaired.wkb.size()).run();
                        ctx.remember_area(source.vintage, source.level, it.code, ctx.db().last_insert_rowid());
                    }
                    ++stored;
                    if (stored % 10000 == 0) {
                        ctx.say("  " + source.path + ": " + std::to_string(stored) +
                            (total > 0 ? " of " + std::to_string(total) : "") + " features");
                    }
                }
            }
        } catch (...) {
            writer_failure = std::current_exception();
            queue.close(); // the reader stops at its next push
        }
    });

    try {
        std::unordered_map<std::string, long> seen; // code -> feature number, to name both sides of a duplicate
        long feature_number = 0;
        std::vector<item> batch;
        layer->ResetReading();
        for (auto& feature : *layer) {
            ++feature_number;
            const std::string code = trim(feature->GetFieldAsString(code_field));
            if (code.empty()) throw ingest_error(source.path, feature_number, "empty area code", "feature");
            if (!valid_utf8(code)) throw ingest_error(source.path, feature_number, "code is not valid UTF-8", "feature");
            const auto [it, inserted] = seen.emplace(code, feature_number);
            if (!inserted) {
                throw ingest_error(source.path, feature_number,
                                   "area " + code + " appears again (first at feature " + std::to_string(it->second) + ")",
                                   "feature");
            }
            std::string name = name_field >= 0 ? trim(feature->GetFieldAsString(name_field)) : std::string();
            if (!valid_utf8(name)) throw ingest_error(source.path, feature_number, "name is not valid UTF-8", "feature");
            OGRGeometry* geometry = feature->GetGeometryRef();
            if (!geometry || geometry->IsEmpty()) {
                throw ingest_error(source.path, feature_number, "area " + code + " has no geometry", "feature");
            }
            const auto type = wkbFlatten(geometry->getGeometryType());
            if (type != wkbPolygon && type != wkbMultiPolygon) {
                throw ingest_error(source.path, feature_number,
                                   "area " + code + " is a " + geometry->getGeometryName() + ", not a polygon", "feature");
            }
            if (transform && geometry->transform(transform.get()) != OGRERR_NONE) {
                throw ingest_error(source.path, feature_number, "area " + code + " cannot be transformed to EPSG:4326",
                                   "feature");
            }
            OGREnvelope envelope;
            geometry->getEnvelope(&envelope);
            if (!lonlat_ok(envelope)) {
                throw ingest_error(source.path, feature_number,
                                   "area " + code + " has coordinates outside longitude/latitude range (wrong or missing "
                                   "CRS? set \"srs\", e.g. \"EPSG:27700\")",
                                   "feature");
            }
            geometry->flattenTo2D();
            item next{feature_number, code, std::move(name), {}};
            next.wkb.resize(static_cast<std::size_t>(geometry->WkbSize()));
            geometry->exportToWkb(wkbNDR, next.wkb.data(), wkbVariantIso);
            batch.push_back(std::move(next));
            if (batch.size() == 512) {
                if (!queue.push(std::move(batch))) break; // the writer failed; its error is rethrown below
                batch.clear();
            }
        }
        if (!batch.empty()) queue.push(std::move(batch));
    } catch (...) {
        queue.close();
        writer.join();
        throw;
    }
    queue.close();
    writer.join();
    if (writer_failure) std::rethrow_exception(writer_failure);
    if (stored == 0) throw ingest_error(source.path, 0, "no features", "feature");
    ctx.summary.features += stored;
    ctx.say("boundaries " + source.path + ": " + std::to_string(stored) + " " + source.level + " " +
        std::to_string(source.vintage) + " areas");
}

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
        if (level != "lad" && year != v) continue;
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
    statement link(ctx.db(), "INSERT OR IGNORE INTO area_ancestors (area_id, ancestor_id) VALUES (?, ?)");
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
    statement insert(ctx.db(), "INSERT OR REPLACE INTO denominators (area_id, measure, value, source) VALUES (?, ?, ?, ?)");
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

void derive_boundaries(ingest_context& ctx, const derived_boundary& d) {
    std::map<std::int64_t, std::vector<std::string>> members; // parent id -> member WKBs
    statement s(ctx.db(), "SELECT p.id, AsBinary(c.geom) FROM areas c JOIN area_ancestors a ON a.area_id = c.id "
                      "JOIN areas p ON p.id = a.ancestor_id WHERE c.level = ? AND c.vintage = ? AND p.level = ? "
                      "AND c.geom IS NOT NULL");
    s.bind(1, d.from).bind(2, d.vintage).bind(3, d.level);
    while (s.step()) members[s.int64(0)].emplace_back(s.blob(1));
    if (members.empty()) {
        throw ingest_error(ctx.db().path(), 0, "cannot derive " + d.level + " " + std::to_string(d.vintage) + " boundaries: no " +
                                             d.from + " boundaries linked to a " + d.level + " by a lookup");
    }
    statement update(ctx.db(), "UPDATE areas SET geom = GeomFromWKB(?, 4326) WHERE id = ?");
    for (const auto& [parent, wkbs] : members) {
        std::vector<std::string_view> parts(wkbs.begin(), wkbs.end());
        const std::string dissolved = geo::union_wkb(parts);
        const auto fixed = geo::make_valid_multipolygon(reinterpret_cast<const unsigned char*>(dissolved.data()), dissolved.size());
        update.bind_blob(1, fixed.wkb.data(), fixed.wkb.size()).bind(2, parent).run();
    }
    ctx.summary.derived_boundaries += static_cast<std::int64_t>(members.size());
    ctx.say("derived " + std::to_string(members.size()) + " " + d.level + " " + std::to_string(d.vintage) +
        " boundaries by dissolving " + d.from);
}

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

    // Replace atomically: the old release disappears in the same transaction that brings the new one.
    for (const char* sql : {"DELETE FROM observations WHERE dataset_id = ?", "DELETE FROM measures WHERE dataset_id = ?",
                            "DELETE FROM datasets WHERE id = ?"}) {
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
    ctx.summary.observation_rows += static_cast<std::int64_t>(cells.size());
    ctx.summary.skipped_rows += skipped;
    if (skipped > 0) {
        ctx.summary.notes.push_back(source.id + ": " + std::to_string(skipped) + " rows of undeclared measures skipped");
    }
    ctx.summary.datasets.push_back(source.id + " (release " + std::to_string(ctx.release) + ")");
    ctx.say("dataset " + source.id + ": " + std::to_string(cells.size()) + " cells, release " + std::to_string(ctx.release));
}

void drop_spatial_index(database& db) {
    {
        // Scoped: a statement still pending on sqlite_master makes the DROP below fail with "table is locked".
        statement s(db, "SELECT 1 FROM sqlite_master WHERE name = 'idx_areas_geom'");
        if (!s.step()) return;
    }
    db.exec("SELECT DisableSpatialIndex('areas', 'geom')");
    db.exec("DROP TABLE IF EXISTS idx_areas_geom");
}

void create_spatial_index(database& db) {
    // The R*Tree lets GIS tools (QGIS, ogr2ogr -spat) open the store as a SpatiaLite database with an index.
    db.exec("SELECT CreateSpatialIndex('areas', 'geom')");
}

std::string utc_now() {
    const std::time_t t = std::time(nullptr);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buffer[32];
    std::strftime(buffer, sizeof buffer, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buffer;
}

} // namespace

ingest_summary ingest_manifest(const std::string& manifest_path, const std::string& db_path,
                               const progress_callback& progress) {
    // All checks on the manifest before the store is touched.
    const ingest::manifest m = ingest::parse_manifest(manifest_path);
    GDALAllRegister();
    database db = create_or_open_store(db_path);
    transaction tx(db);
    // SpatiaLite keeps its R*Tree current with a trigger per inserted row; rebuilding it once at the end is
    // several times faster for a national file (ogr2ogr defers its index the same way).
    drop_spatial_index(db);
    ingest::ingest_context ctx(db, progress);
    for (const auto& b : m.boundaries) ingest_boundaries(ctx, b);
    for (const auto& l : m.lookups) ingest_lookup(ctx, l);
    for (const auto& d : m.denominators) ingest_denominators(ctx, d);
    for (const auto& d : m.derived) derive_boundaries(ctx, d);
    const std::int64_t release = data_release(db) + 1;
    ctx.release = release;
    ctx.ingested_at = utc_now();
    for (const auto& d : m.datasets) ingest_dataset(ctx, d);
    {
        statement s(db, "UPDATE meta SET value = ? WHERE key = 'release'");
        s.bind(1, std::to_string(release)).run();
    }
    // A hint for users: areas without a household count get no rate. An area whose member areas have counts
    // (a LAD over counted LSOAs) is served rates from its members' households, so it is not named here: saying
    // "no rates" for it would be false.
    {
        statement s(db, "SELECT a.level, a.vintage, count(*) FROM areas a WHERE a.geom IS NOT NULL AND NOT EXISTS "
                        "(SELECT 1 FROM denominators d WHERE d.area_id = a.id AND d.measure = 'households') "
                        "AND NOT EXISTS (SELECT 1 FROM area_ancestors aa JOIN denominators d ON d.area_id = aa.area_id "
                        "WHERE aa.ancestor_id = a.id AND d.measure = 'households') "
                        "GROUP BY a.level, a.vintage");
        while (s.step()) {
            ctx.summary.notes.push_back(std::to_string(s.int64(2)) + " " + s.text(0) + " " + std::to_string(s.int64(1)) +
                                       " areas with a boundary have no household count (no rates for them)");
        }
    }
    // The last two phases are named too, so a crash test (tools/crash_test.sh) can tell where its kill landed.
    if (progress) progress("rebuilding the spatial index");
    create_spatial_index(db);
    if (progress) progress("committing release " + std::to_string(release));
    tx.commit();
    ctx.summary.release = release;
    return ctx.summary;
}

} // namespace smallarea::data
