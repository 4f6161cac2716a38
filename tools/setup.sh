#!/usr/bin/env bash
# One script for every set-up step on Debian 12 (run as root):
#   tools/setup.sh run    install packages, build, ingest the bundled sample, serve on http://127.0.0.1:8080
#   tools/setup.sh test   install packages, build, run every test (ctest)
#   tools/setup.sh deps | build   the individual steps
# Safe to re-run: packages already present are not reinstalled, builds are incremental.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$here"
build_dir="${SMALLAREA_BUILD_DIR:-$here/build}"
jobs="${SMALLAREA_JOBS:-$(nproc)}"

debian_packages=(
    build-essential cmake pkg-config git ca-certificates
    libgdal-dev gdal-bin libgeos-dev libspatialite-dev libsqlite3-mod-spatialite libsqlite3-dev sqlite3
    nlohmann-json3-dev doctest-dev libcpp-httplib-dev libprotozero-dev libxlsxwriter-dev zlib1g-dev libpq-dev
    chromium python3 time unzip
    # The PostgreSQL store's tests start a private cluster; the multi-replica test puts nginx in front and drives it
    # with wrk, curl and jq.
    postgresql-15 postgresql-15-postgis-3 nginx wrk curl jq
)

deps() {
    local missing=()
    for p in "${debian_packages[@]}"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
    done
    if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
        missing+=(nodejs npm)
    fi
    if [ ${#missing[@]} -gt 0 ]; then
        echo "setup: installing ${missing[*]}"
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq
        apt-get install -y -qq --no-install-recommends "${missing[@]}"
    fi
    # MapLibre GL JS and playwright-core come from npm, pinned by web/package-lock.json; no CDN at run time.
    if [ ! -d web/node_modules ] || [ web/package-lock.json -nt web/node_modules/.package-lock.json ]; then
        (cd web && npm ci --no-audit --no-fund --loglevel=error)
    fi
}

build() {
    (cd web && npm run --silent build)
    cmake -S . -B "$build_dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
    cmake --build "$build_dir" -j "$jobs"
}

case "${1:-}" in
deps) deps ;;
build) build ;;
run)
    deps
    build
    store="${SMALLAREA_STORE:-$build_dir/sample.sqlite}"
    rm -f "$store" "$store-wal" "$store-shm"
    "$build_dir/tools/smallarea" ingest data/sample/manifest.json --db "$store"
    exec "$build_dir/tools/smallarea" serve --db "$store" --host 127.0.0.1 --port "${SMALLAREA_PORT:-8080}" --web web/dist
    ;;
test)
    deps
    build
    cd "$build_dir"
    ctest --output-on-failure -j "$jobs" --timeout 600
    ;;
*)
    echo "usage: tools/setup.sh run|test|deps|build" >&2
    exit 2
    ;;
esac
