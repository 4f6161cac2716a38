#include "data/store.hpp"
#include "core/split.hpp"

#include "core/error.hpp"

#include <algorithm>
#include <regex>
#include <cstdlib>
#include <sys/stat.h>
#include <unordered_map>

namespace smallarea::data {

namespace {

// Version 1 of the schema. Observations are WITHOUT ROWID keyed by what a query asks for, so one measure and
// period of a dataset is one contiguous range of the b-tree.
const char* const schema_v1 = R"sql(
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
INSERT INTO meta (key, value) VALUES ('release', '0');
CREATE TABLE areas (
    id INTEGER PRIMARY KEY,
    level TEXT NOT NULL,
    vintage INTEGER NOT NULL,
    code TEXT NOT NULL,
    name TEXT NOT NULL DEFAULT '',
    UNIQUE (vintage, level, code)
);
SELECT AddGeometryColumn('areas', 'geom', 4326, 'MULTIPOLYGON', 'XY');
CREATE TABLE area_ancestors (
    area_id INTEGER NOT NULL REFERENCES areas (id),
    ancestor_id INTEGER NOT NULL REFERENCES areas (id),
    PRIMARY KEY (area_id, ancestor_id)
) WITHOUT ROWID;
CREATE TABLE denominators (
    area_id INTEGER NOT NULL REFERENCES areas (id),
    measure TEXT NOT NULL,
    value INTEGER NOT NULL CHECK (value >= 0),
    source TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (area_id, measure)
) WITHOUT ROWID;
CREATE TABLE datasets (
    id TEXT PRIMARY KEY,
    title TEXT NOT NULL,
    publisher TEXT NOT NULL,
    licence TEXT NOT NULL,
    attribution TEXT NOT NULL,
    classification TEXT NOT NULL CHECK (classification IN ('published', 'internal')),
    level TEXT NOT NULL,
    vintage INTEGER NOT NULL,
    rounding_base INTEGER NOT NULL CHECK (rounding_base >= 1),
    rounded_by TEXT NOT NULL CHECK (rounded_by IN ('publisher', 'smallarea')),
    suppression_threshold INTEGER NOT NULL DEFAULT 0,
    percent_min_denominator INTEGER NOT NULL DEFAULT 10,
    release INTEGER NOT NULL,
    ingested_at TEXT NOT NULL
);
CREATE TABLE measures (
    dataset_id TEXT NOT NULL REFERENCES datasets (id) ON DELETE CASCADE,
    id TEXT NOT NULL,
    ord INTEGER NOT NULL,
    title TEXT NOT NULL,
    unit TEXT NOT NULL DEFAULT '',
    kind TEXT NOT NULL CHECK (kind IN ('count', 'percent_only', 'percent_base')),
    denominator TEXT NOT NULL DEFAULT '',
    percent_of TEXT NOT NULL DEFAULT '',
    sum_of TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (dataset_id, id)
);
CREATE TABLE observations (
    dataset_id TEXT NOT NULL,
    measure_id TEXT NOT NULL,
    period TEXT NOT NULL,
    area_id INTEGER NOT NULL,
    value INTEGER CHECK (value IS NULL OR value >= 0),
    PRIMARY KEY (dataset_id, measure_id, period, area_id)
) WITHOUT ROWID;
)sql";

// Version 2: bespoke (combined) areas, and access control for internal MI (organisations, keys, audit).
// The tables of each feature are defined next to the code that owns them.
const char* const schema_v2_bespoke = R"sql(
CREATE TABLE bespoke_areas (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    level TEXT NOT NULL,
    vintage INTEGER NOT NULL,
    owner TEXT NOT NULL DEFAULT '',
    source TEXT NOT NULL DEFAULT 'codes' CHECK (source IN ('codes', 'polygon', 'zones')),
    created_at TEXT NOT NULL,
    outline BLOB
);
CREATE TABLE bespoke_members (
    bespoke_id TEXT NOT NULL REFERENCES bespoke_areas (id) ON DELETE CASCADE,
    area_id INTEGER NOT NULL REFERENCES areas (id),
    PRIMARY KEY (bespoke_id, area_id)
) WITHOUT ROWID;
)sql";

