// test_engine: the engine's pure service functions, without a store or HTTP: class breaks, the target ranking,
// query refusals on user-defined areas, the encoders' labels, columns and CSV quoting, styles, OGC datetime
// mapping and the tile cache. Protected tables are made in memory with disclosure::protect (engine_tables.hpp).

#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include "core/error.hpp"
#include "engine/bespoke.hpp"
#include "engine/breaks.hpp"
#include "engine/catalog.hpp"
#include "engine/change.hpp"
#include "engine/classes.hpp"
#include "engine/encode.hpp"
#include "engine/encode_csv.hpp"
#include "engine/encode_xlsx.hpp"
#include "engine/export.hpp"
#include "engine/ogc.hpp"
#include "engine/ogc_api.hpp"
#include "engine/styles.hpp"
#include "engine/tile_cache.hpp"
#include "engine/tile_export.hpp"

#include "engine_tables.hpp"

#include <cmath>
#include <limits>
#include <string>
#include <vector>

using namespace engine_tables;
using smallarea::engine::break_method;
using smallarea::engine::compute_breaks;
using nlohmann::json;

namespace {

/// The code of the smallarea::error f throws ("" when it throws none).
template <typename F>
std::string error_code_of(F&& f) {
    try {
        f();
    } catch (const smallarea::error& e) {
        return e.code();
    }
    return "";
}

const std::vector<break_method> every_method{break_method::quantile, break_method::equal, break_method::jenks};

disclosure::raw_row cell(const std::string& code, std::optional<std::int64_t> households, std::optional<std::int64_t> value,
                         std::optional<std::int64_t> denominator = std::nullopt) {
    return disclosure::raw_row{code, "name of " + code, households, value, denominator};
}

} // namespace

// ---------------------------------------------------------------------------------------------------------------
// compute_breaks

TEST_CASE("breaks - k-1 and k distinct values give each value as a break; k+1 give k breaks ending at the maximum") {
    for (const auto method : every_method) {
        INFO("method " << static_cast<int>(method));
        CHECK(compute_breaks({10, 20, 30, 40}, 5, method) == std::vector<double>{10, 20, 30, 40});     // k-1
        CHECK(compute_breaks({50, 10, 30, 20, 40}, 5, method) == std::vector<double>{10, 20, 30, 40, 50}); // k
        const auto six = compute_breaks({10, 20, 30, 40, 50, 60}, 5, method);                      // k+1
        CHECK(six.size() == 5);
        CHECK(six.back() == 60);
        for (std::size_t i = 1; i < six.size(); ++i) CHECK(six[i - 1] < six[i]);
    }
}

