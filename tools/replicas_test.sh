#!/usr/bin/env bash
# tools/replicas_test.sh: two `smallarea serve` replicas on one shared store behind nginx, on 127.0.0.1 only.
# Checks (each prints "PASS name" or "FAIL name: detail"; the script exits 1 on any FAIL):
#   a. load     ~20 s of wrk through nginx over tiles, /api/table and /api/areas: zero errors (req/s, non-2xx)
#   b. shared   a bespoke area created through replica A is read through replica B
#   c. keys     a key works on both; `keys suspend-all` -> the very next request on A and on B is refused;
#               `keys resume-all` -> both serve it again
#   d. release  a re-ingest (new release) shows in both replicas' /health "release" within 2 s (delay per replica)
#   e. failover kill -9 of A during load through nginx: failed requests <= concurrent connections (in-flight only),
#               the rest go to B; B still answers through nginx; A restarted on its port serves again
#   f. pg-restart (PostgreSQL only) tools/pg_cluster.sh restart while both run: /health and a table 200 on both
#               within 10 s (seconds to recovery)
#   g. scale    the same 15 s wrk load through nginx with one upstream and with two: req/s, p99, ratio
# Environment: SMALLAREA_BUILD_DIR (default ROOT/build; the CLI is $BUILD/tools/smallarea),
#   REPLICAS_STORE=postgresql (default: a private cluster from tools/pg_cluster.sh) or sqlite (one SQLite file
#   shared by both replicas: two processes on one WAL database), WRK_CONNECTIONS (default 16), KEEP_WORK=1 (keep
#   the work directory with the logs, nginx.conf and wrk output for a look afterwards).
# Needs nginx (/usr/sbin/nginx) and wrk (installed with apt when missing, as tools/load_test.sh does).
# Everything it starts is stopped by the EXIT trap and its files (and the cluster) removed. About 2 minutes.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${SMALLAREA_BUILD_DIR:-$ROOT/build}
CLI="$BUILD/tools/smallarea"
MODE=${REPLICAS_STORE:-postgresql}
CONNECTIONS=${WRK_CONNECTIONS:-16}
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
MANIFEST="$ROOT/data/sample/manifest.json"
INTERNAL=synthetic_work_programme
INTERNAL_TABLE="/api/table?dataset=$INTERNAL&measure=referrals&period=2017-10&level=lad"
PUBLIC_TABLE="/api/table?dataset=claimant_count&measure=claimants&period=2017-10&level=lad"

case "$MODE" in postgresql | sqlite) ;; *) echo "replicas_test: REPLICAS_STORE must be postgresql or sqlite, not '$MODE'"; exit 2 ;; esac
[ -x "$CLI" ] || { echo "replicas_test: no $CLI (build first, or set SMALLAREA_BUILD_DIR)"; exit 2; }
[ -x "$NGINX" ] || { echo "replicas_test: nginx not found (apt-get install nginx)"; exit 2; }
if ! command -v wrk > /dev/null; then
    echo "replicas_test: installing wrk"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk > /dev/null ||
        { echo "replicas_test: wrk is needed (apt-get install wrk)"; exit 2; }
fi

