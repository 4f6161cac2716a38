#pragma once
// The readers: one per source kind of the manifest, each in its own file in data/ingest/ (boundaries.cpp,
// lookups.cpp, denominators.cpp, derived.cpp, postcodes.cpp, datasets.cpp). ingest_manifest runs them in this order, all in one
// transaction: boundaries, lookups, denominators, derived boundaries, postcodes, datasets.
//
// Plain functions of one shape, `void ingest_KIND(ingest_context&, const KIND_source&)`, not a source_reader class
// with a virtual read(): a reader keeps nothing between calls (what lasts across sources, the area cache and the
// tallies, is the context), and every kind takes its own manifest struct, so a class per kind would only store
// that struct in an object and need a factory to pick it. Adding a source kind (as postcodes.cpp was for
// the ONS Postcode Directory) is: its struct and manifest section (manifest.*), one declaration here, one new file with its reader,
// and one loop in ingest_manifest. A new publisher layout of an existing kind stays inside that kind's file.
//
// Every reader throws ingest_error naming the file and the line or feature; a throw leaves the store untouched
// because the caller's transaction is rolled back.

#include "data/ingest/context.hpp"
#include "data/ingest/manifest.hpp"

namespace smallarea::data::ingest {

/// Boundaries from any GDAL vector source, reprojected to EPSG:4326 and repaired (data/ingest/boundaries.cpp).
void ingest_boundaries(ingest_context& ctx, const boundary_source& source);

/// An ONS lookup CSV: the areas of each level and their parents (data/ingest/lookups.cpp).
void ingest_lookup(ingest_context& ctx, const lookup_source& source);
/// After the lookups: gives every area the ancestors of its parents at levels it has none of and nests in (an OA
/// gets the best-fit ward of its LSOA, an LSOA from a ward-only lookup its ward's district), so any finer area
/// sums into any coarser one through the same cells.
void link_through_parents(ingest_context& ctx);

/// A boundary crosswalk between two vintages of one level (data/ingest/crosswalks.cpp). Runs after the
/// boundaries and lookups: it keeps the pairs of the store's old areas.
void ingest_crosswalk(ingest_context& ctx, const crosswalk_source& source);

/// Denominators (household and resident counts) per area (data/ingest/denominators.cpp).
void ingest_denominators(ingest_context& ctx, const denominator_source& source);

/// Boundaries dissolved from finer ones through the lookups, for areas without their own (data/ingest/derived.cpp).
void derive_boundaries(ingest_context& ctx, const derived_boundary& derived);

/// A dataset (long, wide or periods-as-columns files of NOMIS, Stat-Xplore, ONS), replacing its previous release
/// atomically, stamped with ctx.release and ctx.ingested_at (data/ingest/datasets.cpp).
void ingest_dataset(ingest_context& ctx, const dataset_source& source);

/// A postcode file (ONSPD or a publisher's extract): every postcode inside the store's Output Areas of the source's
/// vintage, by the file's OA column or by point in polygon of its centroid; the wards and neighbourhoods it names
/// become place names (data/ingest/postcodes.cpp). Runs after the boundaries and lookups.
void ingest_postcodes(ingest_context& ctx, const postcode_source& source);

} // namespace smallarea::data::ingest