TEST_CASE("breaks - each method's upper bounds on a known series") {
    const std::vector<double> values{1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
    CHECK(compute_breaks(values, 5, break_method::quantile) == std::vector<double>{2, 4, 6, 8, 10});
    CHECK(compute_breaks(values, 4, break_method::equal) == std::vector<double>{3.25, 5.5, 7.75, 10});
    // Two clusters far apart: Fisher-Jenks puts the break between them.
    CHECK(compute_breaks({1, 2, 3, 100, 101, 102}, 2, break_method::jenks) == std::vector<double>{3, 102});
}

TEST_CASE("breaks - ties: repeated values never give two equal breaks") {
    // five distinct values, four classes (five would give the distinct values themselves)
    const std::vector<double> mostly_zero{0, 0, 0, 0, 0, 0, 0, 0, 20, 40, 60, 80};
    for (const auto method : every_method) {
        const auto b = compute_breaks(mostly_zero, 4, method);
        INFO("method " << static_cast<int>(method));
        REQUIRE_FALSE(b.empty());
        CHECK(b.back() == 80);
        for (std::size_t i = 1; i < b.size(); ++i) CHECK(b[i - 1] < b[i]);
    }
    // quantiles over the ties: the first two classes both end at 0, so they merge into one break
    CHECK(compute_breaks(mostly_zero, 4, break_method::quantile) == std::vector<double>{0, 20, 80});
    // as many distinct values as classes once ties are removed: the distinct values themselves
    CHECK(compute_breaks({5, 5, 5, 10, 10, 15}, 3, break_method::quantile) == std::vector<double>{5, 10, 15});
}

TEST_CASE("breaks - all null (non-finite), no values, one value, fewer than one class") {
    const double nan = std::numeric_limits<double>::quiet_NaN();
    const double inf = std::numeric_limits<double>::infinity();
    for (const auto method : every_method) {
        CHECK(compute_breaks({}, 5, method).empty());
        CHECK(compute_breaks({nan, nan, inf, -inf}, 5, method).empty());
        CHECK(compute_breaks({7}, 5, method) == std::vector<double>{7});
        CHECK(compute_breaks({7, 7, 7, nan}, 5, method) == std::vector<double>{7});
        CHECK(compute_breaks({1, 2, 3}, 0, method).empty());
        CHECK(compute_breaks({1, 2, 3}, -1, method).empty());
    }
    // non-finite values are left out, not counted as classes
    CHECK(compute_breaks({nan, 1, 2, inf, 3}, 5, break_method::quantile) == std::vector<double>{1, 2, 3});
}

TEST_CASE("breaks - method names; anything else is 400 InvalidMethod") {
    CHECK(smallarea::engine::parse_break_method("") == break_method::quantile);
    CHECK(smallarea::engine::parse_break_method("quantile") == break_method::quantile);
    CHECK(smallarea::engine::parse_break_method("equal") == break_method::equal);
    CHECK(smallarea::engine::parse_break_method("jenks") == break_method::jenks);
    CHECK_THROWS_AS(smallarea::engine::parse_break_method("Jenks"), smallarea::bad_request);
    CHECK(error_code_of([] { smallarea::engine::parse_break_method("natural"); }) == "InvalidMethod");
}

// ---------------------------------------------------------------------------------------------------------------
// rank_targets

TEST_CASE("targets - the household band is inclusive at both ends (k-1, k, k+1); rows without a rate are left out") {
    const auto d = internal_dataset();
    // rounded to 20: 30 -> 40, 40 -> 40, 10 -> 20, 48 -> 40
    const auto t = protect(d, "referrals",
                           {cell("A", 99, 30), cell("B", 100, 40), cell("C", 150, 10), cell("D", 151, 100), cell("E", 120, 48),
                            cell("F", 100, 40), cell("G", 125, std::nullopt), cell("H", std::nullopt, 20)});
    const auto sel = smallarea::engine::rank_targets(t, 100, 150, 20, "");
    // B and F tie on the rate (40.00): code order. Then E (33.33), C (13.33). A, D out of the band; G no value;
    // H no households.
    REQUIRE(sel.picked == std::vector<std::size_t>{1, 5, 4, 2});
    CHECK(sel.eligible == 4);
    CHECK(sel.min_households == 100);
    CHECK(sel.max_households == 150);
    CHECK(sel.ranked_by == "rate per 100 households of the protected value");
    CHECK(sel.note.empty()); // an OA dataset is ranked at OA level

    // Intervals of the protected rate given value +- uncertainty (10 for base 20), per 100 households.
    CHECK(sel.low == std::vector<double>{30, 30, 25, 6.67});
    CHECK(sel.high == std::vector<double>{50, 50, 41.67, 20});
    // B, F and E overlap in a chain, C does not reach E: two bands.
    CHECK(sel.tied_with_next == std::vector<bool>{true, true, false, false});
    CHECK(sel.band == std::vector<std::int64_t>{1, 1, 1, 2});
    CHECK(sel.bands == 2);
    CHECK(sel.ties_note.find("the 4 areas fall into 2 band(s)") == 0);

    // a one-household band at each edge: k = 100 and k = 150 are in, 99 and 151 only in their own bands
    CHECK(smallarea::engine::rank_targets(t, 150, 150, 20, "").picked == std::vector<std::size_t>{2});
    CHECK(smallarea::engine::rank_targets(t, 99, 99, 20, "").picked == std::vector<std::size_t>{0});
    CHECK(smallarea::engine::rank_targets(t, 151, 151, 20, "").picked == std::vector<std::size_t>{3});
    CHECK(smallarea::engine::rank_targets(t, 101, 119, 20, "").picked.empty());
}

TEST_CASE("targets - the limit keeps the top N of the eligible; a negative limit keeps all; lo > hi is 400") {
    const auto d = internal_dataset();
    const auto t = protect(d, "referrals", {cell("A", 100, 20), cell("B", 100, 40), cell("C", 100, 60), cell("D", 100, 80)});
    const auto top2 = smallarea::engine::rank_targets(t, 0, 1000, 2, "E08000003");
    CHECK(top2.picked == std::vector<std::size_t>{3, 2});
    CHECK(top2.eligible == 4);
    CHECK(top2.within == "E08000003");
    CHECK(top2.limit == 2);
    CHECK(smallarea::engine::rank_targets(t, 0, 1000, 0, "").picked.empty());
    CHECK(smallarea::engine::rank_targets(t, 0, 1000, -1, "").picked.size() == 4);
    // 20 apart with +-10 each: every interval touches the next (low <= high), so one band
    const auto all = smallarea::engine::rank_targets(t, 0, 1000, 4, "");
    CHECK(all.bands == 1);
    CHECK_THROWS_AS(smallarea::engine::rank_targets(t, 151, 150, 20, ""), smallarea::bad_request);
    CHECK(error_code_of([&] { smallarea::engine::rank_targets(t, 151, 150, 20, ""); }) == "InvalidParameter");
}

TEST_CASE("targets - distinct bands get no ties note; an empty selection has no bands") {
    const auto d = internal_dataset();
    const auto t = protect(d, "referrals", {cell("A", 100, 20), cell("B", 100, 100), cell("C", 100, 200)});
    const auto sel = smallarea::engine::rank_targets(t, 0, 1000, 20, "");
    CHECK(sel.band == std::vector<std::int64_t>{1, 2, 3});
    CHECK(sel.bands == 3);
    CHECK(sel.ties_note.empty());
    const auto none = smallarea::engine::rank_targets(t, 500, 600, 20, "");
    CHECK(none.picked.empty());
    CHECK(none.bands == 0);
    CHECK(none.ties_note.empty());
}

TEST_CASE("targets - a percentage-only measure ranks by whole percent +- 0.5; suppressed cells are left out") {
    const auto d = internal_dataset();
    // percent = whole percent of value / denominator, suppressed where the denominator is below 10
    const auto t = protect(d, "job_outcomes_group_a",
                           {cell("A", 120, 5, 10), cell("B", 120, 1, 9), cell("C", 120, 3, 20), cell("D", 120, 1, 2),
                            cell("E", 120, 11, 20)});
    const auto sel = smallarea::engine::rank_targets(t, 100, 150, 20, "");
    CHECK(sel.ranked_by == "percent (a percentage-only measure is ranked by its percentage)");
    REQUIRE(sel.picked == std::vector<std::size_t>{4, 0, 2}); // 55, 50, 15; B and D suppressed
    CHECK(sel.low == std::vector<double>{54.5, 49.5, 14.5});
    CHECK(sel.high == std::vector<double>{55.5, 50.5, 15.5});
    CHECK(sel.bands == 3);
}

TEST_CASE("targets - an LSOA-only dataset is ranked at LSOA level with a note, never apportioned") {
    const auto d = published_dataset();
    const auto t = protect(d, "claimants", {cell("L1", 600, 25), cell("L2", 700, 35)}, "2017-09");
    const auto sel = smallarea::engine::rank_targets(t, 0, 1000, 20, "");
    CHECK(sel.picked == std::vector<std::size_t>{1, 0});
    CHECK(sel.note.find("published at lsoa level only") != std::string::npos);
    CHECK(sel.note.find("never apportioned") != std::string::npos);
    // published, rounded by the publisher to 5: uncertainty 2.5 per cell
    CHECK(sel.low[0] == doctest::Approx(4.64).epsilon(1e-9));  // (35 - 2.5) / 700
    CHECK(sel.high[0] == doctest::Approx(5.36).epsilon(1e-9)); // (35 + 2.5) / 700
}

// ---------------------------------------------------------------------------------------------------------------
// Query validation that needs no snapshot

TEST_CASE("query - percentage-only measures are refused on user-defined areas, counts are not") {
    const auto d = internal_dataset();
    engine::table_query q;
    q.dataset = &d;
    q.measure = d.find_measure("job_outcomes_group_a");
    CHECK_NOTHROW(engine::refuse_percentages_on_user_areas(q)); // a standard geography
    q.within_bespoke = "abc";
    CHECK(error_code_of([&] { engine::refuse_percentages_on_user_areas(q); }) == "PercentageOnly");
    CHECK_THROWS_AS(engine::refuse_percentages_on_user_areas(q), smallarea::disclosure_refused);
    q.within_bespoke.clear();
    q.groups.push_back({"abc", {0, 1}});
    CHECK(error_code_of([&] { engine::refuse_percentages_on_user_areas(q); }) == "PercentageOnly");
    q.measure = d.find_measure("referrals");
    CHECK_NOTHROW(engine::refuse_percentages_on_user_areas(q));
    q.within_bespoke = "abc";
    CHECK_NOTHROW(engine::refuse_percentages_on_user_areas(q));
}

TEST_CASE("query - rows_by_area inverts row_areas") {
    const auto d = internal_dataset();
    auto t = protect(d, "referrals", {cell("A", 100, 20), cell("B", 100, 40)});
    t.row_areas = {3, 1};
    CHECK(engine::rows_by_area(t, 5) == std::vector<std::int32_t>{-1, 1, -1, 0, -1});
}

TEST_CASE("export - formats, bespoke id lists") {
    for (const char* f : {"csv", "xlsx", "geojson", "gpkg"}) CHECK(engine::check_export_format(f) == f);
    for (const char* f : {"", "CSV", "json", "shp"}) {
        CHECK(error_code_of([&] { engine::check_export_format(f); }) == "UnsupportedFormat");
    }
    CHECK_THROWS_AS(engine::check_export_format("xls"), smallarea::unsupported_format);
    CHECK(engine::split_ids("a") == std::vector<std::string>{"a"});
    CHECK(engine::split_ids("a,b,,c") == std::vector<std::string>{"a", "b", "", "c"});
    CHECK(engine::split_ids("") == std::vector<std::string>{""});
    CHECK(engine::split_ids("a,") == std::vector<std::string>{"a", ""});
}

// ---------------------------------------------------------------------------------------------------------------
// Encoders: classification labels, rule statements, JSON rows

TEST_CASE("encoders - classification labels: published with its licence (never public domain), internal MI") {
    auto published = published_dataset();
    CHECK(engine::classification_label(published) == "Published (Open Government Licence v3.0)");
    published.licence.clear();
    CHECK(engine::classification_label(published) == "Published");
    auto internal = internal_dataset();
    CHECK(engine::classification_label(internal) == "Internal MI: not for onward sharing");
    internal.licence = "Open Government Licence v3.0"; // a licence does not make internal MI published
    CHECK(engine::classification_label(internal) == "Internal MI: not for onward sharing");

    const auto block = engine::disclosure_json(published_dataset());
    CHECK(block["classification"] == "published");
    CHECK(block["label"] == "Published (Open Government Licence v3.0)");
    CHECK(block["rounding_base"] == 5);
    CHECK(block["rounded_by"] == "publisher");
    CHECK(block["rule"] == disclosure::describe(published_dataset().policy));
    const auto internal_block = engine::disclosure_json(internal_dataset());
    CHECK(internal_block["classification"] == "internal");
    CHECK(internal_block["label"] == "Internal MI: not for onward sharing");
    CHECK(internal_block["rounded_by"] == "smallarea");
    CHECK(internal_block["percent_min_denominator"] == 10);
}

TEST_CASE("encoders - dataset metadata never lists the percentage base") {
    const auto j = engine::dataset_json(internal_dataset());
    CHECK(j["classification"] == "internal");
    CHECK(j["release"] == 7);
    REQUIRE(j["measures"].size() == 2);
    CHECK(j["measures"][0]["id"] == "referrals");
    CHECK(j["measures"][0]["denominator"] == "households");
    CHECK(j["measures"][1]["id"] == "job_outcomes_group_a");
    CHECK(j["measures"][1]["kind"] == "percent_only");
    CHECK(j["measures"][1]["percent_of"] == "job_outcomes_total");
    CHECK(j.dump().find("\"job_outcomes_total\",\"kind\"") == std::string::npos);
    CHECK_FALSE(j.contains("coverage")); // only with a snapshot
}

TEST_CASE("encoders - a protected row as JSON: counts carry value/rate/uncertainty, percentages only percent") {
    const auto d = internal_dataset();
    const auto counts = protect(d, "referrals", {cell("A", 128, 29), cell("B", std::nullopt, std::nullopt)});
    const auto a = engine::protected_row_json(counts.table.rows()[0], false);
    CHECK(a["value"] == 20);
    CHECK(a["rate_per_100_households"] == 15.63); // 20 per 128, halves up
    CHECK(a["rate_value"] == 20);
    CHECK(a["rate_households"] == 128);
    CHECK(a["uncertainty"] == 10.0);
    CHECK(a["rounding_dominates"] == true); // 10 * 2 >= 20
    CHECK(a["complete"] == true);
    const auto b = engine::protected_row_json(counts.table.rows()[1], false);
    CHECK(b["value"].is_null());
    CHECK(b["households"].is_null()); // unknown, never 0
    CHECK(b["missing"] == true);
    CHECK(b["complete"] == false);
    CHECK(b["households_complete"] == false);
    CHECK(engine::any_rounding_dominates(counts));
    CHECK_FALSE(engine::any_rounding_dominates(protect(d, "referrals", {cell("A", 100, 200)})));

    const auto percent = protect(d, "job_outcomes_group_a", {cell("A", 100, 1, 8)});
    const auto p = engine::protected_row_json(percent.table.rows()[0], true);
    CHECK_FALSE(p.contains("value"));
    CHECK_FALSE(p.contains("rate_per_100_households"));
    CHECK_FALSE(p.contains("uncertainty"));
    CHECK(p["percent"].is_null()); // base 8 < 10: suppressed
    CHECK(p["suppressed"] == true);
}

TEST_CASE("encoders - uncertainty notes: base/2 per cell, halves for odd bases, none unrounded, percentages") {
    const auto internal = internal_dataset();
    CHECK(engine::uncertainty_note(protect(internal, "referrals", {cell("A", 100, 20)})).find("within +/-10 of it") != std::string::npos);
    const auto published = published_dataset();
    CHECK(engine::uncertainty_note(protect(published, "claimants", {cell("A", 100, 20)}, "2017-09")).find("within +/-2.5 of it") !=
          std::string::npos);
    auto unrounded = published_dataset();
    unrounded.policy.rounding_base = 1;
    CHECK(engine::uncertainty_note(protect(unrounded, "claimants", {cell("A", 100, 20)}, "2017-09")) ==
          "Values are not rounded: the uncertainty column is 0.");
    CHECK(engine::uncertainty_note(protect(internal, "job_outcomes_group_a", {cell("A", 100, 1, 10)})).find("no volumes are released") !=
          std::string::npos);
}

// ---------------------------------------------------------------------------------------------------------------
// CSV quoting, columns, periods, options

TEST_CASE("csv - fields are quoted only when they hold a comma, quote or line break; formulas are defused") {
    CHECK(engine::csv_field("") == "");
    CHECK(engine::csv_field("Manchester 001A") == "Manchester 001A");
    CHECK(engine::csv_field("a,b") == "\"a,b\"");
    CHECK(engine::csv_field("say \"hi\"") == "\"say \"\"hi\"\"\"");
    CHECK(engine::csv_field("\"") == "\"\"\"\"");
    CHECK(engine::csv_field("two\nlines") == "\"two\nlines\"");
    CHECK(engine::csv_field("cr\rhere") == "\"cr\rhere\"");
    CHECK(engine::csv_field("Ynys Môn") == "Ynys Môn"); // UTF-8 passes through
    // a leading = + - @ would be evaluated by a spreadsheet: prefixed with '
    CHECK(engine::csv_field("=HYPERLINK(\"x\")") == "\"'=HYPERLINK(\"\"x\"\")\"");
    CHECK(engine::csv_field("=1+1") == "'=1+1");
    CHECK(engine::csv_field("+44") == "'+44");
    CHECK(engine::csv_field("-5") == "'-5");
    CHECK(engine::csv_field("@SUM(A1)") == "'@SUM(A1)");
    CHECK(engine::csv_field("=a,b") == "\"'=a,b\"");
    CHECK(engine::csv_field("a=b") == "a=b"); // only a leading one
}

TEST_CASE("csv - a layout's rows: labels quoted, numbers unquoted, null empty, the classification on every row") {
    const auto d = internal_dataset();
    const auto t = protect(d, "referrals", {cell("E00000001", 128, 29), cell("E00000002", std::nullopt, std::nullopt)});
    engine::row_layout layout;
    layout.label_header = {"code", "name", "rank", "rate_low"};
    layout.rows.push_back({{std::string("E00000001"), std::string("Smith, \"Old\" Town"), std::int64_t{1}, 7.8125},
                           &t.table.rows()[0]});
    layout.rows.push_back({{std::string("E00000002"), std::string("=cmd"), std::int64_t{2}, 0.0}, &t.table.rows()[1]});
    layout.rows.push_back({{std::string("total"), std::string("Total"), std::int64_t{0}, 0.0}, &t.table.total()});
    const auto csv = engine::layout_csv(t, layout);
    CHECK(csv ==
          "code,name,rank,rate_low,period,period_name,classification,households,referrals,referrals_per_100_households,"
          "uncertainty,suppressed,missing,cells,cells_with_value,complete,households_complete,rounding_dominates\n"
          "E00000001,\"Smith, \"\"Old\"\" Town\",1,7.81,2017-10,October 2017,Internal MI: not for onward sharing,128,20,15.63,"
          "10.00,false,false,1,1,true,true,true\n"
          "E00000002,'=cmd,2,0.00,2017-10,October 2017,Internal MI: not for onward sharing,,,,0.00,false,true,1,0,false,false,false\n"
          "total,Total,0,0.00,2017-10,October 2017,Internal MI: not for onward sharing,128,20,15.63,10.00,false,false,2,1,false,false,"
          "true\n");

    // The '#' preamble (preamble=comments) names dataset, release, rule; the header follows it.
    engine::file_options comments;
    comments.comments = true;
    const auto with_preamble = engine::layout_csv(t, layout, comments);
    CHECK(with_preamble.rfind("# dataset: Work programme (mi, release 7)\n", 0) == 0);
    CHECK(with_preamble.find("# classification: internal: Internal MI: not for onward sharing\n") != std::string::npos);
    CHECK(with_preamble.find("# note: rounding dominates") != std::string::npos);
    CHECK(with_preamble.find("\ncode,name,rank,rate_low,") != std::string::npos);
}

TEST_CASE("csv - the columns of a percentage-only measure carry no volume, rate or uncertainty") {
    const auto d = internal_dataset();
    const auto t = protect(d, "job_outcomes_group_a", {cell("A", 100, 5, 10)});
    engine::row_layout layout;
    layout.label_header = {"code"};
    layout.rows.push_back({{std::string("A")}, &t.table.rows()[0]});
    std::vector<std::string> names;
    for (const auto& c : engine::file_columns(t, layout)) names.push_back(c.name);
    CHECK(names == std::vector<std::string>{"code", "period", "period_name", "classification", "households", "job_outcomes_group_a_percent",
                                            "suppressed", "missing", "cells", "cells_with_value", "complete", "households_complete"});
    CHECK(engine::layout_csv(t, layout) ==
          "code,period,period_name,classification,households,job_outcomes_group_a_percent,suppressed,missing,cells,cells_with_value,"
          "complete,households_complete\nA,2017-10,October 2017,Internal MI: not for onward sharing,100,50,false,false,1,1,true,true\n");
}

TEST_CASE("csv - label column datatypes come from the first non-empty cell; a measure named like a fixed column is prefixed") {
    auto d = internal_dataset();
    d.measures[0].id = "households";
    const auto t = protect(d, "households", {cell("A", 100, 20)});
    CHECK(engine::value_column(t) == "value_households");
    engine::row_layout layout;
    layout.label_header = {"code", "tied_with_next", "band", "rate_low", "empty"};
    layout.rows.push_back({{std::string("A"), std::string("true"), std::int64_t{1}, 2.5, std::string()}, &t.table.rows()[0]});
    const auto columns = engine::file_columns(t, layout);
    CHECK(columns[0].datatype == "string");
    CHECK(columns[1].datatype == "boolean");
    CHECK(columns[2].datatype == "integer");
    CHECK(columns[3].datatype == "decimal");
    CHECK(columns[4].datatype == "string");
    CHECK(columns[2].description == "rows sharing a band are within the rounding error of each other");
    d.measures[0].id = "job starts";
    CHECK(engine::value_column(protect(d, "job starts", {cell("A", 100, 20)})) == "job_starts");
}

TEST_CASE("csv - the CSVW sidecar: the classification label, licence link, rule, and a primary key unless a total row") {
    const auto d = published_dataset();
    const auto t = protect(d, "claimants", {cell("L1", 600, 25)}, "2017-09");
    engine::row_layout layout;
    layout.label_header = {"code", "name"};
    layout.rows.push_back({{std::string("L1"), std::string("One")}, &t.table.rows()[0]});
    layout.geography = "lsoa 2011";
    const auto meta = engine::csv_metadata(t, layout, {}, "table.csv");
    CHECK(meta["url"] == "table.csv");
    CHECK(meta["dc:accessRights"] == "Published (Open Government Licence v3.0)");
    CHECK(meta["dc:license"]["@id"] == "https://www.nationalarchives.gov.uk/doc/open-government-licence/version/3/");
    CHECK(meta["dc:title"] == "Claimant count: Claimants, September 2017, lsoa 2011");
    CHECK(meta["tableSchema"]["primaryKey"] == "code");
    CHECK(meta["tableSchema"]["columns"].size() == engine::file_columns(t, layout).size());
    layout.rows.push_back({{std::string("total"), std::string("Total")}, &t.table.total()});
    CHECK_FALSE(engine::csv_metadata(t, layout, {}, "table.csv")["tableSchema"].contains("primaryKey"));
    auto unlicensed = d;
    unlicensed.licence = "Provider terms";
    CHECK(engine::csv_metadata(protect(unlicensed, "claimants", {cell("L1", 600, 25)}, "2017-09"), layout, {}, "t.csv")["dc:license"] ==
          "Provider terms");
}

TEST_CASE("csv - periods in words and as dates; bad periods unchanged or empty") {
    CHECK(engine::period_name("2017-09") == "September 2017");
    CHECK(engine::period_name("2017-01") == "January 2017");
    CHECK(engine::period_name("2017-12") == "December 2017");
    CHECK(engine::period_name("2017") == "2017");
    CHECK(engine::period_name("2017-13") == "2017-13");
    CHECK(engine::period_name("2017-00") == "2017-00");
    CHECK(engine::period_name("September") == "September");
    CHECK(engine::period_start("2017-09") == "2017-09-01");
    CHECK(engine::period_start("2017") == "2017-01-01");
    CHECK(engine::period_start("17-09") == "");
    CHECK(engine::period_end("2017-09") == "2017-10-01");
    CHECK(engine::period_end("2017-12") == "2018-01-01");
    CHECK(engine::period_end("2017") == "2018-01-01");
    CHECK(engine::period_end("x") == "");
}

TEST_CASE("csv - file options: totals and preamble, defaults, bad values are 400 InvalidParameter") {
    const auto none = engine::parse_file_options("", "");
    CHECK_FALSE(none.totals);
    CHECK_FALSE(none.comments);
    CHECK(engine::parse_file_options("true", "").totals);
    CHECK_FALSE(engine::parse_file_options("false", "none").totals);
    const auto older = engine::parse_file_options("", "comments");
    CHECK(older.comments);
    CHECK(older.totals); // the older files' shape
    CHECK_FALSE(engine::parse_file_options("false", "comments").totals);
    CHECK(error_code_of([] { engine::parse_file_options("yes", ""); }) == "InvalidParameter");
    CHECK(error_code_of([] { engine::parse_file_options("", "hash"); }) == "InvalidParameter");
    CHECK(engine::licence_url("Open Government Licence v3.0") == "https://www.nationalarchives.gov.uk/doc/open-government-licence/version/3/");
    CHECK(engine::licence_url("open government licence version 3") != "");
    CHECK(engine::licence_url("Open Government Licence v2.0") == "");
    CHECK(engine::licence_url("") == "");
}

// ---------------------------------------------------------------------------------------------------------------
// Styles, OGC datetime, the tile cache

TEST_CASE("styles - five quantile classes of the protected rate, contiguous, coloured as the web map") {
    const auto d = internal_dataset();
    std::vector<disclosure::raw_row> rows;
    for (int i = 1; i <= 10; ++i) rows.push_back(cell("A" + std::to_string(i), 100, i * 20));
    const auto c = engine::table_style(protect(d, "referrals", rows));
    CHECK(c.property == "rate_per_100_households");
    CHECK(c.tile_property == "rate");
    CHECK(c.upper == std::vector<double>{40, 80, 120, 160, 200});
    CHECK(c.lower == std::vector<double>{20, 40, 80, 120, 160});
    CHECK(c.colours == std::vector<std::string>{"#ffffcc", "#a1dab4", "#41b6c4", "#2c7fb8", "#253494"});
    CHECK(engine::style_qml(c).find("rate_per_100_households") != std::string::npos);
    CHECK(engine::style_sld(c, "layer &<x>").find("layer &amp;&lt;x&gt;") != std::string::npos);
    const auto gl = engine::style_maplibre(c, "http://x/{z}/{x}/{y}.mvt", "oa", "OGL");
    CHECK(gl["version"] == 8);
    // a percentage-only measure is styled by percent; a table without figures has no classes
    const auto p = engine::table_style(protect(d, "job_outcomes_group_a", {cell("A", 100, 5, 10), cell("B", 100, 1, 10)}));
    CHECK(p.property == "percent");
    CHECK(p.upper == std::vector<double>{10, 50});
    CHECK(engine::table_style(protect(d, "referrals", {cell("A", 100, std::nullopt)})).colours.empty());
}

TEST_CASE("ogc - datetime instants and intervals pick the periods they overlap; malformed ones are 400") {
    const std::vector<std::string> periods{"2017-08", "2017-09", "2017-10"};
    CHECK(engine::period_for_datetime(periods, "2017-09-15") == "2017-09");
    CHECK(engine::period_for_datetime(periods, "2017-09-30T23:59:59Z") == "2017-09");
    CHECK(engine::period_for_datetime(periods, "2017-10-01T00:00:00Z") == "2017-10");
    CHECK(engine::period_for_datetime(periods, "2017") == "2017-10");
    CHECK_FALSE(engine::period_for_datetime(periods, "2018-01-01").has_value());
    CHECK(engine::periods_for_datetime(periods, "2017-08-31/2017-09-01") == std::vector<std::string>{"2017-08", "2017-09"});
    CHECK(engine::periods_for_datetime(periods, "../2017-08-15") == std::vector<std::string>{"2017-08"});
    CHECK(engine::periods_for_datetime(periods, "2017-09-02/..") == std::vector<std::string>{"2017-09", "2017-10"});
    CHECK(engine::periods_for_datetime(periods, "../..") == periods);
    CHECK(engine::periods_for_datetime(periods, "/") == periods);
    CHECK(error_code_of([&] { engine::periods_for_datetime(periods, "2017-10-01/2017-09-01"); }) == "InvalidParameter");
    CHECK(error_code_of([&] { engine::periods_for_datetime(periods, "yesterday"); }) == "InvalidParameter");
    CHECK(error_code_of([&] { engine::periods_for_datetime(periods, "../../.."); }) == "InvalidParameter");
    CHECK(engine::period_interval("2017-09") == std::pair<std::string, std::string>{"2017-09-01T00:00:00Z", "2017-09-30T23:59:59Z"});
    CHECK(engine::period_interval("2016-02").second == "2016-02-29T23:59:59Z");
    CHECK(engine::period_interval("2017") == std::pair<std::string, std::string>{"2017-01-01T00:00:00Z", "2017-12-31T23:59:59Z"});
    CHECK(engine::url_encode("a b&c=d/é") == "a%20b%26c%3Dd%2F%C3%A9");
    CHECK(engine::url_encode("E01005061,bespoke:x-y_z.~") == "E01005061,bespoke:x-y_z.~");
}

TEST_CASE("tile cache - least recently used tiles go first once the byte cap is passed; oversized tiles are not kept") {
    auto tile = [](std::size_t bytes) {
        auto t = std::make_shared<engine::cached_tile>();
        t->mvt.assign(bytes, 'x');
        return std::shared_ptr<const engine::cached_tile>(t);
    };
    // each entry costs key + mvt + 64 bytes: 1 + 100 + 64 = 165
    engine::tile_cache cache(400);
    cache.put("a", tile(100));
    cache.put("b", tile(100));
    CHECK(cache.entries() == 2);
    CHECK(cache.bytes() == 330);
    REQUIRE(cache.get("a")); // a is now the most recent
    cache.put("c", tile(100)); // 495 > 400: b, the least recent, goes
    CHECK(cache.entries() == 2);
    CHECK(cache.get("b") == nullptr);
    CHECK(cache.get("a"));
    CHECK(cache.get("c"));
    cache.put("a", tile(10)); // replacing an entry gives back its bytes
    CHECK(cache.bytes() == 165 + 75);
    cache.put("huge", tile(1000));
    CHECK(cache.get("huge") == nullptr);
    CHECK(cache.entries() == 2);
}

TEST_CASE("ogc_api - bbox: four or six CRS84 numbers, minimum below maximum; anything else is 400 InvalidParameter") {
    const auto b = smallarea::engine::parse_bbox_crs84("-2.5,53.3,-2.1,53.5");
    CHECK(b.min_x == doctest::Approx(-2.5));
    CHECK(b.max_y == doctest::Approx(53.5));
    const auto with_heights = smallarea::engine::parse_bbox_crs84("-2.5,53.3,0,-2.1,53.5,100");
    CHECK(with_heights.max_x == doctest::Approx(-2.1));
    CHECK(with_heights.max_y == doctest::Approx(53.5));
    for (const char* bad : {"", "1,2,3", "1,2,3,4,", "1,2,3,4,5", "a,2,3,4", "3,2,1,4", "1,4,3,2", "-200,0,0,1", "0,-91,1,1", "1,2,3,nan"}) {
        CAPTURE(bad);
        CHECK_THROWS_AS(smallarea::engine::parse_bbox_crs84(bad), const smallarea::bad_request&);
    }
}

TEST_CASE("bespoke rules - only the owning organisation publishes, never an always-private area; deleting takes its key or the owner token") {
    using smallarea::engine::check_may_delete;
    using smallarea::engine::check_may_publish;
    smallarea::data::bespoke_record r;
    r.id = "k3v7q2mxa4";
    r.owner = "hash-of-token";
    r.organisation_id = 7;
    r.organisation = "Trafford Council";
    CHECK_NOTHROW(check_may_publish(r, true, true));
    CHECK_NOTHROW(check_may_publish(r, true, false));
    CHECK_THROWS_AS(check_may_publish(r, false, true), const smallarea::forbidden&);
    CHECK_THROWS_AS(check_may_publish(r, false, false), const smallarea::forbidden&);
    r.always_private = true;
    r.source = "zones";
    CHECK_THROWS_AS(check_may_publish(r, true, true), const smallarea::disclosure_refused&);
    CHECK_NOTHROW(check_may_publish(r, true, false)); // making it private again is always allowed

    CHECK_NOTHROW(check_may_delete(r, true, ""));
    CHECK_NOTHROW(check_may_delete(r, false, "hash-of-token"));
    CHECK_THROWS_AS(check_may_delete(r, false, ""), const smallarea::unauthorized&);
    CHECK_THROWS_AS(check_may_delete(r, false, "hash-of-another-token"), const smallarea::forbidden&);
}

TEST_CASE("bespoke rules - a name that mentions an internal dataset by id or title, in any case, makes the area always private") {
    smallarea::data::dataset_info d;
    d.id = "synthetic_work_programme";
    d.title = "Work Programme referrals";
    const std::vector<const smallarea::data::dataset_info*> internal{&d};
    CHECK(smallarea::engine::names_internal_dataset("Sale: SYNTHETIC_work_programme hot spots", internal));
    CHECK(smallarea::engine::names_internal_dataset("work programme referrals, north", internal));
    CHECK_FALSE(smallarea::engine::names_internal_dataset("Old Trafford leaflet run", internal));
    CHECK_FALSE(smallarea::engine::names_internal_dataset("synthetic_work_programme", {}));
}

TEST_CASE("classes - the classed quantity defaults to the measure's own; a percentage-only measure is never classed by volume") {
    const auto d = engine_tables::internal_dataset();
    const auto& referrals = *d.find_measure("referrals");
    const auto& group_a = *d.find_measure("job_outcomes_group_a");
    CHECK(smallarea::engine::class_quantity(referrals, "") == "rate");
    CHECK(smallarea::engine::class_quantity(referrals, "value") == "value");
    CHECK(smallarea::engine::class_quantity(group_a, "") == "percent");
    CHECK_THROWS_AS(smallarea::engine::class_quantity(group_a, "value"), const smallarea::disclosure_refused&);
    CHECK_THROWS_AS(smallarea::engine::class_quantity(group_a, "rate"), const smallarea::disclosure_refused&);
    CHECK_THROWS_AS(smallarea::engine::class_quantity(referrals, "percent"), const smallarea::bad_request&);
    CHECK_THROWS_AS(smallarea::engine::class_quantity(referrals, "volume"), const smallarea::bad_request&);
}

TEST_CASE("classes - counts per class add up to the classed areas, and a class narrower than one rounding step is flagged") {
    const auto d = engine_tables::internal_dataset();
    // Rounded to 20: values 0, 20, 40, 60, 80 over 100 households each, so one rounding step is worth 20 per 100
    // households; equal-width classes of 4 over 0..80 are 20 wide (not narrower).
    std::vector<smallarea::disclosure::raw_row> rows;
    for (int i = 0; i < 5; ++i) rows.push_back({"E0" + std::to_string(i), "", 100, 20 * i, std::nullopt});
    const auto t = engine_tables::protect(d, "referrals", rows);
    const auto wide = smallarea::engine::classes_json(t, "rate", 4, smallarea::engine::break_method::equal);
    CHECK(wide["rounding_step"] == doctest::Approx(20.0));
    CHECK(wide["warning"].is_null());
    std::size_t counted = 0;
    for (const auto& c : wide["classes"]) counted += c["count"].get<std::size_t>();
    CHECK(counted == 5);
    CHECK(wide["values"] == 5);
    CHECK(wide["method"] == "equal");
    CHECK(wide["classification"] == "internal");
    // 20 over 95 households is a rate of 21.05: a class from 20 to 21.05 is narrower than one rounding step.
    rows.push_back({"E05", "", 95, 20, std::nullopt});
    const auto close = engine_tables::protect(d, "referrals", rows);
    const auto narrow = smallarea::engine::classes_json(close, "rate", 5, smallarea::engine::break_method::quantile);
    CAPTURE(narrow.dump());
    CHECK(narrow["warning"].is_string());
    const auto by_value = smallarea::engine::classes_json(t, "value", 4, smallarea::engine::break_method::quantile);
    CHECK(by_value["rounding_step"] == doctest::Approx(20.0));
}

TEST_CASE("change - the difference of protected figures with the sum of both bounds; within rounding at and below the bound") {
    using smallarea::engine::compare_rows;
    const auto d = engine_tables::internal_dataset();
    // Rounded to 20 (bound 10 per cell): 100 -> 100 and 80 -> 100 and 40 -> 100 over 200 households.
    const auto now = engine_tables::protect(d, "referrals", {{"A", "", 200, 100, std::nullopt}, {"B", "", 200, 100, std::nullopt},
                                                             {"C", "", 200, 100, std::nullopt}});
    const auto then = engine_tables::protect(d, "referrals", {{"A", "", 200, 100, std::nullopt}, {"B", "", 200, 80, std::nullopt},
                                                              {"C", "", 200, 40, std::nullopt}}, "2017-09");
    const auto same = compare_rows(now.table.rows()[0], then.table.rows()[0], false);
    CHECK(same.comparable);
    CHECK(*same.value == 0);
    CHECK(same.uncertainty == doctest::Approx(20.0));
    CHECK(same.within_rounding);
    const auto one_step = compare_rows(now.table.rows()[1], then.table.rows()[1], false);
    CHECK(*one_step.value == 20);
    CHECK(one_step.within_rounding); // 20 <= 10 + 10: the true figures may be equal
    CHECK(*one_step.rate_per_100_households == doctest::Approx(10.0));
    CHECK(*one_step.rate_uncertainty == doctest::Approx(10.0));
    const auto real = compare_rows(now.table.rows()[2], then.table.rows()[2], false);
    CHECK(*real.value == 60);
    CHECK_FALSE(real.within_rounding);

    // No figure, a suppressed or a partial row in either period: not comparable, no figures.
    smallarea::disclosure::protected_row missing = now.table.rows()[0];
    missing.missing = true;
    missing.value.reset();
    CHECK_FALSE(compare_rows(missing, then.table.rows()[0], false).comparable);
    smallarea::disclosure::protected_row partial = now.table.rows()[0];
    partial.cells = 3;
    partial.cells_with_value = 2;
    const auto p = compare_rows(partial, then.table.rows()[0], false);
    CHECK_FALSE(p.comparable);
    CHECK_FALSE(p.value);

    // Percentages: percentage points, within rounding at one point (each is within half a point).
    smallarea::disclosure::protected_row a, b;
    a.percent = 31;
    b.percent = 30;
    a.cells_with_value = b.cells_with_value = 1;
    const auto points = compare_rows(a, b, true);
    CHECK(*points.percent == 1);
    CHECK(points.within_rounding);
    CHECK_FALSE(points.value);
}

TEST_CASE("tile export - stable feature ids are FNV-1a 64 of the code, low 53 bits (values computed outside C++)") {
    // Python: h = 0xcbf29ce484222325; for b in code: h = ((h ^ b) * 0x100000001b3) % 2**64; h % 2**53
    CHECK(smallarea::engine::stable_feature_id("E00026944") == 1608806330753339ULL);
    CHECK(smallarea::engine::stable_feature_id("") == (14695981039346656037ULL & ((1ULL << 53) - 1)));
    CHECK(smallarea::engine::stable_feature_id("E01005061") != smallarea::engine::stable_feature_id("E01005062"));
    CHECK(smallarea::engine::stable_feature_id("E00026944") < (1ULL << 53)); // exact as a JavaScript number
}

TEST_CASE("tile export - zoom ranges: defaults 0 and 14, 0..16, min <= max, else 400 InvalidZoom") {
    const auto d = smallarea::engine::parse_zoom_range("", "");
    CHECK(d.min == 0);
    CHECK(d.max == 14);
    CHECK(smallarea::engine::parse_zoom_range("15", "").max == 15); // the default max follows a higher min
    CHECK(smallarea::engine::parse_zoom_range("16", "16").min == 16);
    CHECK(smallarea::engine::parse_zoom_range("3", "3").max == 3);
    for (const auto& [lo, hi] : std::vector<std::pair<std::string, std::string>>{
             {"", "17"}, {"-1", ""}, {"x", ""}, {"", "1.5"}, {"", " 3"}, {"4", "3"}, {"99999999999999999999", ""}}) {
        CAPTURE(lo);
        CAPTURE(hi);
        try {
            smallarea::engine::parse_zoom_range(lo, hi);
            FAIL("accepted");
        } catch (const smallarea::bad_request& e) {
            CHECK(e.code() == "InvalidZoom");
        }
    }
}
