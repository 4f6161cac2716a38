// The export routes: areas (and optionally one dataset's protected values) and bespoke areas as files for GIS
// and spreadsheets (GeoJSON, GeoPackage, CSV with its CSVW sidecar, XLSX). engine::export_any does the work, the
// same code as `smallarea export`.

#include "core/error.hpp"
#include "server/context.hpp"
#include "server/http_util.hpp"
#include "engine/export.hpp"

namespace smallarea::server {

void register_export_routes(httplib::Server& http, context& ctx) {
    // level=bespoke&ids=... exports bespoke areas, as /api/table?level=bespoke&ids=... tabulates them;
    // /api/export/bespoke.{ext}?ids=... says the same.
    auto handler = [&ctx](bool bespoke) {
        return wrap([&ctx, bespoke](const httplib::Request& req, httplib::Response& res) {
            const auto s = ctx.snap();
            export_request r;
            r.dataset = param(req, "dataset");
            r.measure = param(req, "measure");
            r.period = param(req, "period");
            r.level = param(req, "level");
            r.ids = param(req, "ids");
            r.vintage = param(req, "vintage");
            r.within = param(req, "within");
            const bool sidecar = req.matches[1] == "csv-metadata.json";
            r.format = sidecar ? "csv" : std::string(req.matches[1]);
            r.max_rows = ctx.config().max_export_rows;
            r.options = parse_file_options(param(req, "totals"), param(req, "preamble"));
            r.periods = param(req, "periods");
            if (bespoke) {
                if (!r.level.empty() && r.level != "bespoke") {
                    throw bad_request("InvalidParameter", "/api/export/bespoke exports bespoke areas: leave out level");
                }
                r.level = "bespoke";
            }
            if (!r.dataset.empty()) ctx.authorize(req, ctx.dataset(req, *s, r.dataset));
            r.bespoke = ctx.bespoke_reader(req);
            const auto file = export_any(*s, ctx.connection(), r);
            if (!r.dataset.empty()) {
                res.set_header("X-Smallarea-Classification", disclosure::to_string(s->dataset(r.dataset).policy.classification));
            }
            const std::string stem = bespoke ? "/api/export/bespoke." : "/api/export/areas.";
            send_table_file(res, file, sidecar, url_with_format(req, stem + "csv", param(req, "format")),
                            url_with_format(req, stem + "csv-metadata.json", param(req, "format")));
        });
    };
    http.Get(R"(/api/export/areas\.(geojson|gpkg|csv-metadata\.json|csv|xlsx))", handler(false));
    http.Get(R"(/api/export/bespoke\.(geojson|gpkg|csv-metadata\.json|csv|xlsx))", handler(true));
}

} // namespace smallarea::server
