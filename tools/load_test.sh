#!/usr/bin/env bash
# tools/load_test.sh [SECONDS]: load on 127.0.0.1 with wrk for SECONDS (default 60; 300 for a soak run):
# four wrk processes at once, each rotating over its own URL list with a Lua script:
#   tiles  - LSOA and OA tiles z10-z14 over the sample (with and without a dataset choropleth)
#   tables - /api/table JSON and CSV at LSOA/LAD level, within LADs, both periods, + /api/breaks
#   areas  - /api/areas JSON/CSV, whole levels and within LADs
#   geojson - OGC API Features items (boundaries and protected dataset values) and /api/export/areas.geojson
# Reports requests/s, p50/p99 latency, non-2xx/3xx responses and socket errors per group, and samples the
# server's RSS every 5 s: first after warm-up (10 s), last, max. Fails on any error or an RSS that grows by
# more than 25% (+16 MB) after warm-up.
# Environment: SMALLAREA_BUILD_DIR (default build), SMALLAREA_KEY (sent as Authorization: Bearer; internal
# dataset URLs are added only when the server serves them), WRK_CONNECTIONS (default 16 per group),
# WRK_THREADS (default 1 per group), SERVER_THREADS (default 8).
set -euo pipefail
SECONDS_RUN=${1:-60}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${SMALLAREA_BUILD_DIR:-$ROOT/build}
CLI="$BUILD/tools/smallarea"
CONNECTIONS=${WRK_CONNECTIONS:-16}
THREADS=${WRK_THREADS:-1}
[ -x "$CLI" ] || { echo "load_test: no $CLI (build first)"; exit 2; }
if ! command -v wrk > /dev/null; then
    echo "load_test: installing wrk"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk > /dev/null