const char* const schema_v2_access = R"sql(
CREATE TABLE organisations (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    agreement_signed TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'suspended')),
    created_at TEXT NOT NULL
);
CREATE TABLE organisation_datasets (
    organisation_id INTEGER NOT NULL REFERENCES organisations (id) ON DELETE CASCADE,
    dataset_id TEXT NOT NULL,
    PRIMARY KEY (organisation_id, dataset_id)
) WITHOUT ROWID;
CREATE TABLE api_keys (
    id INTEGER PRIMARY KEY,
    organisation_id INTEGER NOT NULL REFERENCES organisations (id),
    key_hash TEXT NOT NULL UNIQUE,
    prefix TEXT NOT NULL,
    created_at TEXT NOT NULL,
    revoked_at TEXT
);
CREATE TABLE sharing (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    suspended_all INTEGER NOT NULL DEFAULT 0,
    changed_at TEXT
);
INSERT INTO sharing (id, suspended_all) VALUES (1, 0);
CREATE TABLE audit_log (
    id INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    organisation_id INTEGER,
    key_id INTEGER,
    client TEXT NOT NULL DEFAULT '',
    endpoint TEXT NOT NULL,
    dataset_id TEXT,
    area TEXT,
    outcome INTEGER NOT NULL,
    detail TEXT NOT NULL DEFAULT ''
);
CREATE TRIGGER audit_log_append_only_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER audit_log_append_only_delete BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
)sql";

// Version 3: ownership of bespoke areas (DESIGN rule 7) and the organisation's named representative.
// A bespoke area made with a key belongs to that key's organisation (organisation_id) and is private unless
// published; always_private marks zones and areas derived from internal MI, which can never be published.
// An area made without a key has no organisation and is public. Older organisations get no representative:
// the server then shares no internal MI with them until one is named (`smallarea keys org-update`).
const char* const schema_v3 = R"sql(
ALTER TABLE organisations ADD COLUMN representative TEXT;
ALTER TABLE organisations ADD COLUMN representative_contact TEXT;
ALTER TABLE bespoke_areas ADD COLUMN organisation_id INTEGER REFERENCES organisations (id);
ALTER TABLE bespoke_areas ADD COLUMN visibility TEXT NOT NULL DEFAULT 'public' CHECK (visibility IN ('public', 'private'));
ALTER TABLE bespoke_areas ADD COLUMN always_private INTEGER NOT NULL DEFAULT 0;
-- Zones saved before ownership existed are named after their dataset ("Zone 1: DATASET MEASURE PERIOD in ...")
-- and their members follow its values. Those built on internal MI become private with no owner: no HTTP caller
-- can read them any more (the store holder still can, with `smallarea export`).
UPDATE bespoke_areas SET visibility = 'private', always_private = 1
 WHERE source = 'zones'
   AND EXISTS (SELECT 1 FROM datasets d WHERE d.classification = 'internal'
                AND bespoke_areas.name LIKE 'Zone %: ' || d.id || ' %');
)sql";

// Version 4: a publisher-suppressed cell (a file option "suppressed": [".."]) is told apart from a cell with no
// value in the source, so the server shows it as suppressed, not missing (DESIGN rule 6). Older rows keep 0.
const char* const schema_v4 = R"sql(
ALTER TABLE observations ADD COLUMN suppressed INTEGER NOT NULL DEFAULT 0 CHECK (suppressed IN (0, 1));
)sql";

