#!/usr/bin/env bash
# Bulk-file ingest benchmark (issue #13). Synthesises a national NOMIS Census 2021 bulk CSV at OA level in the
# publisher's layout (`date,geography,geography code,<long category names>`): one row per real OA21 code of
# England and Wales (188,007, from shared/data lookups/oa21_lsoa21_msoa21_lad21_ew.csv.gz) and 40 count columns
# (values made up). A store holds only Trafford's 738 OA21 boundaries, so ingest filters the national file to
# them (`outside_store: skip`). In the same run it times `ogr2ogr` reading the same CSV into SQLite (every row
# written: more work than a filter) and into CSV on /vsistdout/ (a read-everything baseline). Prints
# seconds, peak RSS and the ratio; never a timed unit test. Usage: tools/bench_ingest_bulk.sh [BUILD_DIR] [RUNS]
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${1:-$here/build}"
runs="${2:-3}"
shared="${SMALLAREA_SHARED:-$here/../shared/data}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
columns=40

python3 - "$shared/lookups/oa21_lsoa21_msoa21_lad21_ew.csv.gz" "$work/census2021-ts999-oa.csv" "$columns" <<'PY'
import csv, gzip, random, sys
src, out, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
random.seed(13)
names = ["Synthetic category %d of a Census 2021 topic summary (long name as NOMIS writes it); measures: Value" % i
         for i in range(1, n + 1)]
with gzip.open(src, "rt", newline="") as f, open(out, "w", newline="") as o:
    w = csv.writer(o, lineterminator="\r\n")
    w.writerow(["date", "geography", "geography code"] + names)
    for row in csv.DictReader(f):
        w.writerow(["2021", row["oa21cd"], row["oa21cd"]] + [random.randint(0, 300) for _ in range(n)])
PY
rows=$(($(wc -l < "$work/census2021-ts999-oa.csv") - 1))

measures=$(python3 -c "
import json,sys
n=int(sys.argv[1])
print(json.dumps([{'id':'c%d'%i,'column':'Synthetic category %d of a Census 2021 topic summary (long name as NOMIS writes it); measures: Value'%i} for i in range(1,n+1)]))" "$columns")
cat > "$work/base.json" <<JSON
{"boundaries": [{"path": "$shared/boundaries/local/2021/oa21_bgc_trafford_E08000009.geojson", "level": "oa", "vintage": 2021}]}
JSON
cat > "$work/bulk.json" <<JSON
{"datasets": [{"id": "bulk", "title": "synthetic bulk", "publisher": "benchmark", "licence": "n/a", "attribution": "n/a",
  "classification": "published", "level": "oa", "vintage": 2021,
  "files": [{"path": "$work/census2021-ts999-oa.csv", "layout": "wide", "outside_store": "skip"}],
  "measures": $measures}]}
JSON
"$build/tools/smallarea" ingest "$work/base.json" --db "$work/base.sqlite" > /dev/null 2>&1

measure() { # label, command...: prints "label wall_seconds peak_rss_mb"
    local label="$1"; shift
    /usr/bin/time -f "%e %M" -o "$work/time" "$@" >"$work/out" 2>"$work/err" || { cat "$work/err" >&2; exit 1; }
    read -r secs kb < "$work/time"
    echo "$label $secs $((kb / 1024))"
}
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

: > "$work/results"
for run in $(seq 1 "$runs"); do
    rm -f "$work/ogr.sqlite"
    cp "$work/base.sqlite" "$work/store.sqlite"
    measure ogr2ogr ogr2ogr -f SQLite "$work/ogr.sqlite" "$work/census2021-ts999-oa.csv" >> "$work/results"
    measure ogr2ogr-csv ogr2ogr -f CSV /vsistdout/ "$work/census2021-ts999-oa.csv" >> "$work/results"
    measure smallarea "$build/tools/smallarea" ingest "$work/bulk.json" --db "$work/store.sqlite" >> "$work/results"
done
grep -E "cells|skipped" "$work/out" | sed 's/^/  smallarea: /'
printf 'national OA bulk CSV: %s rows x %s count columns, filtered to the 738 Trafford OAs of the store\n' "$rows" "$columns"
printf '%-12s %8s %10s   (median of %s runs, interleaved)\n' what seconds peakRSS_MB "$runs"
for label in ogr2ogr ogr2ogr-csv smallarea; do
    secs=$(awk -v l=$label '$1==l {print $2}' "$work/results" | median)
    rss=$(awk -v l=$label '$1==l {print $3}' "$work/results" | median)
    printf '%-12s %8s %10s\n' "$label" "$secs" "$rss"
    eval "secs_${label//-/_}=$secs"
done
awk -v a="$secs_smallarea" -v b="$secs_ogr2ogr" -v c="$secs_ogr2ogr_csv" 'BEGIN {
    printf "ratio smallarea ingest (filtered) / ogr2ogr -f SQLite (all rows): %.2f\n", a / b;
    printf "ratio smallarea ingest (filtered) / ogr2ogr -f CSV read-through: %.2f\n", a / c }'