WORK=$(mktemp -d /tmp/smallarea-replicas-XXXXXX)
PGDIR=
PID_A='' PID_B='' PID_NGINX=''
LOAD_PIDS=()
cleanup() {
    local p
    for p in "${LOAD_PIDS[@]}" $PID_A $PID_B; do kill "$p" 2> /dev/null; done
    # nginx: a graceful quit of the master we started (its pid), then make sure.
    [ -n "$PID_NGINX" ] && { kill -QUIT "$PID_NGINX" 2> /dev/null; sleep 0.2; kill "$PID_NGINX" 2> /dev/null; }
    wait 2> /dev/null
    [ -n "$PGDIR" ] && "$ROOT/tools/pg_cluster.sh" stop "$PGDIR" > /dev/null 2>&1
    [ -n "${KEEP_WORK:-}" ] && { echo "work dir kept: $WORK"; return; }
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

PASSED=0 FAILED=0
pass() { echo "PASS $1${2:+  ($2)}"; PASSED=$((PASSED + 1)); }
fail() { echo "FAIL $1: $2"; FAILED=$((FAILED + 1)); }

free_port() {
    # The kernel's choice of a free port; released before the server binds it, so a start retries on a collision.
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}
# status URL [curl args...]: the HTTP status (000 when there is no answer).
status() {
    local url=$1
    shift
    curl -s -o /dev/null -w '%{http_code}' --max-time 10 "$@" "$url"
}
now() { date +%s.%N; }
since() { python3 -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.2f}')" "$1" "$(now)"; }

echo "replicas_test: store mode: $MODE; CLI $CLI; work dir $WORK"

# --- the store -----------------------------------------------------------------------------------------------
if [ "$MODE" = postgresql ]; then
    # Its own directory outside WORK (mktemp's 0700 WORK would not be searchable by the postgres user).
    PGDIR=$(mktemp -d /tmp/smallarea-replicas-pg-XXXXXX)
    STORE=$("$ROOT/tools/pg_cluster.sh" start "$PGDIR") || { echo "replicas_test: pg_cluster.sh start failed"; exit 1; }
else
    STORE="$WORK/store.sqlite"
fi
echo "store: $STORE"
if ! "$CLI" ingest "$MANIFEST" --db "$STORE" > "$WORK/ingest1.log" 2>&1; then
    echo "replicas_test: the ingest failed:"
    tail -20 "$WORK/ingest1.log"
    exit 1
fi

# --- the replicas --------------------------------------------------------------------------------------------
# Each replica on a port chosen here, not --port 0: check e restarts A on the same port, so nginx's upstream
# list stays as it is (no reload).
WEB=()
[ -d "$ROOT/web/dist" ] && WEB=(--web "$ROOT/web/dist")
start_replica() { # start_replica NAME PORT -> sets PID_NAME; 0 when it listens on PORT
    local name=$1 port=$2 pid
    "$CLI" serve --db "$STORE" --host 127.0.0.1 --port "$port" --threads 8 --rate-limit 0 "${WEB[@]}" \
        > "$WORK/serve_$name.out" 2>> "$WORK/serve_$name.err" &
    pid=$!
    printf -v "PID_$name" %s "$pid"

    for _ in $(seq 1 200); do
        # The port it says it listens on, found as tools/load_test.sh finds it ("listening on HOST:PORT").
        if grep -qs "^listening on .*:$port\$" "$WORK/serve_$name.out"; then return 0; fi
        kill -0 "$pid" 2> /dev/null || return 1
        sleep 0.05
    done
    return 1
}
for name in A B; do
    ok=0
    for _ in 1 2 3; do
        port=$(free_port)
        if start_replica "$name" "$port"; then ok=1; break; fi
    done
    [ $ok -eq 1 ] || { echo "replicas_test: replica $name did not start:"; tail -5 "$WORK/serve_$name.err"; exit 1; }
    printf -v "PORT_$name" %s "$port"
done
A="http://127.0.0.1:$PORT_A"
B="http://127.0.0.1:$PORT_B"
echo "replica A: pid $PID_A on $A; replica B: pid $PID_B on $B"

# --- nginx ---------------------------------------------------------------------------------------------------
NG="$WORK/nginx"
mkdir -p "$NG/tmp"
PORT_NGINX=$(free_port)
write_nginx_conf() { # write_nginx_conf UPSTREAM_PORT... : the config with these replicas as upstreams
    local servers="" p
    for p in "$@"; do servers+="        server 127.0.0.1:$p max_fails=1 fail_timeout=2s;"$'\n'; done
    cat > "$NG/nginx.conf" << EOF
# Written by tools/replicas_test.sh: every file nginx writes is inside $NG.
$([ "$(id -u)" -eq 0 ] && echo "user root;")
worker_processes 1;
pid $NG/nginx.pid;
error_log $NG/error.log warn;
events { worker_connections 1024; }
http {
    # Which replica answered (the list when nginx moved on to the next one) and its status: check e counts them.
    log_format replicas '\$status \$request_method "\$upstream_addr" "\$upstream_status" \$request_time';
    access_log $NG/access.log replicas;
    client_body_temp_path $NG/tmp/client_body;
    proxy_temp_path $NG/tmp/proxy;
    fastcgi_temp_path $NG/tmp/fastcgi;
    uwsgi_temp_path $NG/tmp/uwsgi;
    scgi_temp_path $NG/tmp/scgi;
    upstream smallarea {
        # max_fails=1 fail_timeout=2s: one failed attempt takes a replica out for 2 s, then nginx tries it again.
$servers        # Idle keep-alive connections to the replicas (per worker): no TCP handshake per request.
        keepalive 32;
    }
    server {
        listen 127.0.0.1:$PORT_NGINX;
        location / {
            proxy_pass http://smallarea;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host \$host;
            proxy_set_header X-Forwarded-For \$remote_addr;
            # 3 s, not 1 s: the replica's listen backlog is short (cpp-httplib's 5), so under load a SYN is now and
            # then dropped and resent after 1 s (kernel ListenOverflows); with 1 s that slow connect counted as a
            # failure, max_fails=1 took the replica out for 2 s and, both out, nginx answered 502 "no live
            # upstreams" to tens of thousands of requests. A killed replica on a live machine refuses at once
            # (RST), so the longer timeout does not slow that failover.
            proxy_connect_timeout 3s;
            proxy_read_timeout 30s;
            # Move to the other replica on a connection error, a timeout or a 502/503 from it, at most once.
            # Not "non_idempotent": a POST (a new bespoke area, a zone) or a PATCH that was already sent to a
            # replica may have been carried out there before the connection broke, and sending it again to the
            # other replica would create a second area. nginx still moves POSTs on when the request never
            # reached a replica (connection refused: A is down), which is the failover case that matters.
            proxy_next_upstream error timeout http_502 http_503;
            proxy_next_upstream_tries 2;
        }
    }
}
EOF
}
write_nginx_conf "$PORT_A" "$PORT_B"
"$NGINX" -t -c "$NG/nginx.conf" -e "$NG/error.log" > "$NG/test.log" 2>&1 || { echo "replicas_test: nginx -t failed:"; cat "$NG/test.log"; exit 1; }
"$NGINX" -c "$NG/nginx.conf" -e "$NG/error.log" -g 'daemon off;' > "$NG/stdout.log" 2>&1 &
PID_NGINX=$!
N="http://127.0.0.1:$PORT_NGINX"
for _ in $(seq 1 100); do [ "$(status "$N/health")" = 200 ] && break; sleep 0.05; done
[ "$(status "$N/health")" = 200 ] || { echo "replicas_test: nginx does not answer:"; cat "$NG/error.log"; exit 1; }
echo "nginx: pid $PID_NGINX on $N (upstreams $PORT_A, $PORT_B)"

# --- load: a wrk Lua rotation over published tiles, tables and areas -----------------------------------------
python3 - "$A" "$WORK/urls.lua" << 'PY' || { echo "replicas_test: could not build the URL list"; exit 1; }
import json, math, sys, urllib.request
base, out = sys.argv[1:3]
def get(path):
    with urllib.request.urlopen(base + path, timeout=30) as r:
        return json.load(r)
def tile(lon, lat, z):
    n = 2 ** z
    return (int((lon + 180) / 360 * n),
            int((1 - math.log(math.tan(math.radians(lat)) + 1 / math.cos(math.radians(lat))) / math.pi) / 2 * n))
w, s, e, n = get("/tiles/lsoa.json")["bounds"]
paths = []
for z in range(10, 14):
    (x0, y0), (x1, y1) = tile(w, n, z), tile(e, s, z)
    for x in range(x0, x1 + 1):
        for y in range(y0, y1 + 1):
            paths.append(f"/tiles/lsoa/{z}/{x}/{y}.mvt")
            paths.append(f"/tiles/lsoa/{z}/{x}/{y}.mvt?dataset=claimant_count&measure=claimants&period=2017-10")
lads = [a["code"] for a in get("/api/areas?level=lad")["areas"]]
for period in ("2017-09", "2017-10"):
    for level in ("lsoa", "lad"):
        paths.append(f"/api/table?dataset=claimant_count&period={period}&level={level}")
    paths += [f"/api/table?dataset=claimant_count&period={period}&within={lad}" for lad in lads]
paths += ["/api/areas?level=lad", "/api/areas?level=lsoa"] + [f"/api/areas?level=lsoa&within={lad}" for lad in lads]
with open(out, "w") as f:
    f.write("-- tools/replicas_test.sh: rotates over published tiles, tables and areas\n")
    f.write("local paths = {\n" + ",\n".join(json.dumps(p) for p in paths) + "\n}\n")
    # Each wrk thread starts at another offset, so that the threads do not ask for the same URL in step.
    f.write("local i = math.random(#paths)\nrequest = function()\n  i = i % #paths + 1\n  return wrk.format('GET', paths[i])\nend\n")
print(f"load URLs: {len(paths)} (tiles z10-13 with and without a choropleth, tables, areas)")
PY
# run_wrk SECONDS OUTFILE: wrk through nginx in the background (pid appended to LOAD_PIDS)
run_wrk() {
    wrk -t2 -c"$CONNECTIONS" -d"$1s" --timeout 10s --latency -s "$WORK/urls.lua" "$N" > "$2" 2>&1 &
    LOAD_PIDS+=($!)
}
# wrk_field FILE requests|rps|p99|non2xx|sockerr
wrk_field() {
    case "$2" in
        requests) awk '/requests in/ {print $1}' "$1" ;;
        rps) awk '/Requests\/sec/ {print $2}' "$1" ;;
        p99) awk '$1 == "99%" {print $2}' "$1" ;;
        non2xx) awk '/Non-2xx or 3xx/ {print $5}' "$1" | grep . || echo 0 ;;
        # Socket errors: connect N, read N, write N, timeout N -> their sum
        sockerr) sed -n 's/.*Socket errors: //p' "$1" | tr -cs '0-9' ' ' | awk '{s = 0; for (i = 1; i <= NF; i++) s += $i; print s} END {if (NR == 0) print 0}' ;;
    esac
}

