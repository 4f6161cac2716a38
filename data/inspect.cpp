#include "data/inspect.hpp"
#include "data/text.hpp"

#include "data/csv_reader.hpp"
#include "core/error.hpp"
#include "data/ingest.hpp"
#include "data/sqlite.hpp"
#include "data/store.hpp"
#include "data/xlsx_sheet.hpp"

#include <cpl_conv.h>
#include <cpl_error.h>
#include <cpl_string.h>
#include <cpl_vsi.h>
#include <gdal_priv.h>
#include <nlohmann/json.hpp>
#include <ogrsf_frmts.h>

#include <algorithm>
#include <cctype>
#include <map>
#include <set>
#include <sstream>
#include <unistd.h>

namespace smallarea::data {

namespace {

// ordered_json: the manifest reads in the order ingest documents it (path, layout, columns, options).
using json = nlohmann::ordered_json;

using text::lower;
using text::trim;

bool ends_with(const std::string& s, const std::string& tail) {
    return s.size() >= tail.size() && lower(s.substr(s.size() - tail.size())) == lower(tail);
}

using text::contains_ci;

/// A manifest id from free text: "Claimant count (JSA)" -> "claimant_count_jsa".
std::string slug(const std::string& text, std::size_t max = 48) {
    std::string out;
    for (const unsigned char c : text) {
        if (std::isalnum(c)) out.push_back(static_cast<char>(std::tolower(c)));
        else if (!out.empty() && out.back() != '_') out.push_back('_');
        if (out.size() >= max) break;
    }
    while (!out.empty() && out.back() == '_') out.pop_back();
    return out.empty() ? "dataset" : out;
}

/// The file name without folder and without .csv/.data.csv/.zip (for ids and titles).
std::string base_name(const std::string& path) {
    const auto slash = path.find_last_of('/');
    std::string name = slash == std::string::npos ? path : path.substr(slash + 1);
    for (const char* ext : {".data.csv", ".csv", ".zip"}) {
        if (ends_with(name, ext)) return name.substr(0, name.size() - std::string(ext).size());
    }
    return name;
}

std::string absolute(const std::string& path) {
    if (path.empty() || path[0] == '/') return path;
    char buffer[4096];
    if (!getcwd(buffer, sizeof buffer)) return path;
    return std::string(buffer) + "/" + path;
}

/// The level of an ONS GSS code by its entity prefix (E00 OA, E01 LSOA, E02 MSOA, E05 ward, E06-E09/W06 district).
std::string level_of_code(const std::string& code) {
    if (code.size() != 9 || (code[0] != 'E' && code[0] != 'W')) return {};
    if (!std::all_of(code.begin() + 1, code.end(), [](unsigned char c) { return std::isdigit(c); })) return {};
    const std::string entity = code.substr(1, 2);
    if (entity == "00") return "oa";
    if (entity == "01") return "lsoa";
    if (entity == "02") return "msoa";
    if (entity == "05") return "ward";
    if (entity == "06" || entity == "07" || entity == "08" || entity == "09") return "lad";
    return {};
}

bool looks_like_code(const std::string& text) { return !level_of_code(text).empty(); }

/// The store's areas, to choose a file's level and vintage by the codes (or names) it holds.
struct store_index {
    bool present = false;
    std::map<std::string, std::vector<std::pair<std::string, int>>> by_code; // code -> (level, vintage)
    std::map<std::string, std::vector<std::pair<std::string, int>>> by_name; // lower name -> (level, vintage)
    std::set<std::string> dataset_ids; // a written id must not replace a dataset already in the store
    std::set<int> oa_vintages;         // which census's OAs postcodes can go to

    void load(const std::string& db_path) {
        database db = open_store(db_path, false);
        statement s(db, "SELECT level, vintage, code, name FROM areas");
        while (s.step()) {
            const std::pair<std::string, int> where{s.text(0), static_cast<int>(s.int64(1))};
            by_code[s.text(2)].push_back(where);
            if (where.first == "oa") oa_vintages.insert(where.second);
            if (!s.text(3).empty()) by_name[lower(s.text(3))].push_back(where);
        }
        statement d(db, "SELECT id FROM datasets");
        while (d.step()) dataset_ids.insert(d.text(0));
        present = true;
    }
};

/// How many of a file's keys (codes or names) the store holds at each (level, vintage).
struct key_tally {
    std::map<std::pair<std::string, int>, std::int64_t> hits;
    std::int64_t keys = 0;
    std::map<std::string, std::int64_t> levels_by_prefix;

