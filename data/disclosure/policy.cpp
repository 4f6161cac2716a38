#include "data/disclosure/policy.hpp"

#include "core/error.hpp"

namespace smallarea::disclosure {

const char* to_string(classification c) noexcept {
    return c == classification::published ? "published" : "internal";
}

const char* to_string(rounded_by r) noexcept { return r == rounded_by::publisher ? "publisher" : "smallarea"; }

bool parse_classification(const std::string& text, classification& out) noexcept {
    if (text == "published") {
        out = classification::published;
        return true;
    }
    if (text == "internal") {
        out = classification::internal;
        return true;
    }
    return false;
}

bool parse_rounded_by(const std::string& text, rounded_by& out) noexcept {
    if (text == "publisher") {
        out = rounded_by::publisher;
        return true;
    }
    if (text == "smallarea") {
        out = rounded_by::smallarea;
        return true;
    }
    return false;
}

std::string describe(const policy& p) {
    std::string out;
    if (p.classification == classification::published) {
        // Published is not "public domain": the licence (e.g. OGL v3.0) is named beside this text.
        out = "Published data, served as published";
        if (p.rounding_base > 1) {
            out += "; the publisher rounded each cell to the nearest " + std::to_string(p.rounding_base);
        }
    } else {
        out = "Internal management information, not for onward sharing";
        if (p.rounding_base > 1) {
            out += "; each cell rounded to the nearest " + std::to_string(p.rounding_base) +
                   " (halves rounded up) before release";
        }
    }
    out += "; totals and combined areas are sums of the rounded cells";
    if (p.suppression_threshold > 0) {
        out += "; cells below " + std::to_string(p.suppression_threshold) + " are suppressed";
    }
    out += "; percentage-only measures are whole percentages of the cell's own figures, suppressed where the base "
           "is below " + std::to_string(p.percent_min_denominator) +
           ", served on standard geographies only, and their aggregates leave out suppressed cells";
    return out + ".";
}

void validate(const policy& p) {
    if (p.rounding_base < 1) {
        throw bad_request("InvalidPolicy", "rounding_base must be 1 or more, got " + std::to_string(p.rounding_base));
    }
    if (p.suppression_threshold < 0) {
        throw bad_request("InvalidPolicy", "suppression_threshold must not be negative");
    }
    if (p.percent_min_denominator < 0) {
        throw bad_request("InvalidPolicy", "percent_min_denominator must not be negative");
    }
    if (p.classification == classification::internal && p.rounded_by == rounded_by::publisher && p.rounding_base > 1) {
        // Internal MI is never trusted to be pre-rounded: the server applies the base itself (rounding an already
        // rounded value is a no-op), so this combination only hides a misconfiguration.
        throw bad_request("InvalidPolicy", "internal datasets are rounded by smallarea, not by the publisher");
    }
}

} // namespace smallarea::disclosure
