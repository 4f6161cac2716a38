#include "data/ingest/manifest.hpp"

#include "core/error.hpp"
#include "data/ingest.hpp"
#include "data/ingest/values.hpp"
#include "data/text.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <fstream>
#include <initializer_list>
#include <set>

namespace smallarea::data::ingest {

namespace {

using json = nlohmann::json;

using text::lower;
using text::trim;

[[noreturn]] void manifest_error(const std::string& file, const std::string& where, const std::string& message) {
    throw ingest_error(file, 0, where + ": " + message);
}

std::string folder_of(const std::string& path) {
    const auto slash = path.find_last_of('/');
    return slash == std::string::npos ? std::string() : path.substr(0, slash + 1);
}

std::string resolve(const std::string& base_folder, const std::string& path) {
    if (path.empty() || path[0] == '/') return path;
    return base_folder + path;
}

std::string get_string(const json& object, const char* key, const std::string& file, const std::string& where,
                       bool required = true, const std::string& fallback = {}) {
    const auto it = object.find(key);
    if (it == object.end() || it->is_null()) {
        if (required) manifest_error(file, where, std::string("missing \"") + key + "\"");
        return fallback;
    }
    if (!it->is_string()) manifest_error(file, where, std::string("\"") + key + "\" must be a string");
    return it->get<std::string>();
}

std::int64_t get_int(const json& object, const char* key, const std::string& file, const std::string& where,
                     bool required, std::int64_t fallback) {
    const auto it = object.find(key);
    if (it == object.end() || it->is_null()) {
        if (required) manifest_error(file, where, std::string("missing \"") + key + "\"");
        return fallback;
    }
    if (!it->is_number_integer()) manifest_error(file, where, std::string("\"") + key + "\" must be a whole number");
    return it->get<std::int64_t>();
}

void check_level(const std::string& level, const std::string& file, const std::string& where) {
    if (level_rank(level) < 0) manifest_error(file, where, "level \"" + level + "\" is not one of " + known_levels_text());
}

void check_vintage(std::int64_t vintage, const std::string& file, const std::string& where) {
    if (vintage < 1971 || vintage > 2100) manifest_error(file, where, "vintage must be a census year such as 2011 or 2021");
}

std::map<std::string, std::string> string_map(const json& object, const char* key, const std::string& file,
                                              const std::string& where) {
    std::map<std::string, std::string> out;
    const auto it = object.find(key);
    if (it == object.end()) return out;
    if (!it->is_object()) manifest_error(file, where, std::string("\"") + key + "\" must be an object");
    for (const auto& [k, v] : it->items()) {
        if (!v.is_string()) manifest_error(file, where, std::string("\"") + key + "." + k + "\" must be a string");
        out[k] = v.get<std::string>();
    }
    return out;
}

const json& array_of(const json& root, const char* key, const std::string& file) {
    static const json empty = json::array();
    const auto it = root.find(key);
    if (it == root.end()) return empty;
    if (!it->is_array()) manifest_error(file, key, "must be an array");
    return *it;
}

bool valid_identifier(const std::string& id) {
    if (id.empty() || id.size() > 64) return false;
    return std::all_of(id.begin(), id.end(), [](unsigned char c) { return std::isalnum(c) || c == '_' || c == '-'; });
}

/// A typo in a manifest key ("code_feild") would otherwise be ignored silently and the default used instead.
void check_keys(const json& object, std::initializer_list<const char*> allowed, const std::string& file,
                const std::string& where) {
    if (!object.is_object()) manifest_error(file, where, "must be a JSON object");
    for (const auto& [key, value] : object.items()) {
        (void)value;
        if (key == "comment") continue;
        if (std::none_of(allowed.begin(), allowed.end(), [&k = key](const char* a) { return k == a; })) {
            manifest_error(file, where, "unknown key \"" + key + "\"");
        }
    }
}

bool get_bool(const json& object, const char* key, const std::string& file, const std::string& where) {
    const auto it = object.find(key);
    if (it == object.end() || it->is_null()) return false;
    if (!it->is_boolean()) manifest_error(file, where, std::string("\"") + key + "\" must be true or false");
    return it->get<bool>();
}

std::vector<std::string> string_list(const json& object, const char* key, const std::string& file,
                                     const std::string& where) {
    std::vector<std::string> out;
    const auto it = object.find(key);
    if (it == object.end() || it->is_null()) return out;
    if (!it->is_array()) manifest_error(file, where, std::string("\"") + key + "\" must be an array of strings");
    for (const auto& v : *it) {
        if (!v.is_string()) manifest_error(file, where, std::string("\"") + key + "\" must be an array of strings");
        out.push_back(v.get<std::string>());
    }
    return out;
}

/// The per-file options for publishers' layouts (README "Ingest manifest"), checked before the store is touched.
void parse_file_options(const json& f, const std::string& path, const std::string& where, const std::string& member,
                        dataset_file& file) {
    const bool zip = file.read_path.size() > 4 && lower(file.read_path.substr(file.read_path.size() - 4)) == ".zip";
    if (!member.empty() && !zip) manifest_error(path, where, "\"member\" is only for a .zip path");
    if (zip) file.read_path = "/vsizip/" + file.read_path + (member.empty() ? "" : "/" + member);
    if (const auto it = f.find("skip_lines"); it != f.end() && !it->is_null()) {
        if (it->is_string() && it->get<std::string>() == "detect") {
            file.detect_header = true;
        } else if (it->is_number_integer() && it->get<std::int64_t>() >= 0 && it->get<std::int64_t>() <= 1000) {
            file.skip_lines = it->get<long>();
        } else {
            manifest_error(path, where, "\"skip_lines\" must be a whole number 0..1000 or \"detect\"");
        }
    }
    file.end_at_blank_line = get_bool(f, "end_at_blank_line", path, where);
    file.where = string_map(f, "where", path, where);
    const auto outside = get_string(f, "outside_store", path, where, false, "refuse");
    if (outside != "refuse" && outside != "skip") manifest_error(path, where, "\"outside_store\" must be \"refuse\" or \"skip\"");
    file.skip_outside_store = outside == "skip";
    file.thousands_separator = get_bool(f, "thousands_separator", path, where);
    file.suppressed = string_list(f, "suppressed", path, where);
    file.zero = string_list(f, "zero", path, where);
    for (const auto& marker : file.suppressed) {
        const std::string t = trim(marker);
        if (t.empty()) manifest_error(path, where, "an empty \"suppressed\" marker (an empty cell is already \"no value\")");
        if (all_digits(t)) manifest_error(path, where, "suppression marker \"" + t + "\" is a number; it would hide real counts");
        if (std::find(file.zero.begin(), file.zero.end(), marker) != file.zero.end()) {
            manifest_error(path, where, "\"" + t + "\" is both a suppression marker and a zero marker");
        }
    }
    for (const auto& marker : file.zero) {
        const std::string t = trim(marker);
        if (t.empty() || all_digits(t)) manifest_error(path, where, "a \"zero\" marker must be text such as \"-\"");
    }
    file.area_names = get_bool(f, "area_names", path, where);
    file.drop_totals = get_bool(f, "drop_totals", path, where);
    file.sheet = get_string(f, "sheet", path, where, false);
    const bool xlsx = file.read_path.size() > 5 && lower(file.read_path.substr(file.read_path.size() - 5)) == ".xlsx";
    if (!file.sheet.empty() && !xlsx) manifest_error(path, where, "\"sheet\" is only for an .xlsx path");
}

manifest read_manifest(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw ingest_error(path, 0, "cannot open manifest");
    json root;
    try {
        root = json::parse(in);
    } catch (const json::exception& e) {
        // parse_error, and out_of_range for a number beyond double (e.g. 1e400), found by tools/fuzz.sh
        throw ingest_error(path, 0, std::string("manifest is not valid JSON: ") + e.what());
    }
    if (!root.is_object()) throw ingest_error(path, 0, "manifest must be a JSON object");
    for (const auto& [key, value] : root.items()) {
        (void)value;
        if (key != "boundaries" && key != "lookups" && key != "denominators" && key != "datasets" && key != "derive" &&
            key != "postcodes" && key != "crosswalks" && key != "comment") {
            throw ingest_error(path, 0, "unknown manifest section \"" + key + "\"");
        }
    }
    const std::string base = folder_of(path);
    manifest m;
    m.path = path;

    int i = 0;
    for (const auto& b : array_of(root, "boundaries", path)) {
        const std::string where = "boundaries[" + std::to_string(i++) + "]";
        check_keys(b, {"path", "level", "vintage", "code_field", "name_field", "layer", "srs"}, path, where);
        boundary_source s;
        s.path = resolve(base, get_string(b, "path", path, where));
        s.level = get_string(b, "level", path, where);
        check_level(s.level, path, where);
        s.vintage = static_cast<int>(get_int(b, "vintage", path, where, true, 0));
        check_vintage(s.vintage, path, where);
        s.code_field = get_string(b, "code_field", path, where, false);
        s.name_field = get_string(b, "name_field", path, where, false);
        s.layer = get_string(b, "layer", path, where, false);
        s.srs = get_string(b, "srs", path, where, false);
        m.boundaries.push_back(std::move(s));
    }
    i = 0;
    for (const auto& b : array_of(root, "derive", path)) {
        const std::string where = "derive[" + std::to_string(i++) + "]";
        check_keys(b, {"level", "from", "vintage"}, path, where);
        derived_boundary d;
        d.level = get_string(b, "level", path, where);
        check_level(d.level, path, where);
        d.from = get_string(b, "from", path, where);
        check_level(d.from, path, where);
        if (level_rank(d.from) >= level_rank(d.level)) manifest_error(path, where, "\"from\" must be a finer level than \"level\"");
        if (!nests_in(d.from, d.level)) manifest_error(path, where, d.from + " areas do not fit in " + d.level + " areas");
        d.vintage = static_cast<int>(get_int(b, "vintage", path, where, true, 0));
        check_vintage(d.vintage, path, where);
        m.derived.push_back(std::move(d));
    }
    i = 0;
    for (const auto& l : array_of(root, "lookups", path)) {
        const std::string where = "lookups[" + std::to_string(i++) + "]";
        check_keys(l, {"path", "vintage", "columns"}, path, where);
        lookup_source s;
        s.path = resolve(base, get_string(l, "path", path, where));
        s.vintage = static_cast<int>(get_int(l, "vintage", path, where, true, 0));
        check_vintage(s.vintage, path, where);
        for (const auto& [k, v] : string_map(l, "columns", path, where)) {
            const auto underscore = k.find("_name");
            if (underscore != std::string::npos && underscore + 5 == k.size()) {
                const auto level = k.substr(0, underscore);
                check_level(level, path, where);
                s.name_columns[level] = v;
            } else {
                check_level(k, path, where);
                s.code_columns[k] = v;
            }
        }
        m.lookups.push_back(std::move(s));
    }
    i = 0;
    for (const auto& d : array_of(root, "denominators", path)) {
        const std::string where = "denominators[" + std::to_string(i++) + "]";
        check_keys(d, {"path", "level", "vintage", "code_column", "measures", "source"}, path, where);
        denominator_source s;
        s.path = resolve(base, get_string(d, "path", path, where));
        s.level = get_string(d, "level", path, where);
        check_level(s.level, path, where);
        s.vintage = static_cast<int>(get_int(d, "vintage", path, where, true, 0));
        check_vintage(s.vintage, path, where);
        s.code_column = get_string(d, "code_column", path, where, false);
        s.measures = string_map(d, "measures", path, where);
        if (s.measures.empty()) manifest_error(path, where, "\"measures\" must name at least one column");
        s.source = get_string(d, "source", path, where, false);
        m.denominators.push_back(std::move(s));
    }
    i = 0;
    std::set<std::string> dataset_ids;
    for (const auto& d : array_of(root, "datasets", path)) {
        const std::string where = "datasets[" + std::to_string(i++) + "]";
        check_keys(d, {"id", "title", "publisher", "licence", "attribution", "classification", "level", "vintage",
                       "files", "measures", "disclosure", "skip_unknown_measures"},
                   path, where);
        dataset_source s;
        s.id = get_string(d, "id", path, where);
        if (!valid_identifier(s.id)) manifest_error(path, where, "id must be 1-64 letters, digits, '_' or '-'");
        if (!dataset_ids.insert(s.id).second) manifest_error(path, where, "dataset id \"" + s.id + "\" appears twice");
        s.title = get_string(d, "title", path, where);
        s.publisher = get_string(d, "publisher", path, where);
        s.licence = get_string(d, "licence", path, where);
        s.attribution = get_string(d, "attribution", path, where);
        s.level = get_string(d, "level", path, where);
        check_level(s.level, path, where);
        s.vintage = static_cast<int>(get_int(d, "vintage", path, where, true, 0));
        check_vintage(s.vintage, path, where);
        if (!disclosure::parse_classification(get_string(d, "classification", path, where), s.policy.classification)) {
            manifest_error(path, where, "classification must be \"published\" or \"internal\"");
        }
        if (const auto it = d.find("skip_unknown_measures"); it != d.end()) {
            if (!it->is_boolean()) manifest_error(path, where, "\"skip_unknown_measures\" must be true or false");
            s.skip_unknown_measures = it->get<bool>();
        }
        const auto disclosure_it = d.find("disclosure");
        const json no_policy = json::object();
        const json& pol = disclosure_it == d.end() ? no_policy : *disclosure_it;
        if (!pol.is_object()) manifest_error(path, where, "\"disclosure\" must be an object");
        check_keys(pol, {"rounding_base", "rounded_by", "rounding_rule", "suppression_threshold", "percent_min_denominator"},
                   path, where + ".disclosure");
        const bool internal = s.policy.classification == disclosure::classification::internal;
        s.policy.rounding_base = get_int(pol, "rounding_base", path, where + ".disclosure", false, internal ? 20 : 1);
        const auto by = get_string(pol, "rounded_by", path, where + ".disclosure", false,
                                   internal ? "smallarea" : "publisher");
        if (!disclosure::parse_rounded_by(by, s.policy.rounded_by)) {
            manifest_error(path, where, "disclosure.rounded_by must be \"publisher\" or \"smallarea\"");
        }
        const auto rule = get_string(pol, "rounding_rule", path, where + ".disclosure", false, "half_up");
        if (rule != "half_up") manifest_error(path, where, "disclosure.rounding_rule: only \"half_up\" is supported");
        s.policy.suppression_threshold = get_int(pol, "suppression_threshold", path, where, false, 0);
        s.policy.percent_min_denominator = get_int(pol, "percent_min_denominator", path, where, false, 10);
        try {
            disclosure::validate(s.policy);
        } catch (const error& e) {
            manifest_error(path, where, e.what());
        }

        int j = 0;
        if (d.contains("files") && !d["files"].is_array()) manifest_error(path, where, "\"files\" must be an array");
        for (const auto& f : d.value("files", json::array())) {
            const std::string fwhere = where + ".files[" + std::to_string(j++) + "]";
            check_keys(f, {"path", "member", "layout", "columns", "period", "skip_lines", "end_at_blank_line", "where",
                           "outside_store", "thousands_separator", "suppressed", "zero", "area_names", "drop_totals",
                           "sheet", "_note"},
                       path, fwhere);
            if (const auto c = f.find("columns"); c != f.end()) {
                check_keys(*c, {"period", "area", "measure", "value"}, path, fwhere + ".columns");
            }
            dataset_file file;
            file.path = resolve(base, get_string(f, "path", path, fwhere));
            file.read_path = file.path;
            const std::string member = get_string(f, "member", path, fwhere, false);
            if (!member.empty()) file.path += "/" + member;
            file.layout = get_string(f, "layout", path, fwhere, false, "long");
            if (file.layout != "long" && file.layout != "wide" && file.layout != "periods_as_columns") {
                manifest_error(path, fwhere, "layout must be long, wide or periods_as_columns");
            }
            parse_file_options(f, path, fwhere, member, file);
            const auto columns = string_map(f, "columns", path, fwhere);
            auto col = [&](const char* k) {
                const auto it = columns.find(k);
                return it == columns.end() ? std::string() : it->second;
            };
            file.period_column = col("period");
            file.area_column = col("area");
            file.measure_column = col("measure");
            file.value_column = col("value");
            file.period = get_string(f, "period", path, fwhere, false);
            if (!file.period.empty() && !normalise_period(file.period, file.period)) {
                manifest_error(path, fwhere, "period \"" + file.period + "\" is not YYYY, YYYY-MM or YYYY-MM-DD");
            }
            s.files.push_back(std::move(file));
        }
        if (s.files.empty()) manifest_error(path, where, "\"files\" must name at least one file");

        j = 0;
        std::set<std::string> measure_ids;
        if (d.contains("measures") && !d["measures"].is_array()) manifest_error(path, where, "\"measures\" must be an array");
        for (const auto& me : d.value("measures", json::array())) {
            const std::string mwhere = where + ".measures[" + std::to_string(j++) + "]";
            check_keys(me, {"id", "title", "unit", "kind", "denominator", "percent_of", "sum_of", "source_names", "column"},
                       path, mwhere);
            dataset_measure dm;
            dm.info.id = get_string(me, "id", path, mwhere);
            if (!valid_identifier(dm.info.id)) manifest_error(path, mwhere, "id must be letters, digits, '_' or '-'");
            if (!measure_ids.insert(dm.info.id).second) manifest_error(path, mwhere, "measure id appears twice");
            dm.info.title = get_string(me, "title", path, mwhere, false, dm.info.id);
            dm.info.unit = get_string(me, "unit", path, mwhere, false);
            const auto kind = get_string(me, "kind", path, mwhere, false, "count");
            if (kind == "count") dm.info.kind = measure_kind::count;
            else if (kind == "percent_only") dm.info.kind = measure_kind::percent_only;
            else if (kind == "percent_base") dm.info.kind = measure_kind::percent_base;
            else manifest_error(path, mwhere, "kind must be count, percent_only or percent_base");
            dm.info.denominator = get_string(me, "denominator", path, mwhere, false);
            dm.info.percent_of = get_string(me, "percent_of", path, mwhere, false);
            if (dm.info.kind == measure_kind::percent_only && dm.info.percent_of.empty()) {
                manifest_error(path, mwhere, "a percent_only measure needs \"percent_of\"");
            }
            if (const auto it = me.find("sum_of"); it != me.end()) {
                if (!it->is_array()) manifest_error(path, mwhere, "\"sum_of\" must be an array of measure ids");
                for (const auto& part : *it) {
                    if (!part.is_string()) manifest_error(path, mwhere, "\"sum_of\" must be an array of measure ids");
                    dm.info.sum_of.push_back(part.get<std::string>());
                }
            }
            if (const auto it = me.find("source_names"); it != me.end()) {
                if (!it->is_array()) manifest_error(path, mwhere, "\"source_names\" must be an array of strings");
                for (const auto& name : *it) {
                    if (!name.is_string()) manifest_error(path, mwhere, "\"source_names\" must be strings");
                    dm.source_names.push_back(name.get<std::string>());
                }
            }
            dm.column = get_string(me, "column", path, mwhere, false, dm.info.id);
            s.measures.push_back(std::move(dm));
        }
        if (s.measures.empty()) manifest_error(path, where, "\"measures\" must declare at least one measure");
        for (const auto& dm : s.measures) {
            for (const auto& part : dm.info.sum_of) {
                if (!measure_ids.count(part)) manifest_error(path, where, "measure " + dm.info.id + " sums unknown measure " + part);
            }
            if (!dm.info.percent_of.empty() && !measure_ids.count(dm.info.percent_of)) {
                manifest_error(path, where, "measure " + dm.info.id + " is a percent of unknown measure " + dm.info.percent_of);
            }
            if (dm.info.kind == measure_kind::percent_base && dm.info.sum_of.empty()) {
                // The base is derived from its parts at ingest (and never served); without sum_of nothing says
                // which measures it totals, so the percentages built on it could not be checked against it.
                manifest_error(path, where, "measure " + dm.info.id + " is a percent_base without \"sum_of\" (the measures it totals)");
            }
        }
        m.datasets.push_back(std::move(s));
    }
    i = 0;
    for (const auto& p : array_of(root, "postcodes", path)) {
        const std::string where = "postcodes[" + std::to_string(i++) + "]";
        check_keys(p, {"path", "vintage", "layout", "columns"}, path, where);
        postcode_source s;
        s.path = resolve(base, get_string(p, "path", path, where));
        s.vintage = static_cast<int>(get_int(p, "vintage", path, where, true, 0));
        // Postcodes go to Output Areas, and ONS publishes OAs for the 2011 and 2021 censuses only.
        if (s.vintage != 2011 && s.vintage != 2021) manifest_error(path, where, "\"vintage\" must be 2011 or 2021");
        s.layout = get_string(p, "layout", path, where, false, "auto");
        if (s.layout != "auto" && s.layout != "onspd") manifest_error(path, where, "\"layout\" must be \"onspd\" or \"auto\"");
        s.columns = string_map(p, "columns", path, where);
        for (const auto& [key, column] : s.columns) {
            static const std::set<std::string> known{"postcode", "lat", "lon", "oa", "introduced", "terminated",
                                                     "ward_code", "ward_name", "msoa_name"};
            if (!known.count(key)) manifest_error(path, where, "unknown column role \"" + key + "\" in \"columns\"");
            if (trim(column).empty()) manifest_error(path, where, "\"columns." + key + "\" is empty");
        }
        m.postcodes.push_back(std::move(s));
    }
    i = 0;
    for (const auto& c : array_of(root, "crosswalks", path)) {
        const std::string where = "crosswalks[" + std::to_string(i++) + "]";
        check_keys(c, {"path", "level", "from", "to", "columns"}, path, where);
        crosswalk_source s;
        s.path = resolve(base, get_string(c, "path", path, where));
        s.level = get_string(c, "level", path, where);
        check_level(s.level, path, where);
        // Re-issued levels (districts, wards) keep their codes' meaning across years; their lookups are not crosswalks.
        if (is_reissued_level(s.level)) manifest_error(path, where, "crosswalks are for census levels (oa, lsoa, msoa), not " + s.level);
        s.from = static_cast<int>(get_int(c, "from", path, where, true, 0));
        check_vintage(s.from, path, where);
        s.to = static_cast<int>(get_int(c, "to", path, where, true, 0));
        check_vintage(s.to, path, where);
        if (s.from == s.to) manifest_error(path, where, "\"from\" and \"to\" must be different vintages");
        s.columns = string_map(c, "columns", path, where);
        for (const auto& [key, column] : s.columns) {
            if (key != "from" && key != "to" && key != "change") {
                manifest_error(path, where, "unknown column role \"" + key + "\" in \"columns\" (from, to, change)");
            }
            if (trim(column).empty()) manifest_error(path, where, "\"columns." + key + "\" is empty");
        }
        m.crosswalks.push_back(std::move(s));
    }
    if (m.boundaries.empty() && m.derived.empty() && m.lookups.empty() && m.denominators.empty() && m.datasets.empty() &&
        m.postcodes.empty() && m.crosswalks.empty()) {
        throw ingest_error(path, 0, "manifest names nothing to ingest");
    }
    return m;
}

} // namespace

manifest parse_manifest(const std::string& path) {
    // A JSON type error the checks missed still ends as an ingest_error (exit 1 with the file name), never an
    // "internal error".
    try {
        return read_manifest(path);
    } catch (const json::exception& e) {
        throw ingest_error(path, 0, std::string("manifest: ") + e.what());
    }
}

} // namespace smallarea::data::ingest
