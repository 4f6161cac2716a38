// test_golden: the files users get, compared byte for byte with golden files in tests/expected/, from the
// bundled sample ingested into a temporary store:
//   - exports made by the engine exactly as `smallarea export` makes them (engine::export_to_path): a CSV and
//     its CSVW sidecar, a GeoJSON export, the XLSX "About" sheet (read from the workbook's XML with unzip), for
//     the internal dataset (rounded to 20), one percentage-only measure and the published dataset;
//   - one vector tile served by a real server (the tile's properties are put together in server/routes_tiles.cpp,
//     so the served tile is the product), decoded to JSON by mvt_json.hpp.
// On a mismatch the test prints a unified diff (expected -> actual; the actual file is kept under
// build/tests/golden/actual/) and how to regenerate: SMALLAREA_UPDATE_GOLDEN=1 ctest -R golden, then review
// `git diff tests/expected`.
//
// Normalisation (the only differences allowed; each must match exactly as often as stated, or the test fails,
// so a renamed field cannot slip a volatile value into a golden file or silently skip a rule):
//   - CSVW sidecar: the rdfs:comment line "release: N" -> "release: <release>" (the store's data release, which
//     counts ingests) and the revision line "revision: as first published (release N)" likewise;
//   - XLSX About: "Dataset" "ID (release N)" and "Revision" "as first published (release N)" -> "(release
//     <release>)", "Generated" "YYYY-MM-DD by smallarea" -> "<date> by smallarea";
//   - nothing else: the CSV, GeoJSON and tile have no dates, releases or paths (checked: no output contains the
//     temporary folder or the source folder).
// The export file names (which carry the date) are not compared: the CLI writes to the names it is given.

#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include "../server/server_fixture.hpp"

#include "engine/export.hpp"

#include "mvt_json.hpp"

#include <array>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <regex>

using namespace test_fixture;

