#include "server/export.hpp"

#include "server/scratch_dir.hpp"

#include "data/error.hpp"
#include "data/ogc_queries.hpp"
#include "geo/vector_writer.hpp"
#include "server/encode.hpp"
#include "server/encode_xlsx.hpp"
#include "server/ogc.hpp"

#include <ctime>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdlib.h>

namespace smallarea::server {

using nlohmann::json;

namespace {

std::string today_utc() {
    const std::time_t now = std::time(nullptr);
    std::tm tm{};
    gmtime_r(&now, &tm);
    char buffer[16];
    std::strftime(buffer, sizeof buffer, "%Y-%m-%d", &tm);
    return buffer;
}

/// Only characters every file system and Content-Disposition accept unquoted.
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

std::string read_file_bytes(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw error("ExportFailed", "cannot read back " + path);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}


/// Features of the given areas (with their rows, -1 = none) as GeoJSON or GeoPackage.
export_file vector_export(const snapshot& s, data::database& db, const feature_schema& schema,
                          const std::vector<std::pair<std::size_t, long>>& features, const std::string& format,
                          const std::string& layer_name, const json& meta, const std::string& description) {
    std::vector<std::int64_t> ids;
    ids.reserve(features.size());
    for (const auto& f : features) ids.push_back(s.areas()[f.first].id);
    const auto geometries = data::load_geometry_map(db, ids);
    static const std::string none;
    auto wkb_of = [&](std::size_t area) -> const std::string& {
        const auto it = geometries.find(s.areas()[area].id);
        return it == geometries.end() ? none : it->second;
    };
    export_file out;
    out.content_type = content_type_of(format);
    out.features = features.size();
    if (format == "geojson") {
        std::string text = R"({"type":"FeatureCollection","name":)" + json(layer_name).dump();
        for (const auto& [key, value] : meta.items()) text += "," + json(key).dump() + ":" + value.dump();
        text += R"(,"features":[)";
        bool first = true;
        for (const auto& [area, row] : features) {
            if (!first) text += ',';
            first = false;
            append_feature(text, s.areas()[area].code, wkb_of(area), schema.properties(area, row));
            text += '\n';
        }
        text += "]}\n";
        out.bytes = std::move(text);
        return out;
    }
    geo::vector_layer layer;
    layer.name = layer_name;
    layer.description = description;
    for (const auto& [key, value] : meta.items()) {
        layer.metadata[key] = value.is_string() ? value.get<std::string>() : value.dump();
    }
    layer.fields = schema.fields();
    layer.features.reserve(features.size());
    for (const auto& [area, row] : features) {
        layer.features.push_back(geo::vector_feature{wkb_of(area), schema.values(area, row)});
    }
    scratch_dir dir;
    const std::string path = dir.path() + "/export.gpkg";
    geo::write_vector_file(path, "GPKG", layer);
    out.bytes = read_file_bytes(path);
    return out;
}

void check_size(std::size_t rows, std::size_t max_rows) {
    if (max_rows > 0 && rows > max_rows) {
        throw too_large("TooLarge", "the export has " + std::to_string(rows) + " rows; the limit is " + std::to_string(max_rows) +
                                        " (narrow it with within= or a coarser level, or use `smallarea export`)");
    }
}

} // namespace

const std::string& check_export_format(const std::string& format) {
    static const std::vector<std::string> formats{"csv", "xlsx", "geojson", "gpkg"};
    for (const auto& f : formats) {
        if (f == format) return f;
    }
    throw unsupported_format("UnsupportedFormat", "format must be csv, xlsx, geojson or gpkg");
}

export_file export_table(const snapshot& s, data::database& db, const table_query& q, const std::string& format,
                         std::size_t max_rows) {
    check_export_format(format);
    const auto& d = *q.dataset;
    const auto result = s.table(db, q);
    check_size(result.table.rows().size(), max_rows);
    const std::string stem = d.id + "_" + q.measure->id + "_" + q.period + "_" + q.level +
                             (q.within ? "_" + s.areas()[*q.within].code : "");
    const std::string filename = safe_name(stem) + "_" + today_utc() + "." + format;
    if (format == "csv" || format == "xlsx") {
        export_file out;
        out.bytes = format == "csv" ? table_csv(result, s) : table_xlsx(result, s);
        out.content_type = content_type_of(format);
        out.filename = filename;
        out.features = result.table.rows().size();
        return out;
    }
    feature_schema schema(s, q.level, &result);
    std::vector<std::pair<std::size_t, long>> features;
    for (std::size_t i = 0; i < result.row_areas.size(); ++i) features.emplace_back(result.row_areas[i], static_cast<long>(i));
    json meta{{"dataset", d.id},
              {"title", d.title},
              {"measure", q.measure->id},
              {"period", q.period},
              {"level", q.level},
              {"vintage", q.vintage},
              {"classification", disclosure::to_string(d.policy.classification)},
              {"disclosure", disclosure_json(d)},
              {"uncertainty", uncertainty_note(result)},
              {"publisher", d.publisher},
              {"licence", d.licence},
              {"attribution", d.attribution}};
    if (q.within) meta["within"] = s.areas()[*q.within].code;
    const std::string description = (d.policy.classification == disclosure::classification::internal
                                         ? "Internal MI: not for onward sharing. "
                                         : "Published data. ") +
                                    disclosure::describe(d.policy) + " " + uncertainty_note(result);
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
    if (data::level_rank(level) < 0) throw not_found("UnknownLevel", "no level \"" + level.substr(0, 20) + "\" (oa, lsoa, msoa, lad)");
    int vintage = 0;
    if (vintage_text.empty()) {
        vintage = s.latest_vintage(level);
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
              {"source", "ONS boundaries and Census households (Open Government Licence v3.0)"}};
    auto out = vector_export(s, db, schema, features, format, safe_name(stem), meta, "Boundaries with Census households");
    out.filename = safe_name(stem) + "_" + today_utc() + "." + format;
    return out;
}

export_file export_any(const snapshot& s, data::database& db, const export_request& r) {
    check_export_format(r.format);
    if (r.dataset.empty()) {
        if (!r.measure.empty() || !r.period.empty()) throw bad_request("MissingParameter", "measure and period need a dataset");
        return export_areas(s, db, r.level, r.vintage, r.within, r.format, r.max_rows);
    }
    const auto q = s.make_query(r.dataset, r.measure, r.period, r.level, r.vintage, r.within);
    return export_table(s, db, q, r.format, r.max_rows);
}

export_file export_to_path(const std::string& db_path, const export_request& r, const std::string& out_path) {
    auto db = data::open_store(db_path, false);
    const snapshot s(db, false);
    auto out = export_any(s, db, r);
    {
        std::ofstream file(out_path, std::ios::binary | std::ios::trunc);
        if (!file) throw error("ExportFailed", "cannot write " + out_path);
        file.write(out.bytes.data(), static_cast<std::streamsize>(out.bytes.size()));
        if (!file) throw error("ExportFailed", "cannot write " + out_path);
    }
    out.bytes.clear();
    return out;
}

} // namespace smallarea::server
