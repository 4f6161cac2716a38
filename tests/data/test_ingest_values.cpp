// ingest_values: the pure value rules of ingest (data/ingest/values.*) on their own, without a store or a file:
// counts, periods, month names, ONS column names, thousands separators and publishers' cell markers (parse_cell).

#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include "core/error.hpp"
#include "data/ingest.hpp"
#include "data/ingest/values.hpp"
#include "data/inspect.hpp"

#include <cstdint>
#include <map>
#include <optional>
#include <string>

namespace data = smallarea::data;
namespace ingest = smallarea::data::ingest;

namespace {

/// The message parse_count throws for text, or "" when it does not throw.
std::string count_refusal(const std::string& text) {
    try {
        (void)ingest::parse_count(text, "counts.csv", 7);
    } catch (const smallarea::ingest_error& e) {
        return e.what();
    }
    return {};
}

} // namespace

TEST_CASE("parse_count - whole non-negative numbers; empty is no value") {
    CHECK(ingest::parse_count("12", "f.csv", 2) == std::optional<std::int64_t>(12));
    CHECK(ingest::parse_count(" 0 ", "f.csv", 2) == std::optional<std::int64_t>(0));
    CHECK(ingest::parse_count("12.0", "f.csv", 2) == std::optional<std::int64_t>(12));
    CHECK(ingest::parse_count("12.000", "f.csv", 2) == std::optional<std::int64_t>(12));
    CHECK(ingest::parse_count("1000000000000000000", "f.csv", 2) == std::optional<std::int64_t>(1000000000000000000));
    CHECK_FALSE(ingest::parse_count("", "f.csv", 2).has_value());
    CHECK_FALSE(ingest::parse_count("   ", "f.csv", 2).has_value());
}

TEST_CASE("parse_count - everything else is refused at the file and line, saying why") {
    CHECK(count_refusal("-3") == "counts.csv, line 7: negative count \"-3\"");
    CHECK(count_refusal("12.5") == "counts.csv, line 7: \"12.5\" is not a whole count");
    CHECK(count_refusal("12.0x") == "counts.csv, line 7: \"12.0x\" is not a number");
    CHECK(count_refusal("abc") == "counts.csv, line 7: \"abc\" is not a number");
    CHECK(count_refusal("12a") == "counts.csv, line 7: \"12a\" is not a number");
    CHECK(count_refusal(".5") == "counts.csv, line 7: \".5\" is not a number");
    CHECK(count_refusal("1,030") == "counts.csv, line 7: \"1,030\" is not a number"); // only with thousands_separator
    // Refused rather than wrapped around: a 20-digit count can only be a broken file.
    CHECK(count_refusal("99999999999999999999") == "counts.csv, line 7: count \"99999999999999999999\" is too large");
}

TEST_CASE("month_from_name - full, three-letter and Sept names in any case; nothing else") {
    CHECK(ingest::month_from_name("September") == 9);
    CHECK(ingest::month_from_name("sep") == 9);
    CHECK(ingest::month_from_name("SEPT") == 9);
    CHECK(ingest::month_from_name("January") == 1);
    CHECK(ingest::month_from_name("may") == 5);
    CHECK(ingest::month_from_name("Dec") == 12);
    CHECK(ingest::month_from_name("Septober") == 0);
    CHECK(ingest::month_from_name("Se") == 0);
    CHECK(ingest::month_from_name("") == 0);
    CHECK(ingest::month_from_name("Janu") == 0);
}

TEST_CASE("normalise_period - partial dates and years out of range are not periods") {
    std::string out = "unchanged";
    CHECK_FALSE(data::normalise_period("2017-9", out));
    CHECK_FALSE(data::normalise_period("2017-09-1", out));
    CHECK_FALSE(data::normalise_period("1899", out));
    CHECK_FALSE(data::normalise_period("2101", out));
    CHECK_FALSE(data::normalise_period("September", out));
    CHECK(out == "unchanged"); // a refusal leaves out alone
    REQUIRE(data::normalise_period("sep 2024", out));
    CHECK(out == "2024-09");
}

TEST_CASE("two_digits and yy - the two-digit years of ONS column names") {
    CHECK(ingest::two_digits(5) == "05");
    CHECK(ingest::two_digits(12) == "12");
    CHECK(ingest::yy(2021) == "21");
    CHECK(ingest::yy(2001) == "01");
    CHECK(ingest::all_digits("0123"));
    CHECK_FALSE(ingest::all_digits(""));
    CHECK_FALSE(ingest::all_digits("12a"));
    CHECK_FALSE(ingest::all_digits(" 12"));
}

TEST_CASE("parse_ons_column - level, year and code or name from ONS column names") {
    std::string level;
    int year = 0;
    bool is_name = true;
    REQUIRE(data::parse_ons_column("LAD22CD", level, year, is_name));
    CHECK(level == "lad");
    CHECK(year == 22);
    CHECK_FALSE(is_name);
    REQUIRE(data::parse_ons_column("lsoa21nm", level, year, is_name));
    CHECK(level == "lsoa");
    CHECK(year == 21);
    CHECK(is_name);
    REQUIRE(data::parse_ons_column("LTLA23CD", level, year, is_name)); // ONS's other name for districts
    CHECK(level == "lad");
    CHECK(year == 23);
    CHECK_FALSE(data::parse_ons_column("RGN22CD", level, year, is_name)); // regions are not a level of the store
    CHECK_FALSE(data::parse_ons_column("lsoa21_code", level, year, is_name));
    CHECK_FALSE(data::parse_ons_column("LSOA2XCD", level, year, is_name));
    CHECK_FALSE(data::parse_ons_column("OACD", level, year, is_name));
    CHECK_FALSE(data::parse_ons_column("cd", level, year, is_name));
}

