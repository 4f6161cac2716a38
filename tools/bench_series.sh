#!/usr/bin/env bash
# Series and change benchmark (issue #17). Builds a store of the bundled sample's boundaries with a synthetic
# monthly claimant-style dataset over 120 periods (2015-01 .. 2024-12, 420 LSOAs, values derived from the real
# 2017-09 counts), serves it, and times in one run:
#   - /api/series for 100 LSOAs x 120 periods (JSON, and CSV), against /api/table for one period and the same
#     100 requests (the single-period figure the series is made of);
#   - the change map: tiles of Manchester and Trafford at z11-13 with compare=PERIOD, against the same tiles
#     of one period, cold (tile cache off) so both render.
# Prints seconds, requests/s and the ratios. Usage: tools/bench_series.sh [BUILD_DIR]
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="$(cd "${1:-$here/build}" && pwd)"
cli="$build/tools/smallarea"
work="$(mktemp -d)"
server_pid=""
cleanup() {
    if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
    rm -rf "$work"
}
trap cleanup EXIT

python3 - "$here/data/sample" "$work" <<'EOF'
import csv, json, math, os, sys
sample, work = sys.argv[1], sys.argv[2]
base = {}
with open(os.path.join(sample, "counts/claimant_count_lsoa11_manchester_trafford_2017-09.csv")) as f:
    for row in csv.DictReader(f):
        base[row["lsoa11cd"]] = int(row["value"])
periods = [f"{y}-{m:02d}" for y in range(2015, 2025) for m in range(1, 13)]
with open(os.path.join(work, "series.csv"), "w", newline="") as f:
    w = csv.writer(f)
    w.writerow(["period", "lsoa11cd", "measure", "value"])
    for k, p in enumerate(periods):
        for i, (code, v) in enumerate(sorted(base.items())):
            # A seasonal wave and a slow trend, rounded to 5 as the publisher does.
            x = v * (1 + 0.25 * math.sin((k + i) / 6.0) + 0.002 * k)
            w.writerow([p, code, "Claimants", 5 * round(x / 5)])
manifest = json.load(open(os.path.join(sample, "manifest.json")))
for section in ("boundaries", "lookups", "denominators"):
    for entry in manifest.get(section, []):
        entry["path"] = os.path.join(sample, entry["path"])
manifest["datasets"] = [{
    "id": "monthly", "title": "Synthetic monthly claimants (benchmark)", "publisher": "bench_series.sh",
    "licence": "Open Government Licence v3.0", "attribution": "synthetic", "classification": "published",
    "level": "lsoa", "vintage": 2011,
    "files": [{"path": os.path.join(work, "series.csv"), "layout": "long",
               "columns": {"period": "period", "area": "lsoa11cd", "measure": "measure", "value": "value"}}],
    "measures": [{"id": "claimants", "title": "Claimants", "unit": "people", "kind": "count",
                  "denominator": "households", "source_names": ["Claimants"]}],
    "disclosure": {"rounding_base": 5, "rounded_by": "publisher", "suppression_threshold": 0}}]
manifest.pop("postcodes", None)
json.dump(manifest, open(os.path.join(work, "manifest.json"), "w"))
with open(os.path.join(work, "areas.txt"), "w") as f:
    f.write("\n".join(sorted(base)[:100]) + "\n")
EOF
"$cli" ingest "$work/manifest.json" --db "$work/store.sqlite" > /dev/null

"$cli" serve --db "$work/store.sqlite" --port 0 --rate-limit 0 --cache-mb 0 > "$work/serve.out" 2> "$work/serve.err" &
server_pid=$!
for _ in $(seq 1 600); do grep -q "listening on" "$work/serve.out" 2>/dev/null && break; sleep 0.1; done
port="$(sed -n 's/.*listening on [^:]*:\([0-9]*\).*/\1/p' "$work/serve.out")"
[ -n "$port" ] || { cat "$work/serve.err" >&2; exit 1; }

python3 - "$port" "$work/areas.txt" <<'EOF'
import http.client, json, math, sys, time
port, areas = int(sys.argv[1]), open(sys.argv[2]).read().split()
conn = http.client.HTTPConnection("127.0.0.1", port)
def get(path):
    conn.request("GET", path)
    r = conn.getresponse()
    body = r.read()
    if r.status not in (200, 204):
        sys.exit(f"{path}: {r.status} {body[:200]}")
    return body
def timed(paths):
    for p in paths[:3]: get(p)  # connection and snapshot warm-up, not the tables
    t = time.perf_counter()
    n = sum(len(get(p)) for p in paths)
    return time.perf_counter() - t, n
def tile_of(lon, lat, z):
    n = 2 ** z
    x = int((lon + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    return x, y
tiles = []
for z in (11, 12, 13):
    x0, y0 = tile_of(-2.45, 53.50, z)
    x1, y1 = tile_of(-2.15, 53.35, z)
    tiles += [(z, x, y) for x in range(x0, x1 + 1) for y in range(y0, y1 + 1)]
q = "dataset=monthly&measure=claimants"
rows = []
def run(name, paths):
    s, n = timed(paths)
    rows.append((name, len(paths), s, n))
    return s
series = run("series JSON, 100 areas x 120 periods", [f"/api/series?{q}&area={a}" for a in areas])
series_csv = run("series CSV, 100 areas x 120 periods", [f"/api/series?{q}&area={a}&format=csv" for a in areas])
single = run("table JSON, one period, 100 requests", [f"/api/table?{q}&period=2020-0{1 + i % 9}&within={a}" for i, a in enumerate(areas)])
plain = run(f"tiles, one period ({len(tiles)} tiles, cache off)", [f"/tiles/lsoa/{z}/{x}/{y}.mvt?{q}&period=2024-12" for z, x, y in tiles])
change = run(f"tiles, compare=2015-01 ({len(tiles)} tiles, cache off)", [f"/tiles/lsoa/{z}/{x}/{y}.mvt?{q}&period=2024-12&compare=2015-01" for z, x, y in tiles])
print(f"{'request set':48s} {'requests':>8s} {'seconds':>8s} {'req/s':>8s} {'bytes':>10s}")
for name, k, s, n in rows:
    print(f"{name:48s} {k:8d} {s:8.3f} {k / s:8.1f} {n:10d}")
print(f"series JSON / single-period table, per request: {series / single:.1f}x the time for 120x the periods")
print(f"series CSV / series JSON: {series_csv / series:.2f}x")
print(f"change tiles / one-period tiles: {change / plain:.2f}x")
EOF