# --- a. load through nginx -----------------------------------------------------------------------------------
run_wrk 20 "$WORK/a.wrk"
wait "${LOAD_PIDS[-1]}"
reqs=$(wrk_field "$WORK/a.wrk" requests) rps=$(wrk_field "$WORK/a.wrk" rps)
non2xx=$(wrk_field "$WORK/a.wrk" non2xx) sockerr=$(wrk_field "$WORK/a.wrk" sockerr)
detail="${reqs:-?} requests, ${rps:-?} req/s, p99 $(wrk_field "$WORK/a.wrk" p99), non-2xx $non2xx, socket errors $sockerr, $CONNECTIONS connections"
if [ -n "$reqs" ] && [ "$reqs" -gt 0 ] && [ "$non2xx" -eq 0 ] && [ "$sockerr" -eq 0 ]; then
    pass a.load "$detail"
else
    fail a.load "$detail"
    sed 's/^/    /' "$WORK/a.wrk"
fi
# Both replicas took part (nginx round robin).
served_by() { grep -c "\"127.0.0.1:$1\"" "$NG/access.log"; }
echo "    served by A: $(served_by "$PORT_A"), by B: $(served_by "$PORT_B")"

# --- b. an area created through A is read through B ----------------------------------------------------------
lsoas=$(curl -s "$A/api/areas?level=lsoa" | jq -c '[.areas[0:3][].code]')
created=$(curl -s -w '\n%{http_code}' -X POST -H 'Content-Type: application/json' \
    -d "{\"name\": \"replicas test\", \"level\": \"lsoa\", \"codes\": $lsoas}" "$A/api/bespoke")
