// ingest_manifest: opens the store, runs the readers (data/ingest/readers.hpp) in order inside one transaction,
// rebuilds the spatial index and sums up. What each source kind means is in its reader's file; the manifest is
// parsed and checked by data/ingest/manifest.cpp before the store is opened.

#include "data/ingest.hpp"

#include "core/utc.hpp"
#include "data/ingest/context.hpp"
#include "data/ingest/manifest.hpp"
#include "data/ingest/readers.hpp"
#include "data/sqlite.hpp"
#include "data/store.hpp"

#include <gdal_priv.h>

#include <cstdint>
#include <string>

namespace smallarea::data {

namespace {

// PostgreSQL keeps its GiST index through the ingest: dropping it would lock the table against every replica
// still serving the previous release until the commit.
void drop_spatial_index(database& db) {
    if (db.is_postgresql() || !db.has_table("idx_areas_geom")) return;
    db.exec("SELECT DisableSpatialIndex('areas', 'geom')");
    db.exec("DROP TABLE IF EXISTS idx_areas_geom");
}

void create_spatial_index(database& db) {
    // The R*Tree lets GIS tools (QGIS, ogr2ogr -spat) open the store as a SpatiaLite database with an index.
    if (db.is_postgresql()) return;
    db.exec("SELECT CreateSpatialIndex('areas', 'geom')");
}

} // namespace

ingest_summary ingest_manifest(const std::string& manifest_path, const std::string& db_path,
                               const progress_callback& progress) {
    // All checks on the manifest before the store is touched.
    const ingest::manifest m = ingest::parse_manifest(manifest_path);
    GDALAllRegister();
    database db = create_or_open_store(db_path);
    transaction tx(db);
    db.lock_for_ingest();
    db.begin_bulk_writes();
    // SpatiaLite keeps its R*Tree current with a trigger per inserted row; rebuilding it once at the end is
    // several times faster for a national file (ogr2ogr defers its index the same way).
    drop_spatial_index(db);
    ingest::ingest_context ctx(db, progress);
    for (const auto& b : m.boundaries) ingest::ingest_boundaries(ctx, b);
    for (const auto& l : m.lookups) ingest::ingest_lookup(ctx, l);
    // Only lookups add links, and every ingest closes the ones it adds: a datasets-only release skips the pass.
    if (!m.lookups.empty()) ingest::link_through_parents(ctx);
    for (const auto& c : m.crosswalks) ingest::ingest_crosswalk(ctx, c);
    for (const auto& d : m.denominators) ingest::ingest_denominators(ctx, d);
    for (const auto& d : m.derived) ingest::derive_boundaries(ctx, d);
    for (const auto& p : m.postcodes) ingest::ingest_postcodes(ctx, p);
    const std::int64_t release = data_release(db) + 1;
    ctx.release = release;
    ctx.ingested_at = utc_now_text(utc_precision::seconds); // "2026-12-02T09:16:48Z", as every release so far
    for (const auto& d : m.datasets) ingest::ingest_dataset(ctx, d);
    {
        statement s(db, "UPDATE meta SET value = ? WHERE key = 'release'");
        s.bind(1, std::to_string(release)).run();
    }
    if (db.is_postgresql()) {
        // Area ids are handed out by the ingest (ingest_context::new_area_id); keep the identity column's
        // sequence past them for anything that inserts without an id.
        db.exec("SELECT setval(pg_get_serial_sequence('areas', 'id'), (SELECT coalesce(max(id), 0) + 1 FROM areas), false)");
    }
    db.notify_release(release);
    // A hint for users: areas without a household count get no rate. An area whose member areas have counts
    // (a LAD over counted LSOAs) is served rates from its members' households, so it is not named here: saying
    // "no rates" for it would be false. Both exclusions are anti-joins on derived tables built once, which both
    // engines hash or index: area_ancestors has no index on ancestor_id, so a correlated NOT EXISTS scanned the
    // whole table per area (35,511 national LSOAs x ~640,000 links ran for over 20 minutes in SQLite), and
    // PostgreSQL runs a NOT IN over a subquery too big for work_mem as a scan per row.
    {
        statement s(db, "SELECT a.level, a.vintage, count(*) FROM areas a "
                        "LEFT JOIN denominators own ON own.area_id = a.id AND own.measure = 'households' "
                        "LEFT JOIN (SELECT DISTINCT aa.ancestor_id AS id FROM area_ancestors aa JOIN denominators d "
                        "ON d.area_id = aa.area_id WHERE d.measure = 'households') counted ON counted.id = a.id "
                        "WHERE a.geom IS NOT NULL AND own.area_id IS NULL AND counted.id IS NULL "
                        "GROUP BY a.level, a.vintage");
        while (s.step()) {
            ctx.summary.notes.push_back(std::to_string(s.int64(2)) + " " + s.text(0) + " " +
                                        std::to_string(s.int64(1)) +
                                        " areas with a boundary have no household count (no rates for them)");
        }
    }
    // The last two phases are named too, so a crash test (tools/crash_test.sh) can tell where its kill landed.
    if (progress) progress("rebuilding the spatial index");
    create_spatial_index(db);
    if (progress) progress("committing release " + std::to_string(release));
    tx.commit();
    ctx.summary.release = release;
    return ctx.summary;
}

} // namespace smallarea::data