    void add(const store_index& store, const std::string& key, bool names) {
        ++keys;
        if (!names) {
            const auto level = level_of_code(key);
            if (!level.empty()) ++levels_by_prefix[level];
        }
        if (!store.present) return;
        const auto& index = names ? store.by_name : store.by_code;
        const auto it = index.find(names ? lower(key) : key);
        if (it == index.end()) return;
        for (const auto& lv : it->second) ++hits[lv];
    }
    /// The (level, vintage) with most hits; empty level when none.
    std::pair<std::pair<std::string, int>, std::int64_t> best() const {
        std::pair<std::pair<std::string, int>, std::int64_t> out{{"", 0}, 0};
        for (const auto& [lv, n] : hits) {
            if (n > out.second) out = {lv, n};
        }
        return out;
    }
    std::string prefix_level() const {
        std::string best_level;
        std::int64_t n = 0;
        for (const auto& [level, count] : levels_by_prefix) {
            if (count > n) {
                best_level = level;
                n = count;
            }
        }
        return best_level;
    }
};

struct raw_csv {
    std::vector<std::pair<long, std::vector<std::string>>> records; // the first records as read, with lines
    std::vector<bool> blank_before;
};

raw_csv read_head(const std::string& path, std::size_t max_records) {
    raw_csv out;
    csv_reader csv(path);
    out.records.emplace_back(csv.header_line(), csv.header());
    out.blank_before.push_back(false);
    std::vector<std::string> fields;
    while (out.records.size() < max_records && csv.next_raw(fields)) {
        out.records.emplace_back(csv.line(), fields);
        out.blank_before.push_back(csv.blank_before());
    }
    return out;
}

/// The header of a table under a title block: the first record as wide as most records (data rows dominate a
/// download; title lines have one or two fields).
std::size_t filled_width(const std::vector<std::string>& r) {
    // Up to the last non-empty field: a spreadsheet row is as wide as the sheet even when it holds one title cell.
    std::size_t n = r.size();
    while (n > 0 && trim(r[n - 1]).empty()) --n;
    return n;
}

std::size_t find_header(const raw_csv& raw) {
    std::map<std::size_t, std::size_t> widths;
    for (const auto& [line, r] : raw.records) {
        if (filled_width(r) >= 2) ++widths[filled_width(r)];
    }
    std::size_t modal = 0, count = 0;
    for (const auto& [w, n] : widths) {
        if (n > count || (n == count && w > modal)) {
            modal = w;
            count = n;
        }
    }
    for (std::size_t i = 0; i < raw.records.size(); ++i) {
        if (filled_width(raw.records[i].second) == modal) return i;
    }
    return 0;
}

int column_of(const std::vector<std::string>& header, const std::vector<std::string>& names) {
    for (const auto& n : names) {
        for (std::size_t i = 0; i < header.size(); ++i) {
            if (lower(trim(header[i])) == lower(n)) return static_cast<int>(i);
        }
    }
    return -1;
}

bool is_period(const std::string& text) {
    std::string p;
    return normalise_period(text, p);
}

/// Values a publisher writes for cells that are not counts, by publisher documentation.
bool is_suppression_marker(const std::string& v) {
    return v == ".." || v == "*" || v == "c" || v == "x" || v == "[c]" || v == "[x]";
}

bool has_thousands(const std::string& v) {
    if (v.find(',') == std::string::npos) return false;
    return std::all_of(v.begin(), v.end(), [](unsigned char c) { return std::isdigit(c) || c == ','; });
}

struct inspector {
    store_index store;
    std::vector<std::string> findings;
    json boundaries = json::array(), lookups = json::array(), datasets = json::array(), postcodes = json::array(),
         crosswalks = json::array();
    std::set<std::string> ids;
    std::string m_sheet; // the sheet being inspected when the file is an .xlsx workbook

    void say(const std::string& file, const std::string& what) { findings.push_back(file + ": " + what); }

    std::string unique_id(const std::string& wanted) {
        std::string id = wanted;
        for (int n = 2; ids.count(id); ++n) id = wanted + "_" + std::to_string(n);
        ids.insert(id);
        return id;
    }

    void inspect(const std::string& user_path) {
        const std::string path = absolute(user_path);
        if (ends_with(path, ".zip")) return inspect_zip(path);
        if (ends_with(path, ".xlsx")) {
            // The first sheet, as Stat-Xplore writes one table per workbook; its name goes into the manifest.
            xlsx_as_csv sheet(path, "", path);
            say(path, "XLSX workbook: sheet \"" + sheet.sheet() + "\" read through GDAL's XLSX driver");
            m_sheet = sheet.sheet();
            inspect_csv(sheet.path(), path, "");
            m_sheet.clear();
            return;
        }
        if (ends_with(path, ".geojson") || ends_with(path, ".geojson.gz") || ends_with(path, ".gpkg") ||
            ends_with(path, ".shp") || ends_with(path, ".json")) {
            return inspect_boundaries(path);
        }
        inspect_csv(path, path, "");
    }