code=$(tail -1 <<< "$created")
id=$(head -1 <<< "$created" | jq -r '.id // empty' 2> /dev/null)
if [ "$code" = 201 ] && [ -n "$id" ]; then
    read_b=$(curl -s -w '\n%{http_code}' "$B/api/bespoke/$id")
    if [ "$(tail -1 <<< "$read_b")" = 200 ] && [ "$(head -1 <<< "$read_b" | jq -r '.members | length')" = 3 ]; then
        pass b.shared "bespoke $id made on A ($lsoas), read on B with its 3 members"
    else
        fail b.shared "GET /api/bespoke/$id on B: $(tr '\n' ' ' <<< "$read_b" | cut -c1-300)"
    fi
else
    fail b.shared "POST /api/bespoke on A: $(tr '\n' ' ' <<< "$created" | cut -c1-300)"
fi

# --- c. keys: one store, so a key and a suspension apply on both replicas at once ----------------------------
"$CLI" keys org-add --db "$STORE" --name "Replica Partner" --agreement-signed 2024-01-01 --datasets "$INTERNAL" \
    --representative "A B" --representative-contact a@b.org > "$WORK/keys.log" 2>&1
KEY=$("$CLI" keys issue --db "$STORE" --org "Replica Partner" 2>> "$WORK/keys.log" | grep -o 'sak_[0-9a-f]*' | head -1)
AUTH=(-H "Authorization: Bearer $KEY")
c_detail=""
c_ok=1
expect() { # expect LABEL WANTED_REGEX URL [curl args...]
    local label=$1 want=$2 url=$3 got
    shift 3
    got=$(status "$url" "$@")
    c_detail+="$label $got; "
    [[ "$got" =~ ^($want)$ ]] || c_ok=0
}
if [ -z "$KEY" ]; then
    fail c.keys "no key from keys org-add/issue: $(tr '\n' ' ' < "$WORK/keys.log" | cut -c1-300)"
