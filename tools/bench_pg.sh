#!/usr/bin/env bash
# SQLite vs PostgreSQL store benchmark (issue #16), both in one run, interleaved, on the same national data:
#   ingest    the national LSOA 2021 boundaries (35,672), the OA->LSOA->MSOA->LAD lookup, Census 2021 OA
#             households and IoD 2025 income deprivation at LSOA as an internal dataset (rounded to 20)
#   snapshot  `smallarea serve` start until /health answers (the snapshot of the whole store is built at start)
#   bespoke   POST /api/bespoke (8 LSOAs each, dissolved outline stored) then GET /api/bespoke/ID, sequential
#   keys      GET /api/table of the internal dataset within one district with a key: key lookup by hash, access
#             check, protected table, audit row queued, sequential
# Prints each figure per store and the ratio PostgreSQL / SQLite (these machines are noisy: quote ratios).
# The PostgreSQL server is a private cluster (tools/pg_cluster.sh: fsync off, as for tests; a production server
# with fsync pays more per commit, which the ingest's one transaction amortises).
# Usage: tools/bench_pg.sh [RUNS]   env: SMALLAREA_BUILD_DIR (default build), SMALLAREA_SHARED (../shared/data)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${SMALLAREA_BUILD_DIR:-$here/build}"
runs="${1:-3}"
shared="${SMALLAREA_SHARED:-$here/../shared/data}"
cli="$build/tools/smallarea"
[ -x "$cli" ] || { echo "bench_pg: no $cli (build first)" >&2; exit 2; }
work="$(mktemp -d /tmp/smallarea-bench-pg-XXXXXX)"
chmod 755 "$work"
server_pid=
cleanup() {
    [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null || true
    bash "$here/tools/pg_cluster.sh" stop "$work/pg" >/dev/null 2>&1 || true
    rm -rf "$work"
}
trap cleanup EXIT
mkdir -p "$work/pg"
pg_url="$(bash "$here/tools/pg_cluster.sh" start "$work/pg")"
base_url="${pg_url%/*}"

cat > "$work/manifest.json" <<JSON
{"boundaries": [{"path": "$shared/boundaries/national/lsoa21_ew_bsc_2021.geojson.gz", "level": "lsoa", "vintage": 2021}],
 "lookups": [{"path": "$shared/lookups/oa21_lsoa21_msoa21_lad21_ew.csv.gz", "vintage": 2021}],
 "denominators": [{"path": "$shared/counts/national/census2021_oa21_households_population_ew.csv.gz", "level": "oa",
                   "vintage": 2021, "measures": {"households": "households_ts046"}, "source": "Census 2021 TS046"}],
 "datasets": [{"id": "income", "title": "IoD 2025 income deprivation (benchmark, treated as internal)",
               "publisher": "MHCLG", "licence": "OGL v3", "attribution": "MHCLG", "classification": "internal",
               "level": "lsoa", "vintage": 2021,
               "disclosure": {"rounding_base": 20, "rounded_by": "smallarea", "rounding_rule": "half_up",
                              "suppression_threshold": 0, "percent_min_denominator": 10},
               "files": [{"path": "$shared/counts/national/iod2025_lsoa21_england.csv.gz", "layout": "wide", "period": "2025"}],
               "measures": [{"id": "income_deprived", "kind": "count", "column": "income_domain_numerator",
                             "denominator": "households"}]}]}
JSON
# Eight neighbouring LSOA codes per bespoke area (consecutive codes in the lookup are one district's).
python3 - "$shared/lookups/oa21_lsoa21_msoa21_lad21_ew.csv.gz" > "$work/codes.txt" <<'PY'
import csv, gzip, sys
seen = []
with gzip.open(sys.argv[1], "rt", newline="") as f:
    r = csv.DictReader(f)
    col = next(c for c in r.fieldnames if c.lower().startswith("lsoa21cd"))
    for row in r:
        c = row[col]
        if c.startswith("E") and (not seen or seen[-1] != c):
            seen.append(c)
        if len(seen) >= 1600:
            break
print("\n".join(seen))
PY

now() { date +%s.%N; }

# client PORT KEY: sequential HTTP/1.1 keep-alive client; prints "bespoke_ops_per_s keys_ops_per_s"
client() {
    python3 - "$1" "$2" "$work/codes.txt" <<'PY'
import http.client, json, sys, time
port, key, codes_file = int(sys.argv[1]), sys.argv[2], sys.argv[3]
codes = open(codes_file).read().split()
c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
def call(method, path, body=None, headers={}):
    c.request(method, path, body=body, headers=headers)
    r = c.getresponse(); data = r.read()
    if r.status >= 300: raise SystemExit(f"{method} {path}: {r.status} {data[:200]!r}")
    return data
n = 100
t = time.perf_counter()
for i in range(n):
    made = json.loads(call("POST", "/api/bespoke", json.dumps({"name": f"bench {i}", "level": "lsoa", "codes": codes[i*8:(i+1)*8]}),
                           {"Content-Type": "application/json"}))
    call("GET", "/api/bespoke/" + made["id"])
bespoke = n / (time.perf_counter() - t)
auth = {"Authorization": "Bearer " + key}
districts = ["E06000001", "E08000003", "E09000001", "E07000008", "E08000025"]
m = 300
t = time.perf_counter()
for i in range(m):
    call("GET", f"/api/table?dataset=income&measure=income_deprived&level=lsoa&within={districts[i % len(districts)]}", headers=auth)
keys = m / (time.perf_counter() - t)
print(f"{bespoke:.1f} {keys:.1f}")
PY
}

: > "$work/results"
for run in $(seq 1 "$runs"); do
    for store in sqlite postgresql; do
        if [ "$store" = sqlite ]; then
            db="$work/store.sqlite"; rm -f "$db" "$db-wal" "$db-shm"
        else
            name="bench$run"
            psql -q "$pg_url" -c "CREATE DATABASE $name" >/dev/null
            db="$base_url/$name"
        fi
        t0=$(now)
        "$cli" ingest "$work/manifest.json" --db "$db" > /dev/null 2> "$work/ingest.err" || { cat "$work/ingest.err" >&2; exit 1; }
        t1=$(now)
        "$cli" keys org-add --db "$db" --name "Bench" --agreement-signed 2024-01-01 --datasets income \
            --representative "Bench Person" --representative-contact bench@example.org > /dev/null
        key="$("$cli" keys issue --db "$db" --org "Bench" | grep -o 'sak_[0-9a-f]*' | head -1)"
        t2=$(now)
        "$cli" serve --db "$db" --host 127.0.0.1 --port 0 --rate-limit 0 > "$work/serve.out" 2> "$work/serve.err" &
        server_pid=$!
        port=
        for _ in $(seq 1 6000); do
            port="$(grep -o 'listening on 127.0.0.1:[0-9]*' "$work/serve.out" | grep -o '[0-9]*$' || true)"
            [ -n "$port" ] && curl -sf "http://127.0.0.1:$port/health" > /dev/null && break
            kill -0 "$server_pid" 2>/dev/null || { cat "$work/serve.err" >&2; exit 1; }
            sleep 0.05
        done
        [ -n "$port" ] || { echo "bench_pg: the server did not start in 300 s" >&2; cat "$work/serve.err" >&2; exit 1; }
        t3=$(now)
        read -r bespoke keys < <(client "$port" "$key")
        kill "$server_pid"; wait "$server_pid" 2>/dev/null || true; server_pid=
        echo "$store ingest $(echo "$t1 - $t0" | bc)" >> "$work/results"
        echo "$store snapshot $(echo "$t3 - $t2" | bc)" >> "$work/results"
        echo "$store bespoke $bespoke" >> "$work/results"
        echo "$store keys $keys" >> "$work/results"
    done
done

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
printf '%-10s %12s %12s %8s   (median of %s interleaved runs; the lower one of an even count)\n' what sqlite postgresql pg/sqlite "$runs"
for what in ingest snapshot bespoke keys; do
    a=$(awk -v w=$what '$1=="sqlite" && $2==w {print $3}' "$work/results" | median)
    b=$(awk -v w=$what '$1=="postgresql" && $2==w {print $3}' "$work/results" | median)

    printf '%-10s %10.2f%-2s %10.2f%-2s %8.2f\n' "$what" "$a" "" "$b" "" "$(echo "$b / $a" | bc -l)"
    [ "$what" = keys ] && echo "(ingest/snapshot in seconds: ratio > 1 is slower on PostgreSQL; bespoke/keys in ops/s: ratio < 1 is slower)"
done
