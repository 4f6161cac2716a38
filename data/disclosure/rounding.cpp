#include "data/disclosure/rounding.hpp"

#include <cassert>

namespace smallarea::disclosure {

std::int64_t round_half_up(std::int64_t value, std::int64_t base) noexcept {
    assert(value >= 0);
    assert(base >= 1);
    // Integer arithmetic: floating point would misplace halves for large counts.
    return ((value + base / 2) / base) * base;
}

std::int64_t percent_half_up(std::int64_t part, std::int64_t whole) noexcept {
    assert(part >= 0);
    assert(whole > 0);
    // Exact integer form of floor(100 * part / whole + 0.5), so 1 of 8 is 13 and never 12 by a float error.
    return (200 * part + whole) / (2 * whole);
}

} // namespace smallarea::disclosure