    void inspect_zip(const std::string& path) {
        char** entries = VSIReadDirRecursive(("/vsizip/" + path).c_str());
        std::vector<std::string> csvs;
        for (char** e = entries; e && *e; ++e) {
            if (ends_with(*e, ".csv")) csvs.push_back(*e);
        }
        CSLDestroy(entries);
        if (csvs.empty()) throw ingest_error(path, 0, "no CSV member in the zip (or not a zip)");
        std::string listed;
        for (const auto& c : csvs) listed += (listed.empty() ? "" : ", ") + c;
        say(path, "zip with " + std::to_string(csvs.size()) + " CSV members (" + listed + ")");
        // A NOMIS Census bulk zip holds one CSV per geography level (-ctry ... -oa). With a store, the member whose
        // codes the store holds is the one to ingest; without, the finest level.
        std::string chosen;
        std::int64_t chosen_hits = -1;
        for (const auto& member : csvs) {
            const std::string inner = "/vsizip/" + path + "/" + member;
            raw_csv head = read_head(inner, 400);
            const std::size_t h = find_header(head);
            const int code = column_of(head.records[h].second, {"geography code", "GEOGRAPHY_CODE", "mnemonic"});
            std::int64_t hits = 0;
            int finest = 9;
            for (std::size_t i = h + 1; i < head.records.size(); ++i) {
                if (code < 0 || static_cast<std::size_t>(code) >= head.records[i].second.size()) continue;
                const std::string c = trim(head.records[i].second[static_cast<std::size_t>(code)]);
                if (store.present && store.by_code.count(c)) ++hits;
                const int rank = level_rank(level_of_code(c));
                if (rank >= 0) finest = std::min(finest, rank);
            }
            const std::int64_t score = store.present ? hits * 10 + (9 - finest) : 9 - finest;
            if (score > chosen_hits) {
                chosen = member;
                chosen_hits = score;
            }
        }
        say(path, "member " + chosen + " chosen" + (store.present ? " (its codes are in the store)" : " (finest level)"));
        inspect_csv("/vsizip/" + path + "/" + chosen, path, chosen);
    }

    void inspect_boundaries(const std::string& path) {
        CPLErrorHandlerPusher quiet(CPLQuietErrorHandler);
        GDALDatasetUniquePtr ds(GDALDataset::Open(gdal_path(path).c_str(), GDAL_OF_VECTOR | GDAL_OF_READONLY));
        if (!ds || ds->GetLayerCount() == 0) throw ingest_error(path, 0, "cannot read as a vector source");
        OGRLayer* layer = ds->GetLayer(0);
        OGRFeatureDefn* defn = layer->GetLayerDefn();
        std::string code_field, name_field, level;
        int year = -1;
        for (int i = 0; i < defn->GetFieldCount(); ++i) {
            const std::string name = defn->GetFieldDefn(i)->GetNameRef();
            std::string lv;
            int y = 0;
            bool is_name = false;
            if (parse_ons_column(name, lv, y, is_name)) {
                if (!is_name && code_field.empty()) {
                    code_field = name;
                    level = lv;
                    year = y;
                } else if (is_name && name_field.empty()) {
                    name_field = name;
                }
            }
        }
        if (code_field.empty()) {
            for (const char* candidate : {"area_code", "code", "geography_code"}) {
                if (defn->GetFieldIndex(candidate) >= 0) {
                    code_field = candidate;
                    break;
                }
            }
            for (const char* candidate : {"area_name", "name"}) {
                if (defn->GetFieldIndex(candidate) >= 0) {
                    name_field = candidate;
                    break;
                }
            }
        }
        if (code_field.empty()) throw ingest_error(path, 0, "no ONS code field (such as LSOA21CD or area_code)", "feature");
        key_tally tally;
        const int code_index = defn->GetFieldIndex(code_field.c_str());
        layer->ResetReading();
        for (auto& f : *layer) tally.add(store, trim(f->GetFieldAsString(code_index)), false);
        if (level.empty()) level = tally.prefix_level();
        if (level.empty()) throw ingest_error(path, 0, "codes in " + code_field + " are not ONS OA/LSOA/MSOA/district codes", "feature");
        int vintage = 0;
        std::string why;
        if (year >= 0 && !is_reissued_level(level)) {
            vintage = 2000 + year;
            why = "from the field name " + code_field;
        } else if (store.present && tally.best().second > 0 && tally.best().first.first == level) {
            vintage = tally.best().first.second;
            why = "the store holds these codes at that vintage";
        } else {
            vintage = 2021;
            why = "not said by the file: 2021 assumed (codes issued since 2021); change \"vintage\" if the file is 2011";
        }
        say(path, "ONS boundaries: " + std::to_string(tally.keys) + " " + level + " features, code field " + code_field +
                      (name_field.empty() ? "" : ", name field " + name_field) + ", vintage " + std::to_string(vintage) +
                      " (" + why + ")");
        json b;
        b["path"] = path;
        b["level"] = level;
        b["vintage"] = vintage;
        b["code_field"] = code_field;
        if (!name_field.empty()) b["name_field"] = name_field;
        b["comment"] = "vintage " + std::to_string(vintage) + ": " + why;
        boundaries.push_back(b);
    }