// Version 6 (issue #17): revisions. One row per dataset period: the release its figures were first published in,
// the release they last changed in, and how often they changed (NOMIS revises the previous month with each
// release). Written by the dataset reader (data/ingest/datasets.cpp) in the ingest's transaction.
const char* const schema_v6_revisions = R"sql(
CREATE TABLE IF NOT EXISTS dataset_periods (
    dataset_id TEXT NOT NULL,
    period TEXT NOT NULL,
    first_release INTEGER NOT NULL,
    release INTEGER NOT NULL,
    revision INTEGER NOT NULL DEFAULT 0 CHECK (revision >= 0),
    revised_at TEXT,
    PRIMARY KEY (dataset_id, period)
) WITHOUT ROWID;
)sql";

// Version 7 (issue #14): postcodes (data/ingest/postcodes.cpp), each assigned to one Output Area: by the ONS
// Postcode Directory's own OA column ('lookup') or, for files without one, by the OA boundary that contains its
// centroid ('point_in_polygon', as ONS assigns them). Terminated postcodes are kept (live = 0) because old
// letters and case files still carry them. Ward and neighbourhood (MSOA) names come with the postcode file.
// place_names holds the wards and neighbourhoods those files name, with a box and a label point, for
// /api/search and /api/labels (engine/places.cpp); both tables are rewritten by each postcodes ingest.
const char* const schema_v7_postcodes = R"sql(
CREATE TABLE IF NOT EXISTS postcodes (
    postcode TEXT PRIMARY KEY,
    area_id INTEGER NOT NULL REFERENCES areas (id),
    lat REAL,
    lon REAL,
    live INTEGER NOT NULL DEFAULT 1 CHECK (live IN (0, 1)),
    introduced TEXT,
    terminated TEXT,
    ward_code TEXT,
    ward_name TEXT,
    msoa_name TEXT,
    assigned_by TEXT NOT NULL CHECK (assigned_by IN ('lookup', 'point_in_polygon'))
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS postcodes_area ON postcodes (area_id);
-- /api/labels asks for the postcodes in a small box: a range on lat, then lon checked per row.
CREATE INDEX IF NOT EXISTS postcodes_lat ON postcodes (lat);
CREATE TABLE IF NOT EXISTS place_names (
    kind TEXT NOT NULL CHECK (kind IN ('ward', 'neighbourhood')),
    code TEXT NOT NULL,
    name TEXT NOT NULL,
    vintage INTEGER NOT NULL,
    min_lon REAL NOT NULL, min_lat REAL NOT NULL, max_lon REAL NOT NULL, max_lat REAL NOT NULL,
    lon REAL NOT NULL,
    lat REAL NOT NULL,
    postcodes INTEGER NOT NULL,
    PRIMARY KEY (kind, code, vintage)
) WITHOUT ROWID;
)sql";

// Version 8 (issue #17): boundary crosswalks, e.g. ONS's LSOA 2011 -> LSOA 2021 lookup. One row per (old area,
// new area) pair with the publisher's change code (U unchanged, S split, M merged, X irregular). Whether a new
// area is an exact sum of old ones is read from the pairs themselves, not the code: an old area with one new
// area is wholly inside it. Rewritten per (level, from, to) by each crosswalk ingest.
const char* const schema_v8_crosswalks = R"sql(
CREATE TABLE IF NOT EXISTS crosswalks (
    level TEXT NOT NULL,
    from_vintage INTEGER NOT NULL,
    to_vintage INTEGER NOT NULL,
    from_area INTEGER NOT NULL REFERENCES areas (id),
    to_area INTEGER NOT NULL REFERENCES areas (id),
    change TEXT NOT NULL CHECK (change IN ('U', 'S', 'M', 'X')),
    PRIMARY KEY (level, from_vintage, to_vintage, from_area, to_area)
) WITHOUT ROWID;
)sql";

