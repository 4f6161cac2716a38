#include "core/error.hpp"
#include "server/bespoke.hpp"
#include "engine/breaks.hpp"
#include "server/context.hpp"
#include "engine/encode.hpp"
#include "engine/export.hpp"
#include "server/http_util.hpp"

#include <algorithm>

namespace smallarea::server {

using nlohmann::json;

void register_api_routes(httplib::Server& http, context& ctx) {
    http.Get("/health", wrap([&ctx](const httplib::Request& req, httplib::Response& res) {
        const auto s = ctx.snap();
        // Only the datasets this caller may see: a count including internal ones would say they exist.
        std::size_t datasets = 0;
        for (const auto& d : s->datasets()) datasets += ctx.visible(req, d) ? 1 : 0;
        send_json(res, json{{"status", "ok"}, {"release", s->release()}, {"datasets", datasets},
                            {"areas", s->areas().size()}, {"tile_cache_bytes", ctx.tiles().bytes()}});
    }));
    http.Get("/api/datasets", wrap([&ctx](const httplib::Request& req, httplib::Response& res) {
        const auto s = ctx.snap();
        json list = json::array();
        for (const auto& d : s->datasets()) {
            if (ctx.visible(req, d)) list.push_back(dataset_json(d, s.get())); // internal MI is not even listed to others
        }
        send_json(res, json{{"datasets", list}});
    }));
    http.Get(R"(/api/datasets/([^/]+))", wrap([&ctx](const httplib::Request& req, httplib::Response& res) {
        const auto s = ctx.snap();
        const auto& d = s->dataset(req.matches[1]);
        // Indistinguishable from an unknown id for those who may not see it.
        if (!ctx.visible(req, d)) throw not_found("UnknownDataset", "no dataset \"" + d.id + "\"");
        send_json(res, dataset_json(d, s.get()));
    }));
    http.Get("/api/areas", wrap([&ctx](const httplib::Request& req, httplib::Response& res) {
        const auto s = ctx.snap();
        const std::string level = param(req, "level");
        if (level.empty()) throw bad_request("MissingParameter", "level is required (oa, lsoa, msoa or lad)");
        require_level(level);
        const int vintage = vintage_param(req, *s, level);
        std::optional<std::size_t> within;
        if (const auto w = param(req, "within"); !w.empty()) {
            within = s->find_area(w, vintage);
            if (!within) throw not_found("UnknownArea", "no area \"" + w + "\"");
        }
        const auto list = s->areas_of(level, vintage, within);
        const std::string format = format_of(req);
        if (format == "csvw") throw unsupported_format("UnsupportedFormat", "/api/areas has json and csv (no CSVW sidecar)");
        if (format == "csv") {
            std::string out = "code,name,level,vintage,households,residents,parents\n";
            for (const auto i : list) {
                const auto& a = s->areas()[i];
                std::string parents;
                for (const auto id : a.ancestors) {
                    if (const auto p = s->find_area_by_id(id)) parents += (parents.empty() ? "" : " ") + s->areas()[*p].code;
                }
                auto denominator = [&](const char* name) {
                    const auto it = a.denominators.find(name);
                    return it == a.denominators.end() ? std::string() : std::to_string(it->second);
                };
                out += csv_field(a.code) + "," + csv_field(a.name) + "," + a.level + "," + std::to_string(a.vintage) + "," +
                       denominator("households") + "," + denominator("residents") + "," + csv_field(parents) + "\n";
            }
            res.set_content(out, "text/csv; charset=utf-8");
            return;
        }
        json rows = json::array();
        for (const auto i : list) {
            const auto& a = s->areas()[i];
            json parents = json::object();
            for (const auto id : a.ancestors) {
                if (const auto p = s->find_area_by_id(id)) {
                    parents[s->areas()[*p].level] = json{{"code", s->areas()[*p].code}, {"name", s->areas()[*p].name}};
                }
            }
            json row{{"code", a.code}, {"name", a.name}, {"level", a.level}, {"vintage", a.vintage},
                     {"has_boundary", a.has_geometry}, {"parents", parents}};
            for (const auto& [name, value] : a.denominators) row[name] = value;
            if (!row.contains("households")) row["households"] = nullptr;
            rows.push_back(std::move(row));
        }
        send_json(res, json{{"level", level}, {"vintage", vintage}, {"count", rows.size()}, {"areas", rows}});
    }));
    http.Get("/api/table", wrap([&ctx](const httplib::Request& req, httplib::Response& res) {
        if (param(req, "level") == "bespoke") return serve_bespoke_table(ctx, req, res); // server/bespoke.cpp
        const auto s = ctx.snap();
        auto q = s->make_query(param(req, "dataset"), param(req, "measure"), param(req, "period"),
                               param(req, "level"), param(req, "vintage"), param(req, "within"));
        ctx.authorize(req, *q.dataset);
        q.bespoke_reader = ctx.bespoke_reader(req); // within=bespoke:ID (checked in the gate, read in table())
        const std::string format = param(req, "format") == "xlsx" ? std::string("xlsx") : format_of(req);
        res.set_header("X-Smallarea-Classification", disclosure::to_string(q.dataset->policy.classification));
        if (format != "json") {
            // Files (server/export.cpp): the workbook, the CSV, or the CSV's CSVW sidecar; dated names, options
            // totals= and preamble=.
            const auto options = parse_file_options(param(req, "totals"), param(req, "preamble"));
            const auto file = export_table(*s, ctx.connection(), q, format == "xlsx" ? "xlsx" : "csv",
                                           ctx.config().max_export_rows, options);
            send_table_file(res, file, format == "csvw", url_with_format(req, req.path, "csv"),
                            url_with_format(req, req.path, "csvw"));
            return;
        }
        const auto result = s->table(ctx.connection(), q);
        send_json(res, table_json(result, *s));
    }));
    http.Get("/api/breaks", wrap([&ctx](const httplib::Request& req, httplib::Response& res) {
        const auto s = ctx.snap();
        const auto q = s->make_query(param(req, "dataset"), param(req, "measure"), param(req, "period"),
                                     param(req, "level"), param(req, "vintage"), param(req, "within"));
        ctx.authorize(req, *q.dataset);
        const auto method = parse_break_method(param(req, "method"));
        const auto classes_text = param(req, "classes");
        const int classes = classes_text.empty() ? 5 : static_cast<int>(parse_integer(classes_text, "classes", 3, 9));
        const bool percent = q.measure->kind == data::measure_kind::percent_only;
        std::string of = param(req, "of");
        if (of.empty()) of = percent ? "percent" : "rate";
        if (of != "rate" && of != "value" && of != "percent") throw bad_request("InvalidParameter", "of must be rate, value or percent");
        if (percent && of != "percent") throw disclosure_refused("PercentageOnly", "measure " + q.measure->id + " is served only as percentages");
        if (!percent && of == "percent") throw bad_request("InvalidParameter", "measure " + q.measure->id + " is a count: use of=rate or of=value");
        const auto result = ctx.table_values(*s, q);
        std::vector<double> values;
        std::vector<double> rounding_steps; // what one rounding step is worth in the unit of the breaks
        for (const auto& row : result->table.rows()) {
            if (of == "percent" && row.percent) values.push_back(static_cast<double>(*row.percent));
            if (of == "value" && row.value) values.push_back(static_cast<double>(*row.value));
            if (of == "rate" && row.rate_per_100_households) {
                values.push_back(*row.rate_per_100_households);
                rounding_steps.push_back(100.0 * static_cast<double>(q.dataset->policy.rounding_base) /
                                         static_cast<double>(*row.households));
            }
        }
        const auto breaks = compute_breaks(values, classes, method);
        double step = 0.0;
        if (of == "value") step = static_cast<double>(q.dataset->policy.rounding_base);
        if (of == "percent") step = 1.0;
        if (of == "rate" && !rounding_steps.empty()) {
            std::nth_element(rounding_steps.begin(), rounding_steps.begin() + static_cast<long>(rounding_steps.size() / 2), rounding_steps.end());
            step = rounding_steps[rounding_steps.size() / 2];
        }
        json classes_json = json::array();
        bool within_error = false;
        double lower = values.empty() ? 0.0 : *std::min_element(values.begin(), values.end());
        for (std::size_t i = 0; i < breaks.size(); ++i) {
            std::size_t count = 0;
            for (const double v : values) {
                if ((i == 0 ? v >= lower : v > breaks[i - 1]) && v <= breaks[i]) ++count;
            }
            const double width = breaks[i] - (i == 0 ? lower : breaks[i - 1]);
            const bool narrow = i > 0 && step > 0.0 && width < step;
            within_error = within_error || narrow;
            classes_json.push_back(json{{"min", i == 0 ? lower : breaks[i - 1]}, {"max", breaks[i]}, {"count", count},
                                        {"narrower_than_rounding", narrow}});
        }
        json body{{"dataset", q.dataset->id}, {"measure", q.measure->id}, {"period", q.period}, {"level", q.level},
                  {"of", of}, {"method", param(req, "method").empty() ? "quantile" : param(req, "method")},
                  {"breaks", breaks}, {"classes", classes_json}, {"values", values.size()},
                  {"rounding_step", step}, {"warning", within_error ? json("a class is narrower than the rounding error: "
                                                                           "areas either side of a break may not differ")
                                                                    : json(nullptr)},
                  {"classification", disclosure::to_string(q.dataset->policy.classification)},
                  {"disclosure", disclosure_json(*q.dataset)}};
        send_json(res, body);
    }));
    http.Get("/api/config", wrap([&ctx](const httplib::Request&, httplib::Response& res) {
        send_json(res, json{{"basemap_url", ctx.config().basemap_url.empty() ? json(nullptr) : json(ctx.config().basemap_url)}});
    }));
}

} // namespace smallarea::server