    void inspect_csv(const std::string& read_path, const std::string& user_path, const std::string& member) {
        raw_csv head = read_head(read_path, 400);
        const std::size_t h = find_header(head);
        const auto& header = head.records[h].second;
        std::string title_text;
        for (std::size_t i = 0; i < h; ++i) {
            for (const auto& f : head.records[i].second) title_text += f + "\n";
        }
        const long header_line = head.records[h].first;
        const bool has_title = h > 0;
        const std::string file = member.empty() ? user_path : user_path + "/" + member;
        if (has_title) {
            say(file, "lines " + std::to_string(head.records.front().first) + "-" + std::to_string(head.records[h - 1].first) +
                          " are a title block; the table starts at line " + std::to_string(header_line));
        }
        // Which publisher's layout: each has columns no other has.
        const int geography_code = column_of(header, {"GEOGRAPHY_CODE"});
        const int obs_value = column_of(header, {"OBS_VALUE"});
        const int mnemonic = column_of(header, {"mnemonic"});
        const int bulk_code = column_of(header, {"geography code"});
        const int pcds = column_of(header, {"pcds", "pcd", "postcode"});
        int ons_codes = 0;
        for (const auto& c : header) {
            std::string lv;
            int y = 0;
            bool is_name = false;
            if (parse_ons_column(c, lv, y, is_name) && !is_name) ++ons_codes;
        }
        // The directory as downloaded (OA/LSOA/district columns) or an extract with a postcode and its centroid.
        const bool centroid = column_of(header, {"lat"}) >= 0 && column_of(header, {"long", "lon"}) >= 0;
        if (pcds >= 0 && (centroid || column_of(header, {"oa21", "lsoa21", "oa11", "lsoa11", "oslaua"}) >= 0)) {
            return postcode_directory(user_path, file, header);
        }
        if (geography_code >= 0 && obs_value >= 0) return nomis_api(read_path, file, member, user_path, header, head, h);
        if (mnemonic >= 0 && contains_ci(title_text, "nomis")) {
            return nomis_web(read_path, file, member, user_path, header, head, h, title_text);
        }
        if (bulk_code >= 0 && column_of(header, {"date"}) >= 0 && column_of(header, {"geography"}) >= 0) {
            return wide_table("NOMIS Census bulk", read_path, file, member, user_path, header, header_line, bulk_code,
                              false, has_title);
        }
        if (contains_ci(title_text, "dataset:") || contains_ci(title_text, "counting:")) {
            return statxplore(read_path, file, member, user_path, header, header_line, head, h);
        }
        if (ons_codes >= 2) return ons_lookup(read_path, file, header);
        const int code = column_of(header, {"area_code", "areacd", "code", "geography_code"});
        int any_ons = -1;
        for (std::size_t i = 0; i < header.size() && any_ons < 0; ++i) {
            std::string lv;
            int y = 0;
            bool is_name = false;
            if (parse_ons_column(header[i], lv, y, is_name) && !is_name) any_ons = static_cast<int>(i);
        }
        const int area = code >= 0 ? code : any_ons;
        if (area < 0) {
            say(file, "plain CSV without an area code column: nothing to ingest (name its area column in a manifest)");
            return;
        }
        wide_table("plain CSV", read_path, file, member, user_path, header, header_line, area, false, has_title);
    }

    /// Level and vintage for a dataset from the tally (store first, then the code prefixes and any year hint).
    bool choose_level(const std::string& file, const key_tally& tally, int year_hint, std::string& level, int& vintage,
                      std::string& why) {
        const auto best = tally.best();
        if (best.second > 0) {
            level = best.first.first;
            vintage = best.first.second;
            why = std::to_string(best.second) + " of " + std::to_string(tally.keys) + " areas are in the store at " +
                  level + " " + std::to_string(vintage);
            return true;
        }
        level = tally.prefix_level();
        if (level.empty()) {
            say(file, "the area column holds no ONS codes the store knows: nothing to ingest" +
                          std::string(store.present ? "" : " (give --db STORE to resolve names)"));
            return false;
        }
        vintage = year_hint > 0 ? year_hint : 2021;
        why = "level from the codes (" + level + ")" +
              (year_hint > 0 ? ", vintage " + std::to_string(vintage) + " from the file"
                             : ", vintage not said by the file: 2021 assumed");
        if (store.present) why += "; none of its areas is in the store";
        return true;
    }

    json dataset_entry(const std::string& id, const std::string& title, const std::string& publisher,
                       const std::string& level, int vintage, const json& file, const json& measures,
                       const std::string& note) {
        json d;
        d["id"] = id;
        d["title"] = title;
        d["publisher"] = publisher;
        d["licence"] = "Open Government Licence v3.0";
        d["attribution"] = "Contains public sector information licensed under the Open Government Licence v3.0. Source: " + publisher + ".";
        d["classification"] = "published";
        d["level"] = level;
        d["vintage"] = vintage;
        d["files"] = json::array({file});
        d["measures"] = measures;
        d["comment"] = note;
        return d;
    }

    json file_entry(const std::string& user_path, const std::string& member, const std::string& layout) {
        json f;
        f["path"] = user_path;
        if (!member.empty()) f["member"] = member;
        if (!m_sheet.empty()) f["sheet"] = m_sheet;
        f["layout"] = layout;
        return f;
    }

