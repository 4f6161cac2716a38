#pragma once
// The store: one SQLite/SpatiaLite file holding areas (boundaries in EPSG:4326), lookups, denominators,
// datasets and their observations. Typed queries return plain structs; no SQL leaves data/.

#include "data/disclosure/policy.hpp"
#include "data/sqlite.hpp"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace smallarea::data {

/// Schema version this build reads and writes (PRAGMA user_version).
constexpr int schema_version = 8;

/// Opens an existing store for reading/serving. Throws store_error when it is missing, not a smallarea store,
/// locked, from a newer schema version, or from an older one (run `smallarea ingest` to migrate it).
database open_store(const std::string& path, bool writable);

/// Opens an existing store read-write and migrates it from an older schema version (the `keys` commands, so an
/// operator can name a representative on an old store). Throws store_error as open_store, except for "older".
database open_store_migrating(const std::string& path);

/// Opens a store for ingest, creating it (and its schema) when absent; migrates older schema versions.
database create_or_open_store(const std::string& path);

/// Geography levels from finest to coarsest; `level_rank` orders them (oa < lsoa < msoa < ward < lad).
const std::vector<std::string>& known_levels();
int level_rank(const std::string& level); // -1 when unknown
/// "oa, lsoa, msoa, ward, lad", for messages.
std::string known_levels_text();
/// A level reached by a best-fit lookup rather than by nesting (wards: each LSOA counted whole in one ward), so
/// its figures are labelled "best fit" and percentage-only measures are not served on it.
bool is_best_fit_level(const std::string& level);
/// A level whose codes are re-issued in any year on the same census building blocks (LAD22CD, WD24CD), so a lookup
/// column of another year still belongs to the vintage.
bool is_reissued_level(const std::string& level);
/// True when areas of level `fine` can be summed into areas of level `coarse` (equal levels too): the chain
/// oa < lsoa < msoa < lad, and wards from OAs and LSOAs (best fit) into districts; MSOAs do not fit in wards.
bool nests_in(const std::string& fine, const std::string& coarse);

struct area {
    std::int64_t id = 0;
    std::string level;
    int vintage = 0;
    std::string code;
    std::string name;
    bool has_geometry = false;
    std::map<std::string, std::int64_t> denominators; ///< e.g. "households" -> 123 (Census, published)
    std::vector<std::int64_t> ancestors;             ///< ids of every coarser area containing it (lookups)
};

/// Every area with its denominators and ancestors, ordered by id.
std::vector<area> load_areas(database& db);

/// (area id, WKB MultiPolygon in EPSG:4326) for every area of a level and vintage that has a boundary, by id.
std::vector<std::pair<std::int64_t, std::string>> load_geometries(database& db, const std::string& level, int vintage);

/// One area's boundary as WKB (EPSG:4326); empty when it has none.
std::string load_geometry(database& db, std::int64_t area_id);

enum class measure_kind { count, percent_only, percent_base };
const char* to_string(measure_kind k) noexcept;
/// The kind stored as text; anything unknown reads as a count (the strictest: rounded per the policy).
measure_kind parse_measure_kind(const std::string& text) noexcept;

struct measure_info {
    std::string id;
    std::string title;
    std::string unit;
    measure_kind kind = measure_kind::count;
    std::string denominator;           ///< count: denominator for rates, e.g. "households"
    std::string percent_of;            ///< percent_only: the measure id it is a percentage of
    std::vector<std::string> sum_of;   ///< percent_base: the measures it sums
};

/// When a period's figures were published and whether they were revised since.
struct period_revision {
    std::int64_t first_release = 0; ///< the release the period first appeared in
    std::int64_t release = 0;       ///< the release its figures last changed in
    std::int64_t revision = 0;      ///< 0: as first published; n: changed n times since
    std::string revised_at;         ///< ISO 8601 UTC of the last change ("" when never revised)
};

struct dataset_info {
    std::string id;
    std::string title;
    std::string publisher;
    std::string licence;
    std::string attribution;
    std::string level;
    int vintage = 0;
    disclosure::policy policy;
    std::int64_t release = 0; ///< bumped on every (re-)ingest of this dataset; keys caches and ETags
    std::string ingested_at;  ///< ISO 8601 UTC
    std::vector<measure_info> measures;
    std::vector<std::string> periods; ///< ascending
    std::int64_t observations = 0;
    /// Per period (absent for stores ingested before revisions were kept: first published in `release`).
    std::map<std::string, period_revision> revisions;

    const measure_info* find_measure(const std::string& measure_id) const;
};

std::vector<dataset_info> load_datasets(database& db);

struct observation {
    std::int64_t area_id = 0;
    std::optional<std::int64_t> value; ///< nullopt: no value in the source (an empty or a suppressed cell)
    bool suppressed = false;           ///< the publisher marked the cell suppressed (e.g. Stat-Xplore ".."); value nullopt
};

/// Raw observations of one measure and period, by area id. Raw: callers must pass them through disclosure.
std::vector<observation> load_observations(database& db, const std::string& dataset_id, const std::string& measure_id,
                                           const std::string& period);

/// One pair of a boundary crosswalk (store table `crosswalks`): an area of the old vintage and an area of the new
/// one it shares ground with, and the publisher's change code: 'U' unchanged, 'S' split, 'M' merged, 'X' irregular.
struct crosswalk_link {
    std::int64_t from_area = 0;
    std::int64_t to_area = 0;
    char change = 'U';
};

struct crosswalk_info {
    std::string level;
    int from_vintage = 0;
    int to_vintage = 0;
    std::vector<crosswalk_link> links; ///< ordered by (from_area, to_area)
};

/// Every crosswalk in the store (empty for stores without one).
std::vector<crosswalk_info> load_crosswalks(database& db);

/// The store-wide data release: the largest dataset release (0 when none). Part of every cache key.
std::int64_t data_release(database& db);

} // namespace smallarea::data
