#include "engine/catalog.hpp"

#include "data/bespoke_store.hpp"
#include "core/error.hpp"
#include "data/text.hpp"

#include <algorithm>
#include <cctype>
#include <unordered_set>

namespace smallarea::engine {

snapshot::snapshot(data::database& db, bool build_tiles) {
    // One read transaction: it sees exactly one committed release, so the areas, datasets, periods and
    // observations of a snapshot always belong together, whatever an ingest commits meanwhile.
    data::read_transaction read(db);
    load(db, build_tiles);
}

const std::vector<data::observation>& snapshot::observations(const std::string& dataset_id,
                                                             const std::string& measure_id,
                                                             const std::string& period) const {
    static const std::vector<data::observation> none;
    const auto it = m_observations.find(dataset_id + "|" + measure_id + "|" + period);
    return it == m_observations.end() ? none : it->second;
}

void snapshot::load(data::database& db, bool build_tiles) {
    m_release = data::data_release(db);
    m_areas = data::load_areas(db);
    for (std::size_t i = 0; i < m_areas.size(); ++i) {
        if (m_areas[i].name.empty()) m_areas[i].name = m_areas[i].code; // OAs have no names, only codes
        m_lower_names.push_back(data::text::lower(m_areas[i].name));
        m_by_id.emplace(m_areas[i].id, i);
        m_by_code.emplace(m_areas[i].code, i);
        m_level_vintages.emplace(m_areas[i].level, m_areas[i].vintage);
    }
    for (const auto& a : m_areas) {
        for (const auto id : a.ancestors) {
            if (const auto it = m_by_id.find(id); it != m_by_id.end()) m_parent_levels.emplace(a.level, m_areas[it->second].level);
        }
    }
    m_datasets = data::load_datasets(db);
    // Observations are held in memory with the snapshot (16 bytes a cell) rather than read per request, so a
    // response is computed from the same release as the snapshot that names it: readers never see half a release.
    for (const auto& d : m_datasets) {
        for (const auto& m : d.measures) {
            for (const auto& p : d.periods) {
                auto cells = data::load_observations(db, d.id, m.id, p);
                if (!cells.empty()) m_observations.emplace(d.id + "|" + m.id + "|" + p, std::move(cells));
            }
        }
    }
    for (const auto& d : m_datasets) {
        std::int64_t areas = 0;
        for (const auto& a : m_areas) areas += (a.level == d.level && a.vintage == d.vintage) ? 1 : 0;
        auto& list = m_coverage[d.id];
        for (const auto& p : d.periods) {
            std::unordered_set<std::int64_t> with_value;
            for (const auto& m : d.measures) {
                if (m.kind == data::measure_kind::percent_base) continue;
                for (const auto& o : observations(d.id, m.id, p)) {
                    if (o.value) with_value.insert(o.area_id);
                }
            }
            list.push_back({p, areas, static_cast<std::int64_t>(with_value.size())});
        }
    }
    for (const auto& c : data::load_crosswalks(db)) {
        // Shares of each old area among its new pieces, by the pieces' Census households (equal when any lacks one).
        std::unordered_map<std::int64_t, std::vector<std::size_t>> pieces;
        for (const auto& l : c.links) {
            if (m_by_id.count(l.from_area) && m_by_id.count(l.to_area)) pieces[l.from_area].push_back(m_by_id.at(l.to_area));
        }
        auto& map = m_crosswalks[{c.level, c.from_vintage, c.to_vintage}];
        const auto rank = [](char change) { return change == 'X' ? 3 : change == 'S' ? 2 : change == 'M' ? 1 : 0; };
        for (const auto& l : c.links) {
            const auto from = m_by_id.find(l.from_area);
            const auto to = m_by_id.find(l.to_area);
            if (from == m_by_id.end() || to == m_by_id.end()) continue;
            const auto& split = pieces.at(l.from_area);
            double share = 1;
            if (split.size() > 1) {
                std::int64_t total = 0;
                bool counted = true;
                for (const auto piece : split) {
                    const auto h = m_areas[piece].denominators.find("households");
                    if (h == m_areas[piece].denominators.end()) counted = false;
                    else total += h->second;
                }
                if (counted && total > 0) {
                    share = static_cast<double>(m_areas[to->second].denominators.at("households")) / static_cast<double>(total);
                } else {
                    share = 1.0 / static_cast<double>(split.size());
                }
                // A piece with no households still has a share below 1: it is never taken for the whole old area.
                share = std::min(share, 1.0 - 1e-9);
            }
            auto& target = map.targets[to->second];
            target.parts.emplace_back(from->second, share);
            if (rank(l.change) > rank(target.change)) target.change = l.change;
        }
    }
    if (!build_tiles) return;
    std::map<layer_key, bool> levels;
    for (const auto& a : m_areas) {
        if (a.has_geometry) levels[{a.level, a.vintage}] = true;
    }
    for (const auto& [key, unused] : levels) {
        (void)unused;
        tile_layer& layer = m_layers[key];
        for (const auto& [id, wkb] : data::load_geometries(db, key.level, key.vintage)) {
            layer.polygons.add(reinterpret_cast<const unsigned char*>(wkb.data()), wkb.size());
            layer.area_index.push_back(m_by_id.at(id));
        }
        layer.polygons.build();
        layer.areas_by_code = areas_of(key.level, key.vintage, std::nullopt);
        layer.areas_by_code.erase(std::remove_if(layer.areas_by_code.begin(), layer.areas_by_code.end(),
                                                 [&](std::size_t i) { return !m_areas[i].has_geometry; }),
                                  layer.areas_by_code.end());
    }
}

const std::vector<period_coverage>& snapshot::coverage(const std::string& dataset_id) const {
    static const std::vector<period_coverage> none;
    const auto it = m_coverage.find(dataset_id);
    return it == m_coverage.end() ? none : it->second;
}

const data::dataset_info& snapshot::dataset(const std::string& id) const {
    for (const auto& d : m_datasets) {
        if (d.id == id) return d;
    }
    throw not_found("UnknownDataset", "no dataset \"" + id + "\"");
}

const crosswalk_map* snapshot::crosswalk(const std::string& level, int from, int to) const {
    const auto it = m_crosswalks.find({level, from, to});
    return it == m_crosswalks.end() ? nullptr : &it->second;
}

std::optional<std::size_t> snapshot::find_area(const std::string& code, int vintage_preference) const {
    std::optional<std::size_t> found;
    const auto [begin, end] = m_by_code.equal_range(code);
    for (auto it = begin; it != end; ++it) {
        if (m_areas[it->second].vintage == vintage_preference) return it->second;
        if (!found || m_areas[it->second].vintage > m_areas[*found].vintage) found = it->second;
    }
    return found;
}

std::optional<std::size_t> snapshot::find_area_by_id(std::int64_t id) const {
    const auto it = m_by_id.find(id);
    if (it == m_by_id.end()) return std::nullopt;
    return it->second;
}

int snapshot::latest_vintage(const std::string& level) const {
    int best = 0;
    for (const auto& [key, layer] : m_layers) {
        (void)layer;
        if (key.level == level) best = std::max(best, key.vintage);
    }
    if (best == 0) {
        for (const auto& [l, vintage] : m_level_vintages) {
            if (l == level) best = std::max(best, vintage);
        }
    }
    return best;
}

int snapshot::default_vintage(const std::string& level) const {
    std::set<int> candidates;
    for (const auto& [key, layer] : m_layers) {
        (void)layer;
        if (key.level == level) candidates.insert(key.vintage);
    }
    if (candidates.empty()) {
        for (const auto& [l, vintage] : m_level_vintages) {
            if (l == level) candidates.insert(vintage);
        }
    }
    int best = 0;
    std::size_t best_datasets = 0;
    for (const int v : candidates) { // ascending: a later vintage with as many datasets wins
        const auto n = static_cast<std::size_t>(
            std::count_if(m_datasets.begin(), m_datasets.end(), [v](const data::dataset_info& d) { return d.vintage == v; }));
        if (best == 0 || n >= best_datasets) {
            best = v;
            best_datasets = n;
        }
    }
    return best;
}

const std::string& require_level(const std::string& level) {
    if (data::level_rank(level) >= 0) return level;
    std::string known;
    for (const auto& l : data::known_levels()) known += (known.empty() ? "" : ", ") + l;
    throw not_found("UnknownLevel", "no level \"" + level.substr(0, 20) + "\" (" + known + ")");
}

const tile_layer& snapshot::layer(const std::string& level, int vintage) const {
    const auto it = m_layers.find({level, vintage});
    if (it == m_layers.end()) {
        throw not_found("UnknownLevel", "no " + level + " " + std::to_string(vintage) + " boundaries in this store");
    }
    return it->second;
}

std::vector<std::size_t> snapshot::areas_of(const std::string& level, int vintage,
                                            std::optional<std::size_t> within) const {
    std::vector<std::size_t> out;
    const std::int64_t within_id = within ? m_areas[*within].id : -1;
    for (std::size_t i = 0; i < m_areas.size(); ++i) {
        const auto& a = m_areas[i];
        if (a.level != level || a.vintage != vintage) continue;
        if (within && a.id != within_id &&
            std::find(a.ancestors.begin(), a.ancestors.end(), within_id) == a.ancestors.end()) {
            continue;
        }
        out.push_back(i);
    }
    std::sort(out.begin(), out.end(), [&](std::size_t x, std::size_t y) { return m_areas[x].code < m_areas[y].code; });
    return out;
}

std::optional<std::size_t> snapshot::ancestor_at(std::size_t area, const std::string& level) const {
    if (m_areas[area].level == level) return area;
    for (const auto id : m_areas[area].ancestors) {
        const auto it = m_by_id.find(id);
        if (it != m_by_id.end() && m_areas[it->second].level == level) return it->second;
    }
    return std::nullopt;
}

table_query snapshot::make_query(const std::string& dataset_id, const std::string& measure_id,
                                 const std::string& period, const std::string& level, const std::string& vintage,
                                 const std::string& within) const {
    if (dataset_id.empty()) throw bad_request("MissingParameter", "dataset is required");
    table_query q;
    q.dataset = &dataset(dataset_id);
    const auto& d = *q.dataset;
    if (measure_id.empty()) {
        for (const auto& m : d.measures) {
            if (m.kind != data::measure_kind::percent_base) {
                q.measure = &m;
                break;
            }
        }
    } else {
        q.measure = d.find_measure(measure_id);
        if (!q.measure) throw not_found("UnknownMeasure", "dataset " + d.id + " has no measure \"" + measure_id + "\"");
    }
    if (!q.measure) throw not_found("UnknownMeasure", "dataset " + d.id + " has no servable measure");
    if (q.measure->kind == data::measure_kind::percent_base) {
        throw disclosure_refused("PercentageOnly", "measure " + q.measure->id + " is the base of percentage-only measures "
                                                   "and is never released as a volume");
    }
    if (period.empty()) {
        if (d.periods.empty()) throw not_found("UnknownPeriod", "dataset " + d.id + " has no periods");
        q.period = d.periods.back();
    } else {
        if (std::find(d.periods.begin(), d.periods.end(), period) == d.periods.end()) {
            throw not_found("UnknownPeriod", "dataset " + d.id + " has no period \"" + period + "\" (it has " +
                                                 (d.periods.empty() ? "none" : d.periods.front() + " to " + d.periods.back()) + ")");
        }
        q.period = period;
    }
    q.vintage = d.vintage;
    if (!vintage.empty() && vintage != std::to_string(d.vintage)) {
        int other = 0;
        const bool number = vintage.size() == 4 && std::all_of(vintage.begin(), vintage.end(), [](unsigned char c) { return std::isdigit(c); });
        if (number) other = std::stoi(vintage);
        if (!number || !crosswalk(d.level, d.vintage, other)) {
            throw bad_request("InvalidVintage", "dataset " + d.id + " is on " + std::to_string(d.vintage) + " geography" +
                                                    (number ? " and this store has no " + d.level + " crosswalk from " +
                                                                  std::to_string(d.vintage) + " to " + vintage + " (manifest \"crosswalks\")"
                                                            : ""));
        }
        if (q.measure->kind == data::measure_kind::percent_only) {
            throw disclosure_refused("PercentageOnly", "measure " + q.measure->id + " is a percentage-only measure: it is "
                                     "served on its own boundary vintage only; new areas cut across the old ones, so their "
                                     "percentages next to the others would act like overlapping user-defined areas");
        }
        q.vintage = other;
    }
    q.level = level.empty() ? d.level : level;
    const int rank = data::level_rank(require_level(q.level));
    if (rank < data::level_rank(d.level)) {
        throw bad_request("LevelTooFine", "dataset " + d.id + " is published at " + d.level +
                                              " level; it is never apportioned down to " + q.level);
    }
    refuse_unnested(d, q.level, *q.measure);
    if (q.level != d.level && !m_level_vintages.count({q.level, q.vintage})) {
        // A known level the store has no areas of on this vintage (wards without a ward lookup): an empty table
        // would read as "no data here", so say what is missing.
        throw not_found("UnknownLevel", "this store has no " + q.level + " areas on " + std::to_string(q.vintage) +
                                            " geography (a " + q.level + " lookup for " + std::to_string(q.vintage) + " areas is needed)");
    }
    if (within.rfind("bespoke:", 0) == 0) {
        if (q.crosswalked()) {
            throw bad_request("InvalidVintage", "bespoke areas are made of areas of their dataset's own vintage (" +
                                                    std::to_string(d.vintage) + "); leave out vintage");
        }
        q.within_bespoke = within.substr(8);
        if (q.within_bespoke.empty()) throw bad_request("InvalidParameter", "within=bespoke: needs a bespoke area id");
        refuse_percentages_on_user_areas(q); // before any route does work on it (targets, zones)
    } else if (!within.empty()) {
        q.within = find_area(within, q.vintage);
        if (!q.within) throw not_found("UnknownArea", "no area \"" + within + "\"");
    }
    return q;
}

std::vector<std::size_t> snapshot::cells_covering(const std::vector<std::size_t>& members,
                                                  const data::dataset_info& d) const {
    std::unordered_map<std::int64_t, bool> ids;
    for (const auto m : members) {
        const auto& a = m_areas[m];
        if (a.vintage != d.vintage) {
            throw bad_request("InvalidVintage", "area " + a.code + " is on " + std::to_string(a.vintage) +
                                                    " geography; dataset " + d.id + " is on " + std::to_string(d.vintage));
        }
        if (data::level_rank(a.level) < data::level_rank(d.level)) {
            throw bad_request("LevelTooFine", "dataset " + d.id + " is published at " + d.level + " level; " + a.level +
                                                  " areas are never apportioned from it");
        }
        refuse_unnested_level(d, a.level);
        ids[a.id] = true;
    }
    std::vector<std::size_t> out;
    for (std::size_t i = 0; i < m_areas.size(); ++i) {
        const auto& a = m_areas[i];
        if (a.level != d.level || a.vintage != d.vintage) continue;
        bool in = ids.count(a.id) != 0;
        for (std::size_t k = 0; !in && k < a.ancestors.size(); ++k) in = ids.count(a.ancestors[k]) != 0;
        if (in) out.push_back(i);
    }
    std::sort(out.begin(), out.end(), [&](std::size_t x, std::size_t y) { return m_areas[x].code < m_areas[y].code; });
    return out;
}

void refuse_unnested_level(const data::dataset_info& d, const std::string& level) {
    if (!data::nests_in(d.level, level)) {
        throw bad_request("NotNested", "dataset " + d.id + " is published at " + d.level + " level; " + d.level +
                                           " areas do not fit in " + level + " areas (ward figures are best-fit sums of "
                                           "whole LSOAs or OAs), so they are never summed into them");
    }
}

void refuse_unnested(const data::dataset_info& d, const std::string& level, const data::measure_info& m) {
    refuse_unnested_level(d, level);
    if (data::is_best_fit_level(level) && level != d.level && m.kind == data::measure_kind::percent_only) {
        throw disclosure_refused("PercentageOnly",
                                 "measure " + m.id + " is a percentage-only measure: it is served on the exact hierarchy "
                                 "(OA, LSOA, MSOA, district) only; best-fit " + level + "s cross MSOAs, so their "
                                 "percentages next to the others would act like overlapping user-defined areas");
    }
}

void refuse_percentages_on_user_areas(const table_query& q) {
    if (q.measure->kind != data::measure_kind::percent_only) return;
    if (q.groups.empty() && q.within_bespoke.empty()) return;
    throw disclosure_refused("PercentageOnly",
                             "measure " + q.measure->id + " is a percentage-only measure: it is served on standard "
                             "geographies only (its dataset's level and coarser), never on bespoke or drawn areas, "
                             "because comparing overlapping user-defined areas would recover the volumes behind the "
                             "percentages");
}

disclosure::raw_table snapshot::raw_cells(const table_query& q, const std::vector<std::size_t>& cells) const {
    const auto& d = *q.dataset;
    std::unordered_map<std::int64_t, std::optional<std::int64_t>> values;
    std::unordered_set<std::int64_t> publisher_suppressed;
    for (const auto& o : observations(d.id, q.measure->id, q.period)) {
        values[o.area_id] = o.value;
        if (o.suppressed) publisher_suppressed.insert(o.area_id);
    }
    std::unordered_map<std::int64_t, std::optional<std::int64_t>> bases;
    const bool percent = q.measure->kind == data::measure_kind::percent_only;
    if (percent) {
        for (const auto& o : observations(d.id, q.measure->percent_of, q.period)) bases[o.area_id] = o.value;
    }
    const std::string denominator = q.measure->denominator.empty() ? "households" : q.measure->denominator;

    disclosure::raw_table raw;
    raw.kind = percent ? disclosure::measure_kind::percent_only : disclosure::measure_kind::count;
    raw.rows.reserve(cells.size());
    for (const auto index : cells) {
        const auto& a = m_areas[index];
        disclosure::raw_row row;
        row.code = a.code;
        row.name = a.name;
        if (const auto h = a.denominators.find(denominator); h != a.denominators.end()) row.households = h->second;
        if (const auto v = values.find(a.id); v != values.end()) row.value = v->second;
        row.suppressed = publisher_suppressed.count(a.id) > 0;
        if (percent) {
            if (const auto b = bases.find(a.id); b != bases.end()) row.denominator = b->second;
        }
        raw.rows.push_back(std::move(row));
    }
    return raw;
}

table_result snapshot::table(data::database& db, const table_query& q) const {
    const auto& d = *q.dataset;
    refuse_percentages_on_user_areas(q);
    if (q.crosswalked()) {
        if (!q.groups.empty() || !q.within_bespoke.empty()) {
            throw bad_request("InvalidVintage", "bespoke areas are made of areas of their dataset's own vintage (" +
                                                    std::to_string(d.vintage) + ")");
        }
        return crosswalked_table(q);
    }
    std::vector<std::size_t> cells;
    if (!q.groups.empty()) {
        std::vector<std::size_t> all;
        for (const auto& g : q.groups) all.insert(all.end(), g.second.begin(), g.second.end());
        cells = cells_covering(all, d);
    } else if (!q.within_bespoke.empty()) {
        // Through the one resolver with the query's reader: a private area of another organisation is unknown here.
        const auto b = data::load_bespoke(db, q.within_bespoke, false, q.bespoke_reader);
        if (!b) throw not_found("UnknownBespoke", "no bespoke area \"" + q.within_bespoke.substr(0, 40) + "\"");
        std::vector<std::size_t> members;
        for (const auto id : b->members) {
            if (const auto i = find_area_by_id(id)) members.push_back(*i);
        }
        cells = cells_covering(members, d);
    } else {
        cells = areas_of(d.level, d.vintage, q.within);
    }
    const auto raw = raw_cells(q, cells);
    auto protected_cells = disclosure::protect(raw, d.policy);

    if (!q.groups.empty()) {
        // One row per bespoke area: the sum of the protected cells its members cover (rule 2), never a raw sum.
        std::unordered_map<std::size_t, std::size_t> row_of;
        for (std::size_t i = 0; i < cells.size(); ++i) row_of[cells[i]] = i;
        std::vector<std::pair<std::string, std::vector<std::size_t>>> rows;
        for (const auto& [code, members] : q.groups) {
            std::vector<std::size_t> indices;
            for (const auto c : cells_covering(members, d)) indices.push_back(row_of.at(c));
            rows.emplace_back(code, std::move(indices));
        }
        return table_result{q, disclosure::aggregate(rows, protected_cells, raw), {}, {}, {}};
    }
    table_result cells_table{q, std::move(protected_cells), cells, {}, {}};
    if (q.level == d.level) return cells_table;
    return to_coarser_level(q, std::move(cells_table), &raw);
}

table_result snapshot::to_coarser_level(const table_query& q, table_result t, const disclosure::raw_table* raw) const {
    // Each row is the sum of its members' protected cells (rule 2), never a raw sum.
    std::map<std::size_t, std::vector<std::size_t>> members;
    for (std::size_t i = 0; i < t.row_areas.size(); ++i) {
        if (const auto parent = ancestor_at(t.row_areas[i], q.level)) members[*parent].push_back(i);
    }
    std::vector<std::pair<std::string, std::vector<std::size_t>>> groups;
    std::vector<std::size_t> parents;
    for (auto& [parent, rows] : members) {
        groups.emplace_back(m_areas[parent].code, std::move(rows));
        parents.push_back(parent);
    }
    std::vector<std::size_t> order(groups.size());
    for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::sort(order.begin(), order.end(),
              [&](std::size_t x, std::size_t y) { return m_areas[parents[x]].code < m_areas[parents[y]].code; });
    std::vector<std::pair<std::string, std::vector<std::size_t>>> sorted_groups;
    std::vector<std::size_t> sorted_parents;
    for (const auto i : order) {
        sorted_groups.push_back(std::move(groups[i]));
        sorted_parents.push_back(parents[i]);
    }
    // Households are the sum over the covered cells with a count (rule 8), not the coarser area's own Census
    // figure: a rate must use the households of the same cells as its value.
    auto aggregated = raw ? disclosure::aggregate(sorted_groups, t.table, *raw) : disclosure::aggregate_counts(sorted_groups, t.table);
    return table_result{q, std::move(aggregated), sorted_parents, {}, {}};
}

table_result snapshot::crosswalked_table(const table_query& q) const {
    const auto& d = *q.dataset;
    const crosswalk_map* map = crosswalk(d.level, d.vintage, q.vintage);
    if (!map) throw bad_request("InvalidVintage", "no crosswalk for dataset " + d.id);
    // The new vintage's areas inside `within` (or all), and the old cells they are made of.
    const auto targets = areas_of(d.level, q.vintage, q.within);
    std::vector<std::size_t> cells;
    std::unordered_map<std::size_t, std::size_t> cell_row;
    for (const auto t : targets) {
        const auto it = map->targets.find(t);
        if (it == map->targets.end()) continue;
        for (const auto& [old_area, share] : it->second.parts) {
            (void)share;
            if (cell_row.emplace(old_area, cells.size()).second) cells.push_back(old_area);
        }
    }
    const auto raw = raw_cells(q, cells);
    const auto protected_cells = disclosure::protect(raw, d.policy);
    std::vector<disclosure::crosswalk_area> areas;
    std::vector<char> changes;
    areas.reserve(targets.size());
    for (const auto t : targets) {
        disclosure::crosswalk_area area;
        area.code = m_areas[t].code;
        area.name = m_areas[t].name;
        const std::string denominator = q.measure->denominator.empty() ? "households" : q.measure->denominator;
        if (const auto h = m_areas[t].denominators.find(denominator); h != m_areas[t].denominators.end()) area.households = h->second;
        char change = 0;
        if (const auto it = map->targets.find(t); it != map->targets.end()) {
            for (const auto& [old_area, share] : it->second.parts) area.parts.push_back({cell_row.at(old_area), share});
            change = it->second.change;
        }
        areas.push_back(std::move(area));
        changes.push_back(change);
    }
    table_result moved{q, disclosure::crosswalk(areas, protected_cells), targets, {}, std::move(changes)};
    if (q.level == d.level) return moved;
    return to_coarser_level(q, std::move(moved), nullptr);
}

void refuse_crosswalked(const table_query& q, const char* what) {
    if (!q.crosswalked()) return;
    throw bad_request("InvalidVintage", std::string(what) + " are found on the dataset's own " + q.dataset->level + " " +
                                            std::to_string(q.dataset->vintage) + " areas; leave out vintage");
}

std::vector<std::int32_t> rows_by_area(const table_result& t, std::size_t num_areas) {
    std::vector<std::int32_t> rows(num_areas, -1);
    for (std::size_t i = 0; i < t.row_areas.size(); ++i) rows[t.row_areas[i]] = static_cast<std::int32_t>(i);
    return rows;
}

} // namespace smallarea::engine