    void nomis_api(const std::string& read_path, const std::string& file, const std::string& member,
                   const std::string& user_path, const std::vector<std::string>& header, const raw_csv&, std::size_t) {
        csv_reader csv(read_path);
        const int code = csv.column("GEOGRAPHY_CODE");
        const int measure = csv.column("MEASURE_NAME");
        static const std::set<std::string> not_dimensions = {"date_name", "geography_name", "measure_name",
                                                             "obs_status_name", "obs_conf_name"};
        std::map<int, std::vector<std::string>> dimension_values; // column -> distinct values, in file order
        for (std::size_t i = 0; i < header.size(); ++i) {
            const std::string h = lower(header[i]);
            if (ends_with(h, "_name") && !not_dimensions.count(h)) dimension_values[static_cast<int>(i)];
        }
        std::vector<std::string> measures;
        key_tally tally;
        std::set<std::string> codes;
        std::vector<std::string> fields;
        std::set<std::string> periods;
        const int date = csv.column("DATE");
        while (csv.next(fields)) {
            for (auto& [index, values] : dimension_values) {
                const std::string v = trim(fields[static_cast<std::size_t>(index)]);
                if (values.size() < 50 && std::find(values.begin(), values.end(), v) == values.end()) values.push_back(v);
            }
            if (measure >= 0) {
                const std::string m = trim(fields[static_cast<std::size_t>(measure)]);
                if (std::find(measures.begin(), measures.end(), m) == measures.end()) measures.push_back(m);
            }
            if (date >= 0) periods.insert(trim(fields[static_cast<std::size_t>(date)]));
            const std::string c = trim(fields[static_cast<std::size_t>(code)]);
            if (codes.insert(c).second) tally.add(store, c, false);
        }
        json f = file_entry(user_path, member, "long");
        json where = json::object();
        std::string notes;
        for (const auto& [index, values] : dimension_values) {
            if (values.size() < 2) continue;
            // The total of a dimension is what a map of counts wants; NOMIS names it "Total", "All ..." or, for
            // the measures dimension, "Value" (the others are percentages or rates).
            std::string chosen = values.front();
            for (const auto& v : values) {
                if (v == "Total" || v == "Value" || v.rfind("All ", 0) == 0) {
                    chosen = v;
                    break;
                }
            }
            where[header[static_cast<std::size_t>(index)]] = chosen;
            std::string others;
            for (const auto& v : values) {
                if (v != chosen) others += (others.empty() ? "" : ", ") + v;
            }
            notes += header[static_cast<std::size_t>(index)] + ": " + chosen + " chosen (also in the file: " + others + "). ";
            say(file, "dimension " + header[static_cast<std::size_t>(index)] + " has " + std::to_string(values.size()) +
                          " values; " + chosen + " chosen");
        }
        if (!where.empty()) f["where"] = where;
        std::string level, why;
        int vintage = 0;
        const int year = contains_ci(base_name(file), "2011") || contains_ci(base_name(file), "lsoa11") ? 2011 : 0;
        if (!choose_level(file, tally, year, level, vintage, why)) return;
        add_outside(f, tally, level, vintage, file, notes);
        if (!notes.empty()) f["_note"] = trim(notes);
        json ms = json::array();
        for (const auto& m : measures) {
            ms.push_back(json{{"id", slug(m)}, {"title", m}, {"source_names", json::array({m})}});
        }
        if (ms.empty()) ms.push_back(json{{"id", "value"}, {"title", "Value"}});
        std::string period_list;
        for (const auto& p : periods) period_list += (period_list.empty() ? "" : ", ") + p;
        say(file, "NOMIS API CSV: codes in GEOGRAPHY_CODE (" + level + " " + std::to_string(vintage) + ": " + why +
                      "), periods " + period_list + ", " + std::to_string(measures.size()) + " measure(s)");
        const std::string title = measures.empty() ? base_name(file) : measures.front();
        datasets.push_back(dataset_entry(unique_id(slug(title)), title, "ONS / DWP via Nomis", level, vintage, f, ms,
                                         "NOMIS API file; " + why));
    }

    /// Rows outside the store: with a store, set outside_store skip and say how many.
    void add_outside(json& f, const key_tally& tally, const std::string& level, int vintage, const std::string& file,
                     std::string& notes) {
        if (!store.present) return;
        const auto it = tally.hits.find({level, vintage});
        const std::int64_t inside = it == tally.hits.end() ? 0 : it->second;
        if (inside < tally.keys) {
            f["outside_store"] = "skip";
            const std::string n = std::to_string(tally.keys - inside) + " of " + std::to_string(tally.keys) +
                                  " areas are outside the store and will be skipped (counted in the ingest notes)";
            notes += n + ". ";
            say(file, n);
        } else {
            say(file, "all " + std::to_string(tally.keys) + " areas are in the store");
        }
    }

