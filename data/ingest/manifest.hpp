#pragma once
// The ingest manifest (README "Ingest manifest"): what each source entry says, parsed and checked in full before
// anything touches the store. A new source kind is a struct here, its section in parse_manifest, and a reader in
// data/ingest/readers.hpp.

#include "data/disclosure/policy.hpp"
#include "data/store.hpp"

#include <map>
#include <string>
#include <vector>

namespace smallarea::data::ingest {

struct boundary_source {
    std::string path;
    std::string level;
    int vintage = 0;
    std::string code_field;
    std::string name_field;
    std::string layer;
    std::string srs; // override when the file has none or a wrong one, e.g. "EPSG:27700"
};

struct lookup_source {
    std::string path;
    int vintage = 0;
    std::map<std::string, std::string> code_columns; // level -> column
    std::map<std::string, std::string> name_columns; // level -> column
};

struct denominator_source {
    std::string path;
    std::string level;
    int vintage = 0;
    std::string code_column;
    std::map<std::string, std::string> measures; // denominator name -> column
    std::string source;
};

struct dataset_file {
    std::string path;        // as the user wrote it (named in messages); a .zip member is read through /vsizip/
    std::string read_path;   // what GDAL opens
    std::string layout; // long | wide | periods_as_columns
    std::string period_column, area_column, measure_column, value_column;
    std::string period; // fixed period for wide files (or long files without a period column)
    // Publishers' layouts (NOMIS web, Stat-Xplore): a title block, footnotes, filters on extra dimensions.
    long skip_lines = 0;
    bool detect_header = false;         // "skip_lines": "detect"
    bool end_at_blank_line = false;
    std::map<std::string, std::string> where; // column -> the one value kept (e.g. GENDER_NAME: Total)
    bool skip_outside_store = false;    // "outside_store": "skip" (counted and reported)
    bool thousands_separator = false;   // "1,030" -> 1030
    std::vector<std::string> suppressed; // markers of publisher-suppressed cells, e.g. ".."
    std::vector<std::string> zero;       // markers of zero or nil, e.g. "-" in Stat-Xplore
    bool area_names = false;            // the area column holds names, resolved to codes through the store
    bool drop_totals = false;           // a "Total" row (and column) is recognised and dropped
    std::string sheet;                  // an .xlsx file's sheet (read with GDAL's XLSX driver); empty: the first
};

struct dataset_measure {
    measure_info info;
    std::vector<std::string> source_names; // long form: names in the measure column
    std::string column;                    // wide form: the column holding it
};

struct dataset_source {
    std::string id, title, publisher, licence, attribution, level;
    int vintage = 0;
    disclosure::policy policy;
    std::vector<dataset_file> files;
    std::vector<dataset_measure> measures;
    bool skip_unknown_measures = false;
};

/// A postcode file (README "Ingest manifest", `postcodes`): the ONS Postcode Directory as downloaded, or the
/// layout of a publisher's extract (postcode, ward, MSOA name, lon, lat). Columns are detected case-insensitively;
/// `columns` overrides any of: postcode, lat, lon, oa, introduced, terminated, ward_code, ward_name, msoa_name.
struct postcode_source {
    std::string path;
    int vintage = 0;              ///< the census year of the OAs postcodes are assigned to (2011 | 2021)
    std::string layout = "auto";  ///< onspd (needs the directory's doterm column) | auto
    std::map<std::string, std::string> columns;
};

/// A boundary crosswalk (README "Boundary vintages"): ONS's lookup between two vintages of one level, e.g.
/// LSOA 2011 -> LSOA 2021 (lsoa11cd, lsoa21cd, chgind). Columns are detected from ONS names for the two years;
/// `columns` overrides any of: from, to, change.
struct crosswalk_source {
    std::string path;
    std::string level;
    int from = 0;
    int to = 0;
    std::map<std::string, std::string> columns;
};

/// Boundaries made by dissolving finer ones through the lookups (e.g. LAD outlines from LSOAs), for areas that
/// have no boundary of their own.
struct derived_boundary {
    std::string level;
    int vintage = 0;
    std::string from;
};

struct manifest {
    std::string path;
    std::vector<derived_boundary> derived;
    std::vector<boundary_source> boundaries;
    std::vector<lookup_source> lookups;
    std::vector<denominator_source> denominators;
    std::vector<dataset_source> datasets;
    std::vector<postcode_source> postcodes;
    std::vector<crosswalk_source> crosswalks;
};

/// Reads and checks the manifest at path (JSON, paths resolved against its folder). Throws ingest_error naming
/// the manifest and the entry ("datasets[0].files[1]: ...") for anything wrong, a JSON type error included.
manifest parse_manifest(const std::string& path);

} // namespace smallarea::data::ingest