fi
WORK=$(mktemp -d /tmp/smallarea-load-XXXXXX)
SERVER_PID=
cleanup() {
    [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2> /dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT

"$CLI" ingest "$ROOT/data/sample/manifest.json" --db "$WORK/store.sqlite" > /dev/null 2>&1
# The rate limit (per address) would turn a load test from one address into 429s: off when the CLI has it.
LIMIT=()
"$CLI" --help 2>&1 | grep -q -- --rate-limit && LIMIT=(--rate-limit 0)
"$CLI" serve --db "$WORK/store.sqlite" --port 0 --threads "${SERVER_THREADS:-8}" "${LIMIT[@]}" > "$WORK/serve.out" 2> "$WORK/serve.err" &
SERVER_PID=$!
PORT=
for _ in $(seq 1 250); do
    PORT=$(sed -n 's/^listening on .*:\([0-9]*\)$/\1/p' "$WORK/serve.out")
    [ -n "$PORT" ] && break
    sleep 0.04
done
[ -n "$PORT" ] || { cat "$WORK/serve.err"; exit 1; }
BASE="http://127.0.0.1:$PORT"
AUTH=()
[ -n "${SMALLAREA_KEY:-}" ] && AUTH=(-H "Authorization: Bearer $SMALLAREA_KEY")

# URL lists (paths), built from the server's own TileJSON bounds and catalogue.
python3 - "$BASE" "$WORK" "${SMALLAREA_KEY:-}" << 'PY'
import json, math, sys, urllib.request, urllib.error
base, work, key = sys.argv[1:4]
headers = {"Authorization": f"Bearer {key}"} if key else {}
def status(path):
    try:
        with urllib.request.urlopen(urllib.request.Request(base + path, headers=headers), timeout=30) as r:
            r.read()
            return r.status
    except urllib.error.HTTPError as e:
        return e.code
def tile(lon, lat, z):
    n = 2 ** z
    x = int((lon + 180) / 360 * n)
    y = int((1 - math.log(math.tan(math.radians(lat)) + 1 / math.cos(math.radians(lat))) / math.pi) / 2 * n)
    return x, y
tj = json.load(urllib.request.urlopen(base + "/tiles/lsoa.json"))
w, s, e, n = tj["bounds"]
tiles = []
internal = "?dataset=synthetic_work_programme&measure=referrals&period=2017-10"
use_internal = status("/api/table" + internal + "&level=lad") == 200
# claimant_count is an LSOA dataset: OA tiles of it would be 400 LevelTooFine (never apportioned down)
queries = {"lsoa": ["", "?dataset=claimant_count&measure=claimants&period=2017-10"], "oa": [""]}
if use_internal:
    queries["lsoa"].append(internal)
    queries["oa"].append(internal)
for level, zooms in (("lsoa", range(10, 15)), ("oa", range(12, 15))):
    for z in zooms:
        x0, y0 = tile(w, n, z)
        x1, y1 = tile(e, s, z)
        for x in range(x0, x1 + 1):
            for y in range(y0, y1 + 1):
                for q in queries[level]:
                    tiles.append(f"/tiles/{level}/{z}/{x}/{y}.mvt{q}")
lads = [a["code"] for a in json.load(urllib.request.urlopen(base + "/api/areas?level=lad"))["areas"]]
tables = []
for period in ("2017-09", "2017-10"):
    for level in ("lsoa", "lad"):
        for fmt in ("", "&format=csv"):
            tables.append(f"/api/table?dataset=claimant_count&period={period}&level={level}{fmt}")
    for lad in lads:
        tables.append(f"/api/table?dataset=claimant_count&period={period}&within={lad}")
    tables.append(f"/api/breaks?dataset=claimant_count&period={period}&method=jenks")
if use_internal:
    tables += ["/api/table" + internal + f"&level={l}" for l in ("oa", "lsoa", "lad")]
areas = ["/api/areas?level=lsoa", "/api/areas?level=oa&format=csv", "/api/areas?level=lad"]
areas += [f"/api/areas?level=lsoa&within={lad}" for lad in lads]
# GeoJSON: OGC API Features items (boundaries, and a dataset's protected values) and the GeoJSON export, whole
# levels and within each LAD; only the URLs this server answers with 200 (older builds lack some).
cc = "dataset=claimant_count&measure=claimants&period=2017-10"
candidates = ["/ogc/collections/lsoa-2011/items?limit=100", "/ogc/collections/lsoa-2011/items?limit=1000",
              "/ogc/collections/lad-2011/items", "/ogc/collections/oa-2011/items?limit=500&offset=1000",
              "/ogc/collections/claimant_count.claimants/items?limit=500&period=2017-10",
              "/api/export/areas.geojson?level=lad", f"/api/export/areas.geojson?{cc}&level=lsoa"]
for lad in lads:
    candidates += [f"/ogc/collections/lsoa-2011/items?within={lad}&limit=1000",
                   f"/ogc/collections/claimant_count.claimants/items?within={lad}&limit=1000&period=2017-09",
                   f"/api/export/areas.geojson?{cc}&level=lsoa&within={lad}"]
if use_internal:
    candidates.append("/ogc/collections/synthetic_work_programme.referrals/items?limit=1000&period=2017-10")
geojson = [c for c in candidates if status(c) == 200]
skipped = [c for c in candidates if c not in geojson]
if skipped:
    print(f"geojson: {len(skipped)} candidate URLs not answered with 200, left out, e.g. {skipped[0]}")
if not geojson:
    sys.exit("load_test: the server answers no GeoJSON URL")
for name, paths in (("tiles", tiles), ("tables", tables), ("areas", areas), ("geojson", geojson)):
    with open(f"{work}/{name}.lua", "w") as f:
        f.write("-- rotates over a fixed URL list; counts statuses\n")
        f.write("local paths = {\n" + ",\n".join(json.dumps(p) for p in paths) + "\n}\n")
        f.write("local i = 0\nrequest = function()\n  i = i % #paths + 1\n  return wrk.format('GET', paths[i])\nend\n")
    print(f"{name}: {len(paths)} URLs")
print("internal dataset URLs:", "included" if use_internal else "not included (needs SMALLAREA_KEY)")
PY

LOAD_GROUPS="tiles tables areas geojson"
# 0 once the server has gone (reported below), rather than ending the script under set -e without a report.
rss() { awk '/VmRSS/ {print int($2 / 1024)}' "/proc/$SERVER_PID/status" 2> /dev/null || echo 0; }
echo "server pid $SERVER_PID on $BASE; RSS at start $(rss) MB; running $SECONDS_RUN s"
for name in $LOAD_GROUPS; do
    wrk -t"$THREADS" -c"$CONNECTIONS" -d"${SECONDS_RUN}s" --timeout 10s --latency "${AUTH[@]}" -s "$WORK/$name.lua" "$BASE" \
        > "$WORK/$name.wrk" 2>&1 &
done
samples=()
elapsed=0
while [ "$elapsed" -lt "$SECONDS_RUN" ]; do
    sleep 5
    elapsed=$((elapsed + 5))
    samples+=("$elapsed:$(rss)")
done
wait $(jobs -p | grep -v "^$SERVER_PID$") 2> /dev/null || true
sleep 1

failed=0
printf '%-7s %10s %9s %9s %9s %10s %s\n' group requests req/s p50 p99 non-2xx3xx socket-errors
for name in $LOAD_GROUPS; do
    f="$WORK/$name.wrk"
    reqs=$(awk '/requests in/ {print $1}' "$f")
    rps=$(awk '/Requests\/sec/ {print $2}' "$f")
    p50=$(awk '$1 == "50%" {print $2}' "$f")
    p99=$(awk '$1 == "99%" {print $2}' "$f")
    non2xx=$(awk '/Non-2xx or 3xx/ {print $5}' "$f")
    sock=$(sed -n 's/.*Socket errors: //p' "$f")
    printf '%-7s %10s %9s %9s %9s %10s %s\n' "$name" "${reqs:-?}" "${rps:-?}" "${p50:-?}" "${p99:-?}" "${non2xx:-0}" "${sock:-none}"
    if [ -n "$non2xx" ] || [ -n "$sock" ] || [ -z "$reqs" ]; then failed=1; sed 's/^/    /' "$f"; fi
done
first="" last="" max=0
for s in "${samples[@]}"; do
    t=${s%%:*} m=${s##*:}
    [ "$t" -ge 10 ] && [ -z "$first" ] && first=$m
    last=$m
    [ "$m" -gt "$max" ] && max=$m
done
echo "RSS samples (s:MB): ${samples[*]}"
echo "RSS after warm-up (10 s): first ${first:-?} MB, last ${last:-?} MB, max ${max} MB"
if [ -n "$first" ] && [ "$last" -gt $((first * 125 / 100 + 16)) ]; then
    echo "FAIL: RSS grew after warm-up"
    failed=1
fi
kill -0 "$SERVER_PID" 2> /dev/null || { echo "FAIL: the server died"; tail -5 "$WORK/serve.err"; failed=1; }
[ $failed -eq 0 ] && echo "load_test: no errors, RSS flat after warm-up"
exit $failed