    void nomis_web(const std::string& read_path, const std::string& file, const std::string& member,
                   const std::string& user_path, const std::vector<std::string>& header, const raw_csv& head,
                   std::size_t h, const std::string& title_text) {
        csv_options options;
        options.skip_lines = head.records[h].first - 1;
        options.end_at_blank_line = true;
        csv_reader csv(read_path, options);
        const int code = csv.column("mnemonic");
        key_tally tally;
        std::vector<std::string> fields;
        while (csv.next(fields)) tally.add(store, trim(fields[static_cast<std::size_t>(code)]), false);
        std::string period;
        for (std::size_t i = 0; i < h; ++i) {
            const auto& r = head.records[i].second;
            if (r.size() >= 2 && lower(trim(r[0])).rfind("date", 0) == 0) normalise_period(r[1], period);
        }
        json f = file_entry(user_path, member, "wide");
        f["skip_lines"] = options.skip_lines;
        f["end_at_blank_line"] = true;
        std::string notes = "period " + (period.empty() ? std::string("not found") : period) +
                            " read from the title block's \"date :\" line. ";
        const int year = contains_ci(header.front(), "2011") ? 2011 : contains_ci(header.front(), "2021") ? 2021 : 0;
        std::string level, why;
        int vintage = 0;
        if (!choose_level(file, tally, year, level, vintage, why)) return;
        add_outside(f, tally, level, vintage, file, notes);
        f["_note"] = trim(notes);
        json ms = json::array();
        for (std::size_t i = 0; i < header.size(); ++i) {
            if (static_cast<int>(i) == code || i == 0) continue;
            ms.push_back(json{{"id", slug(header[i])}, {"title", header[i]}, {"column", header[i]}});
        }
        std::string first_title = head.records.front().second.empty() ? base_name(file) : trim(head.records.front().second.front());
        say(file, "NOMIS web download: codes in \"mnemonic\" (" + level + " " + std::to_string(vintage) + ": " + why +
                      "), period " + period + ", footnotes after the first blank line");
        (void)title_text;
        datasets.push_back(dataset_entry(unique_id(slug(first_title)), first_title, "ONS / DWP via Nomis", level, vintage,
                                         f, ms, "NOMIS web download; " + why));
    }

    void wide_table(const std::string& kind, const std::string& read_path, const std::string& file,
                    const std::string& member, const std::string& user_path, const std::vector<std::string>& header,
                    long header_line, int area, bool, bool has_title) {
        csv_options options;
        options.skip_lines = header_line - 1;
        options.end_at_blank_line = has_title;
        csv_reader csv(read_path, options);
        const int date = column_of(header, {"date", "period", "DATE"});
        std::vector<bool> numeric(header.size(), true);
        key_tally tally;
        std::set<std::string> periods;
        std::vector<std::string> fields;
        while (csv.next(fields)) {
            tally.add(store, trim(fields[static_cast<std::size_t>(area)]), false);
            if (date >= 0) periods.insert(trim(fields[static_cast<std::size_t>(date)]));
            for (std::size_t i = 0; i < fields.size(); ++i) {
                const std::string v = trim(fields[i]);
                if (!v.empty() && !std::all_of(v.begin(), v.end(), [](unsigned char c) { return std::isdigit(c); })) numeric[i] = false;
            }
        }
        int year = 0;
        std::string lv;
        int y = 0;
        bool is_name = false;
        if (parse_ons_column(header[static_cast<std::size_t>(area)], lv, y, is_name) && !is_reissued_level(lv)) year = 2000 + y;
        if (contains_ci(file, "census2021")) year = 2021;
        std::string level, why;
        int vintage = 0;
        if (!choose_level(file, tally, year, level, vintage, why)) return;
        json f = file_entry(user_path, member, "wide");
        if (header_line > 1) {
            f["skip_lines"] = header_line - 1;
            f["end_at_blank_line"] = true;
        }
        json columns = json::object();
        columns["area"] = header[static_cast<std::size_t>(area)];
        if (date >= 0) columns["period"] = header[static_cast<std::size_t>(date)];
        f["columns"] = columns;
        std::string notes;
        if (date < 0) {
            notes += "no period column: the file's year is not stated; 2021 written here, change it. ";
            f["period"] = "2021";
        }
        add_outside(f, tally, level, vintage, file, notes);
        if (!notes.empty()) f["_note"] = trim(notes);
        json ms = json::array();
        std::set<std::string> used;
        for (std::size_t i = 0; i < header.size(); ++i) {
            if (static_cast<int>(i) == area || static_cast<int>(i) == date || !numeric[i]) continue;
            std::string id = slug(header[i]);
            for (int n = 2; used.count(id); ++n) id = slug(header[i], 40) + "_" + std::to_string(n);
            used.insert(id);
            ms.push_back(json{{"id", id}, {"title", header[i]}, {"column", header[i]}});
        }
        std::string period_list;
        for (const auto& p : periods) period_list += (period_list.empty() ? "" : ", ") + p;
        say(file, kind + ": codes in \"" + header[static_cast<std::size_t>(area)] + "\" (" + level + " " +
                      std::to_string(vintage) + ": " + why + "), " + std::to_string(ms.size()) + " count columns" +
                      (period_list.empty() ? "" : ", periods " + period_list));
        if (ms.empty()) return;
        datasets.push_back(dataset_entry(unique_id(slug(base_name(member.empty() ? file : member))), base_name(file),
                                         kind == "NOMIS Census bulk" ? "ONS Census 2021 via Nomis" : "(publisher)", level,
                                         vintage, f, ms, kind + "; " + why));
    }

