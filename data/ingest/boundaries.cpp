// Boundaries: any GDAL vector source (GeoJSON, gzip, shapefile, GeoPackage...), ONS code and name fields found
// by the level and vintage, reprojected to EPSG:4326, repaired with GEOS, written in two overlapping stages.

#include "data/ingest/readers.hpp"

#include "core/error.hpp"
#include "data/csv_reader.hpp"
#include "data/ingest/bounded_queue.hpp"
#include "data/ingest/values.hpp"
#include "data/text.hpp"
#include "geo/geometry_ops.hpp"

#include <cpl_error.h>
#include <gdal_priv.h>
#include <ogr_spatialref.h>
#include <ogrsf_frmts.h>

#include <cmath>
#include <exception>
#include <memory>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

namespace smallarea::data::ingest {

using text::lower;
using text::trim;

namespace {

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

} // namespace

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

    statement insert(ctx.db(), "INSERT INTO areas (id, level, vintage, code, name, geom) VALUES (?, ?, ?, ?, ?, "
                               "ST_GeomFromWKB(?, 4326))");
    statement update(ctx.db(), "UPDATE areas SET name = CASE WHEN ? <> '' THEN ? ELSE name END, "
                               "geom = ST_GeomFromWKB(?, 4326) WHERE id = ?");
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
                        const auto new_id = ctx.new_area_id();
                        insert.bind(1, new_id).bind(2, source.level).bind(3, source.vintage).bind(4, it.code).bind(5, it.name);
                        insert.bind_blob(6, repaired.wkb.data(), repaired.wkb.size()).run();
                        ctx.remember_area(source.vintage, source.level, it.code, new_id);
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

} // namespace smallarea::data::ingest