else
    expect "no key A" 404 "$A$INTERNAL_TABLE"
    expect "key A" 200 "$A$INTERNAL_TABLE" "${AUTH[@]}"
    expect "key B" 200 "$B$INTERNAL_TABLE" "${AUTH[@]}"
    "$CLI" keys suspend-all --db "$STORE" >> "$WORK/keys.log" 2>&1 || c_ok=0
    # The very next request on each replica, no wait: the server checks the key against the store per request.
    expect "suspended A" "401|403" "$A$INTERNAL_TABLE" "${AUTH[@]}"
    expect "suspended B" "401|403" "$B$INTERNAL_TABLE" "${AUTH[@]}"
    "$CLI" keys resume-all --db "$STORE" >> "$WORK/keys.log" 2>&1 || c_ok=0
    expect "resumed A" 200 "$A$INTERNAL_TABLE" "${AUTH[@]}"
    expect "resumed B" 200 "$B$INTERNAL_TABLE" "${AUTH[@]}"
    if [ $c_ok -eq 1 ]; then pass c.keys "$c_detail"; else fail c.keys "$c_detail (keys log: $(tail -3 "$WORK/keys.log" | tr '\n' ' '))"; fi
fi

# --- d. a new release reaches both replicas within 2 s -------------------------------------------------------
release_of() { curl -s --max-time 5 "$1/health" | jq -r '.release // empty' 2> /dev/null; }
before_a=$(release_of "$A") before_b=$(release_of "$B")
if ! "$CLI" ingest "$MANIFEST" --db "$STORE" > "$WORK/ingest2.log" 2>&1; then
    fail d.release "the re-ingest failed: $(tail -3 "$WORK/ingest2.log" | tr '\n' ' ')"
else
    # The clock starts when the ingest has committed (the CLI returned); poll both every 100 ms for up to 2 s.
    new=$(sed -n 's/.*committing release \([0-9]*\).*/\1/p' "$WORK/ingest2.log" | tail -1)
    [ -n "$new" ] || new=$((before_a + 1))
    python3 - "$A" "$B" "$new" > "$WORK/d.out" << 'PY'
import json, sys, time, urllib.request
a, b, new = sys.argv[1], sys.argv[2], int(sys.argv[3])
start = time.monotonic()
seen = {}
while time.monotonic() - start < 2.0 and len(seen) < 2:
    for name, base in (("A", a), ("B", b)):
        if name in seen:
            continue
        try:
            with urllib.request.urlopen(base + "/health", timeout=2) as r:
                if json.load(r).get("release") == new:
                    seen[name] = time.monotonic() - start
        except Exception:
            pass
    time.sleep(0.1)
for name in ("A", "B"):
    print(name, f"{seen[name]:.2f}" if name in seen else "none")
PY
    delay_a=$(awk '$1 == "A" {print $2}' "$WORK/d.out") delay_b=$(awk '$1 == "B" {print $2}' "$WORK/d.out")
    detail="release $before_a -> $new; A after ${delay_a} s, B after ${delay_b} s"
    if [ "$before_a" = "$before_b" ] && [ "$new" -gt "${before_a:-0}" ] && [ "$delay_a" != none ] && [ "$delay_b" != none ]; then
        pass d.release "$detail"
    else
        fail d.release "$detail (before: A $before_a, B $before_b; not seen within 2 s = none)"
    fi
fi