// PostgreSQL/PostGIS gets the same schema steps, translated (one definition of every table for both engines):
// rowid keys become identity columns, integers 64-bit, REAL double precision, BLOB bytea, WITHOUT ROWID goes,
// SpatiaLite's geometry column becomes a PostGIS one with a GiST index, and the audit log's RAISE(ABORT) triggers
// become a PL/pgSQL function (plus a TRUNCATE guard SQLite has no need of). Flags stay 0/1 integers, so queries
// are the same on both. The schema version lives in meta ('schema_version').
std::string to_postgresql(const std::string& sqlite_ddl) {
    std::string out = std::regex_replace(sqlite_ddl, std::regex(R"(\bid INTEGER PRIMARY KEY,)"),
                                         "id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,");
    out = std::regex_replace(out, std::regex(R"(\bINTEGER\b)"), "BIGINT");
    out = std::regex_replace(out, std::regex(R"(\bREAL\b)"), "DOUBLE PRECISION");
    out = std::regex_replace(out, std::regex(R"(\bBLOB\b)"), "BYTEA");
    out = std::regex_replace(out, std::regex(R"(\) WITHOUT ROWID;)"), ");");
    out = std::regex_replace(
        out, std::regex(R"(SELECT AddGeometryColumn\('(\w+)', '(\w+)', (\d+), '(\w+)', 'XY'\);)"),
        "ALTER TABLE $1 ADD COLUMN $2 geometry($4, $3); CREATE INDEX $1_$2 ON $1 USING gist ($2);");
    out = std::regex_replace(
        out, std::regex(R"(CREATE TRIGGER (\w+) BEFORE (\w+) ON (\w+)\s*BEGIN SELECT RAISE\(ABORT, ('[^']*')\); END;)"),
        "CREATE TRIGGER $1 BEFORE $2 ON $3 FOR EACH ROW EXECUTE FUNCTION smallarea_refuse($4);");
    return out;
}

const char* const postgresql_before_schema = R"sql(
CREATE OR REPLACE FUNCTION smallarea_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN RAISE EXCEPTION '%', TG_ARGV[0]; END $$;
)sql";

const char* const postgresql_after_schema = R"sql(
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION smallarea_refuse('the audit log is append-only');
)sql";

/// Runs one schema step in the store's dialect.
void exec_schema(database& db, const char* sqlite_ddl) {
    db.exec(db.is_postgresql() ? to_postgresql(sqlite_ddl) : std::string(sqlite_ddl));
}

/// True when table has column (a version step that adds one is then already done: a store whose version number
/// was set back by hand, as the migration tests do, must still migrate).
bool has_column(database& db, const char* table, const char* column) {
    if (db.is_postgresql()) {
        statement s(db, "SELECT 1 FROM information_schema.columns WHERE table_schema = current_schema() "
                        "AND table_name = ? AND column_name = ?");
        s.bind(1, table).bind(2, column);
        return s.step();
    }
    statement s(db, std::string("SELECT 1 FROM pragma_table_info('") + table + "') WHERE name = ?");
    s.bind(1, column);
    return s.step();
}

/// Brings a store from `from` up to schema_version, inside the caller's transaction.
void migrate(database& db, int from) {
    if (from < 2) {
        exec_schema(db, schema_v2_bespoke);
        exec_schema(db, schema_v2_access);
    }
    if (from < 3) exec_schema(db, schema_v3);
    if (from < 4 && !has_column(db, "observations", "suppressed")) exec_schema(db, schema_v4);
    if (from < 6) exec_schema(db, schema_v6_revisions);
    if (from < 7) exec_schema(db, schema_v7_postcodes);
    if (from < 8) exec_schema(db, schema_v8_crosswalks);
    if (db.is_postgresql()) {
        statement s(db, "UPDATE meta SET value = ? WHERE key = 'schema_version'");
        s.bind(1, std::to_string(schema_version)).run();
        return;
    }
    db.exec("PRAGMA user_version = " + std::to_string(schema_version));
}

int read_user_version(database& db) {
    if (db.is_postgresql()) {
        if (!db.has_table("meta")) return 0;
        statement s(db, "SELECT value FROM meta WHERE key = 'schema_version'");
        return s.step() ? std::atoi(s.text(0).c_str()) : 0;
    }
    statement s(db, "PRAGMA user_version");
    return s.step() ? static_cast<int>(s.int64(0)) : 0;
}