namespace {

const std::string internal_id = "synthetic_work_programme";
const std::string golden_dir = source_dir + "/tests/expected";

bool updating() {
    const char* v = std::getenv("SMALLAREA_UPDATE_GOLDEN");
    return v && std::string(v) == "1";
}

/// Runs a shell command: (exit status 0, stdout).
std::pair<bool, std::string> run_command(const std::string& command) {
    std::string out;
    FILE* pipe = popen(command.c_str(), "r");
    REQUIRE(pipe);
    std::array<char, 4096> buffer{};
    while (const auto n = fread(buffer.data(), 1, buffer.size(), pipe)) out.append(buffer.data(), n);
    return {pclose(pipe) == 0, out};
}

/// Compares `actual` with tests/expected/NAME byte for byte; with SMALLAREA_UPDATE_GOLDEN=1 writes it instead.
void check_golden(const std::string& name, const std::string& actual) {
    INFO("golden file tests/expected/" << name);
    CHECK_MESSAGE(actual.find(source_dir) == std::string::npos, "the output holds the source folder");
    CHECK_MESSAGE(actual.find(std::filesystem::temp_directory_path().string() + "/smallarea") == std::string::npos,
                  "the output holds a temporary path");
    const std::string expected_path = golden_dir + "/" + name;
    if (updating()) {
        std::filesystem::create_directories(golden_dir);
        write_text(expected_path, actual);
        MESSAGE("wrote tests/expected/" << name << " (" << actual.size() << " bytes)");
        return;
    }
    const std::string regenerate = "regenerate with: SMALLAREA_UPDATE_GOLDEN=1 ctest -R golden (in build/), then review "
                                   "`git diff tests/expected`";
    if (!std::filesystem::exists(expected_path)) {
        FAIL_CHECK("tests/expected/" << name << " does not exist; " << regenerate);
        return;
    }
    const std::string expected = read_text(expected_path);
    if (expected == actual) return;
    const std::string actual_dir = SMALLAREA_GOLDEN_ACTUAL_DIR;
    std::filesystem::create_directories(actual_dir);
    const std::string actual_path = actual_dir + "/" + name;
    write_text(actual_path, actual);
    const auto diff = run_command("diff -u '" + expected_path + "' '" + actual_path + "' | head -n 120");
    FAIL_CHECK("differs from tests/expected/" << name << " (" << expected.size() << " bytes expected, " << actual.size()
                                              << " actual, kept at " << actual_path << "):\n"
                                              << diff.second << "\n" << regenerate);
}

/// Replaces what `pattern` matches with `replacement`, requiring exactly `times` matches.
std::string normalise(const std::string& text, const std::string& pattern, const std::string& replacement, std::size_t times,
                      const std::string& what) {
    const std::regex re(pattern);
    const auto matches = static_cast<std::size_t>(std::distance(std::sregex_iterator(text.begin(), text.end(), re), std::sregex_iterator()));
    CHECK_MESSAGE(matches == times, "normalisation of " << what << ": " << matches << " matches of " << pattern << ", expected " << times);
    return std::regex_replace(text, re, replacement);
}

/// What `smallarea export` writes for r: the file and (CSV) its sidecar, from the sample store.
struct exported {
    std::string bytes;
    std::string sidecar; ///< FILE-metadata.json for CSV, else empty
};

exported export_file(smallarea::engine::export_request r, const std::string& file_name) {
    temp_dir dir;
    const std::string out = dir.file(file_name);
    smallarea::engine::export_to_path(sample_store(), r, out);
    exported e;
    e.bytes = read_text(out);
    if (std::filesystem::exists(out + "-metadata.json")) e.sidecar = read_text(out + "-metadata.json");
    return e;
}

smallarea::engine::export_request request(const std::string& dataset, const std::string& measure, const std::string& period,
                                          const std::string& level, const std::string& within, const std::string& format) {
    smallarea::engine::export_request r;
    r.dataset = dataset;
    r.measure = measure;
    r.period = period;
    r.level = level;
    r.within = within;
    r.format = format;
    return r;
}

std::string xml_unescape(std::string s) {
    s = replace_all(s, "&lt;", "<");
    s = replace_all(s, "&gt;", ">");
    s = replace_all(s, "&quot;", "\"");
    s = replace_all(s, "&apos;", "'");
    return replace_all(s, "&amp;", "&");
}

/// The text of every <t> element inside [from, to) of xml, concatenated (rich text runs are several).
std::string text_of(const std::string& xml, std::size_t from, std::size_t to) {
    std::string out;
    for (std::size_t t = xml.find("<t", from); t != std::string::npos && t < to; t = xml.find("<t", t + 1)) {
        if (xml[t + 2] != '>' && xml[t + 2] != ' ') continue; // <tableParts> and the like
        const auto open = xml.find('>', t) + 1;
        const auto close = xml.find("</t>", open);
        out += xml.substr(open, close - open);
        t = close;
    }
    return xml_unescape(out);
}

/// One sheet of an XLSX, by name, as rows of cell texts (shared and inline strings; numbers as written), read
/// from the workbook's XML with unzip: workbook.xml names the sheet, its relationship gives the part.
std::vector<std::vector<std::string>> xlsx_sheet(const std::string& bytes, const std::string& sheet_name) {
    temp_dir dir;
    const std::string path = dir.file("book.xlsx");
    write_text(path, bytes);
    auto part = [&](const std::string& name) {
        const auto r = run_command("unzip -p '" + path + "' '" + name + "'");
        REQUIRE_MESSAGE(r.first, "no " << name << " in the workbook");
        return r.second;
    };
    const std::string workbook = part("xl/workbook.xml");
    std::smatch m;
    REQUIRE_MESSAGE(std::regex_search(workbook, m, std::regex("<sheet [^>]*name=\"" + sheet_name + "\"[^>]*r:id=\"([^\"]+)\"")),
                    "no sheet " << sheet_name);
    const std::string rid = m[1];
    const std::string rels = part("xl/_rels/workbook.xml.rels");
    REQUIRE(std::regex_search(rels, m, std::regex("<Relationship [^>]*Id=\"" + rid + "\"[^>]*Target=\"([^\"]+)\"")));
    const std::string sheet = part("xl/" + m[1].str());
    std::vector<std::string> strings;
    const auto shared = run_command("unzip -p '" + path + "' xl/sharedStrings.xml");
    if (shared.first) {
        const std::string& x = shared.second;
        for (std::size_t pos = x.find("<si>"); pos != std::string::npos; pos = x.find("<si>", pos + 1)) {
            strings.push_back(text_of(x, pos, x.find("</si>", pos)));
        }
    }
    std::vector<std::vector<std::string>> rows;
    for (std::size_t pos = sheet.find("<row"); pos != std::string::npos; pos = sheet.find("<row", pos + 1)) {
        const auto end = sheet.find("</row>", pos);
        std::vector<std::string> row;
        for (std::size_t c = sheet.find("<c ", pos); c != std::string::npos && c < end; c = sheet.find("<c ", c + 1)) {
            const auto tag_end = sheet.find('>', c);
            const std::string attrs = sheet.substr(c, tag_end - c);
            std::size_t column = 0;
            for (std::size_t k = attrs.find("r=\"") + 3; k < attrs.size() && std::isalpha(static_cast<unsigned char>(attrs[k])); ++k) {
                column = column * 26 + static_cast<std::size_t>(attrs[k] - 'A' + 1);
            }
            std::string value;
            if (attrs.back() != '/') {
                const auto cell_end = sheet.find("</c>", tag_end);
                const auto v = sheet.find("<v>", tag_end);
                if (attrs.find("t=\"inlineStr\"") != std::string::npos) {
                    value = text_of(sheet, tag_end, cell_end);
                } else if (v != std::string::npos && v < cell_end) {
                    value = sheet.substr(v + 3, sheet.find("</v>", v) - v - 3);
                    if (attrs.find("t=\"s\"") != std::string::npos) value = strings.at(std::stoul(value));
                    else value = xml_unescape(value);
                }
            }
            if (row.size() < column) row.resize(column);
            row[column - 1] = value;
        }
        rows.push_back(row);
    }
    return rows;
}

/// The About sheet as JSON text: one [label, text] line per row.
std::string about_json(const std::string& xlsx) {
    std::string out = "[\n";
    const auto rows = xlsx_sheet(xlsx, "About");
    REQUIRE(rows.size() > 10);
    for (std::size_t i = 0; i < rows.size(); ++i) {
        REQUIRE_MESSAGE(rows[i].size() == 2, "About row " << i + 1 << " has " << rows[i].size() << " cells");
        out += "  " + nlohmann::json(rows[i]).dump() + (i + 1 < rows.size() ? ",\n" : "\n");
    }
    return out + "]\n";
}

std::string normalise_sidecar(const std::string& sidecar) {
    const auto out = normalise(sidecar, R"("release: [0-9]+")", "\"release: <release>\"", 1, "the CSVW release line");
    return normalise(out, R"re("revision: as first published \(release [0-9]+\)")re", "\"revision: as first published (release <release>)\"", 1,
                     "the CSVW revision line");
}

std::string normalise_about(const std::string& about) {
    auto out = normalise(about, R"re(\(release [0-9]+\)")re", "(release <release>)\"", 2,
                         "the About sheet's Dataset and Revision releases");
    return normalise(out, R"("[0-9]{4}-[0-9]{2}-[0-9]{2} by smallarea")", "\"<date> by smallarea\"", 1, "the About sheet's Generated date");
}

} // namespace