# --- e. kill -9 of A while load runs through nginx -----------------------------------------------------------
log_start=$(wc -l < "$NG/access.log")
run_wrk 12 "$WORK/e.wrk"
sleep 4
kill -9 "$PID_A"
wait "$PID_A" 2> /dev/null
killed_at=$(wc -l < "$NG/access.log")
wait "${LOAD_PIDS[-1]}"
sleep 0.2
non2xx=$(wrk_field "$WORK/e.wrk" non2xx) sockerr=$(wrk_field "$WORK/e.wrk" sockerr)
reqs=$(wrk_field "$WORK/e.wrk" requests)
failed=$((non2xx + sockerr))
# nginx's view of the requests after the kill: who answered them, and how many it moved from A to B.
after_kill=$(tail -n +"$((killed_at + 1))" "$NG/access.log")
to_b=$(grep -c "\"127.0.0.1:$PORT_B\"" <<< "$after_kill")
moved=$(grep -c "127.0.0.1:$PORT_A, 127.0.0.1:$PORT_B" <<< "$after_kill")
# Statuses nginx logged other than 2xx/3xx, e.g. "499x4": 499 is wrk closing its connections when its time is up.
bad_nginx=$(tail -n +"$((log_start + 1))" "$NG/access.log" | awk '$1 !~ /^[23]/ {n[$1]++} END {for (s in n) {printf "%s%sx%d", sep, s, n[s]; sep = " "}}')
b_ok=0
for _ in 1 2 3 4 5 6; do [ "$(status "$N/health")" = 200 ] && b_ok=$((b_ok + 1)); done
detail="${reqs:-?} requests, failed $failed (non-2xx $non2xx, socket errors $sockerr, nginx logged ${bad_nginx:-no} other statuses) of at most $CONNECTIONS in flight; after the kill $to_b answered by B only, $moved moved from A to B; B through nginx $b_ok/6"
if [ -n "$reqs" ] && [ "$failed" -le "$CONNECTIONS" ] && [ "$to_b" -gt 0 ] && [ $b_ok -eq 6 ]; then
    pass e.failover "$detail"
else
    fail e.failover "$detail"
    sed 's/^/    /' "$WORK/e.wrk"
fi
# A again, on the port nginx knows; nginx tries it once fail_timeout (2 s) has passed.
if start_replica A "$PORT_A"; then
    back=0
    t0=$(now)
    for _ in $(seq 1 60); do
        curl -s -o /dev/null --max-time 5 "$N/health"
        if tail -5 "$NG/access.log" | grep -q "\"127.0.0.1:$PORT_A\" \"200\""; then back=1; break; fi
        sleep 0.1
    done
    if [ $back -eq 1 ]; then pass e.restart-a "A (pid $PID_A) on port $PORT_A answers through nginx again after $(since "$t0") s"; else fail e.restart-a "nginx did not send to the restarted A within 6 s"; fi
else
    fail e.restart-a "A did not start again on $PORT_A: $(tail -3 "$WORK/serve_A.err" | tr '\n' ' ')"
fi

# --- f. PostgreSQL down, then restarted under the replicas ----------------------------------------------------
if [ "$MODE" = postgresql ]; then
    # While the database is down: the last snapshot keeps serving published figures, /health says degraded
    # (HTTP 200), and anything needing the store per request (a key: internal MI) is refused 503, never served.
    if "$ROOT/tools/pg_cluster.sh" pause "$PGDIR"; then
        sleep 1.2 # past the 500 ms release check, so the replica has noticed
        h=$(curl -s "$A/health")
        down="health $(status "$A/health") $(python3 -c "import json,sys; d=json.loads(sys.argv[1]); print(d['status'], 'reachable' if d['store']['reachable'] else 'unreachable')" "$h" 2>/dev/null || echo unparsable)"
        down="$down; public table $(status "$A$PUBLIC_TABLE"); internal table with key $(status "$A$INTERNAL_TABLE" "${AUTH[@]}")"
        "$ROOT/tools/pg_cluster.sh" resume "$PGDIR" || true
        if [ "$down" = "health 200 degraded unreachable; public table 200; internal table with key 503" ]; then
            pass f.pg-down "($down)"
        else
            fail f.pg-down "expected health 200 degraded unreachable; public table 200; internal table with key 503; got: $down"
        fi
    else
        fail f.pg-down "pg_cluster.sh pause failed"
    fi
    t0=$(now)
    if ! "$ROOT/tools/pg_cluster.sh" restart "$PGDIR"; then
        fail f.pg-restart "pg_cluster.sh restart failed (see $PGDIR/log)"
    else
        restarted=$(since "$t0")
        recovered="" first=""
        while python3 -c "import sys; sys.exit(0 if float(sys.argv[1]) < 10 else 1)" "$(since "$t0")"; do
            round="A $(status "$A/health")/$(status "$A$INTERNAL_TABLE" "${AUTH[@]}"), B $(status "$B/health")/$(status "$B$INTERNAL_TABLE" "${AUTH[@]}")"
            # The first answers after the restart: whether a request on a broken store connection failed first.
            [ -n "$first" ] || first=$round
            if [ "$round" = "A 200/200, B 200/200" ]; then
                recovered=$(since "$t0")
                break
            fi
            sleep 0.1
        done
        if [ -n "$recovered" ]; then
            pass f.pg-restart "PostgreSQL back after $restarted s; both replicas answer /health and a table 200 after $recovered s; first answers (health/table) $first"
        else
            fail f.pg-restart "PostgreSQL back after $restarted s; first answers (health/table) $first; 10 s later: A /health $(status "$A/health"), table $(status "$A$INTERNAL_TABLE" "${AUTH[@]}"); B /health $(status "$B/health"), table $(status "$B$INTERNAL_TABLE" "${AUTH[@]}")"
        fi
    fi
