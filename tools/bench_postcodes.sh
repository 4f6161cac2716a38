#!/usr/bin/env bash
# Postcode ingest and target-list benchmark (issue #14). Synthesises a national-size ONS Postcode Directory CSV
# (~2.7 M rows at the directory's real width: the 54 columns of ONSPD February 2025, codes of real length) by
# replicating Trafford's 11,264 postcodes (shared/data postcodes/trafford_postcodes_onspd_2025-02.csv): copy 0 is
# the real rows (their oa11 the OA their centroid lies in, from a reference ingest); every other copy gets another
# outward code ("QA0", "QB0", ...), its centroid moved 0.4-6.4 degrees east and up to 1.5 degrees north or south,
# and a Scottish OA code, so it lies outside the store and is filtered out, as most of a national file is for a
# city store. In one run it times, interleaved:
#   smallarea ingest, layout onspd, OA from the file's oa11 column (lookup);
#   smallarea ingest of the same rows without the oa11 column (point in polygon of every centroid);
#   ogr2ogr reading the same CSV into a GeoPackage of points (every row written), and with -spat to the store's box;
#   /api/targets with postcodes for a whole district (every Trafford OA of the synthetic MI, JSON and CSV) against
#   the same request on a store without postcodes.
# Prints seconds, peak RSS and ratios; never a timed unit test. Usage: tools/bench_postcodes.sh [BUILD_DIR] [RUNS]
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${1:-$here/build}"
runs="${2:-1}"
shared="${SMALLAREA_SHARED:-$here/../shared/data}"
work="$(mktemp -d)"
server_pid=""
trap '[ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null; rm -rf "$work"' EXIT
sample="$here/data/sample"
copies="${COPIES:-240}"

measure() { # label, command...: appends "label wall_seconds peak_rss_mb"
    local label="$1"; shift
    /usr/bin/time -f "%e %M" -o "$work/time" "$@" >"$work/out" 2>"$work/err" || { cat "$work/err" >&2; exit 1; }
    read -r secs kb < "$work/time"
    echo "$label $secs $((kb / 1024))" >> "$work/results"
}
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

# The store: the sample's boundaries, lookup and households (no postcodes), and the sample with its postcodes.
python3 - "$sample/manifest.json" "$work" <<'PY'
import json, os, sys
m = json.load(open(sys.argv[1])); base = os.path.dirname(sys.argv[1]); work = sys.argv[2]
for section in ("boundaries", "lookups", "denominators", "postcodes"):
    for e in m.get(section, []): e["path"] = os.path.join(base, e["path"])
for d in m["datasets"]:
    for f in d["files"]: f["path"] = os.path.join(base, f["path"])
with_pc = dict(m)
json.dump(with_pc, open(os.path.join(work, "sample.json"), "w"))
m.pop("postcodes")
json.dump(m, open(os.path.join(work, "sample_no_postcodes.json"), "w"))
m.pop("datasets")
json.dump(m, open(os.path.join(work, "base.json"), "w"))
PY
"$build/tools/smallarea" ingest "$work/base.json" --db "$work/base.sqlite" > /dev/null 2>&1
"$build/tools/smallarea" ingest "$work/sample.json" --db "$work/sample.sqlite" > /dev/null 2>&1
"$build/tools/smallarea" ingest "$work/sample_no_postcodes.json" --db "$work/sample_nopc.sqlite" > /dev/null 2>&1
sqlite3 -csv "$work/sample.sqlite" "SELECT p.postcode, a.code FROM postcodes p JOIN areas a ON a.id = p.area_id" > "$work/oa_of.csv"

python3 - "$shared/postcodes/trafford_postcodes_onspd_2025-02.csv" "$work/oa_of.csv" "$work/onspd.csv" "$work/onspd_no_oa.csv" "$copies" <<'PY'
import csv, sys
src, oa_of_path, out, out_no_oa, copies = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5])
header = ("pcd,pcd2,pcds,dointr,doterm,oscty,ced,oslaua,osward,parish,usertype,oseast1m,osnrth1m,osgrdind,oshlthau,"
          "nhser,ctry,rgn,streg,pcon,eer,teclec,ttwa,pct,itl,statsward,oa01,casward,npark,lsoa01,msoa01,ur01ind,oac01,"
          "oa11,lsoa11,msoa11,wz11,sicbl,bua24,ru11ind,oac11,lat,long,lep1,lep2,pfa,imd,calncv,icb,oa21,lsoa21,msoa21,"
          "ruc21ind,globalid").split(",")
