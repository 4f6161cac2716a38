#pragma once
// Pure parsing of the values in publishers' files: counts, periods, ONS column names, thousands separators and
// the markers publishers put in cells. Nothing here opens a file or touches the store, so every rule is unit
// tested on its own (tests/data/test_ingest_values.cpp); the readers in data/ingest/ call these.
//
// normalise_period is public API (data/ingest.hpp) and parse_ons_column is shared with inspect (data/inspect.hpp);
// both are defined in values.cpp.

#include "data/ingest/manifest.hpp"

#include <cstdint>
#include <map>
#include <optional>
#include <string>

namespace smallarea::data::ingest {

/// True for a non-empty run of ASCII digits.
bool all_digits(const std::string& s);

/// "05" for 5: months in periods and years in ONS column names are two digits.
std::string two_digits(int v);

/// The two-digit year ONS writes in column names for a vintage: 2021 -> "21" (LSOA21CD).
std::string yy(int vintage);

/// Parses a count cell: empty -> no value; a whole non-negative number (an integral "12.0" too) -> the value.
/// Anything else throws ingest_error at file/line.
std::optional<std::int64_t> parse_count(const std::string& raw, const std::string& file, long line);

/// "September", "Sep" or "Sept" (any case) -> 9; anything else (e.g. "Septober") -> 0, so it is not a period.
int month_from_name(std::string name);

/// What a marker means where a publisher documents it, for messages ("" when nothing is known of it).
std::string marker_hint(const std::string& text);

/// "1,030" -> "1030" when the commas group thousands exactly; other text is returned unchanged (and refused by
/// parse_count, so "1,03" is never read as 103).
std::string strip_thousands(const std::string& text);

/// What a file's rows left out on purpose or mapped, for the notes (never silent).
struct file_tally {
    std::int64_t filtered = 0;   // rows another value of a "where" column
    std::int64_t totals = 0;     // "Total" rows dropped
    std::int64_t outside = 0;    // rows of areas outside the store ("outside_store": "skip")
    std::string first_outside;
    std::map<std::string, std::int64_t> suppressed; // marker -> cells
    std::map<std::string, std::int64_t> zero;       // marker -> cells
};

/// A value cell under the file's rules: its suppression and zero markers (counted in tally; suppressed says the
/// cell was the publisher's suppression, stored as such rather than as missing), thousands separators, then
/// parse_count. A refused cell that looks like a marker names the option that reads it.
std::optional<std::int64_t> parse_cell(const std::string& raw, const dataset_file& file, long line, file_tally& tally,
                                       bool& suppressed);

} // namespace smallarea::data::ingest