void check_version(database& db) {
    const int version = read_user_version(db);
    if (version > schema_version) {
        throw store_error("store '" + store_display_name(db.path()) + "' has schema version " + std::to_string(version) +
                          ", newer than this smallarea understands (" + std::to_string(schema_version) +
                          "); upgrade smallarea");
    }
    if (version < 1 || !db.has_table("areas")) {
        throw store_error("'" + store_display_name(db.path()) + "' is not a smallarea store (run `smallarea ingest` to create one)");
    }
}

// stat(), never open(): closing any descriptor of the database file drops every POSIX lock this process holds
// on it (SQLite's own connections included), after which another process may checkpoint and truncate the WAL
// under our readers ("disk I/O error", SQLITE_IOERR_SHORT_READ).
bool file_exists(const std::string& path) {
    if (is_postgresql_url(path)) return true; // a database: connecting says whether it exists
    struct stat info {};
    return ::stat(path.c_str(), &info) == 0;
}

} // namespace

database open_store(const std::string& path, bool writable) {
    if (!file_exists(path)) {
        throw store_error("store '" + store_display_name(path) + "' does not exist (run `smallarea ingest MANIFEST --db " + path + "`)");
    }
    database db(path, writable ? database::mode::read_write : database::mode::read_only);
    try {
        check_version(db);
        const int version = read_user_version(db);
        if (version < schema_version) {
            throw store_error("store '" + store_display_name(path) + "' has schema version " + std::to_string(version) + ", older than " +
                              std::to_string(schema_version) + "; run `smallarea ingest` with any manifest, or any `smallarea keys` command, to migrate it");
        }
    } catch (const store_error&) {
        throw;
    } catch (const error& e) {
        // A locked or corrupt file fails on the first read: say so in store terms.
        throw store_error("cannot read store '" + store_display_name(path) + "': " + e.what());
    }
    return db;
}

database open_store_migrating(const std::string& path) {
    if (!file_exists(path)) {
        throw store_error("store '" + store_display_name(path) + "' does not exist (run `smallarea ingest MANIFEST --db " + path + "`)");
    }
    database db(path, database::mode::read_write);
    try {
        check_version(db);
        if (read_user_version(db) < schema_version) {
            transaction tx(db);
            migrate(db, read_user_version(db));
            tx.commit();
        }
    } catch (const store_error&) {
        throw;
    } catch (const error& e) {
        throw store_error("cannot read store '" + store_display_name(path) + "': " + e.what());
    }
    return db;
}

database create_or_open_store(const std::string& path) {
    database db(path, database::mode::create);
    const int version = read_user_version(db);
    if (version == 0 && !db.has_table("areas") && db.is_postgresql()) {
        transaction tx(db);
        db.lock_for_ingest(); // two first ingests at once: the second waits, then finds the schema made
        if (!db.has_table("areas")) {
            // PostGIS may already be there (made by a superuser: CREATE EXTENSION needs one).
            db.exec("CREATE EXTENSION IF NOT EXISTS postgis");
            db.exec(postgresql_before_schema);
            exec_schema(db, schema_v1);
            db.exec("INSERT INTO meta (key, value) VALUES ('schema_version', '1')");
            migrate(db, 1);
            db.exec(postgresql_after_schema);
        }
        tx.commit();
        return db;
    }
    if (version == 0 && !db.has_table("areas")) {
        transaction tx(db);
        // Only the WGS84 reference systems: the full EPSG table would add seconds and megabytes for nothing.
        db.exec("SELECT InitSpatialMetadata(0, 'WGS84')");
        db.exec(schema_v1);
        migrate(db, 1);
        tx.commit();
        return db;
    }
    check_version(db);
    if (read_user_version(db) < schema_version) {
        transaction tx(db);
        migrate(db, read_user_version(db));
        tx.commit();
    }
    return db;
}

const std::vector<std::string>& known_levels() {
    // Wards sit between MSOAs and districts by size, but not in the chain: they nest in districts, and LSOAs (and
    // so OAs) are assigned to them whole by ONS's best-fit lookup; MSOAs straddle them.
    static const std::vector<std::string> levels{"oa", "lsoa", "msoa", "ward", "lad"};
    return levels;
}