assert len(header) == 54
oa_of = dict(csv.reader(open(oa_of_path)))
rows = list(csv.DictReader(open(src, newline="")))
i_oa = header.index("oa11")
def lines():
    for k in range(copies):
        outward_new = None if k == 0 else "Q" + chr(65 + (k - 1) % 26) + str((k - 1) // 26)
        dlon = 0.0 if k == 0 else 0.4 * (1 + (k - 1) % 16)
        dlat = 0.0 if k == 0 else 0.3 * (((k - 1) // 16) % 11 - 5)
        for n, r in enumerate(rows):
            outward, inward = r["postcode"].split(" ")
            if outward_new: outward = outward_new
            pcds = outward + " " + inward
            pcd = outward.ljust(4) + inward[:3] if len(outward) < 4 else outward + inward
            oa11 = oa_of.get(r["postcode"], "") if k == 0 else "S00%06d" % (k * 12000 + n % 12000)
            lat = "%.6f" % (float(r["lat"]) + dlat)
            lon = "%.6f" % (float(r["lon"]) + dlon)
            v = [pcd, pcd.replace(" ", "  ", 1) if len(outward) == 3 else pcd, pcds, "198001", "200907" if n % 29 == 0 else "",
                 "E99999999", "E99999999", r["la_code"], r["ward_code"], "E43000163", "0", "383088", "396857", "1",
                 "E18000002", "E40000010", "E92000001", "E12000002", "0", "E14001270", "E15000002", "E41000017", "E30000239",
                 "E16000069", "E08000009", "00BUGA", "00BUGA0001", "00BUGA", "E99999999", "E01006112", "E02001259", "A1", "2B1",
                 oa11, r["lsoa_code"], r["msoa_code"], "E33017411", "E38000187", "E63012345", "A1", "2B1", lat, lon,
                 "E37000015", "", "E23000005", "6543", "E56000019", "E54000057", "E00171788", r["lsoa_code"], r["msoa_code"],
                 "UN1", "{%08x-0000-0000-0000-%012x}" % (k, n)]
            yield v
with open(out, "w", newline="") as o, open(out_no_oa, "w", newline="") as o2:
    w, w2 = csv.writer(o, lineterminator="\r\n"), csv.writer(o2, lineterminator="\r\n")
    w.writerow(header)
    w2.writerow([h if h != "oa11" else "oa_unused" for h in header])
    for v in lines():
        w.writerow(v)
        w2.writerow(v)
PY
rows=$(($(wc -l < "$work/onspd.csv") - 1))
bytes=$(stat -c %s "$work/onspd.csv")
cat > "$work/lookup.json" <<JSON
{"postcodes": [{"path": "$work/onspd.csv", "vintage": 2011, "layout": "onspd"}]}
JSON
cat > "$work/pip.json" <<JSON
{"postcodes": [{"path": "$work/onspd_no_oa.csv", "vintage": 2011, "layout": "onspd"}]}
JSON
bbox=$(sqlite3 "$work/base.sqlite" "SELECT min(MbrMinX(geom)), min(MbrMinY(geom)), max(MbrMaxX(geom)), max(MbrMaxY(geom)) FROM areas WHERE level = 'oa'" 2>/dev/null | tr '|' ' ' || true)
[ -n "$bbox" ] || bbox="-2.48 53.36 -2.15 53.55"

: > "$work/results"
for run in $(seq 1 "$runs"); do
    cp "$work/base.sqlite" "$work/store.sqlite"
    measure smallarea-lookup "$build/tools/smallarea" ingest "$work/lookup.json" --db "$work/store.sqlite"
    grep -E "postcodes:" "$work/out" | sed 's/^/  lookup: /' > "$work/lookup_summary"
    cp "$work/base.sqlite" "$work/store.sqlite"
    measure smallarea-pip "$build/tools/smallarea" ingest "$work/pip.json" --db "$work/store.sqlite"
    grep -E "postcodes:" "$work/out" | sed 's/^/  point in polygon: /' > "$work/pip_summary"
    rm -f "$work/ogr.gpkg"
    measure ogr2ogr-gpkg ogr2ogr -f GPKG "$work/ogr.gpkg" "$work/onspd.csv" -oo X_POSSIBLE_NAMES=long -oo Y_POSSIBLE_NAMES=lat -a_srs EPSG:4326
    rm -f "$work/ogr.gpkg"
    # shellcheck disable=SC2086
    measure ogr2ogr-gpkg-spat ogr2ogr -f GPKG "$work/ogr.gpkg" "$work/onspd.csv" -oo X_POSSIBLE_NAMES=long -oo Y_POSSIBLE_NAMES=lat -a_srs EPSG:4326 -spat $bbox
done
cat "$work/lookup_summary" "$work/pip_summary"
printf 'synthetic ONSPD: %s rows, %s columns, %s MB; store: the sample'"'"'s 2,261 OA11 (Manchester + Trafford)\n' "$rows" 54 "$((bytes / 1000000))"
printf '%-20s %8s %10s   (median of %s runs)\n' what seconds peakRSS_MB "$runs"
for label in smallarea-lookup smallarea-pip ogr2ogr-gpkg ogr2ogr-gpkg-spat; do
    secs=$(awk -v l=$label '$1==l {print $2}' "$work/results" | median)
    rss=$(awk -v l=$label '$1==l {print $3}' "$work/results" | median)
    printf '%-20s %8s %10s\n' "$label" "$secs" "$rss"
    eval "secs_${label//-/_}=$secs"
done
awk -v a="$secs_smallarea_lookup" -v p="$secs_smallarea_pip" -v g="$secs_ogr2ogr_gpkg" -v s="$secs_ogr2ogr_gpkg_spat" 'BEGIN {
    printf "ratio smallarea (oa11 lookup) / ogr2ogr -f GPKG (all rows): %.2f\n", a / g;
    printf "ratio smallarea (point in polygon) / ogr2ogr -f GPKG (all rows): %.2f\n", p / g;
    printf "ratio smallarea (point in polygon) / ogr2ogr -f GPKG -spat (store box): %.2f\n", p / s;
    printf "ratio point in polygon / oa11 lookup: %.2f\n", p / a }'

# Targets with postcodes for a whole district: every Trafford OA of the synthetic MI (band 0..100000).
key_org() { # db: prints a key of an organisation all datasets are shared with
    "$build/tools/smallarea" keys org-add --db "$1" --name bench --agreement-signed 2024-01-01 --datasets synthetic_work_programme \
        --representative 'Bench Mark' --representative-contact bench@example.org > /dev/null 2>&1
    "$build/tools/smallarea" keys issue --db "$1" --org bench 2>/dev/null | tail -1
}
serve_and_time() { # db label
    local key
    key=$(key_org "$1")
    "$build/tools/smallarea" serve --db "$1" --port 0 --cache-mb 0 > "$work/serve.log" 2>&1 &
    server_pid=$!
    for _ in $(seq 1 100); do grep -q "listening on" "$work/serve.log" && break; sleep 0.1; done
    local port
    port=$(sed -n 's/.*listening on [^:]*:\([0-9]*\).*/\1/p' "$work/serve.log" | head -1)
    python3 - "$port" "$key" "$2" >> "$work/targets" <<'PY'
import sys, time, urllib.request, json
port, key, label = sys.argv[1], sys.argv[2], sys.argv[3]
url = ("http://127.0.0.1:%s/api/targets?dataset=synthetic_work_programme&measure=referrals&period=2017-10&within=E08000009"
       "&min_households=0&max_households=100000&limit=1000" % port)
def get(u):
    req = urllib.request.Request(u, headers={"Authorization": "Bearer " + key})
    return urllib.request.urlopen(req).read()
for fmt in ("", "&format=csv"):
    get(url + fmt)
    times = []
    for _ in range(10):
        t = time.perf_counter(); body = get(url + fmt); times.append(time.perf_counter() - t)
    times.sort()
    extra = ""
    if not fmt:
        j = json.loads(body); extra = " rows=%d postcodes=%d" % (len(j["rows"]), sum(r.get("postcodes_live", 0) for r in j["rows"]))
    print("%s %s %.4f %d%s" % (label, "json" if not fmt else "csv", times[len(times) // 2], len(body), extra))
PY
    kill "$server_pid"; wait "$server_pid" 2>/dev/null || true; server_pid=""
}
: > "$work/targets"
serve_and_time "$work/sample.sqlite" with-postcodes
serve_and_time "$work/sample_nopc.sqlite" without-postcodes
echo "targets for all of Trafford (limit 1000, median of 10, cache off):"
awk '{printf "  %-18s %-4s %7.1f ms %9d bytes%s\n", $1, $2, $3 * 1000, $4, ($5 ? " " $5 " " $6 : "")}' "$work/targets"
awk '$1=="with-postcodes" {w[$2]=$3} $1=="without-postcodes" {o[$2]=$3} END {
    printf "ratio targets with postcodes / without: JSON %.2f, CSV %.2f\n", w["json"] / o["json"], w["csv"] / o["csv"] }' "$work/targets"
