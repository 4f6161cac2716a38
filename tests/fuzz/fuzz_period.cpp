// Fuzz target: the period normaliser. Whatever it accepts must be YYYY or YYYY-MM with a real month, and
// normalising its own output must give the same text (idempotent), so two spellings of a month meet.
#include "data/ingest.hpp"

#include <cctype>
#include <cstdint>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string text(reinterpret_cast<const char*>(data), size);
    std::string out;
    if (!smallarea::data::normalise_period(text, out)) return 0;
    auto digits = [&](std::size_t from, std::size_t n) {
        for (std::size_t i = from; i < from + n; ++i) {
            if (!std::isdigit(static_cast<unsigned char>(out[i]))) return false;
        }
        return true;
    };
    const bool year = out.size() == 4 && digits(0, 4);
    const bool month = out.size() == 7 && digits(0, 4) && out[4] == '-' && digits(5, 2) && out.substr(5, 2) >= "01" &&
                       out.substr(5, 2) <= "12";
    if (!year && !month) __builtin_trap();
    std::string again;
    if (!smallarea::data::normalise_period(out, again) || again != out) __builtin_trap();
    return 0;
}
