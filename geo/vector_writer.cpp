#include "geo/vector_writer.hpp"

#include "core/error.hpp"

#include <cpl_error.h>
#include <cpl_vsi.h>
#include <gdal_priv.h>
#include <ogr_feature.h>
#include <ogr_geometry.h>
#include <ogr_spatialref.h>
#include <ogrsf_frmts.h>

#include <memory>
#include <mutex>

namespace smallarea::geo {

namespace {

/// Collects GDAL's last error message for the exception text (the handler is per thread).
class error_capture {
public:
    error_capture() : m_pusher(handler, this) {}
    std::string message() const { return m_message.empty() ? std::string("unknown GDAL error") : m_message; }

private:
    static void CPL_STDCALL handler(CPLErr level, CPLErrorNum, const char* msg) {
        auto* self = static_cast<error_capture*>(CPLGetErrorHandlerUserData());
        if (self && level >= CE_Failure && msg) self->m_message = msg;
    }
    CPLErrorHandlerPusher m_pusher;
    std::string m_message;
};

[[noreturn]] void fail(const std::string& what, const error_capture& errors) {
    throw error("ExportFailed", what + ": " + errors.message());
}

OGRFieldType ogr_type(field_type t, OGRFieldSubType& sub) {
    sub = OFSTNone;
    switch (t) {
    case field_type::string: return OFTString;
    case field_type::integer: return OFTInteger64;
    case field_type::real: return OFTReal;
    case field_type::boolean: sub = OFSTBoolean; return OFTInteger;
    case field_type::date: return OFTDate;
    }
    return OFTString;
}

} // namespace

void write_vector_file(const std::string& path, const std::string& driver_name, const vector_layer& layer) {
    static std::once_flag registered;
    std::call_once(registered, [] { GDALAllRegister(); });
    error_capture errors;
    GDALDriver* driver = GetGDALDriverManager()->GetDriverByName(driver_name.c_str());
    if (!driver) throw error("ExportFailed", "GDAL has no " + driver_name + " driver");
    VSIUnlink(path.c_str());
    GDALDatasetUniquePtr ds(driver->Create(path.c_str(), 0, 0, 0, GDT_Unknown, nullptr));
    if (!ds) fail("cannot create " + path, errors);
    try {
        OGRSpatialReference srs;
        srs.importFromEPSG(4326);
        srs.SetAxisMappingStrategy(OAMS_TRADITIONAL_GIS_ORDER); // WKB is (lon, lat)
        char** options = nullptr;
        if (!layer.description.empty() && driver_name == "GPKG") {
            options = CSLSetNameValue(options, "DESCRIPTION", layer.description.c_str());
        }
        if (!layer.title.empty() && driver_name == "GPKG") options = CSLSetNameValue(options, "IDENTIFIER", layer.title.c_str());
        OGRLayer* out = ds->CreateLayer(layer.name.c_str(), &srs, wkbMultiPolygon, options);
        CSLDestroy(options);
        if (!out) fail("cannot create layer " + layer.name, errors);
        for (const auto& f : layer.fields) {
            OGRFieldSubType sub = OFSTNone;
            OGRFieldDefn defn(f.name.c_str(), ogr_type(f.type, sub));
            defn.SetSubType(sub);
            if (out->CreateField(&defn) != OGRERR_NONE) fail("cannot create field " + f.name, errors);
        }
        for (const auto& [key, value] : layer.metadata) out->SetMetadataItem(key.c_str(), value.c_str());
        const bool transaction = ds->StartTransaction() == OGRERR_NONE;
        OGRFeatureDefn* defn = out->GetLayerDefn();
        for (const auto& f : layer.features) {
            OGRFeatureUniquePtr feature(OGRFeature::CreateFeature(defn));
            for (std::size_t i = 0; i < f.values.size() && i < layer.fields.size(); ++i) {
                const int index = static_cast<int>(i);
                const auto& v = f.values[i];
                if (std::holds_alternative<std::monostate>(v)) {
                    feature->SetFieldNull(index);
                } else if (const auto* s = std::get_if<std::string>(&v)) {
                    feature->SetField(index, s->c_str());
                } else if (const auto* n = std::get_if<std::int64_t>(&v)) {
                    feature->SetField(index, static_cast<GIntBig>(*n));
                } else if (const auto* d = std::get_if<double>(&v)) {
                    feature->SetField(index, *d);
                } else if (const auto* b = std::get_if<bool>(&v)) {
                    feature->SetField(index, *b ? 1 : 0);
                }
            }
            if (!f.wkb.empty()) {
                OGRGeometry* geometry = nullptr;
                if (OGRGeometryFactory::createFromWkb(f.wkb.data(), &srs, &geometry, f.wkb.size()) != OGRERR_NONE) {
                    throw error("InvalidGeometry", "unreadable WKB for feature " + std::to_string(out->GetFeatureCount(FALSE)));
                }
                geometry = OGRGeometryFactory::forceToMultiPolygon(geometry);
                feature->SetGeometryDirectly(geometry);
            }
            if (out->CreateFeature(feature.get()) != OGRERR_NONE) fail("cannot write a feature", errors);
        }
        if (transaction && ds->CommitTransaction() != OGRERR_NONE) fail("cannot commit " + path, errors);
    } catch (...) {
        ds.reset();
        VSIUnlink(path.c_str());
        throw;
    }
    ds.reset(); // closes and flushes the file
}

} // namespace smallarea::geo
