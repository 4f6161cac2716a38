#pragma once
// Writes plain rows + WKB geometries to a vector file with GDAL (GeoPackage, or any OGR driver that can create
// files). server/ never calls GDAL itself: it hands rows here.

#include <cstdint>
#include <map>
#include <string>
#include <variant>
#include <vector>

namespace smallarea::geo {

/// date: an ISO 8601 date held as a std::string value ("2017-09-01"), written as OFTDate.
enum class field_type { string, integer, real, boolean, date };

struct vector_field {
    std::string name;
    field_type type = field_type::string;
};

/// One attribute value; std::monostate is null.
using field_value = std::variant<std::monostate, std::string, std::int64_t, double, bool>;

struct vector_feature {
    std::string wkb;                  ///< ISO WKB in EPSG:4326 (lon, lat); empty = no geometry
    std::vector<field_value> values;  ///< one per field, same order
};

struct vector_layer {
    std::string name;
    std::string title;                          ///< human title (GeoPackage: gpkg_contents.identifier, which QGIS shows)
    std::string description;                    ///< e.g. the disclosure rule (GeoPackage: gpkg_contents.description)
    std::map<std::string, std::string> metadata; ///< layer metadata items (GPKG keeps them in gpkg_metadata)
    std::vector<vector_field> fields;
    std::vector<vector_feature> features;
};

/// Creates `path` (replacing it) with the OGR driver `driver` ("GPKG", "GeoJSON", ...) holding one MultiPolygon
/// layer in EPSG:4326, written in one transaction where the driver has them. Throws smallarea::error("ExportFailed")
/// with GDAL's message when the driver is missing or any write fails (a partial file is removed), and
/// smallarea::error("InvalidGeometry") on unparseable WKB.
void write_vector_file(const std::string& path, const std::string& driver, const vector_layer& layer);

} // namespace smallarea::geo
