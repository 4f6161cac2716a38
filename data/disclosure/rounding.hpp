#pragma once
// Per-cell rounding, the heart of rule 2. Pure functions.

#include <cstdint>

namespace smallarea::disclosure {

/// Rounds a non-negative count to the nearest multiple of base, halves up: base 20 gives 9 -> 0, 10 -> 20,
/// 29 -> 20, 30 -> 40. base 1 returns value. Precondition (asserted): value >= 0, base >= 1.
std::int64_t round_half_up(std::int64_t value, std::int64_t base) noexcept;

/// 100 * part / whole as a whole percent, halves up (1 of 8 -> 13). Preconditions: part >= 0, whole > 0.
std::int64_t percent_half_up(std::int64_t part, std::int64_t whole) noexcept;

} // namespace smallarea::disclosure