bool is_best_fit_level(const std::string& level) { return level == "ward"; }

bool is_reissued_level(const std::string& level) { return level == "lad" || level == "ward"; }

bool nests_in(const std::string& fine, const std::string& coarse) {
    if (level_rank(fine) < 0 || level_rank(coarse) < 0 || level_rank(fine) > level_rank(coarse)) return false;
    return !(is_best_fit_level(coarse) && fine == "msoa");
}

std::string known_levels_text() {
    std::string out;
    for (const auto& l : known_levels()) out += (out.empty() ? "" : ", ") + l;
    return out;
}

int level_rank(const std::string& level) {
    const auto& levels = known_levels();
    const auto it = std::find(levels.begin(), levels.end(), level);
    return it == levels.end() ? -1 : static_cast<int>(it - levels.begin());
}

std::vector<area> load_areas(database& db) {
    std::vector<area> areas;
    std::unordered_map<std::int64_t, std::size_t> index;
    {
        statement s(db, "SELECT id, level, vintage, code, name, geom IS NOT NULL FROM areas ORDER BY id");
        while (s.step()) {
            area a;
            a.id = s.int64(0);
            a.level = s.text(1);
            a.vintage = static_cast<int>(s.int64(2));
            a.code = s.text(3);
            a.name = s.text(4);
            a.has_geometry = s.int64(5) != 0;
            index.emplace(a.id, areas.size());
            areas.push_back(std::move(a));
        }
    }
    {
        statement s(db, "SELECT area_id, measure, value FROM denominators");
        while (s.step()) {
            const auto it = index.find(s.int64(0));
            if (it != index.end()) {
                areas[it->second].denominators[s.text(1)] = s.int64(2);
            }
        }
    }
    {
        statement s(db, "SELECT area_id, ancestor_id FROM area_ancestors");
        while (s.step()) {
            const auto it = index.find(s.int64(0));
            if (it != index.end()) {
                areas[it->second].ancestors.push_back(s.int64(1));
            }
        }
    }
    return areas;
}

std::vector<std::pair<std::int64_t, std::string>> load_geometries(database& db, const std::string& level, int vintage) {
    std::vector<std::pair<std::int64_t, std::string>> out;
    statement s(db, "SELECT id, ST_AsBinary(geom) FROM areas WHERE level = ? AND vintage = ? AND geom IS NOT NULL "
                    "ORDER BY id");
    s.bind(1, level).bind(2, vintage);
    while (s.step()) {
        out.emplace_back(s.int64(0), std::string(s.blob(1)));
    }
    return out;
}

std::string load_geometry(database& db, std::int64_t area_id) {
    statement s(db, "SELECT ST_AsBinary(geom) FROM areas WHERE id = ? AND geom IS NOT NULL");
    s.bind(1, area_id);
    return s.step() ? std::string(s.blob(0)) : std::string();
}

const char* to_string(measure_kind k) noexcept {
    switch (k) {
    case measure_kind::count: return "count";
    case measure_kind::percent_only: return "percent_only";
    case measure_kind::percent_base: return "percent_base";
    }
    return "count";
}

const measure_info* dataset_info::find_measure(const std::string& measure_id) const {
    for (const auto& m : measures) {
        if (m.id == measure_id) return &m;
    }
    return nullptr;
}

measure_kind parse_measure_kind(const std::string& text) noexcept {
    if (text == "percent_only") return measure_kind::percent_only;
    if (text == "percent_base") return measure_kind::percent_base;
    return measure_kind::count;
}

namespace {

std::vector<std::string> split_commas(const std::string& text) { return split_list(text, empty_items::drop); }

} // namespace

