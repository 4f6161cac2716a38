#pragma once
// The one way smallarea writes the current UTC time: file names carry the date, documents and the store the
// ISO 8601 instant. Header-only so every layer can use it without linking anything.

#include <chrono>
#include <cstdio>
#include <ctime>
#include <string>

namespace smallarea {

enum class utc_precision { date, seconds, milliseconds };

/// Now in UTC: "2026-12-02" (date), "2026-12-02T09:16:48Z" (seconds) or "2026-12-02T09:16:48.123Z".
inline std::string utc_now_text(utc_precision precision = utc_precision::seconds) {
    const auto now = std::chrono::system_clock::now();
    const auto seconds = std::chrono::system_clock::to_time_t(now);
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
    std::tm tm{};
    gmtime_r(&seconds, &tm);
    char buffer[64]; // room for any int the fields can hold, so snprintf never truncates
    if (precision == utc_precision::date) {
        std::snprintf(buffer, sizeof buffer, "%04d-%02d-%02d", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
    } else if (precision == utc_precision::seconds) {
        std::snprintf(buffer, sizeof buffer, "%04d-%02d-%02dT%02d:%02d:%02dZ", tm.tm_year + 1900, tm.tm_mon + 1,
                      tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
    } else {
        std::snprintf(buffer, sizeof buffer, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
                      tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ms));
    }
    return buffer;
}

} // namespace smallarea
