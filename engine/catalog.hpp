#pragma once
// A read-only snapshot of the store held in memory: areas with their denominators and ancestors, datasets,
// and the tile layers of every level that has boundaries. Built once per data release and shared by all request
// threads through a shared_ptr; a new release builds a new snapshot and swaps it in.

#include "data/bespoke_store.hpp"
#include "data/disclosure/table.hpp"
#include "data/store.hpp"
#include "geo/polygon_layer.hpp"

#include <map>
#include <set>
#include <memory>
#include <optional>
#include <string>
#include <tuple>
#include <unordered_map>
#include <vector>

namespace smallarea::engine {

struct layer_key {
    std::string level;
    int vintage = 0;
    bool operator<(const layer_key& o) const { return std::tie(level, vintage) < std::tie(o.level, o.vintage); }
};

struct tile_layer {
    geo::polygon_layer polygons;
    std::vector<std::size_t> area_index; ///< polygon index -> index into snapshot::areas
    /// Areas of this layer (index into snapshot::areas), ordered by code: a client paging through a national OGC
    /// collection (GDAL asks 10 at a time by default) would otherwise sort every area on each page.
    std::vector<std::size_t> areas_by_code;
};

/// The one check of a level named by a user (query parameter, path, body, CLI option): returns it when it is a
/// known level (data::known_levels), else throws not_found("UnknownLevel") naming the known ones. Always 404,
/// whichever route asks. Whether this store has boundaries for it is snapshot::layer's question.
const std::string& require_level(const std::string& level);

/// A boundary crosswalk as the snapshot holds it: each area of the new vintage (index into snapshot::areas) with
/// the old-vintage areas it is made of and the share of each (1 = the whole old area; a split area's pieces share
/// it by Census households of the new areas, or equally when a piece has no count), and the publisher's change
/// code of the area ('U', 'M', 'S', 'X'; the most irregular of its pairs).
struct crosswalk_target {
    std::vector<std::pair<std::size_t, double>> parts;
    char change = 'U';
};
struct crosswalk_map {
    std::unordered_map<std::size_t, crosswalk_target> targets;
};

/// What a table request names, after validation.
struct table_query {
    const data::dataset_info* dataset = nullptr;
    const data::measure_info* measure = nullptr;
    std::string period;
    std::string level;      ///< the level rows are at (the dataset's or a coarser one)
    /// The boundary vintage rows are on: the dataset's, or another one a crosswalk reaches (vintage=2021 on a 2011
    /// dataset; see crosswalked()).
    int vintage = 0;
    /// The table is moved from the dataset's vintage to `vintage` through a crosswalk.
    bool crosswalked() const noexcept { return dataset && vintage != dataset->vintage; }
    std::optional<std::size_t> within; ///< index into snapshot::areas
    /// within=bespoke:ID: the bespoke area's id; table() loads its members from the store and keeps only the
    /// dataset-level cells they cover.
    std::string within_bespoke;
    /// Who asks: table() reads the within_bespoke area only when this reader may (data::load_bespoke). The default
    /// reads public areas only, so a route that forgets to set it fails closed.
    data::bespoke_reader bespoke_reader;
    /// level=bespoke: one output row per group (code, member area indices at the dataset's level or coarser), each
    /// the disclosure::aggregate of the dataset-level protected cells its members cover; row_areas is then empty.
    std::vector<std::pair<std::string, std::vector<std::size_t>>> groups;
};

/// How much of a level one period of a dataset covers.
struct period_coverage {
    std::string period;
    std::int64_t areas = 0;            ///< areas of the dataset's level and vintage
    std::int64_t areas_with_value = 0; ///< of those, with a value for any servable measure
};

/// A protected table plus what it is about: the only thing encoders receive.
struct table_result {
    table_query query;
    disclosure::protected_table table;
    std::vector<std::size_t> row_areas; ///< index into snapshot::areas for each row (same order)
    /// The inverse of row_areas (-1: the area has no row). Filled only for tables cached by
    /// context::table_values, so a tile looks its features up without rebuilding a per-area map per request.
    std::vector<std::int32_t> row_of_area;
    /// Crosswalked tables at the dataset's level: each row's change code ('U', 'M', 'S', 'X'; 0 when the area is in
    /// no pair of the crosswalk). Empty otherwise.
    std::vector<char> row_change;
};

/// Throws bad_request("NotNested") when d's areas do not sum into `level` (MSOA data by ward), and
/// disclosure_refused("PercentageOnly") for a percentage-only measure on a best-fit level (wards) other than d's own.
void refuse_unnested(const data::dataset_info& d, const std::string& level, const data::measure_info& m);
/// Only the first: bad_request("NotNested") when d's areas do not sum into `level`.
void refuse_unnested_level(const data::dataset_info& d, const std::string& level);

/// Throws disclosure_refused("PercentageOnly") when q asks for a percentage-only measure over user-defined areas
/// (level=bespoke groups, within=bespoke:ID): percentages are served on standard geographies only (README rule 3).
void refuse_percentages_on_user_areas(const table_query& q);

/// Throws bad_request("InvalidVintage") for a table moved to another boundary vintage: targets and zones rank and
/// join the dataset's own areas (their households, postcodes and OAs), never estimated or withheld pieces.
void refuse_crosswalked(const table_query& q, const char* what);

/// The inverse of t.row_areas over num_areas areas (-1: the area has no row).
std::vector<std::int32_t> rows_by_area(const table_result& t, std::size_t num_areas);

class snapshot {
public:
    /// Loads everything from the store. Throws store_error.
    explicit snapshot(data::database& db, bool build_tiles = true);

