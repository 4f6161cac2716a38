#!/usr/bin/env bash
# Tile benchmark (issue: choropleth tiles). Runs the anchors of ../shared/bench (PostGIS ST_AsMVT, geojson-vt)
# and smallarea over HTTP on the SAME polygons and tile list in one run, and prints the table plus ratios.
#   tools/bench_tiles.sh [city|national|real_oa_city] [BUILD_DIR]
# Env: RUNS (default 3), ANCHORS (default "A B"), SKIP_ANCHORS=1 to time only smallarea, FIELDS=code,households,value.
# The harness is copied to .bench/ (git-ignored) because ../shared is read-only; data is generated there once.
# smallarea is measured twice: "cold" with the tile cache off (--cache-mb 0, every request renders), and
# "cached" with the cache on (run_product.sh's warm-up walk fills it).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
set_name="${1:-city}"
build="$(cd "${2:-$here/build}" && pwd)"
runs="${RUNS:-3}"
source "$here/tools/bench_store.sh"
bench_harness
tiles="data/tiles_$set_name.txt"
[ -f "$tiles" ] || python3 tools/gen_tilelist.py --data "$data" -o "$tiles"

# The same polygons as a smallarea store (tools/bench_store.sh).
bench_store

log="results/product_${set_name}_$(date -u +%Y%m%dT%H%M%SZ).txt"
if [ -z "${SKIP_ANCHORS:-}" ]; then
    (cd node && [ -d node_modules ] || npm install --no-audit --no-fund --loglevel=error >/dev/null)
    RUNS="$runs" ANCHORS="${ANCHORS:-A B}" ./run_anchors.sh "$data" "$tiles" 2>&1 | tee -a "$log"
fi

serve() { # cache_mb -> starts the server, sets port and pid
    : > "$harness/serve.out"
    "$build/tools/smallarea" serve --db "$store" --host 127.0.0.1 --port 0 --rate-limit 0 --cache-mb "$1" > "$harness/serve.out" 2>"$harness/serve.err" &
    pid=$!
    for _ in $(seq 1 600); do
        port=$(sed -n 's/^listening on 127.0.0.1:\([0-9]*\)$/\1/p' "$harness/serve.out")
        [ -n "$port" ] && break
        sleep 0.1
    done
    [ -n "$port" ] || { cat "$harness/serve.err" >&2; kill "$pid"; exit 1; }
}
for mode in cold cached; do
    cache_mb=0; [ "$mode" = cached ] && cache_mb=1024
    serve "$cache_mb"
    url="http://127.0.0.1:$port/tiles/oa/{z}/{x}/{y}.mvt?dataset=bench&measure=claimants&period=2017-09"
    # FIELDS=code,households,value gives the anchors' columns (code, claimants, households) for a like-for-like
    # byte comparison; unset, tiles carry every property (adds name, rate, flags).
    [ -n "${FIELDS:-}" ] && url="$url&fields=$FIELDS"
    NAME="P:smallarea-$mode" SERVER_PID="$pid" RUNS="$runs" CLIENTS="1 2" ./run_product.sh "$url" "$tiles" 2>&1 | tee -a "$log"
    kill -TERM "$pid"; wait "$pid" || true
done
echo "log: $harness/$log"
