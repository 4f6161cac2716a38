#pragma once
// Pure parsing of the values in publishers' files: counts, periods, ONS column names, thousands separators and
// the markers publishers put in cells. Nothing here opens a file or touches the store, so every rule is unit
// tested on its own (tests/data/test_ingest_values.cpp); the readers in data/ingest/ call these.
//
// normalise_period is public API (data/ingest.hpp) and parse_ons_column is shared with inspect (data/inspect.hpp);
// both are defined in values.cpp.

#include <cstdint>
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

} // namespace smallarea::data::ingest