    std::int64_t release() const noexcept { return m_release; }
    const std::vector<data::area>& areas() const noexcept { return m_areas; }
    /// Each area's name in lower case (same order as areas()), once per snapshot: /api/search matches names
    /// case-insensitively, and lower-casing every name of a national store on each request cost more than the rest.
    const std::vector<std::string>& lower_names() const noexcept { return m_lower_names; }
    const std::vector<data::dataset_info>& datasets() const noexcept { return m_datasets; }
    const std::map<layer_key, tile_layer>& layers() const noexcept { return m_layers; }

    /// Each period's coverage of a dataset, in period order (empty for an unknown id).
    const std::vector<period_coverage>& coverage(const std::string& dataset_id) const;

    /// Throws not_found when there is no such dataset.
    const data::dataset_info& dataset(const std::string& id) const;
    /// Index of the area with this code at any level; prefers the given vintage. nullopt when unknown.
    std::optional<std::size_t> find_area(const std::string& code, int vintage_preference) const;
    std::optional<std::size_t> find_area_by_id(std::int64_t id) const;
    /// The newest vintage of a level that has any area (0 when none).
    int latest_vintage(const std::string& level) const;
    /// The vintage a request means when it names a level but no vintage (boundary tiles, bespoke members, area
    /// lists): of the vintages the level has boundaries on (else any areas on), the one most datasets are on, the
    /// newest on a tie. Area codes that did not change keep their code in the next census (an unchanged LSOA is
    /// E01005061 in 2011 and 2021), so "the newest" would silently move a 2011 store's users onto 2021 areas the
    /// moment 2021 boundaries are added.
    int default_vintage(const std::string& level) const;
    /// Throws not_found when the level/vintage has no boundaries.
    const tile_layer& layer(const std::string& level, int vintage) const;

    /// Areas of level/vintage, inside `within` (itself or any ancestor) when given, ordered by code.
    std::vector<std::size_t> areas_of(const std::string& level, int vintage, std::optional<std::size_t> within) const;
    /// Whether any area of `level` lies in an area of `parent_level` (an OA in a ward: a best-fit lookup was given).
    bool has_parent_level(const std::string& level, const std::string& parent_level) const {
        return m_parent_levels.count({level, parent_level}) != 0;
    }
    /// The ancestor of an area at a coarser level, if the lookups know it.
    std::optional<std::size_t> ancestor_at(std::size_t area, const std::string& level) const;
    /// The areas of dataset d's level and vintage covered by `members` (each at d's level, or coarser: then its
    /// d-level descendants), ordered by code, no duplicates. Never apportions down: a member finer than d's level
    /// throws bad_request("LevelTooFine"); another vintage throws bad_request("InvalidVintage").
    std::vector<std::size_t> cells_covering(const std::vector<std::size_t>& members, const data::dataset_info& d) const;

    /// The crosswalk of a level between two vintages; nullptr when the store has none.
    const crosswalk_map* crosswalk(const std::string& level, int from, int to) const;

    /// Builds the raw table for a query from the store and protects it (and aggregates it to a coarser level).
    /// The raw values never leave this function.
    table_result table(data::database& db, const table_query& q) const;

    /// Validates request parameters into a query. Throws bad_request / not_found / disclosure_refused.
    table_query make_query(const std::string& dataset_id, const std::string& measure_id, const std::string& period,
                           const std::string& level, const std::string& vintage, const std::string& within) const;

private:
    void load(data::database& db, bool build_tiles);
    /// Raw observations of one dataset measure and period (empty when none). Raw, so private: only table()
    /// reads them, and it returns protected values.
    const std::vector<data::observation>& observations(const std::string& dataset_id, const std::string& measure_id,
                                                       const std::string& period) const;
    /// The raw cells of q's dataset, measure and period for these areas (at the dataset's level and vintage).
    disclosure::raw_table raw_cells(const table_query& q, const std::vector<std::size_t>& cells) const;
    /// table() for a crosswalked query: protected cells on the old vintage, moved by disclosure::crosswalk.
    table_result crosswalked_table(const table_query& q) const;
    /// Rows of `t` (at the dataset's level) summed into q.level through the areas' ancestors.
    table_result to_coarser_level(const table_query& q, table_result t, const disclosure::raw_table* raw) const;

    std::int64_t m_release = 0;
    std::unordered_map<std::string, std::vector<data::observation>> m_observations;
    std::vector<data::area> m_areas;
    std::vector<std::string> m_lower_names;
    std::unordered_map<std::int64_t, std::size_t> m_by_id;
    std::unordered_multimap<std::string, std::size_t> m_by_code;
    std::set<std::pair<std::string, int>> m_level_vintages; ///< (level, vintage) of every area, for refusals
    std::set<std::pair<std::string, std::string>> m_parent_levels; ///< (level, ancestor level) some area has
    std::vector<data::dataset_info> m_datasets;
    std::map<std::string, std::vector<period_coverage>> m_coverage;
    std::map<layer_key, tile_layer> m_layers;
    std::map<std::tuple<std::string, int, int>, crosswalk_map> m_crosswalks; ///< (level, from, to)
};

} // namespace smallarea::engine
