#!/usr/bin/env bash
# PMTiles export benchmark (issue #16): `smallarea tiles export` of a boundary set against GDAL's own MVT writer
# (`ogr2ogr -f MVT`, a folder of gzipped z/x/y.pbf tiles) on the SAME polygons, zooms, extent and buffer, in one run.
#   tools/bench_pmtiles.sh [national|city] [BUILD_DIR]
# Env: RUNS (default 1), MAXZOOM (default 12; 14 is the export's default but takes ogr2ogr many minutes nationally),
#      THREADS (smallarea --threads, default 0 = one per core; ogr2ogr's MVT writer has no such option).
# Data: the synthetic sets of ../shared/bench (tools/gen_synth.py; national = 190,000 OA-like polygons), generated
# and ingested once under .bench/ (git-ignored) exactly as tools/bench_tiles.sh does; the store is shared with it.
# Both sides write only the area code (ogr2ogr -select code; OAs have no names), so sizes compare like for like.
# Prints seconds, the ratio smallarea/ogr2ogr, tile counts and bytes. Not a test: read the ratios, not the seconds.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
set_name="${1:-national}"
build="$(cd "${2:-$here/build}" && pwd)"
runs="${RUNS:-1}"
maxzoom="${MAXZOOM:-12}"
threads="${THREADS:-0}"
source "$here/tools/bench_store.sh"
bench_harness

# The same polygons as a smallarea store (tools/bench_store.sh; its dataset proves the export leaves values out).
bench_store

log="results/pmtiles_${set_name}_$(date -u +%Y%m%dT%H%M%SZ).txt"
out="$harness/out"
mkdir -p "$out"
features=$(python3 -c "import json,sys; print(len(json.load(open(sys.argv[1]))['features']))" "$data")
timed() { # label, command... -> prints "label seconds peak_kb"
    local label="$1"; shift
    local t0 t1
    t0=$(date +%s.%N)
    /usr/bin/time -f "%M" -o "$out/time.txt" "$@" >"$out/$label.out" 2>"$out/$label.err"
    t1=$(date +%s.%N)
    echo "$label $(python3 -c "print(f'{$t1 - $t0:.2f}')") $(tail -1 "$out/time.txt")"
}
{
    echo "# bench_pmtiles $set_name: $features polygons, zooms 0-$maxzoom, extent 4096, buffer 64, $(nproc) cores, runs $runs"
    for run in $(seq 1 "$runs"); do
        rm -rf "$out/gdal" "$out/oa.pmtiles"
        read -r _ s_sec s_kb < <(timed smallarea "$build/tools/smallarea" tiles export --db "$store" --level oa --out "$out/oa.pmtiles" \
            --minzoom 0 --maxzoom "$maxzoom" --threads "$threads")
        # GDAL's MVT writer: same zooms, extent and buffer; gzipped tiles (COMPRESS=YES, its default), no metadata db.
        read -r _ g_sec g_kb < <(timed ogr2ogr ogr2ogr -f MVT "$out/gdal" "$data" -select code -nln oa \
            -dsco MINZOOM=0 -dsco MAXZOOM="$maxzoom" -dsco EXTENT=4096 -dsco BUFFER=64 -dsco COMPRESS=YES)
        s_bytes=$(stat -c %s "$out/oa.pmtiles")
        g_bytes=$(find "$out/gdal" -name '*.pbf' -printf '%s\n' | awk '{s+=$1} END {print s+0}')
        g_tiles=$(find "$out/gdal" -name '*.pbf' | wc -l)
        g_du=$(du -sb "$out/gdal" | cut -f1)
        s_tiles=$(sed -n 's/.*, \([0-9]*\) tiles (.*/\1/p' "$out/smallarea.out")
        echo "run $run"
        echo "  smallarea tiles export -> PMTiles: ${s_sec} s, peak RSS $((s_kb / 1024)) MB, $s_tiles tiles, $s_bytes bytes in one file"
        echo "  ogr2ogr -f MVT -> folder:          ${g_sec} s, peak RSS $((g_kb / 1024)) MB, $g_tiles tiles, $g_bytes bytes of tiles ($g_du bytes on disk with folders)"
        python3 -c "print(f'  ratio time smallarea/ogr2ogr: {$s_sec / $g_sec:.3f}x; bytes smallarea/ogr2ogr tiles: {$s_bytes / $g_bytes:.3f}x')"
        tail -n +1 "$out/smallarea.err" | sed 's/^/  smallarea: /' | tail -4
    done
} 2>&1 | tee -a "$log"
echo "log: $harness/$log"
