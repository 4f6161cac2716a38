#!/usr/bin/env bash
# tools/crash_test.sh [BUILD_DIR]: crash safety of the store.
#  1. kill -9 during a large ingest (the national 2021 LSOA boundaries into a store that already holds the
#     sample) after 0.5, 1, 2, 3 and 5 s (those shorter than the ingest); after each: PRAGMA integrity_check = ok,
#     the store opens (smallarea serve answers /health), and it holds the previous release exactly (data release,
#     row counts, checksum of observations and areas). Further kills land at 50/80/90/95/98% of an uninterrupted
#     ingest's time (measured first on a copy), and when the CLI's progress says the spatial index rebuild or the
#     commit has started (+0..0.15 s). A kill point the ingest outran is reported and the store restored, not
#     counted; at least 5 kills must land. A kill after the commit is durable (the process still closing the store)
#     must leave exactly the new release (the state of the timing run); the store is then restored. Then one uninterrupted ingest proves the store still takes a new release.
#  2. Readers never see half a release (WAL): a server answers /api/table in a loop (4 client threads) while the
#     store is re-ingested alternately from two versions of the sample whose claimant counts differ; every
#     response must be complete and self-consistent (total == sum of rows) and belong wholly to one version, and a
#     release number must always come with the same figures.
# Environment: SMALLAREA_BUILD_DIR (default build), SMALLAREA_KEY (sent as Authorization: Bearer when set),
# NATIONAL (the national boundary file), CRASH_DELAYS (default "0.5 1 2 3 5"), CRASH_FRACTIONS (default
# "0.5 0.8 0.9 0.95 0.98"), CRASH_PHASES (";"-separated "phase:PROGRESS TEXT+SECONDS"), REINGESTS (default 6),
# CRASH_PARTS (default "1 2"; "2" runs only the readers' part).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${1:-${SMALLAREA_BUILD_DIR:-$ROOT/build}}
CLI="$BUILD/tools/smallarea"
NATIONAL=${NATIONAL:-$ROOT/../shared/data/boundaries/national/lsoa21_ew_bsc_2021.geojson.gz}
DELAYS=${CRASH_DELAYS:-0.5 1 2 3 5}
REINGESTS=${REINGESTS:-6}
[ -x "$CLI" ] || { echo "crash_test: no $CLI (build first)"; exit 2; }
[ -r "$NATIONAL" ] || { echo "crash_test: no $NATIONAL"; exit 2; }
command -v sqlite3 > /dev/null || { echo "crash_test: needs the sqlite3 CLI (Debian package sqlite3)"; exit 2; }
WORK=$(mktemp -d /tmp/smallarea-crash-XXXXXX)
SERVER_PID=
cleanup() {
    [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2> /dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

# The state a crash must not change: release, row counts and checksums of the rows.
state() {
    sqlite3 "$1" "SELECT 'release ' || value FROM meta WHERE key = 'release';
        SELECT 'areas ' || count(*) FROM areas; SELECT 'ancestors ' || count(*) FROM area_ancestors;
        SELECT 'denominators ' || count(*) FROM denominators; SELECT 'datasets ' || count(*) FROM datasets;
        SELECT 'observations ' || count(*) FROM observations;" | tr '\n' ' '
    printf 'obs-md5 %s ' "$(sqlite3 "$1" "SELECT dataset_id, measure_id, period, area_id, value FROM observations
        ORDER BY 1, 2, 3, 4" | md5sum | cut -c1-12)"
    printf 'areas-md5 %s' "$(sqlite3 "$1" "SELECT id, code, name, hex(geom) FROM areas ORDER BY id" | md5sum | cut -c1-12)"
}

# Starts `smallarea serve` on an ephemeral port; sets SERVER_PID and PORT.
start_server() {
    local limit=()
    "$CLI" --help 2>&1 | grep -q -- --rate-limit && limit=(--rate-limit 0) # 4 looping readers from one address
    # Emptied here, not only by the child's redirect: the loop below could otherwise read the port of the
    # previous server before the child truncates the file.
    : > "$WORK/serve.out"
    "$CLI" serve --db "$1" --port 0 "${limit[@]}" > "$WORK/serve.out" 2> "$WORK/serve.err" &
    SERVER_PID=$!
    PORT=
    for _ in $(seq 1 250); do
        PORT=$(sed -n 's/^listening on .*:\([0-9]*\)$/\1/p' "$WORK/serve.out")
        [ -n "$PORT" ] && return 0
        kill -0 "$SERVER_PID" 2> /dev/null || break
        sleep 0.04
    done
    cat "$WORK/serve.err"
    return 1
}
stop_server() {
    kill "$SERVER_PID" 2> /dev/null || true
    wait "$SERVER_PID" 2> /dev/null || true
    SERVER_PID=
}

PARTS=${CRASH_PARTS:-1 2}
if [[ " $PARTS " == *" 1 "* ]]; then
echo "== 1. kill -9 during a national ingest ($(basename "$NATIONAL"))"
STORE="$WORK/store.sqlite"
"$CLI" ingest "$ROOT/data/sample/manifest.json" --db "$STORE" > /dev/null 2>&1
cat > "$WORK/national.json" << JSON
{"boundaries": [{"path": "$NATIONAL", "level": "lsoa", "vintage": 2021}]}
JSON
BEFORE=$(state "$STORE")
echo "before: $BEFORE"
cp "$STORE" "$WORK/before.sqlite" # restores the store when an ingest finishes before its kill point
# How long an uninterrupted ingest takes (on a copy), and when its late phases start (the progress lines the CLI
# prints with timestamps), so kills also land in the spatial index rebuild and the commit.
cp "$STORE" "$WORK/timing.sqlite"
t0=$(date +%s.%N)
"$CLI" ingest "$WORK/national.json" --db "$WORK/timing.sqlite" > /dev/null 2> "$WORK/timing.err"
TOTAL=$(echo "$(date +%s.%N) - $t0" | bc)
# A kill that lands after the commit is durable (the process is still closing the store) must leave exactly the
# new release: all or nothing, never a mix. This is that state.
NEW=$(state "$WORK/timing.sqlite")
rm -f "$WORK/timing.sqlite"*
phase_at() { sed -n "s/^\[ *\([0-9.]*\)s\] $1.*/\1/p" "$WORK/timing.err" | head -1; }
printf 'uninterrupted ingest takes %.1f s (spatial index rebuild from %s s, commit from %s s)\n' "$TOTAL" \
    "$(phase_at 'rebuilding the spatial index')" "$(phase_at 'committing')"
# Kill points: fixed delays shorter than the ingest, fractions of its time, and the moment a phase's progress
# line appears (+ a delay), "phase:TEXT+SECONDS".
POINTS=()
for d in $DELAYS; do
    if [ "$(echo "$d < $TOTAL * 0.9" | bc)" = 1 ]; then POINTS+=("$d"); else echo "(fixed delay ${d}s left out: the ingest takes ${TOTAL}s)"; fi
done
for f in ${CRASH_FRACTIONS:-0.5 0.8 0.9 0.95 0.98}; do POINTS+=("$(printf '%.2f' "$(echo "$TOTAL * $f" | bc)")"); done
IFS=';' read -r -a PHASE_POINTS <<< "${CRASH_PHASES:-phase:rebuilding the spatial index+0;phase:rebuilding the spatial index+0.05;phase:rebuilding the spatial index+0.15;phase:committing+0;phase:committing+0.01}"
POINTS+=("${PHASE_POINTS[@]}")
echo "kill points: ${#POINTS[@]} (${POINTS[*]})"
killed=0
missed=0
committed=0
for point in "${POINTS[@]}"; do
    : > "$WORK/ingest.err"
    "$CLI" ingest "$WORK/national.json" --db "$STORE" > "$WORK/ingest.out" 2> "$WORK/ingest.err" &
    pid=$!
    t0=$(date +%s.%N)
    case "$point" in
    phase:*)
        spec=${point#phase:}
        text=${spec%+*}
        while kill -0 "$pid" 2> /dev/null && ! grep -qF "$text" "$WORK/ingest.err"; do sleep 0.005; done
        sleep "${spec##*+}"
        ;;
    *) sleep "$point" ;;
    esac
    if kill -0 "$pid" 2> /dev/null; then
        kill -9 "$pid"
        at=$(echo "$(date +%s.%N) - $t0" | bc)
        wait "$pid" 2> /dev/null || true
        killed=$((killed + 1))
        phase=$(tail -1 "$WORK/ingest.err" | sed -E 's#/[^ ]*/##g' | cut -c1-60)
        wal=$(stat -c %s "$STORE-wal" 2> /dev/null || echo 0)
    else
        wait "$pid" || true
        echo "kill point $point: the ingest had finished first (not counted); store restored to the previous release"
        missed=$((missed + 1))
        rm -f "$STORE-wal" "$STORE-shm"
        cp "$WORK/before.sqlite" "$STORE"
        continue
    fi
    check=$(sqlite3 "$STORE" "PRAGMA integrity_check")
    AFTER=$(state "$STORE")
    health="(server did not start)"
    if start_server "$STORE"; then
        health=$(curl -s -m 10 "http://127.0.0.1:$PORT/health" || echo "(curl failed $?)")
        stop_server
    fi
    printf 'kill -9 at %-40s after %5.2fs (WAL %9s bytes, last progress "%s"): integrity %s; ' "$point" "$at" "$wal" "$phase" "$check"
    if [ "$check" = ok ] && [ "$AFTER" = "$BEFORE" ] && [[ "$health" == *'"status":"ok"'* ]]; then
        echo "previous release intact, serves"
    elif [ "$check" = ok ] && [ "$AFTER" = "$NEW" ] && [[ "$health" == *'"status":"ok"'* ]]; then
        echo "the commit had completed: the new release whole, serves (store restored for the next point)"
        committed=$((committed + 1))
        rm -f "$STORE-wal" "$STORE-shm"
        cp "$WORK/before.sqlite" "$STORE"
    else
        echo
        fail "kill at $point: integrity '$check'; state '$AFTER'; health '$health'; $(cat "$WORK/serve.err" 2> /dev/null | tail -2)"
    fi
done
echo "kills: $killed landed ($((killed - committed)) before the commit completed: previous release intact; $committed after it: new release whole), $missed missed (the ingest finished first)"
[ "$killed" -ge 5 ] || fail "only $killed kill(s) landed during an ingest"
start=$(date +%s.%N)
if "$CLI" ingest "$WORK/national.json" --db "$STORE" > /dev/null 2> "$WORK/ingest.err"; then
    printf 'uninterrupted national ingest after the crashes: %.1f s, integrity %s, %s\n' \
        "$(echo "$(date +%s.%N) - $start" | bc)" "$(sqlite3 "$STORE" "PRAGMA integrity_check")" \
        "$(sqlite3 "$STORE" "SELECT 'release ' || value FROM meta WHERE key = 'release'; SELECT count(*) || ' LSOA21 areas' FROM areas WHERE vintage = 2021")" | tr '\n' ' '
    echo
else
    fail "ingest after the crashes failed: $(tail -3 "$WORK/ingest.err")"
fi

fi

if [[ " $PARTS " == *" 2 "* ]]; then
echo "== 2. readers during re-ingest (WAL): never half a release"
# Version B of the sample: every claimant count + 5 (still a multiple of the publisher's base).
cp -r "$ROOT/data/sample" "$WORK/sampleB"
python3 - "$WORK/sampleB/counts" << 'PY'
import csv, glob, sys
for path in glob.glob(sys.argv[1] + "/claimant_count_*.csv"):
    rows = list(csv.reader(open(path, newline="")))
    col = rows[0].index("value")
    for r in rows[1:]:
        if r[col] != "":
            r[col] = str(int(r[col]) + 5)
    csv.writer(open(path, "w", newline=""), lineterminator="\n").writerows(rows)
PY
STORE2="$WORK/wal.sqlite"
"$CLI" ingest "$ROOT/data/sample/manifest.json" --db "$STORE2" > /dev/null 2>&1
start_server "$STORE2"
if ! python3 - "$PORT" "${SMALLAREA_KEY:-}" "$CLI" "$STORE2" "$ROOT/data/sample/manifest.json" "$WORK/sampleB/manifest.json" \
    "$REINGESTS" << 'PY'
import json, subprocess, sys, threading, time, urllib.request, urllib.error
port, key, cli, store, manifest_a, manifest_b, reingests = sys.argv[1:8]
url = f"http://127.0.0.1:{port}/api/table?dataset=claimant_count&period=2017-10&level=lsoa"
headers = {"Authorization": f"Bearer {key}"} if key else {}
stop = threading.Event()
lock = threading.Lock()
stats = {"responses": 0, "errors": [], "totals": set(), "releases": {}, "seconds": []}

def client():
    while not stop.is_set():
        try:
            started = time.time()
            with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=30) as r:
                body = r.read()
                length = int(r.headers.get("Content-Length", len(body)))
            t = json.loads(body)
            rows = [x["value"] for x in t["rows"] if x["value"] is not None]
            problem = None
            if len(body) != length:
                problem = f"short body {len(body)} of {length}"
            elif t["total"]["value"] != sum(rows):
                problem = f"total {t['total']['value']} != sum of rows {sum(rows)}"
            with lock:
                stats["responses"] += 1
                stats["seconds"].append(time.time() - started)
                if problem:
                    stats["errors"].append(problem)
                stats["totals"].add(t["total"]["value"])
                stats["releases"].setdefault(t["dataset"]["release"], set()).add((t["total"]["value"], len(t["rows"])))
        except urllib.error.HTTPError as e:
            with lock:
                stats["errors"].append(f"{e.code} {e.read()[:160]!r}")
        except Exception as e:  # a refused or broken response is an error here: the server must keep serving
            with lock:
                stats["errors"].append(repr(e)[:200])