    void statxplore(const std::string& read_path, const std::string& file, const std::string& member,
                    const std::string& user_path, const std::vector<std::string>& header, long header_line,
                    const raw_csv& head, std::size_t h) {
        // The title block says what is counted: "Dataset:","People on Universal Credit", "Counting:", ...
        std::string dataset_title = "Stat-Xplore count", counting;
        for (std::size_t i = 0; i < h; ++i) {
            const auto& r = head.records[i].second;
            if (r.size() < 2) continue;
            if (lower(trim(r[0])) == "dataset:") dataset_title = trim(r[1]);
            if (lower(trim(r[0])) == "counting:") counting = trim(r[1]);
        }
        csv_options options;
        options.skip_lines = header_line - 1;
        options.end_at_blank_line = true;
        csv_reader csv(read_path, options);
        const int area = 0; // Stat-Xplore puts the row field first
        std::vector<std::string> period_columns;
        for (std::size_t i = 1; i < header.size(); ++i) {
            if (is_period(header[i])) period_columns.push_back(header[i]);
        }
        key_tally names, codes;
        std::set<std::string> suppressed, zero;
        bool thousands = false, total_row = false, total_column = false;
        for (const auto& column : header) total_column = total_column || lower(trim(column)) == "total";
        std::vector<std::string> fields;
        while (csv.next(fields)) {
            const std::string key = trim(fields[area]);
            if (lower(key) == "total") {
                total_row = true;
                continue;
            }
            if (looks_like_code(key)) codes.add(store, key, false);
            else names.add(store, key, true);
            for (std::size_t i = 1; i < fields.size(); ++i) {
                const std::string v = trim(fields[i]);
                if (is_suppression_marker(v)) suppressed.insert(v);
                if (v == "-") zero.insert(v);
                if (has_thousands(v)) thousands = true;
            }
        }
        const bool by_name = names.keys > codes.keys;
        const key_tally& tally = by_name ? names : codes;
        std::string level, why;
        int vintage = 0;
        if (by_name && !store.present) {
            say(file, "Stat-Xplore export with area names: give --db STORE so the names can be resolved to codes");
            return;
        }
        if (!choose_level(file, tally, 0, level, vintage, why)) return;
        json f = file_entry(user_path, member, period_columns.empty() ? "wide" : "periods_as_columns");
        f["skip_lines"] = header_line - 1;
        f["end_at_blank_line"] = true;
        f["columns"] = json{{"area", header[area]}};
        std::string notes;
        if (by_name) {
            f["area_names"] = true;
            notes += "areas are named, not coded: resolved through the store's names (an ambiguous name is refused). ";
        }
        if (total_row || total_column) {
            f["drop_totals"] = true;
            notes += "the Total row/column is a sum the server recomputes from the cells: dropped. ";
        }
        if (thousands) f["thousands_separator"] = true;
        if (!suppressed.empty()) {
            f["suppressed"] = json(std::vector<std::string>(suppressed.begin(), suppressed.end()));
            notes += "\"..\" is Stat-Xplore's suppression marker: stored as suppressed by the publisher (no value). ";
        }
        if (!zero.empty()) {
            f["zero"] = json::array({"-"});
            notes += "\"-\" is Stat-Xplore's nil or negligible: stored as 0. ";
        }
        add_outside(f, tally, level, vintage, file, notes);
        f["_note"] = trim(notes);
        json ms = json::array();
        if (period_columns.empty()) {
            for (std::size_t i = 1; i < header.size(); ++i) {
                if (lower(trim(header[i])) == "total") continue;
                ms.push_back(json{{"id", slug(header[i])}, {"title", header[i]}, {"column", header[i]}});
            }
            f["period"] = "2021";
            f["_note"] = trim(notes + "no period in the file: 2021 written here, change it.");
        } else {
            const std::string what = counting.empty() ? dataset_title : counting;
            ms.push_back(json{{"id", contains_ci(what, "people") ? std::string("people") : slug(what)}, {"title", what},
                              {"unit", contains_ci(what, "people") ? "people" : ""}});
        }
        std::string plist;
        for (const auto& p : period_columns) plist += (plist.empty() ? "" : ", ") + p;
        say(file, "Stat-Xplore export: " + std::string(by_name ? "area names" : "area codes") + " in \"" + header[area] +
                      "\" (" + level + " " + std::to_string(vintage) + ": " + why + ")" +
                      (plist.empty() ? "" : ", months as columns: " + plist) +
                      (suppressed.empty() ? "" : ", suppression marker \"..\"") + (zero.empty() ? "" : ", \"-\" for nil") +
                      (thousands ? ", thousands separators" : "") + (total_row ? ", a Total row" : ""));
        datasets.push_back(dataset_entry(unique_id(slug(base_name(file))), dataset_title, "DWP Stat-Xplore", level, vintage,
                                         f, ms, "Stat-Xplore export; " + why));
    }

