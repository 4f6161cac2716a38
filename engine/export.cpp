#include "engine/export.hpp"
#include "core/split.hpp"

#include "engine/scratch_dir.hpp"

#include "core/error.hpp"
#include "core/utc.hpp"
#include "data/ogc_queries.hpp"
#include "data/postcodes.hpp"
#include "geo/vector_writer.hpp"
#include "geo/geometry_ops.hpp"
#include "geo/grid_ref.hpp"
#include "engine/encode.hpp"
#include "engine/encode_xlsx.hpp"
#include "engine/ogc.hpp"

#include <algorithm>
#include <cmath>
#include <cctype>
#include <cstdio>
#include <filesystem>
#include <limits>
#include <map>
#include <unordered_map>
#include <fstream>
#include <sstream>
#include <stdlib.h>

namespace smallarea::engine {

using nlohmann::json;

std::string safe_name(const std::string& text) {
    std::string out;
    for (const char c : text) {
        const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
        out += ok ? c : '_';
    }
    return out;
}

const char* content_type_of(const std::string& format) {
    if (format == "csv") return "text/csv; charset=utf-8";
    if (format == "xlsx") return "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
    if (format == "geojson") return "application/geo+json";
    return "application/geopackage+sqlite3";
}

namespace {

std::string read_file_bytes(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw error("ExportFailed", "cannot read back " + path);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}


/// One feature of a vector export: id, WKB (EPSG:4326; empty = no geometry), attribute values in field order.
struct plain_feature {
    std::string id;
    std::string wkb;
    std::vector<geo::field_value> values;
};

/// Features as GeoJSON (meta as foreign members of the FeatureCollection) or GeoPackage (meta as layer metadata,
/// description as the layer description).
export_file write_features(const std::vector<geo::vector_field>& fields, std::vector<plain_feature> features,
                           const std::string& format, const std::string& layer_name, const json& meta,
                           const std::string& description) {
    export_file out;
    out.content_type = content_type_of(format);
    out.features = features.size();
    if (format == "geojson") {
        // "name" and "description" are the members GDAL (and so QGIS) reads as the layer's name and description.
        std::string text = R"({"type":"FeatureCollection","name":)" + json(layer_name).dump();
        if (!description.empty()) text += R"(,"description":)" + json(description).dump();
        for (const auto& [key, value] : meta.items()) text += "," + json(key).dump() + ":" + value.dump();
        text += R"(,"features":[)";
        bool first = true;
        for (const auto& f : features) {
            if (!first) text += ',';
            first = false;
            append_feature(text, f.id, f.wkb, properties_json(fields, f.values));
            text += '\n';
        }
        text += "]}\n";
        out.bytes = std::move(text);
        return out;
    }
    geo::vector_layer layer;
    layer.name = layer_name;
    layer.title = meta.contains("file_title") ? meta["file_title"].get<std::string>() : layer_name;
    layer.description = description;
    for (const auto& [key, value] : meta.items()) {
        layer.metadata[key] = value.is_string() ? value.get<std::string>() : value.dump();
    }
    layer.fields = fields;
    layer.features.reserve(features.size());
    for (auto& f : features) layer.features.push_back(geo::vector_feature{std::move(f.wkb), std::move(f.values)});
    scratch_dir dir;
    const std::string path = dir.path() + "/export.gpkg";
    geo::write_vector_file(path, "GPKG", layer);
    out.bytes = read_file_bytes(path);
    return out;
}

/// Features of the given areas (with their rows, -1 = none) as GeoJSON or GeoPackage.
export_file vector_export(const snapshot& s, data::database& db, const feature_schema& schema,
                          const std::vector<std::pair<std::size_t, long>>& features, const std::string& format,
                          const std::string& layer_name, const json& meta, const std::string& description) {
    std::vector<std::int64_t> ids;
    ids.reserve(features.size());
    for (const auto& f : features) ids.push_back(s.areas()[f.first].id);
    auto geometries = data::load_geometry_map(db, ids);
    std::vector<plain_feature> plain;
    plain.reserve(features.size());
    for (const auto& [area, row] : features) {
        plain_feature f;
        f.id = s.areas()[area].code;
        if (const auto it = geometries.find(s.areas()[area].id); it != geometries.end()) f.wkb = std::move(it->second);
        f.values = schema.values(area, row);
        plain.push_back(std::move(f));
    }
    return write_features(schema.fields(), std::move(plain), format, layer_name, meta, description);
}

/// The disclosure statement of a table's files: foreign members of a GeoJSON, metadata of a GeoPackage.
json table_meta(const table_result& t) {
    const auto& d = *t.query.dataset;
    return json{{"dataset", d.id},
                {"title", d.title},
                {"file_title", d.title + ": " + t.query.measure->title + ", " + period_name(t.query.period) + ", " +
                                   t.query.level + " " + std::to_string(t.query.vintage)},
                {"measure", t.query.measure->id},
                {"period", t.query.period},
                {"period_name", period_name(t.query.period)},
                {"period_start", period_start(t.query.period)},
                {"classification_label", classification_label(d)},
                {"licence_url", licence_url(d.licence)},
                {"level", t.query.level},
                {"vintage", t.query.vintage},
                {"classification", disclosure::to_string(d.policy.classification)},
                {"disclosure", disclosure_json(d)},
                {"uncertainty", uncertainty_note(t)},
                {"publisher", d.publisher},
                {"licence", d.licence},
                {"attribution", d.attribution}};
}

std::string table_description(const table_result& t) {
    const auto& d = *t.query.dataset;
    return classification_label(d) + ". " +
           disclosure::describe(d.policy) + " " + uncertainty_note(t);
}

void check_size(std::size_t rows, std::size_t max_rows) {
    if (max_rows > 0 && rows > max_rows) {
        throw too_large("TooLarge", "the export has " + std::to_string(rows) + " rows; the limit is " + std::to_string(max_rows) +
                                        " (narrow it with within= or a coarser level, or use `smallarea export`)");
    }
}

} // namespace

std::vector<std::string> split_ids(const std::string& text) { return split_list(text, empty_items::keep); }

export_file layout_file(const table_result& t, const row_layout& layout, const file_options& options, const std::string& format,
                        const std::string& filename, std::size_t features) {
    export_file out;
    out.bytes = format == "csv" ? layout_csv(t, layout, options) : layout_xlsx(t, layout);
    out.content_type = content_type_of(format);
    out.filename = filename;
    if (format == "csv") out.csv_metadata = csv_metadata(t, layout, options, filename);
    out.features = features;
    return out;
}

const std::string& check_export_format(const std::string& format) {
    static const std::vector<std::string> formats{"csv", "xlsx", "geojson", "gpkg"};
    for (const auto& f : formats) {
        if (f == format) return f;
    }
    throw unsupported_format("UnsupportedFormat", "format must be csv, xlsx, geojson or gpkg");
}

namespace {

std::string table_file_stem(const snapshot& s, const table_query& q, const std::string& periods) {
    return q.dataset->id + "_" + q.measure->id + "_" + periods + "_" + q.level + (q.within ? "_" + s.areas()[*q.within].code : "");
}

/// periods=: one row per area, one column set per period, each period's figures exactly its own protected table's
/// (the same cells a one-period request gives), so the wide file tells nothing the single periods do not.
export_file export_period_columns(const snapshot& s, data::database& db, const table_query& q, const std::string& format,
                                  std::size_t max_rows, const file_options& options) {
    if (format != "csv" && format != "xlsx") {
        throw bad_request("InvalidParameter", "periods= (one column per period) is for CSV and XLSX files; GIS files have "
                                              "one period per layer (OGC API: the all-periods collection)");
    }
    std::vector<table_result> tables;
    tables.reserve(options.period_columns.size());
    for (const auto& p : options.period_columns) {
        auto qp = q;
        qp.period = p;
        tables.push_back(s.table(db, qp));
    }
    const auto& last = tables.back();
    check_size(last.table.rows().size(), max_rows);
    std::vector<std::vector<std::int32_t>> row_of(tables.size());
    for (std::size_t k = 0; k < tables.size(); ++k) row_of[k] = rows_by_area(tables[k], s.areas().size());
    auto layout = table_layout(last, s, options.totals);
    layout.column_periods = options.period_columns;
    layout.first_period = options.period_columns.front();
    layout.last_period = options.period_columns.back();
    for (auto& line : layout.rows) {
        if (line.row == &last.table.total()) {
            for (const auto& t : tables) line.period_rows.push_back(&t.table.total());
            continue;
        }
        const auto area = last.row_areas[static_cast<std::size_t>(line.row - last.table.rows().data())];
        for (std::size_t k = 0; k < tables.size(); ++k) {
            const auto row = row_of[k][area];
            line.period_rows.push_back(row >= 0 ? &tables[k].table.rows()[static_cast<std::size_t>(row)] : nullptr);
        }
    }
    const std::string stem = table_file_stem(s, q, layout.first_period + "_to_" + layout.last_period);
    return layout_file(last, layout, options, format, safe_name(stem) + "_" + utc_now_text(utc_precision::date) + "." + format,
                       last.table.rows().size());
}

} // namespace

export_file export_table(const snapshot& s, data::database& db, const table_query& q, const std::string& format,
                         std::size_t max_rows, const file_options& options) {
    check_export_format(format);
    if (!options.period_columns.empty()) return export_period_columns(s, db, q, format, max_rows, options);
    const auto result = s.table(db, q);
    check_size(result.table.rows().size(), max_rows);
    const std::string stem = table_file_stem(s, q, q.period);
    const std::string filename = safe_name(stem) + "_" + utc_now_text(utc_precision::date) + "." + format;
    if (format == "csv" || format == "xlsx") {
        return layout_file(result, table_layout(result, s, options.totals), options, format, filename, result.table.rows().size());
    }
    feature_schema schema(s, q.level, &result);
    std::vector<std::pair<std::size_t, long>> features;
    for (std::size_t i = 0; i < result.row_areas.size(); ++i) features.emplace_back(result.row_areas[i], static_cast<long>(i));
    json meta = table_meta(result);
    if (q.within) meta["within"] = s.areas()[*q.within].code;
    const std::string description = table_description(result);
    auto out = vector_export(s, db, schema, features, format, safe_name(stem), meta, description);
    out.filename = filename;
    return out;
}

export_file export_areas(const snapshot& s, data::database& db, const std::string& level, const std::string& vintage_text,
                         const std::string& within_code, const std::string& format, std::size_t max_rows) {
    check_export_format(format);
    if (format == "csv" || format == "xlsx") {
        throw unsupported_format("UnsupportedFormat", "areas without a dataset export as geojson or gpkg (CSV: /api/areas?format=csv)");
    }
    if (level.empty()) throw bad_request("MissingParameter", "level is required when no dataset is given");
    require_level(level);
    int vintage = 0;
    if (vintage_text.empty()) {
        vintage = s.default_vintage(level);
    } else {
        try {
            std::size_t used = 0;
            vintage = std::stoi(vintage_text, &used);
            if (used != vintage_text.size()) throw std::invalid_argument("");
        } catch (const std::exception&) {
            throw bad_request("InvalidParameter", "vintage must be a year");
        }
    }
    std::optional<std::size_t> within;
    if (!within_code.empty()) {
        within = s.find_area(within_code, vintage);
        if (!within) throw not_found("UnknownArea", "no area \"" + within_code + "\"");
    }
    const auto list = s.areas_of(level, vintage, within);
    check_size(list.size(), max_rows);
    if (list.empty() && !within) throw not_found("UnknownLevel", "no " + level + " " + std::to_string(vintage) + " areas in this store");
    feature_schema schema(s, level, nullptr);
    std::vector<std::pair<std::size_t, long>> features;
    for (const auto i : list) features.emplace_back(i, -1);
    const std::string stem = "areas_" + level + "_" + std::to_string(vintage) + (within ? "_" + s.areas()[*within].code : "");
    json meta{{"level", level}, {"vintage", vintage}, {"classification", "published"},
              {"file_title", "Boundaries: " + level + " " + std::to_string(vintage) + " with Census households"},
              {"source", "ONS boundaries and Census households (Open Government Licence v3.0)"}};
    auto out = vector_export(s, db, schema, features, format, safe_name(stem), meta, "Boundaries with Census households");
    out.filename = safe_name(stem) + "_" + utc_now_text(utc_precision::date) + "." + format;
    return out;
}

export_file export_bespoke(const snapshot& s, data::database& db, const export_request& r) {
    const auto& format = check_export_format(r.format);
    if (r.ids.empty()) throw bad_request("MissingParameter", "level=bespoke needs ids=ID,ID,... (bespoke area ids)");
    if (!r.within.empty()) throw bad_request("InvalidParameter", "level=bespoke takes ids, not within");
    const auto ids = split_ids(r.ids);
    if (ids.size() > 100) throw bad_request("InvalidParameter", "at most 100 bespoke ids");
    const bool vector = format == "geojson" || format == "gpkg";
    if (r.dataset.empty()) {
        if (!r.measure.empty() || !r.period.empty()) throw bad_request("MissingParameter", "measure and period need a dataset");
        if (!vector) {
            throw unsupported_format("UnsupportedFormat", "bespoke areas without a dataset export as geojson or gpkg "
                                                          "(their metadata: /api/bespoke/{id})");
        }
    }
    // Validated before the bespoke areas are read, so a bad dataset/measure/period is its own error.
    std::optional<table_query> q;
    if (!r.dataset.empty()) q = s.make_query(r.dataset, r.measure, r.period, "", r.vintage, "");
    const auto items = load_bespoke_areas(s, db, ids, vector, r.bespoke);
    check_size(items.size(), r.max_rows);
    std::string id_part;
    if (items.size() <= 3) {
        for (const auto& b : items) id_part += (id_part.empty() ? "" : "-") + b.record.id;
    } else {
        id_part = std::to_string(items.size()) + "-areas";
    }
    std::vector<const bespoke_area*> pointers;
    for (const auto& b : items) pointers.push_back(&b);

    if (!q) {
        const std::string stem = safe_name("bespoke_" + id_part);
        bespoke_schema schema(s, nullptr);
        std::vector<plain_feature> features;
        for (const auto& b : items) features.push_back({b.record.id, bespoke_outline(db, s, b), schema.values(b, 0)});
        json meta{{"level", "bespoke"}, {"classification", "published"},
                  {"source", "bespoke areas of ONS boundaries with Census households (Open Government Licence v3.0)"}};
        auto out = write_features(schema.fields(), std::move(features), format, stem, meta,
                                  "Bespoke areas: dissolved outlines with Census households");
        out.filename = stem + "_" + utc_now_text(utc_precision::date) + "." + format;
        return out;
    }
    add_bespoke_groups(*q, pointers);
    // The code path of /api/table?level=bespoke: one disclosure::aggregate row per bespoke area, summing the
    // protected cells its members cover (LevelTooFine / InvalidVintage when it cannot without apportioning).
    const auto result = s.table(db, *q);
    const auto& d = *q->dataset;
    const std::string stem = safe_name(d.id + "_" + q->measure->id + "_" + q->period + "_bespoke_" + id_part);
    const std::string filename = stem + "_" + utc_now_text(utc_precision::date) + "." + format;
    if (!vector) {
        row_layout layout;
        layout.label_header = {"code", "name", "member_level", "members"};
        for (std::size_t i = 0; i < items.size(); ++i) {
            layout.rows.push_back({{items[i].record.id, items[i].record.name, items[i].record.level, static_cast<std::int64_t>(items[i].members.size())},
                                   &result.table.rows()[i]});
        }
        layout.geography = "bespoke areas (code = bespoke area id) of " + d.level + " " + std::to_string(d.vintage) +
                           " cells: each row is the sum of its members' protected cells";
        return layout_file(result, layout, r.options, format, filename, items.size());
    }
    bespoke_schema schema(s, &result);
    std::vector<plain_feature> features;
    for (std::size_t i = 0; i < items.size(); ++i) features.push_back({items[i].record.id, bespoke_outline(db, s, items[i]), schema.values(items[i], i)});
    json meta = table_meta(result);
    meta["level"] = "bespoke";
    meta["file_title"] = d.title + ": " + q->measure->title + ", " + period_name(q->period) + ", bespoke areas";
    meta["aggregation"] = "each bespoke area's value is the sum of its members' protected cells";
    auto out = write_features(schema.fields(), std::move(features), format, stem, meta, table_description(result));
    out.filename = filename;
    return out;
}

namespace {

/// Consecutive picked rows whose intervals overlap share a band: their order is within the rounding error.
void mark_bands(target_selection& sel, bool percent) {
    for (std::size_t k = 0; k < sel.picked.size(); ++k) {
        const bool tied = k + 1 < sel.picked.size() && sel.low[k] <= sel.high[k + 1];
        sel.tied_with_next.push_back(tied);
        sel.band.push_back(k == 0 ? 1 : sel.band[k - 1] + (sel.tied_with_next[k - 1] ? 0 : 1));
    }
    sel.bands = sel.band.empty() ? 0 : sel.band.back();
    if (sel.bands > 0 && static_cast<std::size_t>(sel.bands) < sel.picked.size()) {
        sel.ties_note = "the " + std::to_string(sel.picked.size()) + " areas fall into " + std::to_string(sel.bands) +
                        " band(s): areas in one band have overlapping intervals given the rounding (" +
                        (percent ? std::string("whole percent +- 0.5") : std::string("value +- uncertainty per 100 households")) +
                        "), so their order within the band is not a real difference (it follows the rate, then the code)";
    }
}

} // namespace

void check_household_band(long min, long max) {
    if (min > max) throw bad_request("InvalidParameter", "min_households is above max_households");
}

target_selection rank_targets(const table_result& t, long lo, long hi, long limit, const std::string& within) {
    check_household_band(lo, hi);
    const auto& d = *t.query.dataset;
    const bool percent = t.table.kind() == disclosure::measure_kind::percent_only;
    target_selection sel;
    sel.min_households = lo;
    sel.max_households = hi;
    sel.limit = limit;
    sel.within = within;
    for (std::size_t i = 0; i < t.table.rows().size(); ++i) {
        const auto& r = t.table.rows()[i];
        if (!r.households || *r.households < lo || *r.households > hi) continue;
        if (percent ? !r.percent : !r.rate_per_100_households) continue;
        sel.picked.push_back(i);
    }
    auto key = [&](std::size_t i) {
        const auto& r = t.table.rows()[i];
        return percent ? static_cast<double>(*r.percent) : *r.rate_per_100_households;
    };
    // Rows are in code order, so a stable sort breaks ties by code.
    std::stable_sort(sel.picked.begin(), sel.picked.end(), [&](std::size_t a, std::size_t b) { return key(a) > key(b); });
    sel.eligible = sel.picked.size();
    if (limit >= 0 && sel.picked.size() > static_cast<std::size_t>(limit)) sel.picked.resize(static_cast<std::size_t>(limit));
    if (data::level_rank(d.level) > data::level_rank("oa")) {
        sel.note = "dataset " + d.id + " is published at " + d.level + " level only, so " + d.level +
                   "s are ranked (an LSOA is ~650 households); its counts are never apportioned down to OAs";
    }
    sel.ranked_by = percent ? "percent (a percentage-only measure is ranked by its percentage)"
                            : "rate per 100 households of the protected value";
    for (const auto i : sel.picked) {
        const auto& r = t.table.rows()[i];
        if (percent) {
            sel.low.push_back(static_cast<double>(*r.percent) - 0.5);
            sel.high.push_back(static_cast<double>(*r.percent) + 0.5);
        } else {
            // The true count lies in value +- uncertainty, so the true rate lies in that range per household.
            const double h = static_cast<double>(r.rate_households.value_or(*r.households));
            const double v = static_cast<double>(*r.value);
            sel.low.push_back(std::round(std::max(0.0, v - r.uncertainty) * 10000.0 / h) / 100.0);
            sel.high.push_back(std::round((v + r.uncertainty) * 10000.0 / h) / 100.0);
        }
    }
    mark_bands(sel, percent);
    return sel;
}

target_selection select_targets(const snapshot& s, const table_result& t, long lo, long hi, long limit, const std::string& within) {
    const auto& d = *t.query.dataset;
    refuse_crosswalked(t.query, "targets");
    if (data::level_rank(d.level) <= data::level_rank("oa")) return rank_targets(t, lo, hi, limit, within);
    check_household_band(lo, hi);
    // The OAs under each row's area, through the lookups (one pass over the areas, not one per row).
    const auto row_of = rows_by_area(t, s.areas().size());
    std::vector<std::vector<std::size_t>> oas_of_row(t.row_areas.size());
    bool any_oa = false;
    for (std::size_t i = 0; i < s.areas().size(); ++i) {
        const auto& a = s.areas()[i];
        if (a.level != "oa" || a.vintage != d.vintage) continue;
        const auto parent = s.ancestor_at(i, d.level);
        if (!parent || row_of[*parent] < 0) continue;
        any_oa = true;
        oas_of_row[static_cast<std::size_t>(row_of[*parent])].push_back(i);
    }
    if (!any_oa) return rank_targets(t, lo, hi, limit, within);
    const bool percent = t.table.kind() == disclosure::measure_kind::percent_only;
    // Every area with a figure, ranked; the household band applies to the patches, not to the areas (an LSOA
    // has ~650 households, so a 100-150 band on LSOAs would find none).
    const auto areas = rank_targets(t, std::numeric_limits<long>::min(), std::numeric_limits<long>::max(), -1, within);
    target_selection sel;
    sel.min_households = lo;
    sel.max_households = hi;
    sel.limit = limit;
    sel.within = within;
    const std::string level_name = level_acronym(d.level);
    sel.ranked_by = areas.ranked_by + " of the " + level_name + " each patch lies in";
    for (std::size_t k = 0; k < areas.picked.size(); ++k) {
        auto& oas = oas_of_row[areas.picked[k]];
        std::sort(oas.begin(), oas.end(), [&](std::size_t x, std::size_t y) { return s.areas()[x].code < s.areas()[y].code; });
        for (const auto oa : oas) {
            const auto& h = s.areas()[oa].denominators;
            const auto households = h.find("households");
            if (households == h.end() || households->second < lo || households->second > hi) continue;
            ++sel.eligible;
            if (limit >= 0 && sel.picked.size() >= static_cast<std::size_t>(limit)) continue;
            sel.picked.push_back(areas.picked[k]);
            sel.patch_areas.push_back(oa);
            sel.low.push_back(areas.low[k]);
            sel.high.push_back(areas.high[k]);
        }
    }
    sel.note = "dataset " + d.id + " is published at " + level_name + " level only: " + level_name + "s are ranked by their " +
               "protected figure and their Output Areas (~125 households) with " + std::to_string(lo) + " to " +
               std::to_string(hi) + " households are listed as the patches to walk; each patch carries the figure of its " +
               level_name + ", the value for the whole " + level_name + ", never apportioned to the Output Area";
    mark_bands(sel, percent);
    return sel;
}

std::string level_acronym(std::string level) {
    for (auto& c : level) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return level;
}

namespace {

/// The most frequent non-empty value (ties: the first in sorted order), or empty.
std::string most_common(const std::map<std::string, std::int64_t>& counts) {
    std::string best;
    std::int64_t n = 0;
    for (const auto& [value, count] : counts) {
        if (!value.empty() && count > n) {
            best = value;
            n = count;
        }
    }
    return best;
}

/// Fills each place's postcodes (data::load_postcodes_of) from its OA, or from every OA inside it for a coarser area.
void add_target_postcodes(data::database& db, const snapshot& s, std::vector<target_place>& places) {
    if (places.empty() || data::count_postcodes(db) == 0) return;
    // A coarser area's OAs: one pass over the snapshot's OAs for all rows (a district's list has many LSOAs).
    std::unordered_map<std::int64_t, std::vector<std::int64_t>> members;
    for (const auto& p : places) {
        const auto& a = s.areas()[p.area];
        if (a.level != "oa") members[a.id];
    }
    if (!members.empty()) {
        for (const auto& o : s.areas()) {
            if (o.level != "oa") continue;
            for (const auto ancestor : o.ancestors) {
                if (const auto it = members.find(ancestor); it != members.end()) it->second.push_back(o.id);
            }
        }
    }
    std::vector<std::vector<std::int64_t>> oas(places.size());
    std::vector<std::int64_t> ids;
    for (std::size_t k = 0; k < places.size(); ++k) {
        const auto& a = s.areas()[places[k].area];
        oas[k] = a.level == "oa" ? std::vector<std::int64_t>{a.id} : members[a.id];
        ids.insert(ids.end(), oas[k].begin(), oas[k].end());
    }
    const auto postcodes = data::load_postcodes_of(db, ids);
    for (std::size_t k = 0; k < places.size(); ++k) {
        auto& p = places[k];
        const bool coarser = s.areas()[p.area].level != "oa";
        std::vector<std::string> live;
        std::map<std::string, std::int64_t> wards, hoods;
        std::map<std::string, std::string> ward_names;
        for (const auto id : oas[k]) {
            const auto it = postcodes.find(id);
            if (it == postcodes.end()) continue;
            for (const auto& pc : it->second) {
                if (!pc.live) continue;
                live.push_back(pc.postcode);
                ++wards[pc.ward_code];
                ward_names.emplace(pc.ward_code, pc.ward_name);
                ++hoods[pc.msoa_name];
            }
        }
        std::sort(live.begin(), live.end());
        p.postcodes_live = static_cast<std::int64_t>(live.size());
        if (coarser && live.size() > target_postcodes_cap) {
            live.resize(target_postcodes_cap);
            p.postcodes_truncated = true;
        }
        p.postcodes = std::move(live);
        p.ward_code = most_common(wards);
        p.ward_name = p.ward_code.empty() ? std::string() : ward_names[p.ward_code];
        p.neighbourhood = most_common(hoods);
    }
}

} // namespace

std::vector<target_place> target_places(data::database& db, const snapshot& s, const table_result& t, const target_selection& sel,
                                        std::vector<std::string>* outline_wkbs) {
    std::vector<target_place> out;
    std::vector<std::int64_t> ids;
    for (std::size_t k = 0; k < sel.picked.size(); ++k) {
        target_place p;
        p.figure_area = t.row_areas[sel.picked[k]];
        p.area = sel.patch_areas.empty() ? p.figure_area : sel.patch_areas[k];
        const auto& a = s.areas()[p.area];
        if (const auto h = a.denominators.find("households"); h != a.denominators.end()) p.households = h->second;
        ids.push_back(a.id);
        out.push_back(std::move(p));
    }
    const auto geometries = data::load_geometry_map(db, ids);
    for (auto& p : out) {
        const auto g = geometries.find(s.areas()[p.area].id);
        if (g == geometries.end()) continue;
        p.bbox = geo::wkb_bounds(g->second);
        const auto [lon, lat] = geo::point_on_surface(reinterpret_cast<const unsigned char*>(g->second.data()), g->second.size());
        p.lon = std::round(lon * 1e6) / 1e6; // ~0.1 m: more would be false precision
        p.lat = std::round(lat * 1e6) / 1e6;
        if (const auto grid = geo::to_national_grid(lon, lat)) {
            p.easting = std::round(grid->easting);
            p.northing = std::round(grid->northing);
            p.grid_ref = geo::os_grid_reference({*p.easting, *p.northing}, 8); // the square of the metres shown
        }
        if (outline_wkbs) outline_wkbs->push_back(g->second);
    }
    add_target_postcodes(db, s, out);
    return out;
}

export_file export_targets(data::database& db, const snapshot& s, const table_result& t, const target_selection& sel, const std::string& format,
                           const file_options& options) {
    if (format != "csv" && format != "xlsx") {
        throw unsupported_format("UnsupportedFormat", "targets export as json, csv or xlsx");
    }
    const auto& d = *t.query.dataset;
    row_layout layout;
    const bool percent = t.table.kind() == disclosure::measure_kind::percent_only;
    const bool patches = !sel.patch_areas.empty();
    const auto places = target_places(db, s, t, sel);
    // The coarser levels any row lies in, finest first, for the place-name columns.
    std::vector<std::string> place_levels;
    for (const auto& level : data::known_levels()) {
        const bool any = std::any_of(places.begin(), places.end(), [&](const target_place& p) {
            return data::level_rank(level) > data::level_rank(s.areas()[p.area].level) && s.ancestor_at(p.area, level);
        });
        if (any) place_levels.push_back(level);
    }
    layout.label_header = {"rank", "band", "tied_with_next", "code", "name", "level", "area_households"};
    if (patches) layout.label_header.insert(layout.label_header.end(), {"figure_for", "figure_area_code", "figure_area_name"});
    layout.label_header.insert(layout.label_header.end(), {percent ? "percent_low" : "rate_low", percent ? "percent_high" : "rate_high"});
    for (const auto& level : place_levels) {
        layout.label_header.push_back(level + "_code");
        layout.label_header.push_back(level + "_name");
    }
    layout.label_header.insert(layout.label_header.end(), {"neighbourhood", "ward_code", "ward_name"});
    layout.label_header.insert(layout.label_header.end(), {"lat", "lon", "easting", "northing", "grid_ref"});
    layout.label_header.insert(layout.label_header.end(), {"postcodes_live", "postcodes", "postcodes_truncated"});
    auto degrees = [](const std::optional<double>& v) -> layout_label {
        return v ? layout_label{degrees_label{*v}} : layout_label{std::string()};
    };
    auto metres = [](const std::optional<double>& v) -> layout_label {
        return v ? layout_label{static_cast<std::int64_t>(*v)} : layout_label{std::string()};
    };
    for (std::size_t k = 0; k < sel.picked.size(); ++k) {
        const auto& p = places[k];
        const auto& a = s.areas()[p.area];
        layout_row line{{static_cast<std::int64_t>(k + 1), sel.band[k], std::string(sel.tied_with_next[k] ? "true" : "false"),
                         a.code, a.name, a.level, p.households ? layout_label{*p.households} : layout_label{std::string()}},
                        &t.table.rows()[sel.picked[k]]};
        if (patches) {
            const auto& f = s.areas()[p.figure_area];
            line.labels.insert(line.labels.end(), {std::string("value for the whole " + level_acronym(f.level)), f.code, f.name});
        }
        line.labels.insert(line.labels.end(), {sel.low[k], sel.high[k]});
        for (const auto& level : place_levels) {
            const auto place = data::level_rank(level) > data::level_rank(a.level) ? s.ancestor_at(p.area, level) : std::nullopt;
            line.labels.emplace_back(place ? s.areas()[*place].code : std::string());
            line.labels.emplace_back(place ? s.areas()[*place].name : std::string());
        }
        line.labels.insert(line.labels.end(), {p.neighbourhood, p.ward_code, p.ward_name});
        line.labels.insert(line.labels.end(), {degrees(p.lat), degrees(p.lon), metres(p.easting), metres(p.northing), p.grid_ref});
        std::string joined; // one cell, separated by spaces as a postcode list is written on a leaflet run sheet
        for (const auto& pc : p.postcodes) joined += (joined.empty() ? "" : " ") + pc;
        line.labels.insert(line.labels.end(), {p.postcodes_live, joined, std::string(p.postcodes_truncated ? "true" : "false")});
        layout.rows.push_back(std::move(line));
    }
    layout.geography = d.level + " " + std::to_string(d.vintage) + (sel.within.empty() ? "" : " within " + sel.within);
    layout.notes = {{"Selection", "areas with " + std::to_string(sel.min_households) + " to " + std::to_string(sel.max_households) +
                                      " households (Census)" + (sel.within.empty() ? "" : " within " + sel.within) +
                                      "; the top " + std::to_string(sel.picked.size()) + " of " + std::to_string(sel.eligible)},
                    {"Ranked by", sel.ranked_by + ", ties by code"}};
    if (!sel.note.empty()) layout.notes.emplace_back("Note", sel.note);
    layout.notes.emplace_back("Bands", std::to_string(sel.bands) + " distinct band(s) among " + std::to_string(sel.picked.size()) + " areas" +
                                           (sel.ties_note.empty() ? "" : ": " + sel.ties_note));
    const std::string filename = safe_name("targets_" + d.id + "_" + t.query.measure->id + "_" + t.query.period + "_" + d.level +
                                           (sel.within.empty() ? "" : "_" + sel.within)) +
                                 "_" + utc_now_text(utc_precision::date) + "." + format;
    return layout_file(t, layout, options, format, filename, sel.picked.size());
}

export_file export_any(const snapshot& s, data::database& db, const export_request& r) {
    check_export_format(r.format);
    if (r.level == "bespoke") {
        if (!r.periods.empty()) throw bad_request("InvalidParameter", "periods= is for standard areas; a bespoke area's periods: /api/series?area=bespoke:ID");
        return export_bespoke(s, db, r);
    }
    if (!r.ids.empty()) throw bad_request("InvalidParameter", "ids names bespoke areas: give level=bespoke");
    if (r.dataset.empty()) {
        if (!r.measure.empty() || !r.period.empty()) throw bad_request("MissingParameter", "measure and period need a dataset");
        return export_areas(s, db, r.level, r.vintage, r.within, r.format, r.max_rows);
    }
    auto q = s.make_query(r.dataset, r.measure, r.period, r.level, r.vintage, r.within);
    q.bespoke_reader = r.bespoke;
    auto options = r.options;
    options.period_columns = parse_period_columns(*q.dataset, r.periods);
    return export_table(s, db, q, r.format, r.max_rows, options);
}

namespace {

void write_out(export_file& out, const std::string& out_path) {
    {
        std::ofstream file(out_path, std::ios::binary | std::ios::trunc);
        if (!file) throw error("ExportFailed", "cannot write " + out_path);
        file.write(out.bytes.data(), static_cast<std::streamsize>(out.bytes.size()));
        if (!file) throw error("ExportFailed", "cannot write " + out_path);
    }
    out.bytes.clear();
    if (!out.csv_metadata.is_null()) {
        // CSVW's default locating rule: FILE.csv is described by FILE.csv-metadata.json, whose url is relative to it.
        out.csv_metadata["url"] = std::filesystem::path(out_path).filename().string();
        std::ofstream file(out_path + "-metadata.json", std::ios::binary | std::ios::trunc);
        file << out.csv_metadata.dump(2) << "\n";
        if (!file) throw error("ExportFailed", "cannot write " + out_path + "-metadata.json");
    }
}

} // namespace

export_file export_to_path(const std::string& db_path, const export_request& r, const std::string& out_path) {
    auto db = data::open_store(db_path, false);
    const snapshot s(db, false);
    auto request = r;
    request.bespoke = data::bespoke_reader::store_holder(); // whoever holds the store file holds everything
    auto out = export_any(s, db, request);
    write_out(out, out_path);
    return out;
}

export_file export_targets_to_path(const std::string& db_path, const export_request& r, long lo, long hi, long limit,
                                   const std::string& out_path) {
    if (r.format != "csv" && r.format != "xlsx") throw unsupported_format("UnsupportedFormat", "targets export as csv or xlsx");
    if (!r.level.empty() || !r.ids.empty()) throw bad_request("InvalidParameter", "targets are ranked at the dataset's own level: no level or ids");
    auto db = data::open_store(db_path, false);
    const snapshot s(db, false);
    // As GET /api/targets: the dataset-level protected cells inside `within` (a code or bespoke:ID).
    auto q = s.make_query(r.dataset, r.measure, r.period, "", r.vintage, r.within);
    q.bespoke_reader = data::bespoke_reader::store_holder(); // the CLI holds the store
    const auto t = s.table(db, q);
    auto out = export_targets(db, s, t, select_targets(s, t, lo, hi, limit, r.within), r.format, r.options);
    write_out(out, out_path);
    return out;
}

} // namespace smallarea::engine
