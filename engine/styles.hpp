#pragma once
// Map styles for GIS clients with the web map's classes and colours (ColorBrewer YlGnBu, quantile breaks of the
// protected rate as /api/breaks computes them, web/src/style.js PALETTES): a QGIS style (QML), an OGC SLD 1.0 and a
// MapLibre style JSON for the vector tiles. Breaks come only from a protected table (disclosure rule 5).

#include "engine/catalog.hpp"

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace smallarea::engine {

struct style_classes {
    std::string title;
    std::string property;             ///< OGC/GeoPackage attribute: rate_per_100_households or percent
    std::string tile_property;        ///< vector tile property: rate or percent
    std::vector<double> lower, upper; ///< class i covers (lower, upper], the first [lower, upper]
    std::vector<std::string> colours; ///< #rrggbb, one per class
};

/// Five quantile classes (fewer when values repeat) of the protected rate per 100 households (percent for a
/// percentage-only measure) of t's rows, coloured as the web map colours them.
style_classes table_style(const table_result& t);

/// A QGIS layer style (graduated renderer on the property), for Layer Properties > Style > Load Style.
std::string style_qml(const style_classes& c);
/// An OGC Styled Layer Descriptor 1.0 for the named layer.
std::string style_sld(const style_classes& c, const std::string& layer);
/// A MapLibre/Mapbox GL style (version 8) drawing the tiles at tile_url (a {z}/{x}/{y} template) of source_layer.
nlohmann::json style_maplibre(const style_classes& c, const std::string& tile_url, const std::string& source_layer,
                              const std::string& attribution);

} // namespace smallarea::engine
