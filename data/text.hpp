#pragma once
// Small text helpers shared by ingest and inspect (both read publishers' headers and title blocks loosely).

#include <algorithm>
#include <cctype>
#include <string>

namespace smallarea::data::text {

/// Without leading and trailing white space.
inline std::string trim(const std::string& s) {
    std::size_t b = 0;
    std::size_t e = s.size();
    while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
    while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
    return s.substr(b, e - b);
}

/// ASCII lower case (codes and publishers' column names are ASCII).
inline std::string lower(std::string s) {
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return s;
}

/// Case-insensitive substring test (title blocks are matched loosely: "Nomis", "NOMIS").
inline bool contains_ci(const std::string& haystack, const std::string& needle) {
    return lower(haystack).find(lower(needle)) != std::string::npos;
}

} // namespace smallarea::data::text