TEST_CASE("golden - export: internal referrals at OA level within an LSOA as CSV + CSVW, GeoJSON and the XLSX About sheet") {
    const auto csv = export_file(request(internal_id, "referrals", "2017-10", "oa", "E01005061", "csv"), "referrals.csv");
    check_golden("export_referrals_oa_E01005061.csv", csv.bytes);
    REQUIRE_FALSE(csv.sidecar.empty());
    check_golden("export_referrals_oa_E01005061.csv-metadata.json", normalise_sidecar(csv.sidecar));

    const auto geojson = export_file(request(internal_id, "referrals", "2017-10", "oa", "E01005061", "geojson"), "referrals.geojson");
    check_golden("export_referrals_oa_E01005061.geojson", geojson.bytes);

    const auto xlsx = export_file(request(internal_id, "referrals", "2017-10", "oa", "E01005061", "xlsx"), "referrals.xlsx");
    check_golden("export_referrals_oa_E01005061.xlsx-about.json", normalise_about(about_json(xlsx.bytes)));
}

TEST_CASE("golden - export: a percentage-only measure (no volumes) and the published claimant count by district, as CSV") {
    // by district with the total: percentages over the served cells only (suppressed cells leave every aggregate)
    auto percent_request = request(internal_id, "job_outcomes_group_a", "2017-10", "lad", "", "csv");
    percent_request.options.totals = true;
    const auto percent = export_file(percent_request, "percent.csv");
    check_golden("export_job_outcomes_group_a_lad_totals.csv", percent.bytes);
    auto totals = request("claimant_count", "claimants", "2017-10", "lad", "", "csv");
    totals.options.totals = true;
    const auto published = export_file(totals, "claimants.csv");
    check_golden("export_claimants_lad_totals.csv", published.bytes);
    check_golden("export_claimants_lad_totals.csv-metadata.json", normalise_sidecar(published.sidecar));
}

TEST_CASE("golden - tile: the served MVT of internal referrals at OA level, decoded") {
    test_server server(copy_of_sample, [](smallarea::server::server_config& c) { c.rate_limit_per_second = 0; });
    const httplib::Headers key{{"Authorization", "Bearer " + server.mint_key("golden")}};
    // zoom 15 over Manchester 018A (E01005061): a few dozen OAs, some cut by the tile edge
    const std::string path = "/tiles/oa/15/16183/10602.mvt?dataset=" + internal_id + "&measure=referrals&period=2017-10";
    const auto r = server.request("GET", path, {}, key);
    INFO(path << " -> " << r->status);
    REQUIRE(r->status == 200);
    CHECK(r->get_header_value("Content-Type") == "application/vnd.mapbox-vector-tile");
    check_golden("tile_oa_15_16183_10602_referrals.json", mvt_json::decode(r->body));
}
