#!/usr/bin/env bash
# tools/pg_cluster.sh: a private, throw-away PostgreSQL + PostGIS cluster for tests, benchmarks and
# tools/replicas_test.sh. It never touches the system cluster (its own data directory, its own ephemeral port,
# its socket in DIR) and listens on 127.0.0.1 only.
#
#   tools/pg_cluster.sh start DIR                 initdb DIR/data, start, create database "smallarea" with postgis;
#                                                 writes DIR/url and prints it (the only line on stdout)
#   tools/pg_cluster.sh stop DIR                  pg_ctl stop -m fast, then rm -rf DIR (no error if already gone)
#   tools/pg_cluster.sh restart DIR               pg_ctl restart -m fast on the same port (restart-survival tests)
#   tools/pg_cluster.sh createdb DIR NAME [TEMPLATE]
#                                                 a fresh database with postgis, or a copy of TEMPLATE; prints its URL
#
# Logs (initdb, server, psql) go to DIR/log. Exit codes: 0 ok, 1 failure (see DIR/log), 2 usage or PostgreSQL /
# PostGIS not installed. initdb and postgres refuse to run as root, so as root they run as the `postgres` system
# user (runuser) and DIR is handed to that user; otherwise everything runs as the caller.
# Environment: PG_BINDIR overrides where initdb/pg_ctl/psql are looked for.
set -euo pipefail

usage() {
    echo "usage: $0 start DIR | stop DIR | restart DIR | pause DIR | resume DIR | createdb DIR NAME [TEMPLATE]" >&2
    exit 2
}
die() { # die CODE MESSAGE
    echo "pg_cluster: $2" >&2
    exit "$1"
}

