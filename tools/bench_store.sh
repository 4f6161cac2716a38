# Sourced by tools/bench_tiles.sh and tools/bench_pmtiles.sh.
#
# bench_harness: a writable copy of ../shared/bench under .bench/harness (cwd afterwards) with the synthetic set
# $set_name (city: 3,000 synthetic polygons; national: 190,000; real_oa_city: the real OAs of three districts) generated once; sets $harness and $data. Needs $here.
bench_harness() {
    harness="$here/.bench/harness"
    mkdir -p "$harness"
    cp -r "$here/../shared/bench/." "$harness/"
    chmod -R u+w "$harness"
    cd "$harness"
    mkdir -p data results
    case "$set_name" in
    city) [ -f data/city.geojson ] || python3 tools/gen_synth.py -n 3000 -o data/city.geojson --bbox=-2.40,53.38,-2.10,53.56 ;;
    national) [ -f data/national.geojson ] || python3 tools/gen_synth.py -n 190000 -o data/national.geojson --bbox=-3,51,0,54 ;;
    real_oa_city)
        D="$here/../shared/data/boundaries/local/oa11_by_lad"
        [ -f data/real_oa_city.geojson ] || python3 tools/prepare_real.py "$D/E08000003.geojson" "$D/E08000009.geojson" \
            "$D/E08000007.geojson" -o data/real_oa_city.geojson \
            --counts "$here/../shared/data/counts/national/census2021_oa21_households_population_ew.csv.gz" ;;
    *) echo "unknown set $set_name (national, city, real_oa_city)" >&2; exit 2 ;;
    esac
    data="data/$set_name.geojson"
}

# bench_store: the synthetic polygons as a smallarea store (boundaries + households + a published "claimants" dataset), ingested once and reused while the
# GeoJSON is older than the store. Needs: $harness, $set_name, $data (relative to $harness), $build.
bench_store() {
    store="$harness/data/$set_name.sqlite"
    if [ -f "$store" ] && [ ! "$data" -nt "$store" ]; then return; fi
    python3 - "$data" "$harness/data/${set_name}_counts.csv" <<'PY'
import json, sys
features = json.load(open(sys.argv[1]))["features"]
with open(sys.argv[2], "w") as out:
    out.write("code,households,claimants\n")
    for f in features:
        p = f["properties"]
        out.write(f'{p["code"]},{int(p.get("households") or 0)},{int(p.get("claimants") or 0)}\n')
PY
    cat > "$harness/data/$set_name.manifest.json" <<JSON
{"boundaries": [{"path": "$set_name.geojson", "level": "oa", "vintage": 2021, "code_field": "code"}],
 "denominators": [{"path": "${set_name}_counts.csv", "level": "oa", "vintage": 2021, "code_column": "code",
                   "measures": {"households": "households"}}],
 "datasets": [{"id": "bench", "title": "benchmark claimants", "publisher": "bench", "licence": "OGL",
               "attribution": "bench", "classification": "published", "level": "oa", "vintage": 2021,
               "files": [{"path": "${set_name}_counts.csv", "layout": "wide", "period": "2017-09",
                          "columns": {"area": "code"}}],
               "measures": [{"id": "claimants", "kind": "count", "denominator": "households"}],
               "disclosure": {"rounding_base": 1, "rounded_by": "publisher"}}]}
JSON
    rm -f "$store"*
    "$build/tools/smallarea" ingest "$harness/data/$set_name.manifest.json" --db "$store" >/dev/null
}
