#!/usr/bin/env python3
"""Build the bundled sample data set in data/sample/ from the shared OGL data.

Deterministic: every run with the same inputs writes byte-identical files (fixed seed, sorted output,
fixed float formatting, "\\n" line endings, no timestamps). Python 3 standard library only.

Sample area: Manchester (E08000003) and Trafford (E08000009), 2011 OAs / LSOAs.

Usage:
    python3 tools/make_sample.py [--shared PATH] [--out PATH]

--shared defaults to ../shared/data relative to the repository root, --out to data/sample under the
repository root. Relative paths given on the command line are relative to the current directory.
"""

import argparse
import csv
import gzip
import hashlib
import io
import json
import os
import random
import sys

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

LADS = [("E08000003", "Manchester"), ("E08000009", "Trafford")]
LAD_NAMES = dict(LADS)
PERIODS = ["2017-09", "2017-10"]
SEED = 20171001
COORD_DECIMALS = 6
LAST_2001_LSOA = "E01032482"  # 2001 English LSOAs are E01000001..E01032482; higher codes are 2011-new

OA_GEOJSON = "boundaries/oa11_manchester_trafford.geojson"
LSOA_GEOJSON = "boundaries/lsoa11_manchester_trafford.geojson"
WARD_GEOJSON = "boundaries/wards_manchester_trafford.geojson"
LOOKUP_CSV = "lookups/oa11_lsoa11_lad11_manchester_trafford.csv"
CLAIMANT_CSV = "counts/claimant_count_lsoa11_manchester_trafford_{period}.csv"
HH_LSOA_CSV = "counts/households_lsoa11_census2011.csv"
HH_OA_CSV = "counts/households_oa11_census2021_unchanged_codes.csv"
SRC_POSTCODES = "postcodes/trafford_postcodes_onspd_2025-02.csv"
POSTCODES_CSV = "postcodes/trafford_postcodes_2025-02.csv.gz"
# The columns the postcode reader uses (the rest, e.g. 2021 LSOA codes and names, are of another vintage).
POSTCODE_COLUMNS = ["postcode", "ward_code", "ward_name", "msoa_hcl_name", "lon", "lat"]
MI_CSV = "counts/synthetic_mi_work_programme_oa11.csv"
# 2021 geography: the sample districts' 2021 LSOAs, ONS's LSOA 2011 -> 2021 crosswalk and LSOA 2021 -> ward
# best-fit lookup, and Census 2021 households, so 2011 datasets can be shown on 2021 LSOAs and on wards.
LSOA21_GEOJSON = "boundaries/lsoa21_manchester_trafford.geojson"
CROSSWALK_CSV = "lookups/lsoa11_lsoa21_manchester_trafford.csv"
WARD_LOOKUP_CSV = "lookups/lsoa21_ward24_manchester_trafford.csv"
HH_LSOA21_CSV = "counts/households_lsoa21_census2021.csv"

SRC_OA = "boundaries/local/oa11_by_lad/{lad}.geojson"
SRC_LSOA = "boundaries/local/lsoa11_by_lad/{lad}.geojson"
SRC_WARDS = "boundaries/local/2021/wards23_bgc_greater_manchester_9lads.geojson"
SRC_LOOKUP = "lookups/oa11_lsoa11_lad11_selected_lads.csv"
SRC_CLAIMANT = "counts/local/claimant_count_lsoa11_greater_manchester_9lads_{period}.csv"
SRC_HH_LSOA = "counts/national/census2011_households_lsoa11_ew.csv.gz"
SRC_HH_OA = "counts/national/census2021_oa21_households_population_ew.csv.gz"
SRC_LSOA21 = "boundaries/local/2021/lsoa21_bgc_greater_manchester_9lads.geojson"
SRC_CROSSWALK = "lookups/lsoa11_lsoa21_lad22_ew.csv.gz"
SRC_WARD_LOOKUP = "lookups/lsoa21_ward24_lad24_ew.csv.gz"
SRC_HH_LSOA21 = "counts/national/census2021_lsoa21_households_population_ew.csv.gz"

ATTRIBUTION = ("Contains public sector information licensed under the Open Government Licence v3.0. "
               "Source: Office for National Statistics / DWP (via Nomis). "
               "Contains OS data \u00a9 Crown copyright and database right.")

MI_MEASURES = ["referrals", "attachments", "job_starts",
               "job_outcomes_group_a", "job_outcomes_group_b", "job_outcomes_group_c"]


class SampleError(Exception):
    pass


def check(cond, message):
    if not cond:
        raise SampleError(message)


# ----------------------------------------------------------------------------------------------- I/O helpers

