#include "data/ingest/values.hpp"

#include "core/error.hpp"
#include "data/ingest.hpp"
#include "data/inspect.hpp"
#include "data/store.hpp"
#include "data/text.hpp"

#include <algorithm>
#include <cctype>
#include <cstdint>

namespace smallarea::data {

namespace ingest {

using text::lower;
using text::trim;

bool all_digits(const std::string& s) {
    return !s.empty() && std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isdigit(c); });
}

std::string two_digits(int v) {
    std::string s = std::to_string(v);
    return s.size() == 1 ? "0" + s : s;
}

std::string yy(int vintage) { return two_digits(vintage % 100); }

std::optional<std::int64_t> parse_count(const std::string& raw, const std::string& file, long line) {
    const std::string text = trim(raw);
    if (text.empty()) return std::nullopt;
    std::size_t i = 0;
    if (text[0] == '-') throw ingest_error(file, line, "negative count \"" + text + "\"");
    std::int64_t value = 0;
    for (; i < text.size() && std::isdigit(static_cast<unsigned char>(text[i])); ++i) {
        if (value > (INT64_MAX - 9) / 10) throw ingest_error(file, line, "count \"" + text + "\" is too large");
        value = value * 10 + (text[i] - '0');
    }
    if (i == 0) throw ingest_error(file, line, "\"" + text + "\" is not a number");
    if (i < text.size()) {
        if (text[i] != '.') throw ingest_error(file, line, "\"" + text + "\" is not a number");
        for (std::size_t k = i + 1; k < text.size(); ++k) {
            if (text[k] != '0') {
                if (!std::isdigit(static_cast<unsigned char>(text[k])))
                    throw ingest_error(file, line, "\"" + text + "\" is not a number");
                throw ingest_error(file, line, "\"" + text + "\" is not a whole count");
            }
        }
    }
    return value;
}

int month_from_name(std::string name) {
    static const char* const months[] = {"january", "february", "march",     "april",   "may",      "june",
                                         "july",    "august",   "september", "october", "november", "december"};
    std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
    if (name.size() < 3) return 0;
    for (int m = 0; m < 12; ++m) {
        const std::string full = months[m];
        if (name == full || name == full.substr(0, 3) || (m == 8 && name == "sept")) return m + 1;
    }
    return 0;
}

std::string marker_hint(const std::string& text) {
    if (text == "..") return " (\"..\" is Stat-Xplore's and ONS's suppression marker: list it in \"suppressed\")";
    if (text == "-") return " (\"-\" is Stat-Xplore's zero or nil: list it in \"zero\")";
    if (text == "*" || text == "c" || text == "x" || text == "[c]" || text == "[x]")
        return " (a suppression marker? list it in \"suppressed\" as the publisher defines it)";
    if (text.find(',') != std::string::npos) return " (a thousands separator? set \"thousands_separator\": true)";
    return {};
}

std::string strip_thousands(const std::string& text) {
    if (text.find(',') == std::string::npos) return text;
    const auto dot = text.find('.');
    const std::string whole = text.substr(0, dot);
    std::size_t group = 0;
    bool first = true;
    std::size_t digits = 0;
    for (const char c : whole) {
        if (c == ',') {
            if ((first && (digits == 0 || digits > 3)) || (!first && digits != 3)) return text;
            first = false;
            digits = 0;
            ++group;
        } else if (std::isdigit(static_cast<unsigned char>(c))) {
            ++digits;
        } else {
            return text;
        }
    }
    if (digits != 3) return text;
    std::string out;
    for (const char c : whole) {
        if (c != ',') out.push_back(c);
    }
    return out + (dot == std::string::npos ? std::string() : text.substr(dot));
}

std::optional<std::int64_t> parse_cell(const std::string& raw, const dataset_file& file, long line, file_tally& tally,
                                       bool& suppressed) {
    const std::string text = trim(raw);
    suppressed = false;
    for (const auto& m : file.suppressed) {
        if (text == trim(m)) {
            ++tally.suppressed[m];
            suppressed = true;
            return std::nullopt;
        }
    }
    for (const auto& m : file.zero) {
        if (text == trim(m)) {
            ++tally.zero[m];
            return 0;
        }
    }
    try {
        return parse_count(file.thousands_separator ? strip_thousands(text) : text, file.path, line);
    } catch (const ingest_error& e) {
        const std::string hint = marker_hint(text);
        if (hint.empty()) throw;
        throw ingest_error(file.path, line, "\"" + text + "\" is not a count" + hint);
    }
}

} // namespace ingest

using ingest::all_digits;
using ingest::month_from_name;
using ingest::two_digits;
using text::lower;
using text::trim;

bool normalise_period(const std::string& raw, std::string& out) {
    const std::string text = trim(raw);
    auto year_ok = [](const std::string& y) { return y.size() == 4 && all_digits(y) && y >= "1900" && y <= "2100"; };
    if (year_ok(text)) {
        out = text;
        return true;
    }
    if (text.size() >= 7 && text[4] == '-' && year_ok(text.substr(0, 4)) && all_digits(text.substr(5, 2))) {
        const int month = std::stoi(text.substr(5, 2));
        if (month < 1 || month > 12) return false;
        if (text.size() == 7) {
            out = text;
            return true;
        }
        if (text.size() == 10 && text[7] == '-' && all_digits(text.substr(8, 2))) {
            const int day = std::stoi(text.substr(8, 2));
            if (day < 1 || day > 31) return false;
            out = text.substr(0, 7);
            return true;
        }
        return false;
    }
    // "September 2017" (NOMIS DATE_NAME) and "Sep-17" are not accepted as the latter is ambiguous.
    const auto space = text.find(' ');
    if (space != std::string::npos && year_ok(text.substr(space + 1))) {
        const int month = month_from_name(text.substr(0, space));
        if (month > 0) {
            out = text.substr(space + 1) + "-" + two_digits(month);
            return true;
        }
    }
    return false;
}

bool parse_ons_column(const std::string& header, std::string& level, int& year, bool& is_name) {
    const std::string h = lower(header);
    if (h.size() < 5) return false;
    const std::string suffix = h.substr(h.size() - 2);
    if (suffix != "cd" && suffix != "nm") return false;
    const std::string digits = h.substr(h.size() - 4, 2);
    if (!all_digits(digits)) return false;
    level = h.substr(0, h.size() - 4);
    if (level == "ltla") level = "lad"; // ONS also calls districts "lower tier local authorities"
    if (level == "wd") level = "ward";  // WD24CD, WD23NM
    if (level_rank(level) < 0) return false;
    year = std::stoi(digits);
    is_name = suffix == "nm";
    return true;
}

} // namespace smallarea::data
