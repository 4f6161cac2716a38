#include "engine/styles.hpp"

#include "engine/breaks.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace smallarea::engine {

using nlohmann::json;

namespace {

// web/src/style.js PALETTES (ColorBrewer YlGnBu) and its fills for areas without a figure.
const std::vector<std::vector<std::string>>& palettes() {
    static const std::vector<std::vector<std::string>> p{
        {"#edf8b1", "#7fcdbb", "#2c7fb8"},
        {"#ffffcc", "#a1dab4", "#41b6c4", "#225ea8"},
        {"#ffffcc", "#a1dab4", "#41b6c4", "#2c7fb8", "#253494"},
        {"#ffffcc", "#c7e9b4", "#7fcdbb", "#41b6c4", "#2c7fb8", "#253494"},
        {"#ffffcc", "#c7e9b4", "#7fcdbb", "#41b6c4", "#1d91c0", "#225ea8", "#0c2c84"},
        {"#ffffd9", "#edf8b1", "#c7e9b4", "#7fcdbb", "#41b6c4", "#1d91c0", "#225ea8", "#0c2c84"},
        {"#ffffd9", "#edf8b1", "#c7e9b4", "#7fcdbb", "#41b6c4", "#1d91c0", "#225ea8", "#253494", "#081d58"}};
    return p;
}
constexpr const char* missing_fill = "#c9ced6";
constexpr const char* suppressed_fill = "#f3f4f6";

std::vector<std::string> palette(std::size_t n) { // as web/src/style.js paletteFor
    if (n >= 3) return palettes()[std::min<std::size_t>(n, 9) - 3];
    if (n == 1) return {palettes()[0][1]};
    return {palettes()[0][0], palettes()[0][2]};
}

std::string number(double v) {
    char buffer[32];
    std::snprintf(buffer, sizeof buffer, "%.2f", v);
    return buffer;
}

std::string rgb(const std::string& hex) { // "#ffffcc" -> "255,255,204,255" (QGIS colour)
    const auto part = [&](std::size_t i) { return std::to_string(std::stoi(hex.substr(i, 2), nullptr, 16)); };
    return part(1) + "," + part(3) + "," + part(5) + ",255";
}

std::string xml_text(const std::string& text) {
    std::string out;
    for (const char c : text) {
        if (c == '&') out += "&amp;";
        else if (c == '<') out += "&lt;";
        else if (c == '>') out += "&gt;";
        else if (c == '"') out += "&quot;";
        else out += c;
    }
    return out;
}

} // namespace

style_classes table_style(const table_result& t) {
    const bool percent = t.table.kind() == disclosure::measure_kind::percent_only;
    style_classes c;
    c.title = t.query.dataset->title + ": " + t.query.measure->title + (percent ? " (%)" : " per 100 households") + ", " + t.query.period;
    c.property = percent ? "percent" : "rate_per_100_households";
    c.tile_property = percent ? "percent" : "rate";
    std::vector<double> values;
    for (const auto& r : t.table.rows()) {
        if (percent && r.percent) values.push_back(static_cast<double>(*r.percent));
        if (!percent && r.rate_per_100_households) values.push_back(*r.rate_per_100_households); // as /api/breaks
    }
    if (values.empty()) return c;
    const auto breaks = compute_breaks(values, 5, break_method::quantile);
    double lower = *std::min_element(values.begin(), values.end());
    c.colours = palette(breaks.size());
    for (std::size_t i = 0; i < breaks.size(); ++i) {
        c.lower.push_back(lower);
        c.upper.push_back(breaks[i]);
        lower = breaks[i];
    }
    return c;
}

std::string style_qml(const style_classes& c) {
    std::string ranges, symbols;
    for (std::size_t i = 0; i < c.upper.size(); ++i) {
        const std::string n = std::to_string(i);
        ranges += "      <range lower=\"" + number(c.lower[i]) + "\" upper=\"" + number(c.upper[i]) + "\" symbol=\"" + n +
                  "\" label=\"" + number(c.lower[i]) + " - " + number(c.upper[i]) + "\" render=\"true\"/>\n";
        symbols += "      <symbol type=\"fill\" name=\"" + n + "\" alpha=\"1\" clip_to_extent=\"1\" force_rhr=\"0\">\n"
                   "        <layer class=\"SimpleFill\" enabled=\"1\" pass=\"0\" locked=\"0\">\n"
                   "          <Option type=\"Map\">\n"
                   "            <Option name=\"color\" type=\"QString\" value=\"" + rgb(c.colours[i]) + "\"/>\n"
                   "            <Option name=\"outline_color\" type=\"QString\" value=\"255,255,255,255\"/>\n"
                   "            <Option name=\"outline_width\" type=\"QString\" value=\"0.1\"/>\n"
                   "            <Option name=\"style\" type=\"QString\" value=\"solid\"/>\n"
                   "          </Option>\n"
                   "          <prop k=\"color\" v=\"" + rgb(c.colours[i]) + "\"/>\n"
                   "          <prop k=\"outline_color\" v=\"255,255,255,255\"/>\n"
                   "          <prop k=\"outline_width\" v=\"0.1\"/>\n"
                   "          <prop k=\"style\" v=\"solid\"/>\n"
                   "        </layer>\n"
                   "      </symbol>\n";
    }
    return "<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>\n"
           "<qgis version=\"3.28.0\" styleCategories=\"Symbology\">\n"
           "  <!-- " + xml_text(c.title) + ": the web map's classes (quantile, YlGnBu) -->\n"
           "  <renderer-v2 type=\"graduatedSymbol\" attr=\"" + c.property + "\" graduatedMethod=\"GraduatedColor\" "
           "symbollevels=\"0\" enableorderby=\"0\" forceraster=\"0\">\n"
           "    <ranges>\n" + ranges + "    </ranges>\n"
           "    <symbols>\n" + symbols + "    </symbols>\n"
           "    <mode name=\"quantile\"/>\n"
           "  </renderer-v2>\n"
           "</qgis>\n";
}