    /// The ONS Postcode Directory (or an extract with an OA column): a "postcodes" entry. The OAs are those of the
    /// file's OA column; with both oa11 and oa21 the store's OA vintage decides (else 2021).
    void postcode_directory(const std::string& user_path, const std::string& file, const std::vector<std::string>& header) {
        const bool oa21 = column_of(header, {"oa21", "oa21cd"}) >= 0;
        const bool oa11 = column_of(header, {"oa11", "oa11cd"}) >= 0;
        int vintage = oa21 ? 2021 : 2011;
        std::string why = oa21 ? "its oa21 column" : "its oa11 column";
        if (!oa21 && !oa11) {
            // Placed by point in polygon: on the store's OAs when it has one census's, else the latest census's.
            vintage = store.present && store.oa_vintages.size() == 1 ? *store.oa_vintages.begin() : 2021;
            why = std::string(store.present && store.oa_vintages.size() == 1 ? "the store's OAs" : "the latest census (no store given)") +
                  "; no OA column, so each postcode goes to the OA holding its centroid (point in polygon)";
        }
        if (oa21 && oa11 && store.present && store.oa_vintages.count(2011) && !store.oa_vintages.count(2021)) {
            vintage = 2011;
            why = "its oa11 column (the store's OAs are 2011 ones)";
        }
        const bool directory = column_of(header, {"doterm"}) >= 0;
        say(file, "postcodes (ONS Postcode Directory layout or an extract with centroids): a \"postcodes\" entry, vintage " +
                      std::to_string(vintage) + " from " + why + (directory ? "; terminated postcodes (doterm) kept and marked" : ""));
        postcodes.push_back(json{{"path", user_path}, {"vintage", vintage}, {"layout", directory ? "onspd" : "auto"},
                                 {"comment", "vintage " + std::to_string(vintage) + " from " + why}});
    }

    void ons_lookup(const std::string& read_path, const std::string& file, const std::vector<std::string>& header) {
        // A boundary change lookup (LSOA11CD, LSOA21CD, CHGIND): a crosswalk between the two vintages, not a hierarchy.
        {
            std::map<std::string, std::set<int>> years_of_level;
            for (const auto& c : header) {
                std::string lv;
                int y = 0;
                bool is_name = false;
                if (parse_ons_column(c, lv, y, is_name) && !is_name && !is_reissued_level(lv)) years_of_level[lv].insert(y);
            }
            const bool change_column = column_of(header, {"chgind", "chnge"}) >= 0;
            for (const auto& [level, years] : years_of_level) {
                if (years.size() != 2 || !change_column) continue;
                const int from = 2000 + *years.begin(), to = 2000 + *years.rbegin();
                say(file, "ONS boundary change lookup (" + level + " " + std::to_string(from) + " -> " + std::to_string(to) +
                              ", change codes): a \"crosswalks\" entry, so " + std::to_string(from) + " datasets answer on " +
                              std::to_string(to) + " areas with vintage=" + std::to_string(to));
                crosswalks.push_back(json{{"path", file}, {"level", level}, {"from", from}, {"to", to},
                                          {"comment", "change codes U/M exact, S/X apportioned for published data only"}});
                return;
            }
        }
        std::map<int, std::string> census_years;
        std::string detected;
        for (const auto& c : header) {
            std::string lv;
            int y = 0;
            bool is_name = false;
            if (!parse_ons_column(c, lv, y, is_name)) continue;
            detected += (detected.empty() ? "" : ", ") + c;
            if (!is_reissued_level(lv) && !is_name) census_years[y] += lv + " ";
        }
        int vintage = 2021;
        std::string why = "no census-level column: 2021 assumed";
        if (!census_years.empty()) {
            vintage = 2000 + census_years.rbegin()->first;
            why = "from its census-level columns (" + trim(census_years.rbegin()->second) + ")";
            if (census_years.size() > 1) why += "; it also has columns of 20" + std::to_string(census_years.begin()->first) +
                                                " (a change lookup: only the " + std::to_string(vintage) + " ones are read)";
        }
        say(file, "ONS lookup: columns " + detected + "; vintage " + std::to_string(vintage) + " " + why);
        (void)read_path;
        lookups.push_back(json{{"path", file}, {"vintage", vintage}, {"comment", "vintage " + std::to_string(vintage) + " " + why}});
    }
};

} // namespace

inspect_report inspect_files(const std::vector<std::string>& paths, const std::string& db_path) {
    GDALAllRegister();
    inspector in;
    if (!db_path.empty()) {
        in.store.load(db_path);
        in.ids = in.store.dataset_ids; // ingest replaces a dataset of the same id: never pick one by accident
    }
    for (const auto& p : paths) in.inspect(p);
    json manifest = json::object();
    manifest["comment"] = "written by smallarea inspect; check the choices in each \"comment\" and \"_note\"";
    if (!in.boundaries.empty()) manifest["boundaries"] = in.boundaries;
    if (!in.lookups.empty()) manifest["lookups"] = in.lookups;
    if (!in.crosswalks.empty()) manifest["crosswalks"] = in.crosswalks;
    if (!in.postcodes.empty()) manifest["postcodes"] = in.postcodes;
    if (!in.datasets.empty()) manifest["datasets"] = in.datasets;
    inspect_report report;
    report.findings = std::move(in.findings);
    report.manifest = manifest.dump(2) + "\n";
    return report;
}

} // namespace smallarea::data
