#include "engine/finder.hpp"

#include "core/error.hpp"
#include "data/ogc_queries.hpp"
#include "engine/encode.hpp"
#include "geo/bespoke_geometry.hpp"
#include "geo/contiguity.hpp"
#include "geo/zones.hpp"

#include <algorithm>

namespace smallarea::engine {

using nlohmann::json;

json targets_json(data::database& db, const snapshot& s, const table_result& t, const target_selection& sel) {
    const auto& d = *t.query.dataset;
    const bool percent = t.table.kind() == disclosure::measure_kind::percent_only;
    const auto& picked = sel.picked;
    const std::string& within = sel.within;
    // Where each row sends someone (the area to walk, a point in it, its place names) and the boundaries of the
    // areas to walk, whose dissolved outline the map draws.
    std::vector<std::string> outlines;
    const auto places = target_places(db, s, t, sel, &outlines);
    const bool patches = !sel.patch_areas.empty();
    json rows = json::array();
    for (std::size_t k = 0; k < picked.size(); ++k) {
        const auto& r = t.table.rows()[picked[k]];
        const auto& p = places[k];
        const auto& a = s.areas()[p.area];
        json row{{"rank", k + 1}, {"band", sel.band[k]}, {"tied_with_next", sel.tied_with_next[k]},
                 {"code", a.code}, {"name", a.name}, {"level", a.level},
                 {"households", patches ? (p.households ? json(*p.households) : json(nullptr)) : json(*r.households)}};
        if (patches) {
            // A patch carries its coarser area's figure, labelled as such: never apportioned to the patch.
            const auto& f = s.areas()[p.figure_area];
            row["figure_for"] = json{{"code", f.code}, {"name", f.name}, {"level", f.level},
                                     {"households", r.households ? json(*r.households) : json(nullptr)},
                                     {"note", "value for the whole " + level_acronym(f.level)}};
        }
        row["bbox"] = p.bbox ? json::array({p.bbox->minx, p.bbox->miny, p.bbox->maxx, p.bbox->maxy}) : json(nullptr);
        row["point"] = p.lon ? json::array({*p.lon, *p.lat}) : json(nullptr);
        row["grid_ref"] = p.grid_ref.empty() ? json(nullptr) : json(p.grid_ref);
        row["easting"] = p.easting ? json(*p.easting) : json(nullptr);
        row["northing"] = p.northing ? json(*p.northing) : json(nullptr);
        json in = json::object();
        for (const auto& level : data::known_levels()) {
            if (data::level_rank(level) <= data::level_rank(a.level)) continue; // the areas it lies in, not itself
            if (const auto place = s.ancestor_at(p.area, level)) {
                in[level] = json{{"code", s.areas()[*place].code}, {"name", s.areas()[*place].name}};
            }
        }
        row["places"] = std::move(in);
        // Names people use for the place, and the postcodes to walk (live only; a coarser row's list is capped).
        row["neighbourhood"] = p.neighbourhood.empty() ? json(nullptr) : json(p.neighbourhood);
        row["ward"] = p.ward_code.empty() ? json(nullptr) : json{{"code", p.ward_code}, {"name", p.ward_name}};
        row["postcodes_live"] = p.postcodes_live;
        row["postcodes"] = p.postcodes;
        row["postcodes_truncated"] = p.postcodes_truncated;
        if (percent) {
            row["percent"] = *r.percent; // ranked by percent; no "rate" field, which means per 100 households
            row["percent_low"] = sel.low[k];
            row["percent_high"] = sel.high[k];
        } else {
            row["value"] = *r.value;
            row["uncertainty"] = r.uncertainty;
            row["value_low"] = std::max(0.0, static_cast<double>(*r.value) - r.uncertainty);
            row["value_high"] = static_cast<double>(*r.value) + r.uncertainty;
            row["rate"] = *r.rate_per_100_households;
            row["rate_low"] = sel.low[k];
            row["rate_high"] = sel.high[k];
            row["rounding_dominates"] = r.rounding_dominates();
        }
        rows.push_back(std::move(row));
    }
    return json{{"dataset", d.id}, {"measure", t.query.measure->id}, {"period", t.query.period}, {"level", d.level},
             {"within", within.empty() ? json(nullptr) : json(within)},
             {"min_households", sel.min_households}, {"max_households", sel.max_households}, {"limit", sel.limit}, {"eligible", sel.eligible},
             {"ranked_by", sel.ranked_by}, {"rate_unit", percent ? "percent" : "per 100 households"},
             {"note", sel.note.empty() ? json(nullptr) : json(sel.note)},
             {"bands", sel.bands}, {"ties_note", sel.ties_note.empty() ? json(nullptr) : json(sel.ties_note)},
             {"classification", disclosure::to_string(d.policy.classification)}, {"disclosure", disclosure_json(d)},
             {"rows", std::move(rows)},
             {"patches", patches}, {"outline", outlines.empty() ? json(nullptr) : geometry_json(geo::dissolve_wkb(std::vector<std::string_view>(outlines.begin(), outlines.end())))}};
}

zone_plan plan_zones(data::database& db, const snapshot& s, const table_result& t, const zone_params& p, std::size_t max_areas) {
    const auto& d = *t.query.dataset;
    refuse_crosswalked(t.query, "zones");
    if (t.table.kind() == disclosure::measure_kind::percent_only) {
        throw disclosure_refused("PercentageOnly", "measure " + t.query.measure->id + " is served only as percentages; "
                                                   "zones are built from counts");
    }
    if (t.row_areas.size() > max_areas) {
        throw bad_request("TooManyMembers", "within has more than " + std::to_string(max_areas) + " areas");
    }
    // The graph over the dataset-level areas that have a boundary; values are protected (suppressed and missing
    // cells count as 0 for ranking, and are excluded from the zone's protected sum as in every aggregate).
    std::vector<std::int64_t> ids;
    for (const auto i : t.row_areas) ids.push_back(s.areas()[i].id);
    const auto geometries = data::load_geometry_map(db, ids);
    std::vector<std::string_view> views;
    std::vector<std::size_t> rows; // graph node -> table row (code order, so ties break by code)
    json unplaced = json::array();
    for (std::size_t row = 0; row < ids.size(); ++row) {
        const auto& a = s.areas()[t.row_areas[row]];
        const auto g = geometries.find(ids[row]);
        // An area without a Census household count cannot be placed in a household band (unknown is not 0).
        if (!t.table.rows()[row].households || g == geometries.end()) {
            unplaced.push_back(json{{"code", a.code}, {"households", nullptr},
                                    {"reason", g == geometries.end() ? "no_boundary" : "no_households"}});
            continue;
        }
        views.emplace_back(g->second);
        rows.push_back(row);
    }
    const auto graph = geo::build_contiguity(views, p.contiguity == "queen" ? geo::contiguity::queen : geo::contiguity::rook);
    std::vector<std::int64_t> households;
    std::vector<std::int64_t> values;
    for (const auto row : rows) {
        const auto& r = t.table.rows()[row];
        households.push_back(r.households.value_or(0));
        values.push_back(r.value.value_or(0));
    }
    geo::zone_options options;
    options.min_households = p.min_households;
    options.max_households = p.max_households;
    options.max_zones = p.max_zones;
    const auto built = geo::build_zones(graph, households, values, options);

    zone_plan plan;
    plan.areas = rows.size();
    for (std::size_t z = 0; z < built.zones.size(); ++z) {
        std::vector<std::size_t> members;
        for (const auto node : built.zones[z].members) members.push_back(t.row_areas[rows[node]]);
        plan.drafts.push_back(bespoke_draft{"Zone " + std::to_string(z + 1) + ": " + d.id + " " + t.query.measure->id + " " +
                                            t.query.period + " in " + p.within,
                                        std::move(members), "zones"});
    }
    plan.unplaced = std::move(unplaced);
    for (const auto& u : built.unplaced) {
        const auto& a = s.areas()[t.row_areas[rows[u.area]]];
        plan.unplaced.push_back(json{{"code", a.code}, {"households", households[u.area]}, {"reason", u.reason}});
    }
    return plan;
}

json zones_json(data::database& db, const snapshot& s, const table_result& t, const zone_params& p, const zone_plan& plan,
                const std::vector<data::bespoke_record>& records, bool is_public) {
    // Zone values: disclosure::aggregate over the protected cells (the sum of members' protected values).
    auto q = t.query;
    q.within.reset();
    q.within_bespoke.clear();
    for (std::size_t z = 0; z < records.size(); ++z) q.groups.emplace_back(records[z].id, plan.drafts[z].members);
    json zones = json::array();
    if (!q.groups.empty()) {
        const auto values_table = s.table(db, q);
        for (std::size_t z = 0; z < records.size(); ++z) {
            const auto& r = values_table.table.rows()[z];
            json members = json::array();
            for (const auto m : q.groups[z].second) members.push_back(s.areas()[m].code);
            std::sort(members.begin(), members.end());
            json zone = protected_row_json(r, false);
            zone["id"] = records[z].id;
            zone["code"] = "bespoke:" + records[z].id;
            zone["name"] = records[z].name;
            zone["rank"] = z + 1;
            zone["members"] = std::move(members);
            zone["rate"] = r.rate_per_100_households ? json(*r.rate_per_100_households) : json(nullptr);
            zone["url"] = "/api/bespoke/" + records[z].id;
            zone["visibility"] = is_public ? "public" : "private";
            zones.push_back(std::move(zone));
        }
    }
    const auto& d = *t.query.dataset;
    return json{{"dataset", d.id}, {"measure", t.query.measure->id}, {"period", t.query.period}, {"level", d.level},
             {"within", p.within}, {"min_households", p.min_households}, {"max_households", p.max_households},
             {"contiguity", p.contiguity}, {"max_zones", p.max_zones},
             {"method", "greedy seed-and-grow: seed = highest-rate unassigned area; grow by the contiguous "
                        "neighbour that keeps the zone's rate highest until households reach the floor, never "
                        "passing the ceiling"},
             {"areas", plan.areas}, {"zones", std::move(zones)}, {"unplaced", plan.unplaced},
             {"rate_unit", "per 100 households"},
             {"classification", disclosure::to_string(d.policy.classification)}, {"disclosure", disclosure_json(d)}};
}

} // namespace smallarea::engine