TEST_CASE("strip_thousands - only commas that group thousands exactly are removed") {
    CHECK(ingest::strip_thousands("1,030") == "1030");
    CHECK(ingest::strip_thousands("12,345,678") == "12345678");
    CHECK(ingest::strip_thousands("1,030.0") == "1030.0");
    CHECK(ingest::strip_thousands("999") == "999");
    // Anything else comes back unchanged, so parse_count refuses it instead of reading "1,03" as 103.
    CHECK(ingest::strip_thousands("1,03") == "1,03");
    CHECK(ingest::strip_thousands("1,0300") == "1,0300");
    CHECK(ingest::strip_thousands("1234,567") == "1234,567");
    CHECK(ingest::strip_thousands(",123") == ",123");
    CHECK(ingest::strip_thousands("1,,030") == "1,,030");
    CHECK(ingest::strip_thousands("a,123") == "a,123");
}

TEST_CASE("marker_hint - a refused cell that looks like a publisher's marker says which option reads it") {
    CHECK(ingest::marker_hint("..").find("\"suppressed\"") != std::string::npos);
    CHECK(ingest::marker_hint("-").find("\"zero\"") != std::string::npos);
    for (const char* marker : {"*", "c", "x", "[c]", "[x]"}) {
        CAPTURE(marker);
        CHECK(ingest::marker_hint(marker).find("\"suppressed\"") != std::string::npos);
    }
    CHECK(ingest::marker_hint("1,03").find("\"thousands_separator\"") != std::string::npos);
    CHECK(ingest::marker_hint("abc").empty());
    CHECK(ingest::marker_hint("").empty());
}

TEST_CASE("parse_cell - a file's markers and thousands separators, counted for the notes") {
    ingest::dataset_file file;
    file.path = "statxplore.csv";
    file.suppressed = {".."};
    file.zero = {"-"};
    file.thousands_separator = true;
    ingest::file_tally tally;
    bool suppressed = true;

    CHECK(ingest::parse_cell(" 1,030 ", file, 4, tally, suppressed) == std::optional<std::int64_t>(1030));
    CHECK_FALSE(suppressed);
    CHECK_FALSE(ingest::parse_cell("..", file, 5, tally, suppressed).has_value());
    CHECK(suppressed); // stored as the publisher's suppression, not as a missing value
    CHECK(ingest::parse_cell(" - ", file, 6, tally, suppressed) == std::optional<std::int64_t>(0));
    CHECK_FALSE(suppressed);
    CHECK_FALSE(ingest::parse_cell("", file, 7, tally, suppressed).has_value());
    CHECK_FALSE(suppressed); // an empty cell is no value, not a suppression
    CHECK_FALSE(ingest::parse_cell("..", file, 8, tally, suppressed).has_value());
    CHECK(tally.suppressed == std::map<std::string, std::int64_t>{{"..", 2}});
    CHECK(tally.zero == std::map<std::string, std::int64_t>{{"-", 1}});
    CHECK(tally.filtered == 0);
    CHECK(tally.totals == 0);
    CHECK(tally.outside == 0);
}

TEST_CASE("parse_cell - without the options, a marker or separator is refused naming the option") {
    ingest::dataset_file file;
    file.path = "plain.csv";
    ingest::file_tally tally;
    bool suppressed = false;
    auto refusal = [&](const std::string& raw) -> std::string {
        try {
            (void)ingest::parse_cell(raw, file, 9, tally, suppressed);
        } catch (const smallarea::ingest_error& e) {
            return e.what();
        }
        return {};
    };
    CHECK(refusal("..") == "plain.csv, line 9: \"..\" is not a count (\"..\" is Stat-Xplore's and ONS's suppression "
                           "marker: list it in \"suppressed\")");
    CHECK(refusal("-") == "plain.csv, line 9: \"-\" is not a count (\"-\" is Stat-Xplore's zero or nil: list it in "
                          "\"zero\")");
    CHECK(refusal("1,030") == "plain.csv, line 9: \"1,030\" is not a count (a thousands separator? set "
                              "\"thousands_separator\": true)");
    CHECK(refusal("abc") == "plain.csv, line 9: \"abc\" is not a number"); // no hint: parse_count's own words
    CHECK(refusal("-5") == "plain.csv, line 9: negative count \"-5\"");
    CHECK(tally.suppressed.empty());
    CHECK(tally.zero.empty());

    file.thousands_separator = true; // commas that do not group thousands are still refused
    CHECK(refusal("1,03") == "plain.csv, line 9: \"1,03\" is not a count (a thousands separator? set "
                             "\"thousands_separator\": true)");
}