std::string style_sld(const style_classes& c, const std::string& layer) {
    std::string rules;
    for (std::size_t i = 0; i < c.upper.size(); ++i) {
        const char* low_op = i == 0 ? "PropertyIsGreaterThanOrEqualTo" : "PropertyIsGreaterThan";
        rules += "        <Rule>\n"
                 "          <Name>class " + std::to_string(i + 1) + "</Name>\n"
                 "          <Title>" + number(c.lower[i]) + " - " + number(c.upper[i]) + "</Title>\n"
                 "          <ogc:Filter><ogc:And>\n"
                 "            <ogc:" + low_op + "><ogc:PropertyName>" + c.property + "</ogc:PropertyName><ogc:Literal>" +
                 number(c.lower[i]) + "</ogc:Literal></ogc:" + low_op + ">\n"
                 "            <ogc:PropertyIsLessThanOrEqualTo><ogc:PropertyName>" + c.property +
                 "</ogc:PropertyName><ogc:Literal>" + number(c.upper[i]) + "</ogc:Literal></ogc:PropertyIsLessThanOrEqualTo>\n"
                 "          </ogc:And></ogc:Filter>\n"
                 "          <PolygonSymbolizer>\n"
                 "            <Fill><CssParameter name=\"fill\">" + c.colours[i] + "</CssParameter></Fill>\n"
                 "            <Stroke><CssParameter name=\"stroke\">#ffffff</CssParameter><CssParameter name=\"stroke-width\">0.3</CssParameter></Stroke>\n"
                 "          </PolygonSymbolizer>\n"
                 "        </Rule>\n";
    }
    rules += "        <Rule>\n          <Name>no figure</Name>\n          <Title>missing or suppressed</Title>\n"
             "          <ogc:Filter><ogc:PropertyIsNull><ogc:PropertyName>" + c.property + "</ogc:PropertyName></ogc:PropertyIsNull></ogc:Filter>\n"
             "          <PolygonSymbolizer><Fill><CssParameter name=\"fill\">" + std::string(missing_fill) + "</CssParameter></Fill></PolygonSymbolizer>\n"
             "        </Rule>\n";
    return "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
           "<StyledLayerDescriptor version=\"1.0.0\" xmlns=\"http://www.opengis.net/sld\" xmlns:ogc=\"http://www.opengis.net/ogc\" "
           "xmlns:xlink=\"http://www.w3.org/1999/xlink\" xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" "
           "xsi:schemaLocation=\"http://www.opengis.net/sld http://schemas.opengis.net/sld/1.0.0/StyledLayerDescriptor.xsd\">\n"
           "  <NamedLayer>\n    <Name>" + xml_text(layer) + "</Name>\n    <UserStyle>\n      <Title>" + xml_text(c.title) +
           "</Title>\n      <FeatureTypeStyle>\n" + rules + "      </FeatureTypeStyle>\n    </UserStyle>\n  </NamedLayer>\n"
           "</StyledLayerDescriptor>\n";
}

nlohmann::json style_maplibre(const style_classes& c, const std::string& tile_url, const std::string& source_layer,
                              const std::string& attribution) {
    // step(): a value below the first stop takes the first colour; classes are (lower, upper], so a value equal
    // to a break belongs below it: stops sit a hair above each break (rates have two decimals, percents none).
    json step = json::array({"step", json::array({"get", c.tile_property}), c.colours.empty() ? missing_fill : c.colours[0]});
    for (std::size_t i = 1; i < c.colours.size(); ++i) {
        step.push_back(c.upper[i - 1] + 0.001);
        step.push_back(c.colours[i]);
    }
    const json fill = json::array({"case", json::array({"has", "suppressed"}), suppressed_fill,
                                   json::array({"!", json::array({"has", c.tile_property})}), missing_fill, step});
    return json{{"version", 8},
                {"name", c.title},
                {"sources", {{"areas", {{"type", "vector"}, {"tiles", json::array({tile_url})}, {"minzoom", 0}, {"maxzoom", 16},
                                        {"attribution", attribution}, {"promoteId", "code"}}}}},
                {"layers", json::array({json{{"id", "areas-fill"}, {"type", "fill"}, {"source", "areas"}, {"source-layer", source_layer},
                                             {"paint", {{"fill-color", fill}, {"fill-opacity", 0.8}}}},
                                        json{{"id", "areas-line"}, {"type", "line"}, {"source", "areas"}, {"source-layer", source_layer},
                                             {"paint", {{"line-color", "#ffffff"}, {"line-width", 0.4}}}}})}};
}

} // namespace smallarea::engine