class Writer:
    """Collects outputs so that SOURCES.md can list sizes and hashes of what was written."""

    def __init__(self, out_dir):
        self.out_dir = out_dir
        self.written = {}  # relative path -> bytes

    def write(self, rel, data):
        if isinstance(data, str):
            data = data.encode("utf-8")
        path = os.path.join(self.out_dir, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        tmp = path + ".tmp"
        with open(tmp, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
        self.written[rel] = data

    def info(self, rel):
        data = self.written[rel]
        return len(data), hashlib.sha256(data).hexdigest()


def csv_text(header, rows):
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    for r in rows:
        w.writerow(r)
    return buf.getvalue()


def read_csv(path):
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8-sig", newline="") as f:
        return list(csv.DictReader(f))


# ----------------------------------------------------------------------------------------------- geometry

def _num(x):
    v = round(float(x), COORD_DECIMALS) + 0.0  # + 0.0 turns -0.0 into 0.0
    if v == int(v) and abs(v) < 1e15:
        return int(v)
    return v


def _ring(ring, stats):
    out = []
    for pt in ring:
        p = [_num(c) for c in pt[:2]]  # drop any Z
        if out and out[-1] == p:
            stats["dup_vertices_dropped"] += 1
            continue
        out.append(p)
    if out and out[0] != out[-1]:
        out.append(list(out[0]))
    if len(out) < 4:
        stats["degenerate_rings"] += 1
    return out


def round_geometry(geom, stats):
    t = geom["type"]
    if t == "Polygon":
        return {"type": t, "coordinates": [_ring(r, stats) for r in geom["coordinates"]]}
    if t == "MultiPolygon":
        return {"type": t, "coordinates": [[_ring(r, stats) for r in poly] for poly in geom["coordinates"]]}
    raise SampleError("unexpected geometry type %r" % t)


def feature_collection_text(src_crs, features):
    """One feature per line: small and diff-friendly."""
    head = {"type": "FeatureCollection", "crs": src_crs}
    lines = ['{"type":"FeatureCollection",',
             '"crs":' + json.dumps(head["crs"], separators=(",", ":"), ensure_ascii=False) + ",",
             '"features":[']
    for i, feat in enumerate(features):
        sep = "," if i + 1 < len(features) else ""
        lines.append(json.dumps(feat, separators=(",", ":"), ensure_ascii=False) + sep)
    lines.append("]}")
    return "\n".join(lines) + "\n"


def build_boundaries(shared, src_pattern, code_field, keep_props):
    stats = {"dup_vertices_dropped": 0, "degenerate_rings": 0}
    crs = None
    feats = {}
    per_lad = {}
    for lad, _ in LADS:
        with open(os.path.join(shared, src_pattern.format(lad=lad)), encoding="utf-8") as f:
            doc = json.load(f)
        check(doc.get("type") == "FeatureCollection", "%s: not a FeatureCollection" % lad)
        this_crs = doc.get("crs")
        check(this_crs is not None, "%s: no crs member" % lad)
        check("CRS84" in json.dumps(this_crs), "%s: crs is not CRS84: %r" % (lad, this_crs))
        check(crs is None or crs == this_crs, "%s: crs differs between LAD files" % lad)
        crs = this_crs
        per_lad[lad] = len(doc["features"])
        for feat in doc["features"]:
            props = feat["properties"]
            code = props[code_field]
            check(code not in feats, "duplicate %s %s" % (code_field, code))
            check(feat.get("geometry"), "%s has no geometry" % code)
            feats[code] = {
                "type": "Feature",
                "properties": {k: props[k] for k in keep_props},
                "geometry": round_geometry(feat["geometry"], stats),
            }
    ordered = [feats[c] for c in sorted(feats)]
    return crs, ordered, per_lad, stats


def build_wards(shared):
    """The sample districts' ONS wards (one file for all of Greater Manchester: keep the two districts only),
    so that the map can draw ward outlines and labels; properties area_code, area_name and the district."""
    stats = {"dup_vertices_dropped": 0, "degenerate_rings": 0}
    with open(os.path.join(shared, SRC_WARDS), encoding="utf-8") as f:
        doc = json.load(f)
    check(doc.get("type") == "FeatureCollection", "%s: not a FeatureCollection" % SRC_WARDS)
    crs = doc.get("crs")
    check(crs is not None and "CRS84" in json.dumps(crs), "%s: crs is not CRS84: %r" % (SRC_WARDS, crs))
    feats = {}
    per_lad = {lad: 0 for lad in LAD_NAMES}
    keep = ["area_code", "area_name", "local_authority_area_code"]
    for feat in doc["features"]:
        props = feat["properties"]
        lad = props["local_authority_area_code"]
        if lad not in LAD_NAMES:
            continue
        code = props["area_code"]
        check(code.startswith("E05"), "ward code %r is not an E05 code" % code)
        check(code not in feats, "duplicate ward %s" % code)
        check(feat.get("geometry"), "ward %s has no geometry" % code)
        per_lad[lad] += 1
        feats[code] = {"type": "Feature", "properties": {k: props[k] for k in keep},
                       "geometry": round_geometry(feat["geometry"], stats)}
    check(all(per_lad.values()), "a sample district has no wards in %s: %r" % (SRC_WARDS, per_lad))
    return crs, [feats[c] for c in sorted(feats)], per_lad, stats


# ----------------------------------------------------------------------------------------------- synthetic MI

def binomial(rng, n, p):
    """Binomial draw using only rng.random() (stable across Python versions)."""
    return sum(1 for _ in range(n) if rng.random() < p)


def synthetic_mi(oa_codes, oa_to_lsoa, oas_per_lsoa, claimants):
    """claimants: {period: {lsoa: int}}. Returns ([(period, oa, measure, value)], notes)."""
    rng = random.Random(SEED)
    notes = {"october_fallback_oas": 0}
    # Fixed per-OA propensity (drawn once, in code order) so that months are correlated.
    propensity = {}
    for oa in oa_codes:
        propensity[oa] = 0.45 + 1.35 * rng.random()  # 0.45 .. 1.8
    rows = []
    prev_ref = {}
    for period in PERIODS:
        for oa in oa_codes:
            lsoa = oa_to_lsoa[oa]
            base = claimants[period].get(lsoa)
            if base is None:
                # Source month missing this LSOA (October extract is incomplete): internal MI has no gap,
                # so carry the September claimant level forward.
                base = claimants[PERIODS[0]][lsoa]
                notes["october_fallback_oas"] += 1
            share = base / oas_per_lsoa[lsoa]
            mean = 1.6 * share * propensity[oa]
            noise = rng.gauss(0.0, 1.5 + 0.2 * mean)
            ref = int(round(mean + noise))
            if oa in prev_ref:  # month-to-month persistence
                ref = int(round(0.5 * ref + 0.5 * prev_ref[oa] + rng.gauss(0.0, 1.5)))
            ref = max(0, min(60, ref))
            prev_ref[oa] = ref
            att = binomial(rng, ref, 0.82)
            starts = binomial(rng, att, 0.55)
            outcomes = binomial(rng, starts, 0.7)
            a = b = c = 0
            for _ in range(outcomes):
                u = rng.random()
                if u < 0.55:
                    a += 1
                elif u < 0.85:
                    b += 1
                else:
                    c += 1
            values = {"referrals": ref, "attachments": att, "job_starts": starts,
                      "job_outcomes_group_a": a, "job_outcomes_group_b": b, "job_outcomes_group_c": c}
            assert att <= ref and starts <= att and a + b + c <= starts
            for m in MI_MEASURES:
                rows.append((period, oa, m, values[m]))
    rows.sort(key=lambda r: (r[0], r[1], r[2]))
    return rows, notes


def mi_summary(rows):
    by_measure = {}
    for _, _, m, v in rows:
        by_measure.setdefault(m, []).append(v)
    out = {}
    for m, vs in by_measure.items():
        vs_sorted = sorted(vs)
        out[m] = {
            "n": len(vs), "min": vs_sorted[0], "median": vs_sorted[len(vs) // 2], "max": vs_sorted[-1],
            "total": sum(vs),
            "not_mult_5": sum(1 for v in vs if v % 5),
            "not_mult_20": sum(1 for v in vs if v % 20),
            "between_1_and_9": sum(1 for v in vs if 0 < v < 10),
            "zero": sum(1 for v in vs if v == 0),
        }
    # outcome totals per (period, oa)
    tot = {}
    for p, oa, m, v in rows:
        if m.startswith("job_outcomes_group_"):
            tot[(p, oa)] = tot.get((p, oa), 0) + v
    out["job_outcomes_total"] = {
        "n": len(tot),
        "ge_10": sum(1 for v in tot.values() if v >= 10),
        "1_to_9": sum(1 for v in tot.values() if 0 < v < 10),
        "zero": sum(1 for v in tot.values() if v == 0),
        "max": max(tot.values()),
    }
    return out


# ----------------------------------------------------------------------------------------------- manifest

def manifest():
    count_cols = {"period": "date", "area": "lsoa11cd", "measure": "measure", "value": "value"}
    return {
        "boundaries": [
            {"path": OA_GEOJSON, "level": "oa", "vintage": 2011, "code_field": "OA11CD"},
            {"path": LSOA_GEOJSON, "level": "lsoa", "vintage": 2011, "code_field": "LSOA11CD",
             "name_field": "LSOA11NM"},
            # Boundaries only (no lookup): the map's ward outlines; 2021 is the vintage of ONS's ward names.
            {"path": WARD_GEOJSON, "level": "ward", "vintage": 2021, "code_field": "area_code",
             "name_field": "area_name"},
            {"path": LSOA21_GEOJSON, "level": "lsoa", "vintage": 2021, "code_field": "area_code",
             "name_field": "area_name"},
        ],
        "lookups": [
            {"path": LOOKUP_CSV, "vintage": 2011,
             "columns": {"oa": "oa11cd", "lsoa": "lsoa11cd", "lsoa_name": "lsoa11nm", "lad": "lad11cd",
                         "lad_name": "lad11nm"}},
            # 2021 LSOAs into the wards (best fit) and districts: ward maps of data moved to 2021 LSOAs.
            {"path": WARD_LOOKUP_CSV, "vintage": 2021},
        ],
        "crosswalks": [{"path": CROSSWALK_CSV, "level": "lsoa", "from": 2011, "to": 2021}],
        "derive": [{"level": "lad", "vintage": 2011, "from": "lsoa"}],
        # No OA column in the file: each postcode goes to the 2011 OA whose boundary holds its centroid.
        "postcodes": [{"path": POSTCODES_CSV, "vintage": 2011, "layout": "auto"}],
        "denominators": [
            {"path": HH_LSOA_CSV, "level": "lsoa", "vintage": 2011, "code_column": "lsoa11cd",
             "measures": {"households": "households_total"},
             "source": "ONS Census 2011 QS119EW, all households"},
            {"path": HH_OA_CSV, "level": "oa", "vintage": 2011, "code_column": "oa11cd",
             "measures": {"households": "households", "residents": "usual_residents"},
             "source": "ONS Census 2021 TS046/TS001 on OA codes unchanged since 2011"},
            {"path": HH_LSOA21_CSV, "level": "lsoa", "vintage": 2021, "code_column": "lsoa21cd",
             "measures": {"households": "households"}, "source": "ONS Census 2021 TS046, households"},
        ],
        "datasets": [
            {"id": "claimant_count",
             "title": "Claimant count (JSA + Universal Credit, searching for work)",
             "publisher": "DWP / ONS via Nomis",
             "licence": "Open Government Licence v3.0",
             "attribution": "Contains public sector information licensed under the Open Government Licence "
                            "v3.0. Source: DWP / ONS via Nomis.",
             "classification": "published", "level": "lsoa", "vintage": 2011,
             "files": [{"path": CLAIMANT_CSV.format(period=p), "layout": "long", "columns": dict(count_cols)}
                       for p in PERIODS],
             "measures": [{"id": "claimants", "title": "Claimants", "unit": "people", "kind": "count",
                           "denominator": "households",
                           "source_names": ["Residents claiming JSA or Universal Credit", "Claimant count"]}],
             "disclosure": {"rounding_base": 5, "rounded_by": "publisher", "suppression_threshold": 0}},
            {"id": "synthetic_work_programme",
             "title": "SYNTHETIC Work Programme referrals and job outcomes (not real data)",
             "publisher": "SYNTHETIC: generated by tools/make_sample.py (not real data)",
             "licence": "Synthetic test data generated by smallarea; no third-party rights",
             "attribution": "SYNTHETIC data generated by tools/make_sample.py for testing. Not real management "
                            "information; do not use for any analysis.",
             "classification": "internal", "level": "oa", "vintage": 2011,
             "files": [{"path": MI_CSV, "layout": "long",
                        "columns": {"period": "period", "area": "oa11cd", "measure": "measure", "value": "value"}}],
             "measures": [
                 {"id": "referrals", "title": "Referrals", "unit": "people", "kind": "count",
                  "denominator": "households"},
                 {"id": "attachments", "title": "Attachments", "unit": "people", "kind": "count",
                  "denominator": "households"},
                 {"id": "job_starts", "title": "Job starts", "unit": "people", "kind": "count",
                  "denominator": "households"},
                 {"id": "job_outcomes_group_a", "title": "Job outcomes: payment group A", "kind": "percent_only",
                  "unit": "percent", "percent_of": "job_outcomes_total"},
                 {"id": "job_outcomes_group_b", "title": "Job outcomes: payment group B", "kind": "percent_only",
                  "unit": "percent", "percent_of": "job_outcomes_total"},
                 {"id": "job_outcomes_group_c", "title": "Job outcomes: payment group C", "kind": "percent_only",
                  "unit": "percent", "percent_of": "job_outcomes_total"},
                 {"id": "job_outcomes_total", "title": "Job outcomes, all payment groups (percentage base only)",
                  "kind": "percent_base",
                  "sum_of": ["job_outcomes_group_a", "job_outcomes_group_b", "job_outcomes_group_c"]},
             ],
             "disclosure": {"rounding_base": 20, "rounded_by": "smallarea", "rounding_rule": "half_up",
                            "suppression_threshold": 0, "percent_min_denominator": 10}},
        ],
    }


# ----------------------------------------------------------------------------------------------- docs

LICENCE_TEXT = """\
Licence notice for data/sample/
================================

All files in this folder except counts/synthetic_mi_work_programme_oa11.csv contain public sector
information licensed under the Open Government Licence v3.0.

  Open Government Licence v3.0
  http://www.nationalarchives.gov.uk/doc/open-government-licence/version/3/

Attribution statement (required when reusing these files):

  {attribution}

Boundary files also contain Ordnance Survey data (OS OpenData terms, compatible with the OGL).

You are free to copy, publish, distribute and transmit the information, adapt it, and exploit it
commercially and non-commercially, provided you acknowledge the source with the attribution
statement above. The OGL does not cover personal data, departmental or public sector logos,
military insignia, third-party rights the provider is not authorised to license, or other
intellectual property rights (see the licence text at the link above for the full terms).

counts/synthetic_mi_work_programme_oa11.csv is SYNTHETIC data generated by tools/make_sample.py
(random numbers with a fixed seed). It is not public sector information and not real data.
"""


def sources_md(w, st, claimants):
    def meta(rel):
        size, sha = w.info(rel)
        return "%s bytes, sha256 `%s`" % (format(size, ","), sha)

    lines = []
    add = lines.append
    add("# data/sample: the bundled sample data set")
    add("")
    add("Generated by `tools/make_sample.py` from the shared test data (`../shared/data`, see its SOURCES.md).")
    add("Do not edit by hand: change the script and re-run it (`python3 tools/make_sample.py`). The script")
    add("is deterministic (same inputs give byte-identical outputs). `manifest.json` describes every file")
    add("for the ingest (paths relative to this folder).")
    add("")
    add("Sample area: **Manchester (E08000003)** and **Trafford (E08000009)**, 2011 geography:")
    add("%d OA11 and %d LSOA11." % (st["n_oa"], st["n_lsoa"]))
    add("")
    add("> **WARNING: `counts/synthetic_mi_work_programme_oa11.csv` is SYNTHETIC (made-up numbers), generated")
    add("> by `tools/make_sample.py`. It is NOT real Work Programme / DWP management information.** It exists")
    add("> only to exercise the server's internal-MI disclosure rules: per-cell rounding to base 20 (half up)")
    add("> of raw unrounded counts, and percentage-only measures (job outcomes by payment group) that must")
    add("> never be served as volumes and are suppressed where the base is below 10.")
    add("")
    add("## Licence and attribution")
    add("")
    add("All files except the synthetic one: **Open Government Licence v3.0** (see `LICENCE-OGL.txt`).")
    add("Attribution statement:")
    add("")
    add("> " + ATTRIBUTION)
    add("")
    add("## Files")
    add("")

    add("### `%s`" % OA_GEOJSON)
    add("- Origin: `boundaries/local/oa11_by_lad/E08000003.geojson` + `E08000009.geojson` (shared/data; from")
    add("  martinjc/UK-GeoJSON @ 8833900).")
    add("- Publisher: ONS, Output Areas (December 2011) Boundaries, generalised clipped (BGC). Vintage 2011.")
    add("  Contains OS data \u00a9 Crown copyright and database right. Licence OGL v3.")
    add("- Changes: the two LAD files merged into one FeatureCollection, features sorted by `OA11CD`;")
    add("  properties kept: `OA11CD`, `LAD11CD`; coordinates rounded to %d decimals (~0.1 m), consecutive"
        % COORD_DECIMALS)
    add("  duplicate vertices created by rounding dropped (%d); CRS84 `crs` member kept; one feature per line."
        % st["oa_geom"]["dup_vertices_dropped"])
    add("- Features: %d (Manchester %d, Trafford %d). Polygon/MultiPolygon, EPSG:4326 lon/lat."
        % (st["n_oa"], st["oa_per_lad"]["E08000003"], st["oa_per_lad"]["E08000009"]))
    add("- %s." % meta(OA_GEOJSON))
    add("")

    add("### `%s`" % LSOA_GEOJSON)
    add("- Origin: `boundaries/local/lsoa11_by_lad/E08000003.geojson` + `E08000009.geojson` (shared/data;")
    add("  from martinjc/UK-GeoJSON @ 8833900).")
    add("- Publisher: ONS, LSOA (December 2011) Boundaries, generalised clipped (BGC). Vintage 2011.")
    add("  Contains OS data \u00a9 Crown copyright and database right. Licence OGL v3.")
    add("- Changes: as for the OA file; properties kept: `LSOA11CD`, `LSOA11NM`; features sorted by code;")
    add("  %d duplicate vertices dropped after rounding." % st["lsoa_geom"]["dup_vertices_dropped"])
    add("- Features: %d (Manchester %d, Trafford %d)."
        % (st["n_lsoa"], st["lsoa_per_lad"]["E08000003"], st["lsoa_per_lad"]["E08000009"]))
    add("- %s." % meta(LSOA_GEOJSON))
    add("")

    add("### `%s`" % WARD_GEOJSON)
    add("- Origin: `%s` (shared/data)." % SRC_WARDS)
    add("- Publisher: ONS, Wards (May 2023) Boundaries UK, generalised clipped (BGC); level `ward`, vintage 2021")
    add("  in the manifest. Contains OS data \u00a9 Crown copyright and database right. Licence OGL v3.")
    add("- Changes: only wards whose `local_authority_area_code` is E08000003 or E08000009; properties kept:")
    add("  `area_code`, `area_name`, `local_authority_area_code`; features sorted by code; coordinates rounded")
    add("  to %d decimals, %d duplicate vertices dropped after rounding; one feature per line."
        % (COORD_DECIMALS, st["ward_geom"]["dup_vertices_dropped"]))
    add("- Features: %d (Manchester %d, Trafford %d)."
        % (st["n_ward"], st["ward_per_lad"]["E08000003"], st["ward_per_lad"]["E08000009"]))
    add("- %s." % meta(WARD_GEOJSON))
    add("")

    add("### `%s`" % LSOA21_GEOJSON)
    add("- Origin: `%s` (shared/data)." % SRC_LSOA21)
    add("- Publisher: ONS, LSOA (December 2021) Boundaries EW, generalised clipped (BGC). Vintage 2021.")
    add("  Contains OS data \u00a9 Crown copyright and database right. Licence OGL v3.")
    add("- Changes: only the LSOAs the 2024 ward lookup puts in E08000003 or E08000009; properties kept:")
    add("  `area_code`, `area_name`; features sorted by code; coordinates rounded to %d decimals, %d duplicate"
        % (COORD_DECIMALS, st["lsoa21_geom"]["dup_vertices_dropped"]))
    add("  vertices dropped after rounding.")
    add("- Features: %d. %s." % (st["n_lsoa21"], meta(LSOA21_GEOJSON)))
    add("")
    add("### `%s`" % CROSSWALK_CSV)
    add("- Origin: `%s` (shared/data): ONS LSOA (2011) to LSOA (2021) to LAD (2022) lookup. Licence OGL v3." % SRC_CROSSWALK)
    add("- Changes: rows whose 2011 LSOA or 2021 LSOA is in the sample, sorted; columns")
    add("  `lsoa11cd,lsoa11nm,chgind,lsoa21cd,lsoa21nm`. Change codes: U %d, M %d, S %d, X %d."
        % tuple(st["crosswalk_codes"][k] for k in "UMSX"))
    add("- %s." % meta(CROSSWALK_CSV))
    add("")
    add("### `%s`" % WARD_LOOKUP_CSV)
    add("- Origin: `%s` (shared/data): ONS LSOA (2021) to electoral ward (2024) to LAD (2024) best-fit lookup."
        % SRC_WARD_LOOKUP)
    add("  Licence OGL v3. The wards are those of the ward boundary file (checked).")
    add("- Changes: rows of LAD24CD E08000003 and E08000009, sorted by `lsoa21cd`. Rows: %d. %s."
        % (st["n_ward_lookup"], meta(WARD_LOOKUP_CSV)))
    add("")
    add("### `%s`" % HH_LSOA21_CSV)
    add("- Origin: `%s` (shared/data), column `households_ts046` (Census 2021 TS046). Licence OGL v3."
        % SRC_HH_LSOA21)
    add("- Changes: the sample's 2021 LSOAs only; columns `lsoa21cd,households`. %s." % meta(HH_LSOA21_CSV))
    add("")

    add("### `%s`" % LOOKUP_CSV)
    add("- Origin: `lookups/oa11_lsoa11_lad11_selected_lads.csv` (shared/data; derived from martinjc/UK-GeoJSON")
    add("  `oa_by_lsoa`). Publisher ONS (2011 OA / LSOA / LAD hierarchy). Vintage 2011. Licence OGL v3.")
    add("- Changes: rows for LAD11CD E08000003 and E08000009 only, sorted by `oa11cd`; column `lad11nm` added")
    add("  (Manchester / Trafford). Columns: `oa11cd,lsoa11cd,lsoa11nm,lad11cd,lad11nm`.")
    add("- Rows: %d. Checked: the OA and LSOA code sets equal those of the two boundary files, and `lsoa11nm`"
        % st["n_lookup"])
    add("  equals the boundary `LSOA11NM`.")
    add("- %s." % meta(LOOKUP_CSV))
    add("")

    for p in PERIODS:
        rel = CLAIMANT_CSV.format(period=p)
        add("### `%s`" % rel)
        add("- Origin: `%s` (shared/data; from traffordDataLab/open_data)." % SRC_CLAIMANT.format(period=p))
        add("- Publisher: DWP / ONS via Nomis, Claimant count (NM_162_1; JSA + Universal Credit claimants")
        add("  required to seek work), residence-based, %s, LSOA 2011. Licence OGL v3." % p)
        add("- Changes: only rows whose `lsoa11cd` is a sample LSOA; rows and columns otherwise unchanged, in")
        add("  source order (`date,lsoa11cd,lsoa11nm,measure,value`; `date` is the first of the month).")
        add("- Disclosure: rounded to the nearest 5 by the publisher (Nomis); served as published.")
        extra = ""
        if st["claimant_missing"][p]:
            extra = (" **Incomplete: %d of the %d sample LSOAs are missing** (as in the source extract; kept"
                     " as is to exercise missing-data handling; %d Manchester, %d Trafford)."
                     % (len(st["claimant_missing"][p]), st["n_lsoa"],
                        st["claimant_missing_by_lad"][p]["E08000003"],
                        st["claimant_missing_by_lad"][p]["E08000009"]))
        add("- Rows: %d.%s" % (st["claimant_rows"][p], extra))
        miss = st["claimant_missing"][p]
        if miss and all(c > LAST_2001_LSOA for c in miss):
            new_codes = sorted(c for c in st["lsoa_codes"] if c > LAST_2001_LSOA)
            add("- Pattern: the missing LSOAs are exactly the sample LSOAs whose codes were first issued in 2011")
            add("  (codes above %s, the last 2001 LSOA code in England; here %s..%s, %d of %d such codes),"
                % (LAST_2001_LSOA, miss[0], miss[-1], len(miss), len(new_codes)))
            prev = claimants[PERIODS[0]]
            lost = sum(prev[c] for c in miss)
            add("  i.e. the source extract seems to have dropped LSOAs that changed in 2011. Totals for this month")
            add("  are therefore understated: these LSOAs had %d of the %d sample claimants in %s (%.1f%%)."
                % (lost, sum(prev.values()), PERIODS[0], 100.0 * lost / sum(prev.values())))
        add("- %s." % meta(rel))
        add("")

    add("### `%s`" % HH_LSOA_CSV)
    add("- Origin: `%s` (shared/data; from humaniverse/IMD)." % SRC_HH_LSOA)
    add("- Publisher: ONS, Census 2011 table QS119EW, all households. Vintage 2011 LSOAs. Licence OGL v3.")
    add("- Changes: rows for the sample LSOA11 codes only, sorted by code; columns `lsoa11cd,households_total`.")
    add("- Rows: %d (every sample LSOA). Total households: %s." % (st["n_hh_lsoa"], format(st["hh_lsoa_total"], ",")))
    add("- %s." % meta(HH_LSOA_CSV))
    add("")

    add("### `%s`" % HH_OA_CSV)
    add("- Origin: `%s` (shared/data; from ONSvisual/dot-density-data)." % SRC_HH_OA)
    add("- Publisher: ONS, Census 2021 (21 March 2021) TS046 (households, `households_ts046`) and TS001")
    add("  (usual residents, `usual_residents_ts001`). Vintage: **2021** counts on OA codes. Licence OGL v3.")
    add("- Why: there are no 2011 OA household counts in the shared data. ONS kept most OA codes unchanged in")
    add("  2021, so a sample OA11 code that also exists as an OA21 code (same code string) gets its 2021")
    add("  counts. This is an approximation: the OA is the same area code, but the counts are from 2021, not")
    add("  2011, and an unchanged code does not strictly guarantee an identical boundary.")
    add("- Rows: %d of %d sample OAs. **%d sample OAs have no OA21 code match** (split/merged/recoded in 2021;"
        % (st["n_hh_oa"], st["n_oa"], st["n_oa_unmatched"]))
    add("  %d Manchester, %d Trafford) and therefore no household count at OA level."
        % (st["oa_unmatched_by_lad"]["E08000003"], st["oa_unmatched_by_lad"]["E08000009"]))
    add("  Columns: `oa11cd,households,usual_residents`, sorted by code.")
    add("- Census 2021 counts are perturbed by ONS (cell-key method).")
    add("- %s." % meta(HH_OA_CSV))
    add("")

    add("### `%s`  (SYNTHETIC)" % MI_CSV)
    add("- **SYNTHETIC. Not real data. Generated by `tools/make_sample.py`** with `random.Random(%d)`." % SEED)
    add("- Purpose: an internal management-information (MI) data set at OA level to exercise the server's")
    add("  disclosure rules for internal MI: raw unrounded counts that smallarea must round to base 20 (half")
    add("  up) before serving, and percentage-only measures. No OA-level DWP MI is published, so it is made up.")
    add("- Long form: `period,oa11cd,measure,value`; periods %s; every sample OA (%d) x 6 measures x 2"
        % (", ".join(PERIODS), st["n_oa"]))
    add("  periods; sorted by period, OA code, measure.")
    add("- Measures: `referrals` (0..60; mean proportional to the parent LSOA's claimant count divided by its")
    add("  number of OAs, times a fixed per-OA propensity, plus Gaussian noise, with month-to-month")
    add("  persistence), `attachments` (binomial thinning of referrals, <= referrals), `job_starts`")
    add("  (<= attachments), `job_outcomes_group_a/b/c` (outcomes by payment group, sum <= job_starts; served")
    add("  only as percentages of their sum `job_outcomes_total`, never as volumes).")
    add("- For the %d OAs whose parent LSOA is missing from the October claimant extract, the September"
        % st["mi_notes"]["october_fallback_oas"])
    add("  claimant level was used as the October driver (the MI itself has no gaps).")
    s = st["mi_summary"]
    add("- Rows: %d. Referrals: min %d, median %d, max %d; %d of %d referral values are not multiples of 5;"
        % (st["n_mi"], s["referrals"]["min"], s["referrals"]["median"], s["referrals"]["max"],
           s["referrals"]["not_mult_5"], s["referrals"]["n"]))
    add("  %d are between 1 and 9. Job-outcome totals per OA-month: %d are >= 10, %d are 1..9, %d are 0."
        % (s["referrals"]["between_1_and_9"], s["job_outcomes_total"]["ge_10"],
           s["job_outcomes_total"]["1_to_9"], s["job_outcomes_total"]["zero"]))
    add("- Licence: synthetic; no third-party rights. Must be labelled SYNTHETIC wherever shown.")
    add("- %s." % meta(MI_CSV))
    add("")

    add("### `%s`" % POSTCODES_CSV)
    add("- Origin: `%s` (shared/data; TDL-SD `postcodes/trafford_postcodes.csv`, built by Trafford Data Lab" % SRC_POSTCODES)
    add("  from the ONS Postcode Directory, February 2025, with ONS ward names and House of Commons Library MSOA")
    add("  names), %d postcodes of Trafford; only the columns %s, gzipped." % (st["n_postcodes"], ", ".join(POSTCODE_COLUMNS)))
    add("- No OA column: the ingest assigns each postcode to the 2011 OA whose boundary contains its centroid")
    add("  (point in polygon, as ONS does); postcodes outside the sample's generalised OA boundaries are reported.")
    add("- Licence: OGL v3. Contains OS data (c) Crown copyright and database right; Contains Royal Mail data")
    add("  (c) Royal Mail copyright and database right; Source: Office for National Statistics licensed under the")
    add("  Open Government Licence v3.0. MSOA names: House of Commons Library (Open Parliament Licence).")
    add("- %s." % meta(POSTCODES_CSV))
    add("")
    add("### `manifest.json`")
    add("- Ingest manifest for all of the above (boundaries, lookups, denominators, datasets with their")
    add("  disclosure policies). Generated by the script.")
    add("- %s." % meta("manifest.json"))
    add("")
    add("### `LICENCE-OGL.txt`")
    add("- Short OGL v3 notice and attribution statement.")
    add("")
    return "\n".join(lines)


# ----------------------------------------------------------------------------------------------- main

def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--shared", default=os.path.normpath(os.path.join(REPO_ROOT, "..", "shared", "data")),
                    help="shared data folder (default: ../shared/data relative to the repo root)")
    ap.add_argument("--out", default=os.path.join(REPO_ROOT, "data", "sample"),
                    help="output folder (default: data/sample in the repo)")
    args = ap.parse_args(argv)
    shared = os.path.abspath(args.shared)
    out = os.path.abspath(args.out)
    check(os.path.isdir(shared), "shared data folder not found: %s" % shared)
    w = Writer(out)
    st = {}

    # 1, 2: boundaries
    oa_crs, oa_feats, st["oa_per_lad"], st["oa_geom"] = build_boundaries(shared, SRC_OA, "OA11CD",
                                                                        ["OA11CD", "LAD11CD"])
    lsoa_crs, lsoa_feats, st["lsoa_per_lad"], st["lsoa_geom"] = build_boundaries(
        shared, SRC_LSOA, "LSOA11CD", ["LSOA11CD", "LSOA11NM"])
    check(not st["oa_geom"]["degenerate_rings"] and not st["lsoa_geom"]["degenerate_rings"],
          "rounding produced degenerate rings")
    for f in oa_feats:
        check(f["properties"]["LAD11CD"] in LAD_NAMES, "OA %s has LAD11CD %s" % (
            f["properties"]["OA11CD"], f["properties"]["LAD11CD"]))
    w.write(OA_GEOJSON, feature_collection_text(oa_crs, oa_feats))
    w.write(LSOA_GEOJSON, feature_collection_text(lsoa_crs, lsoa_feats))
    ward_crs, ward_feats, st["ward_per_lad"], st["ward_geom"] = build_wards(shared)
    check(not st["ward_geom"]["degenerate_rings"], "rounding produced degenerate ward rings")
    w.write(WARD_GEOJSON, feature_collection_text(ward_crs, ward_feats))
    st["n_ward"] = len(ward_feats)
    oa_codes = [f["properties"]["OA11CD"] for f in oa_feats]
    oa_lad = {f["properties"]["OA11CD"]: f["properties"]["LAD11CD"] for f in oa_feats}
    lsoa_names = {f["properties"]["LSOA11CD"]: f["properties"]["LSOA11NM"] for f in lsoa_feats}
    lsoa_codes = sorted(lsoa_names)
    lsoa_set = set(lsoa_codes)
    st["n_oa"], st["n_lsoa"] = len(oa_codes), len(lsoa_codes)
    st["lsoa_codes"] = lsoa_codes

    # 3: lookup
    lookup = [r for r in read_csv(os.path.join(shared, SRC_LOOKUP)) if r["lad11cd"] in LAD_NAMES]
    lookup.sort(key=lambda r: r["oa11cd"])
    check(len({r["oa11cd"] for r in lookup}) == len(lookup), "duplicate oa11cd in lookup")
    check({r["oa11cd"] for r in lookup} == set(oa_codes), "lookup OA codes differ from OA boundaries")
    check({r["lsoa11cd"] for r in lookup} == lsoa_set, "lookup LSOA codes differ from LSOA boundaries")
    oa_to_lsoa = {}
    oas_per_lsoa = {}
    lsoa_lad = {}
    for r in lookup:
        check(r["lsoa11nm"] == lsoa_names[r["lsoa11cd"]], "LSOA name mismatch for %s" % r["lsoa11cd"])
        check(r["lad11cd"] == oa_lad[r["oa11cd"]], "LAD mismatch lookup vs boundary for %s" % r["oa11cd"])
        check(lsoa_lad.setdefault(r["lsoa11cd"], r["lad11cd"]) == r["lad11cd"],
              "LSOA %s spans LADs" % r["lsoa11cd"])
        check(r["lsoa11nm"].startswith(LAD_NAMES[r["lad11cd"]] + " "),
              "LSOA name %r does not start with its LAD name" % r["lsoa11nm"])
        oa_to_lsoa[r["oa11cd"]] = r["lsoa11cd"]
        oas_per_lsoa[r["lsoa11cd"]] = oas_per_lsoa.get(r["lsoa11cd"], 0) + 1
    w.write(LOOKUP_CSV, csv_text(["oa11cd", "lsoa11cd", "lsoa11nm", "lad11cd", "lad11nm"],
                                 [[r["oa11cd"], r["lsoa11cd"], r["lsoa11nm"], r["lad11cd"],
                                   LAD_NAMES[r["lad11cd"]]] for r in lookup]))
    st["n_lookup"] = len(lookup)

    # 4: claimant counts
    claimants = {}
    st["claimant_rows"], st["claimant_missing"], st["claimant_missing_by_lad"] = {}, {}, {}
    st["claimant_odd"] = []
    for p in PERIODS:
        path = os.path.join(shared, SRC_CLAIMANT.format(period=p))
        with open(path, encoding="utf-8-sig", newline="") as f:
            reader = csv.reader(f)
            header = next(reader)
            check(header == ["date", "lsoa11cd", "lsoa11nm", "measure", "value"],
                  "unexpected claimant header %r" % header)
            rows = [r for r in reader if r and r[1] in lsoa_set]
        vals = {}
        for r in rows:
            check(r[1] not in vals, "duplicate LSOA %s in claimant %s" % (r[1], p))
            check(r[0] == p + "-01", "unexpected date %r in %s" % (r[0], p))
            check(r[4].isdigit(), "non-integer claimant value %r" % r[4])
            vals[r[1]] = int(r[4])
            if r[2] != lsoa_names[r[1]]:
                st["claimant_odd"].append("%s %s: name %r != boundary %r" % (p, r[1], r[2], lsoa_names[r[1]]))
            if int(r[4]) % 5:
                st["claimant_odd"].append("%s %s: value %s not a multiple of 5" % (p, r[1], r[4]))
        claimants[p] = vals
        missing = sorted(lsoa_set - set(vals))
        st["claimant_missing"][p] = missing
        st["claimant_missing_by_lad"][p] = {lad: sum(1 for c in missing if lsoa_lad[c] == lad) for lad in LAD_NAMES}
        st["claimant_rows"][p] = len(rows)
        w.write(CLAIMANT_CSV.format(period=p), csv_text(header, rows))
    check(not st["claimant_missing"][PERIODS[0]], "September claimant extract misses sample LSOAs")

    # 5: Census 2011 households by LSOA
    hh = {}
    for r in read_csv(os.path.join(shared, SRC_HH_LSOA)):
        if r["lsoa11cd"] in lsoa_set:
            check(r["lsoa11cd"] not in hh, "duplicate %s in households 2011" % r["lsoa11cd"])
            hh[r["lsoa11cd"]] = int(r["households_total"])
    check(set(hh) == lsoa_set, "households 2011 missing LSOAs: %s" % sorted(lsoa_set - set(hh))[:10])
    w.write(HH_LSOA_CSV, csv_text(["lsoa11cd", "households_total"], [[c, hh[c]] for c in lsoa_codes]))
    st["n_hh_lsoa"], st["hh_lsoa_total"] = len(hh), sum(hh.values())

    # 6: Census 2021 households / residents on unchanged OA codes
    oa_set = set(oa_codes)
    oa21 = {}
    st["oa21_lad_differs"] = []
    for r in read_csv(os.path.join(shared, SRC_HH_OA)):
        c = r["oa21cd"]
        if c in oa_set:
            check(c not in oa21, "duplicate %s in OA21 counts" % c)
            oa21[c] = (int(r["households_ts046"]), int(r["usual_residents_ts001"]))
            if r["lad21cd"] != oa_lad[c]:
                st["oa21_lad_differs"].append((c, oa_lad[c], r["lad21cd"]))
    unmatched = [c for c in oa_codes if c not in oa21]
    w.write(HH_OA_CSV, csv_text(["oa11cd", "households", "usual_residents"],
                                [[c, oa21[c][0], oa21[c][1]] for c in oa_codes if c in oa21]))
    st["n_hh_oa"], st["n_oa_unmatched"] = len(oa21), len(unmatched)
    st["oa_unmatched_by_lad"] = {lad: sum(1 for c in unmatched if oa_lad[c] == lad) for lad in LAD_NAMES}

    # 7: synthetic MI
    mi_rows, st["mi_notes"] = synthetic_mi(oa_codes, oa_to_lsoa, oas_per_lsoa, claimants)
    w.write(MI_CSV, csv_text(["period", "oa11cd", "measure", "value"], mi_rows))
    st["n_mi"] = len(mi_rows)
    st["mi_summary"] = mi_summary(mi_rows)

    # 7b: Trafford's postcodes (ONSPD February 2025 extract), the columns the reader uses, gzipped (mtime 0, so
    # the bytes are the same on every run)
    pc_rows = read_csv(os.path.join(shared, SRC_POSTCODES))
    check(len({r["postcode"] for r in pc_rows}) == len(pc_rows), "duplicate postcode in %s" % SRC_POSTCODES)
    pc_buf = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=pc_buf, mtime=0) as g:
        g.write(csv_text(POSTCODE_COLUMNS, [[r[c] for c in POSTCODE_COLUMNS] for r in pc_rows]).encode("utf-8"))
    w.write(POSTCODES_CSV, pc_buf.getvalue())
    st["n_postcodes"] = len(pc_rows)

    # 7c: 2021 geography. The districts' 2021 LSOAs are those the 2024 ward lookup puts in them.
    ward_lookup = [r for r in read_csv(os.path.join(shared, SRC_WARD_LOOKUP)) if r["lad24cd"] in LAD_NAMES]
    ward_lookup.sort(key=lambda r: r["lsoa21cd"])
    lsoa21_set = {r["lsoa21cd"] for r in ward_lookup}
    check(len(lsoa21_set) == len(ward_lookup), "duplicate lsoa21cd in %s" % SRC_WARD_LOOKUP)
    check({r["wd24cd"] for r in ward_lookup} == {f["properties"]["area_code"] for f in ward_feats},
          "the 2024 ward lookup's wards differ from the ward boundaries")
    w.write(WARD_LOOKUP_CSV, csv_text(["lsoa21cd", "lsoa21nm", "wd24cd", "wd24nm", "lad24cd", "lad24nm"],
                                      [[r[c] for c in ("lsoa21cd", "lsoa21nm", "wd24cd", "wd24nm", "lad24cd", "lad24nm")]
                                       for r in ward_lookup]))
    st["n_ward_lookup"] = len(ward_lookup)
    with open(os.path.join(shared, SRC_LSOA21), encoding="utf-8") as f:
        doc = json.load(f)
    check("CRS84" in json.dumps(doc.get("crs")), "%s: crs is not CRS84" % SRC_LSOA21)
    st["lsoa21_geom"] = {"dup_vertices_dropped": 0, "degenerate_rings": 0}
    lsoa21_feats = sorted(({"type": "Feature", "properties": {k: fe["properties"][k] for k in ("area_code", "area_name")},
                            "geometry": round_geometry(fe["geometry"], st["lsoa21_geom"])}
                           for fe in doc["features"] if fe["properties"]["area_code"] in lsoa21_set),
                          key=lambda fe: fe["properties"]["area_code"])
    check({fe["properties"]["area_code"] for fe in lsoa21_feats} == lsoa21_set, "2021 LSOA boundaries missing")
    check(not st["lsoa21_geom"]["degenerate_rings"], "rounding produced degenerate 2021 LSOA rings")
    w.write(LSOA21_GEOJSON, feature_collection_text(doc["crs"], lsoa21_feats))
    st["n_lsoa21"] = len(lsoa21_feats)
    crosswalk = [r for r in read_csv(os.path.join(shared, SRC_CROSSWALK))
                 if r["lsoa11cd"] in lsoa_set or r["lsoa21cd"] in lsoa21_set]
    check({r["lsoa11cd"] for r in crosswalk} == lsoa_set, "the crosswalk misses sample 2011 LSOAs")
    check({r["lsoa21cd"] for r in crosswalk} == lsoa21_set, "the crosswalk reaches 2021 LSOAs outside the sample")
    crosswalk.sort(key=lambda r: (r["lsoa11cd"], r["lsoa21cd"]))
    w.write(CROSSWALK_CSV, csv_text(["lsoa11cd", "lsoa11nm", "chgind", "lsoa21cd", "lsoa21nm"],
                                    [[r[c] for c in ("lsoa11cd", "lsoa11nm", "chgind", "lsoa21cd", "lsoa21nm")]
                                     for r in crosswalk]))
    st["crosswalk_codes"] = {k: sum(1 for r in crosswalk if r["chgind"] == k) for k in "UMSX"}
    hh21 = {r["lsoa21cd"]: int(r["households_ts046"]) for r in read_csv(os.path.join(shared, SRC_HH_LSOA21))
            if r["lsoa21cd"] in lsoa21_set}
    check(set(hh21) == lsoa21_set, "Census 2021 households miss 2021 LSOAs")
    w.write(HH_LSOA21_CSV, csv_text(["lsoa21cd", "households"], [[c, hh21[c]] for c in sorted(hh21)]))

    # 8: manifest
    m = manifest()
    for section in ("boundaries", "lookups", "denominators", "postcodes", "crosswalks"):
        for entry in m[section]:
            check(entry["path"] in w.written, "manifest path not written: %s" % entry["path"])
    for ds in m["datasets"]:
        for fe in ds["files"]:
            check(fe["path"] in w.written, "manifest path not written: %s" % fe["path"])
    w.write("manifest.json", json.dumps(m, indent=2, ensure_ascii=False) + "\n")

    # 9: docs
    w.write("LICENCE-OGL.txt", LICENCE_TEXT.format(attribution=ATTRIBUTION))
    w.write("SOURCES.md", sources_md(w, st, claimants))

    # report
    print("wrote %s" % out)
    total = 0
    for rel in sorted(w.written):
        size = len(w.written[rel])
        total += size
        print("  %-62s %10s bytes" % (rel, format(size, ",")))
    print("  %-62s %10s bytes" % ("TOTAL", format(total, ",")))
    print("OAs: %d, LSOAs: %d, lookup rows: %d" % (st["n_oa"], st["n_lsoa"], st["n_lookup"]))
    for p in PERIODS:
        print("claimant %s: %d rows, %d sample LSOAs missing" % (p, st["claimant_rows"][p],
                                                                len(st["claimant_missing"][p])))
    print("sample OAs with no Census 2021 OA code match (no household count): %d (Manchester %d, Trafford %d)"
          % (st["n_oa_unmatched"], st["oa_unmatched_by_lad"]["E08000003"], st["oa_unmatched_by_lad"]["E08000009"]))
    for p in PERIODS:
        miss = st["claimant_missing"][p]
        if miss:
            print("  %s missing LSOAs: %s..%s; all 2011-new codes (> %s): %s" % (
                p, miss[0], miss[-1], LAST_2001_LSOA, all(c > LAST_2001_LSOA for c in miss)))
    if st["oa21_lad_differs"]:
        print("matched OAs whose 2021 LAD differs from 2011 LAD: %d" % len(st["oa21_lad_differs"]))
    for line in st["claimant_odd"]:
        print("note: claimant " + line)
    print("synthetic MI: %d rows" % st["n_mi"])
    for k, v in st["mi_summary"].items():
        print("  %-22s %s" % (k, " ".join("%s=%s" % kv for kv in v.items())))
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except SampleError as e:
        print("make_sample: error: %s" % e, file=sys.stderr)
        sys.exit(1)
