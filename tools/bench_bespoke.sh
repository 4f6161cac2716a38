#!/usr/bin/env bash
# Bespoke-area benchmark (issue: bespoke geographies, target finder, zone builder). In ONE run, on the SAME
# polygons (Manchester's 1,530 OA11 boundaries, EPSG:4326):
#   - PostGIS ST_Union over them (best of RUNS, server-side Execution Time of EXPLAIN ANALYZE), and
#   - smallarea's dissolve_wkb (GEOS coverage union, overlay fallback), GEOSUnaryUnion for reference,
#     the rook contiguity graph and the greedy zone builder (bench_geo_union, best of RUNS) over the OAs that have
#     a household count in the bundled sample (Census 2021 households on OA codes unchanged since 2011, as the
#     server uses), at the API's default band 100-150 and at 200-300 (most zones need several OAs).
# Targets: dissolve <= 0.5 x PostGIS ST_Union; contiguity + zones for one LA < 1 s.
#   tools/bench_bespoke.sh [BUILD_DIR]        env: RUNS (default 5), LAD (default E08000003)
# The harness is copied to .bench/harness (git-ignored) because ../shared is read-only; it provides
# pg/pgctl.sh, a private PostgreSQL 15 + PostGIS cluster on 127.0.0.1:54329 (started here if not running,
# stopped again at the end if this script started it).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="$(cd "${1:-$here/build}" && pwd)"
runs="${RUNS:-5}"
lad="${LAD:-E08000003}"
data="$here/../shared/data/boundaries/local/oa11_by_lad/$lad.geojson"
harness="$here/.bench/harness"
mkdir -p "$harness"
cp -r "$here/../shared/bench/." "$harness/"
chmod -R u+w "$harness"
[ -x "$build/geo/bench_geo_union" ] || cmake --build "$build" --target bench_geo_union -j2 >/dev/null

export PGHOST=127.0.0.1 PGPORT="${PGPORT:-54329}" PGUSER=postgres
started=0
if ! psql -d postgres -Atqc "SELECT 1" >/dev/null 2>&1; then
    bash "$harness/pg/pgctl.sh" init
    bash "$harness/pg/pgctl.sh" start
    started=1
fi
cleanup() { if [ "$started" = 1 ]; then bash "$harness/pg/pgctl.sh" stop >/dev/null || true; fi; }
trap cleanup EXIT
db=bench
psql -d postgres -Atqc "SELECT 1 FROM pg_database WHERE datname='$db'" | grep -q 1 || createdb "$db"
psql -d "$db" -qc "CREATE EXTENSION IF NOT EXISTS postgis" 2>/dev/null
ogr2ogr -f PostgreSQL "PG:host=127.0.0.1 port=$PGPORT user=postgres dbname=$db" "$data" -nln bespoke_oa -overwrite \
    -nlt PROMOTE_TO_MULTI -lco GEOMETRY_NAME=geom -lco FID=fid --config PG_USE_COPY YES
psql -d "$db" -qc "VACUUM ANALYZE bespoke_oa"
features=$(psql -d "$db" -Atc "SELECT count(*) FROM bespoke_oa")

pg_best=""
for _ in $(seq "$runs"); do
    ms=$(psql -d "$db" -Atc "EXPLAIN (ANALYZE, FORMAT JSON) SELECT ST_Union(geom) FROM bespoke_oa" |
         python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["Execution Time"])')
    pg_best=$(python3 -c "a='$pg_best'; print(min(float(a), $ms) if a else $ms)")
done
pg_area=$(psql -d "$db" -Atc "SELECT ST_Area(ST_Union(geom)) FROM bespoke_oa")

out="$(mktemp)"
"$build/geo/bench_geo_union" "$data" --passes "$runs" --out "$out.wkb" \
    --households-csv "$here/data/sample/counts/households_oa11_census2021_unchanged_codes.csv" --code-field OA11CD |
    tee "$out"
ours_area=$(psql -d "$db" -Atc "SELECT ST_Area(ST_GeomFromWKB(decode('$(xxd -p "$out.wkb" | tr -d '\n')', 'hex')))")
python3 - "$out" "$pg_best" "$features" "$pg_area" "$ours_area" <<'PY'
import sys
lines = [l.split("|") for l in open(sys.argv[1]) if l.startswith("RESULT|")]
t = {l[1]: float(l[3]) for l in lines}
pg = float(sys.argv[2]) / 1000.0
print(f"RESULT|postgis_st_union|{sys.argv[3]}|{pg:.4f}")
pa, oa = float(sys.argv[4]), float(sys.argv[5])
print(f"areas (deg^2): PostGIS {pa:.9f}, smallarea {oa:.9f} (relative difference {abs(pa - oa) / pa:.1e})")
ratio = t["dissolve_coverage"] / pg
print(f"union: smallarea dissolve {t['dissolve_coverage']*1000:.1f} ms vs PostGIS ST_Union {pg*1000:.1f} ms -> "
      f"{ratio:.3f}x (target <= 0.5x: {'met' if ratio <= 0.5 else 'NOT met'})")
z = t["contiguity_plus_zones"]
print(f"zones for one LA (contiguity + greedy build, slower band): {z*1000:.1f} ms (target < 1 s: {'met' if z < 1 else 'NOT met'})")
PY
rm -f "$out" "$out.wkb"