[ $# -ge 2 ] || usage
CMD=$1
# Absolute, so that commands run from another directory (and as another user, from /) find it.
DIR=$(realpath -m -- "$2")
[ "$DIR" != / ] || die 2 "refusing DIR=/"
DATA="$DIR/data"
LOG="$DIR/log"
# A marker so that `stop` only ever removes a directory this script created, never a mistyped path.
MARKER="$DIR/.pg_cluster"

# The server binaries: pg_config's bindir when pg_config exists (it may belong to libpq-dev of another major
# version without a server, so the first directory that has initdb wins), else Debian's PostgreSQL 15.
find_bindir() {
    local candidates=()
    [ -n "${PG_BINDIR:-}" ] && candidates+=("$PG_BINDIR")
    command -v pg_config > /dev/null && candidates+=("$(pg_config --bindir)")
    candidates+=(/usr/lib/postgresql/15/bin)
    local d
    for d in "${candidates[@]}"; do
        if [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ] && [ -x "$d/postgres" ]; then
            echo "$d"
            return 0
        fi
    done
    return 1
}
BIN=$(find_bindir) || die 2 "PostgreSQL server not found (looked in ${PG_BINDIR:+$PG_BINDIR, }$(command -v pg_config > /dev/null && pg_config --bindir), /usr/lib/postgresql/15/bin); install it: apt-get install postgresql-15 postgresql-15-postgis-3"
PSQL="$BIN/psql"
[ -x "$PSQL" ] || PSQL=$(command -v psql) || die 2 "psql not found (apt-get install postgresql-client-15)"

ROOT_MODE=0
if [ "$(id -u)" -eq 0 ]; then
    ROOT_MODE=1
    id postgres > /dev/null 2>&1 || die 2 "running as root but there is no 'postgres' system user to run the server as"
fi
# as_pg CMD...: run a server binary as the postgres user when root (initdb/postgres refuse root). From DIR, since
# the caller's working directory (e.g. /root/...) may not be readable by that user.
as_pg() {
    if [ $ROOT_MODE -eq 1 ]; then
        (cd "$DIR" && runuser -u postgres -- "$@")
    else
        "$@"
    fi
}

port_of() { sed -n "s/^port = \([0-9]*\).*/\1/p" "$DATA/postgresql.conf" | tail -1; }
url_of() { echo "postgresql://postgres@127.0.0.1:$(port_of)/$1"; }
# psql over TCP (the only connection pg_hba.conf allows), quiet, stopping at the first error; output to the log.
sql() { # sql DATABASE STATEMENT
    "$PSQL" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$(port_of)" -U postgres -d "$1" -c "$2" >> "$LOG" 2>&1
}
running() { [ -f "$DATA/postmaster.pid" ] && as_pg "$BIN/pg_ctl" status -D "$DATA" > /dev/null 2>&1; }

postgis_control() {
    local share
    if [ -x "$BIN/pg_config" ]; then share=$("$BIN/pg_config" --sharedir); else share="/usr/share/postgresql/$("$BIN/postgres" --version | sed -n 's/.* \([0-9][0-9]*\)\..*/\1/p')"; fi
    echo "$share/extension/postgis.control"
}

create_database() { # create_database NAME [TEMPLATE]
    local name=$1 template=${2:-}
    # Names go into SQL unquoted: plain lower-case identifiers only.
    [[ "$name" =~ ^[a-z_][a-z0-9_]{0,62}$ ]] || die 2 "database name '$name': use a-z, 0-9 and _ (starting with a letter or _)"
    if [ -n "$template" ]; then
        [[ "$template" =~ ^[a-z_][a-z0-9_]{0,62}$ ]] || die 2 "template name '$template': use a-z, 0-9 and _"
        # CREATE DATABASE ... TEMPLATE fails while anyone else is connected to the template: say so.
        sql postgres "CREATE DATABASE $name TEMPLATE $template" ||
            die 1 "CREATE DATABASE $name TEMPLATE $template failed (is someone connected to $template?); see $LOG"
    else
        sql postgres "CREATE DATABASE $name" || die 1 "CREATE DATABASE $name failed; see $LOG"
        sql "$name" "CREATE EXTENSION postgis" || die 1 "CREATE EXTENSION postgis in $name failed; see $LOG"
    fi
}

free_port() {
    # The kernel's choice of a free ephemeral port; closed again before postgres binds it, so another process may
    # take it in between: start retries on a bind failure.
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

cmd_start() {
    [ -f "$(postgis_control)" ] || die 2 "PostGIS is not installed for $("$BIN/postgres" --version) (no $(postgis_control)); apt-get install postgresql-15-postgis-3"
    [ ! -e "$DATA" ] || die 1 "$DATA exists already (stop it first: $0 stop $DIR)"
    mkdir -p "$DIR"
    : > "$MARKER"
    : > "$LOG"
    if [ $ROOT_MODE -eq 1 ]; then
        # The server (as postgres) writes its data directory, its socket and the log in DIR. chown rather than a
        # world-writable chmod: the socket in DIR then stays reachable only by postgres and root.
        chown postgres: "$DIR" "$LOG"
        chmod 0700 "$DIR"
        runuser -u postgres -- test -w "$DIR" ||
            die 1 "the postgres user cannot reach $DIR (a parent directory is not searchable for it); use a directory under /tmp"
    fi
    as_pg "$BIN/initdb" -D "$DATA" -U postgres -E UTF8 --locale=C.UTF-8 --auth=trust >> "$LOG" 2>&1 ||
        die 1 "initdb failed; see $LOG"
    # Trust, but only over TCP from 127.0.0.1: no ::1, no other address, no unix socket line.
    echo "host all all 127.0.0.1/32 trust" > "$DATA/pg_hba.conf"
    local attempt port
    for attempt in 1 2 3 4 5; do
        port=$(free_port)
        {
            echo ""
            echo "# tools/pg_cluster.sh (attempt $attempt)"
            echo "listen_addresses = '127.0.0.1'"
            echo "port = $port"
            echo "unix_socket_directories = '$DIR'"
            echo "max_connections = 200"
            # TEST CLUSTER ONLY: no durability. A crash of the machine may lose or corrupt this cluster, which is
            # thrown away anyway; these settings make ingests and test fixtures several times faster. Never use
            # them on a cluster holding data that matters.
            echo "fsync = off"
            echo "synchronous_commit = off"
            echo "full_page_writes = off"
        } >> "$DATA/postgresql.conf"
        if as_pg "$BIN/pg_ctl" start -w -t 60 -D "$DATA" -l "$LOG" > /dev/null 2>&1; then
            break
        fi
        # Only a port taken between free_port and the bind is worth another try.
        if ! grep -q "could not bind\|Address already in use" "$LOG"; then
            die 1 "postgres did not start; see $LOG"
        fi
        [ "$attempt" -lt 5 ] || die 1 "postgres could not bind a free port in 5 attempts; see $LOG"
    done
    create_database smallarea
    url_of smallarea > "$DIR/url"
    cat "$DIR/url"
}

cmd_stop() {
    [ -e "$DIR" ] || return 0
    [ -e "$MARKER" ] || die 1 "$DIR was not made by $0 start (no $MARKER): not removing it"
    if [ -f "$DATA/postmaster.pid" ]; then
        # A server that is already gone (stale postmaster.pid) is no error: stop is idempotent.
        if ! as_pg "$BIN/pg_ctl" stop -m fast -w -t 60 -D "$DATA" >> "$LOG" 2>&1 && running; then
            die 1 "pg_ctl stop failed; see $LOG"
        fi
    fi
    rm -rf -- "$DIR"
}

cmd_restart() {
    [ -f "$DATA/postgresql.conf" ] || die 1 "no cluster in $DIR (start one: $0 start $DIR)"
    # The port lives in postgresql.conf, so the restarted server listens where the clients expect it.
    as_pg "$BIN/pg_ctl" restart -m fast -w -t 60 -D "$DATA" -l "$LOG" > /dev/null 2>&1 ||
        die 1 "pg_ctl restart failed; see $LOG"
}

# pause/resume: the server down and up again, data and port kept (a database outage for the replicas test).
cmd_pause() {
    [ -f "$DATA/postgresql.conf" ] || die 1 "no cluster in $DIR"
    as_pg "$BIN/pg_ctl" stop -m fast -w -t 60 -D "$DATA" > /dev/null 2>&1 || die 1 "pg_ctl stop failed; see $LOG"
}
cmd_resume() {
    [ -f "$DATA/postgresql.conf" ] || die 1 "no cluster in $DIR"
    as_pg "$BIN/pg_ctl" start -w -t 60 -D "$DATA" -l "$LOG" > /dev/null 2>&1 || die 1 "pg_ctl start failed; see $LOG"
}

cmd_createdb() {
    [ $# -ge 1 ] && [ $# -le 2 ] || usage
    running || die 1 "no running cluster in $DIR (start one: $0 start $DIR)"
    create_database "$@"
    url_of "$1"
}

case "$CMD" in
    start) [ $# -eq 2 ] || usage; cmd_start ;;
    stop) [ $# -eq 2 ] || usage; cmd_stop ;;
    restart) [ $# -eq 2 ] || usage; cmd_restart ;;
    pause) [ $# -eq 2 ] || usage; cmd_pause ;;
    resume) [ $# -eq 2 ] || usage; cmd_resume ;;
    createdb) shift 2; cmd_createdb "$@" ;;
    *) usage ;;
esac
