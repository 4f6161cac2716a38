#!/usr/bin/env bash
# Ingest benchmark (issue: foundation). Ingests the national LSOA 2021 boundaries (35,511 features) and the
# national OA household counts (188,007 rows, which need the OA->LSOA->MSOA->LAD lookup for their areas), and in
# the same run times `ogr2ogr -f SQLite -dsco SPATIALITE=YES` on the same boundary file. Prints seconds, peak RSS
# and the ratio. Usage: tools/bench_ingest.sh [BUILD_DIR] [RUNS]
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${1:-$here/build}"
runs="${2:-3}"
shared="${SMALLAREA_SHARED:-$here/../shared/data}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
lsoa="$shared/boundaries/national/lsoa21_ew_bsc_2021.geojson.gz"

cat > "$work/boundaries.json" <<JSON
{"boundaries": [{"path": "$lsoa", "level": "lsoa", "vintage": 2021}]}
JSON
cat > "$work/full.json" <<JSON
{"boundaries": [{"path": "$lsoa", "level": "lsoa", "vintage": 2021}],
 "lookups": [{"path": "$shared/lookups/oa21_lsoa21_msoa21_lad21_ew.csv.gz", "vintage": 2021}],
 "denominators": [{"path": "$shared/counts/national/census2021_oa21_households_population_ew.csv.gz", "level": "oa",
                   "vintage": 2021, "measures": {"households": "households_ts046", "residents": "usual_residents_ts001"},
                   "source": "Census 2021 TS046 / TS001"}]}
JSON

measure() { # label, command...: prints "label wall_seconds peak_rss_mb cpu_seconds"
    local label="$1"; shift
    /usr/bin/time -f "%e %M %U %S" -o "$work/time" "$@" >/dev/null 2>"$work/err" || { cat "$work/err" >&2; exit 1; }
    read -r secs kb user sys < "$work/time"
    echo "$label $secs $((kb / 1024)) $(echo "$user + $sys" | bc)"
}

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

: > "$work/results"
for run in $(seq 1 "$runs"); do
    rm -f "$work"/*.sqlite*
    measure ogr2ogr ogr2ogr -f SQLite -dsco SPATIALITE=YES "$work/ogr.sqlite" "/vsigzip/$lsoa" >> "$work/results"
    measure smallarea-boundaries "$build/tools/smallarea" ingest "$work/boundaries.json" --db "$work/b.sqlite" >> "$work/results"
    measure smallarea-full "$build/tools/smallarea" ingest "$work/full.json" --db "$work/f.sqlite" >> "$work/results"
done
printf '%-22s %8s %10s %8s   (median of %s runs, same machine, interleaved)\n' what seconds peakRSS_MB cpu_s "$runs"
for label in ogr2ogr smallarea-boundaries smallarea-full; do
    secs=$(awk -v l=$label '$1==l {print $2}' "$work/results" | median)
    rss=$(awk -v l=$label '$1==l {print $3}' "$work/results" | median)
    cpu=$(awk -v l=$label '$1==l {print $4}' "$work/results" | median)
    printf '%-22s %8s %10s %8s\n' "$label" "$secs" "$rss" "$cpu"
    eval "secs_${label//-/_}=$secs"
done
awk -v a="$secs_smallarea_boundaries" -v b="$secs_ogr2ogr" -v c="$secs_smallarea_full" 'BEGIN {
    printf "ratio smallarea boundaries / ogr2ogr: %.2f (target <= 1.0)\n", a / b;
    printf "ratio smallarea boundaries+lookup+OA households / ogr2ogr boundaries: %.2f\n", c / b }'