std::vector<dataset_info> load_datasets(database& db) {
    std::vector<dataset_info> out;
    statement s(db, "SELECT id, title, publisher, licence, attribution, classification, level, vintage, rounding_base, "
                    "rounded_by, suppression_threshold, percent_min_denominator, release, ingested_at "
                    "FROM datasets ORDER BY id");
    while (s.step()) {
        dataset_info d;
        d.id = s.text(0);
        d.title = s.text(1);
        d.publisher = s.text(2);
        d.licence = s.text(3);
        d.attribution = s.text(4);
        disclosure::parse_classification(s.text(5), d.policy.classification);
        d.level = s.text(6);
        d.vintage = static_cast<int>(s.int64(7));
        d.policy.rounding_base = s.int64(8);
        disclosure::parse_rounded_by(s.text(9), d.policy.rounded_by);
        d.policy.suppression_threshold = s.int64(10);
        d.policy.percent_min_denominator = s.int64(11);
        d.release = s.int64(12);
        d.ingested_at = s.text(13);
        out.push_back(std::move(d));
    }
    statement m(db, "SELECT id, title, unit, kind, denominator, percent_of, sum_of FROM measures WHERE dataset_id = ? "
                    "ORDER BY ord");
    statement p(db, "SELECT DISTINCT period FROM observations WHERE dataset_id = ? ORDER BY period");
    statement n(db, "SELECT count(*) FROM observations WHERE dataset_id = ?");
    statement r(db, "SELECT period, first_release, release, revision, coalesce(revised_at, '') FROM dataset_periods "
                    "WHERE dataset_id = ?");
    for (auto& d : out) {
        m.bind(1, d.id);
        while (m.step()) {
            measure_info info;
            info.id = m.text(0);
            info.title = m.text(1);
            info.unit = m.text(2);
            info.kind = parse_measure_kind(m.text(3));
            info.denominator = m.text(4);
            info.percent_of = m.text(5);
            info.sum_of = split_commas(m.text(6));
            d.measures.push_back(std::move(info));
        }
        m.reset();
        p.bind(1, d.id);
        while (p.step()) {
            d.periods.push_back(p.text(0));
        }
        p.reset();
        // Stores ingested before version 6 have no rows here: their periods read as first published in the
        // dataset's release, never revised.
        r.bind(1, d.id);
        while (r.step()) {
            d.revisions[r.text(0)] = period_revision{r.int64(1), r.int64(2), r.int64(3), r.text(4)};
        }
        r.reset();
        n.bind(1, d.id);
        if (n.step()) d.observations = n.int64(0);
        n.reset();
    }
    return out;
}

std::vector<observation> load_observations(database& db, const std::string& dataset_id, const std::string& measure_id,
                                           const std::string& period) {
    std::vector<observation> out;
    statement s(db, "SELECT area_id, value, suppressed FROM observations WHERE dataset_id = ? AND measure_id = ? AND period = ?");
    s.bind(1, dataset_id).bind(2, measure_id).bind(3, period);
    while (s.step()) {
        out.push_back({s.int64(0), s.optional_int64(1), s.int64(2) != 0});
    }
    return out;
}

std::int64_t data_release(database& db) {
    statement s(db, "SELECT value FROM meta WHERE key = 'release'");
    return s.step() ? std::stoll(s.text(0)) : 0;
}

std::vector<crosswalk_info> load_crosswalks(database& db) {
    std::vector<crosswalk_info> out;
    statement s(db, "SELECT level, from_vintage, to_vintage, from_area, to_area, change FROM crosswalks "
                    "ORDER BY level, from_vintage, to_vintage, from_area, to_area");
    while (s.step()) {
        const int from = static_cast<int>(s.int64(1));
        const int to = static_cast<int>(s.int64(2));
        if (out.empty() || out.back().level != s.text(0) || out.back().from_vintage != from || out.back().to_vintage != to) {
            out.push_back(crosswalk_info{s.text(0), from, to, {}});
        }
        const std::string change = s.text(5);
        out.back().links.push_back(crosswalk_link{s.int64(3), s.int64(4), change.empty() ? 'U' : change[0]});
    }
    return out;
}

} // namespace smallarea::data
