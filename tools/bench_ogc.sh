#!/usr/bin/env bash
# OGC API Features / export benchmark (issue #5). Builds a store of the national LSOA 2021 boundaries (35,511
# features), serves it, and copies the whole lsoa-2021 collection through GDAL's OAPIF driver with ogr2ogr (GDAL's
# default page size of 10, then PAGE_SIZE=1000 and 10000); then the GeoJSON of Manchester's OAs from the bundled
# sample (HTTP export, OGC items, and `smallarea export`). Prints seconds, features/s and peak RSS (client and
# server, from /usr/bin/time -v and the server's VmHWM).
# Usage: tools/bench_ogc.sh [BUILD_DIR]
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${1:-$here/build}"
shared="${SMALLAREA_SHARED:-$here/../shared/data}"
cli="$build/tools/smallarea"
work="$(mktemp -d)"
server_pid=""
cleanup() {
    if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
    rm -rf "$work"
}
trap cleanup EXIT

start_server() { # store -> sets server_pid and port
    "$cli" serve --db "$1" --port 0 --rate-limit 0 > "$work/serve.out" 2> "$work/serve.err" &
    server_pid=$!
    for _ in $(seq 1 600); do
        if grep -q "listening on" "$work/serve.out" 2>/dev/null; then break; fi
        sleep 0.1
    done
    port="$(sed -n 's/.*listening on [^:]*:\([0-9]*\).*/\1/p' "$work/serve.out")"
    [ -n "$port" ] || { cat "$work/serve.err" >&2; exit 1; }
}
stop_server() {
    kill "$server_pid"; wait "$server_pid" 2>/dev/null || true; server_pid=""
}
server_rss_mb() { # the running server's peak RSS so far, "-" when none runs
    if [ -n "$server_pid" ]; then awk '/VmHWM/ {print int($2 / 1024)}' "/proc/$server_pid/status"; else echo "-"; fi
}

timed() { # label features_expected_or_0 command... : wall seconds, features/s, client peak RSS
    local label="$1" n="$2"; shift 2
    /usr/bin/time -v -o "$work/time" "$@" > /dev/null 2> "$work/err" || { cat "$work/err" >&2; exit 1; }
    local secs kb
    secs="$(awk -F': ' '/Elapsed \(wall clock\)/ {n=split($2,a,":"); s=0; for(i=1;i<=n;i++) s=s*60+a[i]; print s}' "$work/time")"
    kb="$(awk -F': ' '/Maximum resident set size/ {print $2}' "$work/time")"
    printf '%-56s %7.2f s  %9.0f features/s  client peak RSS %5d MB  server VmHWM %5s MB\n' \
        "$label" "$secs" "$(echo "$n / $secs" | bc -l)" "$((kb / 1024))" "$(server_rss_mb)"
}

echo "== national LSOA 2021 store"
cat > "$work/national.json" <<JSON
{"boundaries": [{"path": "$shared/boundaries/national/lsoa21_ew_bsc_2021.geojson.gz", "level": "lsoa", "vintage": 2021}]}
JSON
"$cli" ingest "$work/national.json" --db "$work/national.sqlite" > /dev/null 2>&1
start_server "$work/national.sqlite"
url="OAPIF:http://127.0.0.1:$port/ogc"
expected="$(curl -s "http://127.0.0.1:$port/ogc/collections/lsoa-2021/items?limit=1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["numberMatched"])')"
echo "lsoa-2021 numberMatched: $expected"
for page in 10 1000 10000; do
    rm -f "$work/out.gpkg"
    timed "ogr2ogr OAPIF lsoa-2021 -> GPKG, PAGE_SIZE=$page" "$expected" \
        ogr2ogr -f GPKG "$work/out.gpkg" "$url" lsoa-2021 -oo PAGE_SIZE="$page"
    got="$(ogrinfo -so "$work/out.gpkg" lsoa-2021 | sed -n 's/Feature Count: //p')"
    [ "$got" = "$expected" ] || { echo "copied $got features, expected $expected" >&2; exit 1; }
done
timed "curl /api/export/areas.geojson (all LSOAs)" "$expected" \
    curl -sf -o "$work/all.geojson" "http://127.0.0.1:$port/api/export/areas.geojson?level=lsoa"
stop_server
timed "smallarea export --format gpkg (all LSOAs)" "$expected" \
    "$cli" export --db "$work/national.sqlite" --level lsoa --format gpkg --out "$work/cli.gpkg"

echo "== Manchester OAs (bundled sample)"
"$cli" ingest "$here/data/sample/manifest.json" --db "$work/sample.sqlite" > /dev/null 2>&1
start_server "$work/sample.sqlite"
n="$(curl -s "http://127.0.0.1:$port/api/areas?level=oa&within=E08000003" | python3 -c 'import json,sys; print(json.load(sys.stdin)["count"])')"
echo "Manchester OAs: $n"
timed "curl /api/export/areas.geojson level=oa within=E08000003" "$n" \
    curl -sf -o "$work/m.geojson" "http://127.0.0.1:$port/api/export/areas.geojson?level=oa&within=E08000003"
timed "curl /ogc/collections/oa-2011/items within (1 page)" "$n" \
    curl -sf -o "$work/m2.geojson" "http://127.0.0.1:$port/ogc/collections/oa-2011/items?within=E08000003&limit=10000"
stop_server
timed "smallarea export --format geojson Manchester OAs" "$n" \
    "$cli" export --db "$work/sample.sqlite" --level oa --within E08000003 --format geojson --out "$work/m3.geojson"