else
    echo "SKIP f.pg-restart (PostgreSQL mode only)"
fi

# --- g. one replica against two, the same load ---------------------------------------------------------------
reload_nginx() {
    write_nginx_conf "$@"
    "$NGINX" -c "$NG/nginx.conf" -e "$NG/error.log" -s reload 2>> "$NG/error.log"
    sleep 1 # the old worker finishes, the new one takes the listening socket
}
# Warm both replicas' caches first (A was restarted in e), so neither run pays for a cold cache.
run_wrk 3 "$WORK/g-warm.wrk"
wait "${LOAD_PIDS[-1]}"
reload_nginx "$PORT_A"
run_wrk 15 "$WORK/g1.wrk"
wait "${LOAD_PIDS[-1]}"
reload_nginx "$PORT_A" "$PORT_B"
run_wrk 15 "$WORK/g2.wrk"
wait "${LOAD_PIDS[-1]}"
rps1=$(wrk_field "$WORK/g1.wrk" rps) rps2=$(wrk_field "$WORK/g2.wrk" rps)
p99_1=$(wrk_field "$WORK/g1.wrk" p99) p99_2=$(wrk_field "$WORK/g2.wrk" p99)
err1=$(($(wrk_field "$WORK/g1.wrk" non2xx) + $(wrk_field "$WORK/g1.wrk" sockerr)))
err2=$(($(wrk_field "$WORK/g2.wrk" non2xx) + $(wrk_field "$WORK/g2.wrk" sockerr)))
ratio=$(python3 -c "import sys; print(f'{float(sys.argv[2]) / float(sys.argv[1]):.2f}')" "${rps1:-0}" "${rps2:-0}" 2> /dev/null || echo "?")
echo "    one replica:  ${rps1:-?} req/s, p99 ${p99_1:-?}, errors $err1"
echo "    two replicas: ${rps2:-?} req/s, p99 ${p99_2:-?}, errors $err2"
echo "    two/one: ${ratio}x req/s on $(nproc) cores (wrk, nginx and both replicas share them: with 2 cores this"
echo "    measures the overhead of a second replica and the proxy, not scale-out; spread the replicas over machines for that)"
if [ -n "$rps1" ] && [ -n "$rps2" ] && [ "$err1" -eq 0 ] && [ "$err2" -eq 0 ]; then
    pass g.scale "one ${rps1} req/s p99 ${p99_1}, two ${rps2} req/s p99 ${p99_2}, ratio ${ratio}"
else
    fail g.scale "one: ${rps1:-?} req/s, $err1 errors; two: ${rps2:-?} req/s, $err2 errors"
fi

kill -0 "$PID_B" 2> /dev/null || fail replicas-alive "replica B died: $(tail -3 "$WORK/serve_B.err" | tr '\n' ' ')"
kill -0 "$PID_A" 2> /dev/null || fail replicas-alive "replica A died: $(tail -3 "$WORK/serve_A.err" | tr '\n' ' ')"
echo "replicas_test ($MODE): $PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
