#!/usr/bin/env bash
# Bespoke-area and target exports benchmark: the bundled sample in a fresh store, 99 bespoke areas of 15
# Manchester OAs each plus one of all Trafford's OAs (via its LAD), then wall time and bytes of
#   /api/export/bespoke.{csv,xlsx,geojson,gpkg} for 20 of them (19 x 15 OAs + Trafford) as internal MI (sums of
#   protected cells),
#   the OGC collection {dataset}.{measure}.bespoke (one page of all, and copied by GDAL's OAPIF driver),
#   /api/targets as CSV/XLSX, and `smallarea export --level bespoke` from the store.
# Each HTTP figure is the median of RUNS requests (curl's time_total).
# Usage: tools/bench_bespoke_exports.sh [BUILD_DIR] [RUNS]
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${1:-$here/build}"
runs="${2:-5}"
cli="$build/tools/smallarea"
work="$(mktemp -d)"
server_pid=""
cleanup() {
    if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
    rm -rf "$work"
}
trap cleanup EXIT

"$cli" ingest "$here/data/sample/manifest.json" --db "$work/store.sqlite" > /dev/null 2>&1
"$cli" keys org-add --db "$work/store.sqlite" --name bench --agreement-signed 2024-01-01 --datasets synthetic_work_programme --representative Bench --representative-contact bench@example.org > /dev/null 2>&1
key="$("$cli" keys issue --db "$work/store.sqlite" --org bench 2> /dev/null)"
"$cli" serve --db "$work/store.sqlite" --port 0 --rate-limit 0 > "$work/serve.out" 2> "$work/serve.err" &
server_pid=$!
for _ in $(seq 1 300); do grep -q "listening on" "$work/serve.out" 2>/dev/null && break; sleep 0.1; done
port="$(sed -n 's/.*listening on [^:]*:\([0-9]*\).*/\1/p' "$work/serve.out")"
base="http://127.0.0.1:$port"

lists="$(python3 - "$base" <<'PY'
import json, sys, urllib.request
base = sys.argv[1]
oas = [a["code"] for a in json.load(urllib.request.urlopen(base + "/api/areas?level=oa&within=E08000003"))["areas"]]
def post(body):
    req = urllib.request.Request(base + "/api/bespoke", json.dumps(body).encode(), {"Content-Type": "application/json"})
    return json.load(urllib.request.urlopen(req))["id"]
ids = [post({"name": f"bench {i}", "level": "oa", "codes": oas[i * 15:(i + 1) * 15]}) for i in range(99)]
ids.append(post({"name": "Trafford", "level": "lad", "codes": ["E08000009"]}))
print(",".join(ids[80:]))  # 19 small ones and Trafford
print(",".join(ids))
PY
)"
ids="$(echo "$lists" | sed -n 1p)"
all_ids="$(echo "$lists" | sed -n 2p)"
q="dataset=synthetic_work_programme&measure=referrals&ids=$ids"

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR + 1) / 2)]}'; }
measure() { # label path
    local label="$1" path="$2" times="" bytes
    for _ in $(seq 1 "$runs"); do
        times+="$(curl -s -o "$work/body" -w '%{time_total}' -H "Authorization: Bearer $key" "$base$path")"$'\n'
    done
    bytes="$(stat -c %s "$work/body")"
    if [ "$bytes" -lt 200 ]; then echo "$label: $(cat "$work/body")" >&2; exit 1; fi
    printf '%-58s %8.1f ms  %9d bytes\n' "$label" "$(echo "$times" | grep . | median | awk '{print $1 * 1000}')" "$bytes"
}

echo "== 20 bespoke areas (19 x 15 OAs, 1 LAD of 731 OAs) of 100 stored, synthetic internal MI, median of $runs"
for f in csv xlsx geojson gpkg; do measure "/api/export/bespoke.$f (20 areas)" "/api/export/bespoke.$f?$q"; done
measure "/api/table?level=bespoke (JSON, 20 areas)" "/api/table?level=bespoke&$q"
measure "OGC synthetic_work_programme.referrals.bespoke items (100)" "/ogc/collections/synthetic_work_programme.referrals.bespoke/items?limit=1000"
measure "OGC ... .bespoke items?limit=10 (one GDAL-sized page)" "/ogc/collections/synthetic_work_programme.referrals.bespoke/items?limit=10"
measure "/api/targets?format=csv (Manchester OAs, top 20)" "/api/targets?dataset=synthetic_work_programme&within=E08000003&format=csv"
measure "/api/targets?format=xlsx (Manchester OAs, top 20)" "/api/targets?dataset=synthetic_work_programme&within=E08000003&format=xlsx"

start="$(date +%s.%N)"
GDAL_HTTP_HEADERS="Authorization: Bearer $key" ogr2ogr -f GPKG "$work/oapif.gpkg" "OAPIF:$base/ogc" \
    synthetic_work_programme.referrals.bespoke -oo PAGE_SIZE=1000
printf '%-58s %8.1f ms\n' "ogr2ogr OAPIF ... .bespoke -> GPKG (PAGE_SIZE=1000)" "$(echo "($(date +%s.%N) - $start) * 1000" | bc -l)"
start="$(date +%s.%N)"
"$cli" export --db "$work/store.sqlite" --level bespoke --ids "$all_ids" --dataset synthetic_work_programme --format gpkg --out "$work/cli.gpkg" > /dev/null
printf '%-58s %8.1f ms\n' "smallarea export --level bespoke (100 areas, gpkg)" "$(echo "($(date +%s.%N) - $start) * 1000" | bc -l)"
echo "server VmHWM: $(awk '/VmHWM/ {print int($2 / 1024)}' "/proc/$server_pid/status") MB"
