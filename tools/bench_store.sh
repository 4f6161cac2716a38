# Sourced by tools/bench_tiles.sh and tools/bench_pmtiles.sh: the synthetic polygons of ../shared/bench as a
# smallarea store (boundaries + households + a published "claimants" dataset), ingested once and reused while the
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