threads = [threading.Thread(target=client) for _ in range(4)]
for t in threads:
    t.start()
time.sleep(0.5)
durations = []
for i in range(int(reingests)):
    start = time.time()
    subprocess.run([cli, "ingest", manifest_b if i % 2 == 0 else manifest_a, "--db", store], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    durations.append(time.time() - start)
    time.sleep(0.7)  # the server looks for a new release at most every 500 ms
stop.set()
for t in threads:
    t.join()
mixed = {r: v for r, v in stats["releases"].items() if len(v) != 1}
print(f"re-ingests: {len(durations)} ({min(durations):.1f}-{max(durations):.1f} s each); responses: {stats['responses']}; "
      f"releases seen: {sorted(stats['releases'])}; distinct totals: {sorted(stats['totals'])}; errors: {len(stats['errors'])}")
seconds = sorted(stats["seconds"]) or [0]
print(f"response times while re-ingesting: p50 {seconds[len(seconds) // 2] * 1000:.1f} ms, "
      f"p99 {seconds[int(len(seconds) * 0.99)] * 1000:.1f} ms, max {seconds[-1] * 1000:.1f} ms")
ok = True
if stats["errors"]:
    kinds = {}
    for e in stats["errors"]:
        kinds[e] = kinds.get(e, 0) + 1
    print("FAIL: errors:", sorted(kinds.items(), key=lambda kv: -kv[1])[:5]); ok = False
if len(stats["totals"]) != 2:
    print("FAIL: expected the totals of exactly the two versions, got", sorted(stats["totals"])); ok = False
if mixed:
    print("FAIL: a release served two different tables:", mixed); ok = False
if len(stats["releases"]) < 2:
    print("FAIL: the server never switched release"); ok = False
sys.exit(0 if ok else 1)
PY
then
    fail "readers during re-ingest"
fi
stop_server
[ "$(sqlite3 "$STORE2" "PRAGMA integrity_check")" = ok ] || fail "integrity after re-ingests"
fi

if [ $failures -eq 0 ]; then echo "crash_test: all checks passed"; else echo "crash_test: $failures failure(s)"; fi
exit $((failures > 0))
