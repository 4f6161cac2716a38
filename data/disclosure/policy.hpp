#pragma once
// Disclosure policy of a dataset: the rules of ../shared/DESIGN.md ("Disclosure rules") as data.
// Pure value types: no I/O, no clocks, no globals.

#include <cstdint>
#include <string>

namespace smallarea::disclosure {

/// Who may see a dataset: `published` is released by its publisher under a licence such as the Open Government Licence (e.g. NOMIS claimant counts; never "public domain"); `internal` is management
/// information for named partners under a confidentiality agreement.
enum class classification { published, internal };

/// Who applied the rounding: the publisher (values are served as published) or smallarea (values are rounded
/// per cell before they leave the server).
enum class rounded_by { publisher, smallarea };

struct policy {
    disclosure::classification classification = classification::internal;
    disclosure::rounded_by rounded_by = rounded_by::smallarea;
    /// Cells are multiples of this (rounded half up by smallarea for internal MI). 1 means "not rounded".
    std::int64_t rounding_base = 20;
    /// Cells whose (rounded) value is below this are suppressed (null + flag). 0 disables suppression.
    std::int64_t suppression_threshold = 0;
    /// Percentage-only measures are suppressed where the unrounded denominator is below this.
    std::int64_t percent_min_denominator = 10;
};

const char* to_string(classification c) noexcept;
const char* to_string(rounded_by r) noexcept;
/// Parses "published" / "internal"; returns false on anything else.
bool parse_classification(const std::string& text, classification& out) noexcept;
bool parse_rounded_by(const std::string& text, rounded_by& out) noexcept;

/// The rule applied, in words, for legends, CSV headers and XLSX "About" sheets.
std::string describe(const policy& p);

/// Throws smallarea::bad_request when a policy is unusable (base < 1, negative thresholds).
void validate(const policy& p);

} // namespace smallarea::disclosure
