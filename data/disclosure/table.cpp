#include "data/disclosure/table.hpp"

#include "data/disclosure/rounding.hpp"
#include "core/error.hpp"

#include <algorithm>
#include <cmath>

namespace smallarea::disclosure {

namespace {

double cell_uncertainty(const policy& p) {
    // A cell rounded to base b is within b/2 of the truth; unrounded data has no rounding error.
    return p.rounding_base > 1 ? static_cast<double>(p.rounding_base) / 2.0 : 0.0;
}

std::int64_t protect_count(std::int64_t raw, const policy& p) {
    if (p.rounded_by == rounded_by::smallarea) {
        return round_half_up(raw, p.rounding_base);
    }
    return raw; // published: served as published (rule 1)
}

void set_rate(protected_row& row) {
    if (row.rate_value && row.rate_households && *row.rate_households > 0) {
        // Rounded here, once, to hundredths with halves up in integer arithmetic, so every format (JSON, CSV,
        // XLSX, tiles) shows the same digits: 20 per 128 households is 15.63 everywhere, never 15.62 by a float.
        const std::int64_t h = *row.rate_households;
        const std::int64_t hundredths = (*row.rate_value * 20000 + h) / (2 * h);
        row.rate_per_100_households = static_cast<double>(hundredths) / 100.0;
    }
}

void set_percent(protected_row& row, std::optional<std::int64_t> numerator, std::optional<std::int64_t> denominator,
                 const policy& p) {
    if (!numerator || !denominator) {
        row.missing = true;
        return;
    }
    if (*denominator < p.percent_min_denominator || *denominator <= 0) {
        row.suppressed = true;
        return;
    }
    row.percent = percent_half_up(*numerator, *denominator);
    row.cells_with_value = 1;
}

void check_raw(const raw_row& row) {
    if ((row.value && *row.value < 0) || (row.denominator && *row.denominator < 0)) {
        throw error("NegativeCount", "negative raw value for area " + row.code);
    }
}

void add_to(std::optional<std::int64_t>& sum, std::int64_t v) { sum = sum.value_or(0) + v; }

/// Combines members of a protected table (rule 2 for counts; served cells only for percentage-only measures,
/// see aggregate() in table.hpp). Shared by the total row and by aggregate(). Every field is a sum over the
/// members, so the total of a table is the same function over all its rows' members.
protected_row combine(const std::string& code, const std::string& name, const std::vector<std::size_t>& members,
                      const std::vector<protected_row>& cells, const raw_table& raw, const policy& p) {
    protected_row row;
    row.code = code;
    row.name = name;
    row.cells = 0;
    std::int64_t numerator = 0;
    std::int64_t denominator = 0;
    bool any_suppressed = false;
    bool any_not_apportioned = false;
    for (std::size_t index : members) {
        if (index >= cells.size()) {
            throw error("AggregateMismatch", "aggregate member index out of range");
        }
        const protected_row& cell = cells[index];
        row.cells += cell.cells;
        row.cells_with_households += cell.cells_with_households;
        if (cell.households) add_to(row.households, *cell.households);
        any_suppressed = any_suppressed || cell.suppressed;
        if (raw.kind == measure_kind::percent_only) {
            if (!cell.percent) continue; // suppressed or missing cells enter no aggregate (rule 3)
            const raw_row& r = raw.rows[index];
            numerator += r.value.value_or(0);
            denominator += r.denominator.value_or(0);
            row.cells_with_value += cell.cells_with_value;
            continue;
        }
        any_not_apportioned = any_not_apportioned || cell.not_apportioned;
        if (!cell.value) continue;
        row.estimated = row.estimated || cell.estimated;
        add_to(row.value, *cell.value); // the sum of protected cells, never re-rounded
        row.uncertainty += cell.uncertainty;
        row.cells_with_value += cell.cells_with_value;
        if (cell.rate_value && cell.rate_households) {
            add_to(row.rate_value, *cell.rate_value);
            add_to(row.rate_households, *cell.rate_households);
        }
    }
    if (raw.kind == measure_kind::percent_only) {
        if (row.cells_with_value > 0 && denominator > 0) {
            row.percent = percent_half_up(numerator, denominator);
        } else if (any_suppressed) {
            row.suppressed = true;
        } else {
            row.missing = true;
        }
        (void)p;
        return row;
    }
    if (!row.value) {
        // Hidden rather than "no data" when what it covers is suppressed: unknown is never 0 either way.
        if (any_suppressed) row.suppressed = true;
        else if (any_not_apportioned) row.not_apportioned = true;
        else row.missing = true;
        return row;
    }
    set_rate(row);
    return row;
}

/// For combine() over tables of counts that have no raw table (it reads raw rows for percentages only).
const raw_table& no_raw_counts() {
    static const raw_table none{measure_kind::count, {}};
    return none;
}

std::vector<std::size_t> all_rows(std::size_t n) {
    std::vector<std::size_t> rows(n);
    for (std::size_t i = 0; i < n; ++i) {
        rows[i] = i;
    }
    return rows;
}

} // namespace

std::optional<std::int64_t> protect_count_cell(std::int64_t raw, const policy& p) {
    if (raw < 0) throw error("NegativeCount", "negative raw count");
    const std::int64_t value = protect_count(raw, p);
    // Compared on the protected value, so being suppressed says nothing finer than the rounding does.
    if (p.suppression_threshold > 0 && value < p.suppression_threshold) return std::nullopt;
    return value;
}

protected_table protect(const raw_table& raw, const policy& p) {
    validate(p);
    protected_table out;
    out.m_kind = raw.kind;
    out.m_policy = p;
    out.m_rows.reserve(raw.rows.size());

    for (const raw_row& r : raw.rows) {
        check_raw(r);
        protected_row row;
        row.code = r.code;
        row.name = r.name;
        row.households = r.households;
        row.cells_with_households = r.households ? 1 : 0;
        if (r.suppressed && !r.value) {
            row.suppressed = true; // the publisher's own suppression, served as such (rule 6), never as missing
        } else if (raw.kind == measure_kind::percent_only) {
            set_percent(row, r.value, r.denominator, p);
        } else if (!r.value) {
            row.missing = true;
        } else {
            const auto served = protect_count_cell(*r.value, p);
            if (!served) {
                row.suppressed = true;
            } else {
                const std::int64_t value = *served;
                row.value = value;
                row.uncertainty = cell_uncertainty(p);
                row.cells_with_value = 1;
                if (r.households && *r.households > 0) {
                    row.rate_value = value;
                    row.rate_households = r.households;
                    set_rate(row);
                }
            }
        }
        out.m_rows.push_back(std::move(row));
    }
    out.m_total = combine("total", "Total", all_rows(out.m_rows.size()), out.m_rows, raw, p);
    return out;
}

protected_table aggregate(const std::vector<std::pair<std::string, std::vector<std::size_t>>>& groups,
                          const protected_table& cells, const raw_table& raw) {
    if (raw.rows.size() != cells.rows().size() || raw.kind != cells.kind()) {
        throw error("AggregateMismatch", "aggregate() needs the raw table its cells were protected from");
    }
    protected_table out;
    out.m_kind = cells.kind();
    out.m_policy = cells.policy();
    std::vector<std::size_t> shown; // every member of every row: the total is the sum of the rows shown
    for (const auto& [code, members] : groups) {
        out.m_rows.push_back(combine(code, code, members, cells.rows(), raw, out.m_policy));
        shown.insert(shown.end(), members.begin(), members.end());
    }
    out.m_total = combine("total", "Total", shown, cells.rows(), raw, out.m_policy);
    return out;
}

protected_table aggregate_counts(const std::vector<std::pair<std::string, std::vector<std::size_t>>>& groups,
                                 const protected_table& cells) {
    if (cells.kind() != measure_kind::count) throw error("AggregateMismatch", "aggregate_counts() takes counts only");
    protected_table out;
    out.m_kind = cells.kind();
    out.m_policy = cells.policy();
    std::vector<std::size_t> shown;
    for (const auto& [code, members] : groups) {
        out.m_rows.push_back(combine(code, code, members, cells.rows(), no_raw_counts(), out.m_policy));
        shown.insert(shown.end(), members.begin(), members.end());
    }
    out.m_total = combine("total", "Total", shown, cells.rows(), no_raw_counts(), out.m_policy);
    return out;
}

bool crosswalk_area::exact() const noexcept {
    for (const auto& p : parts) {
        if (p.share < 1) return false;
    }
    return true;
}

bool may_apportion(const policy& p) noexcept {
    return p.classification == classification::published && p.rounded_by == rounded_by::publisher;
}

protected_table crosswalk(const std::vector<crosswalk_area>& areas, const protected_table& cells) {
    if (cells.kind() != measure_kind::count) {
        throw error("PercentageOnly", "percentage-only measures are never moved across boundary vintages");
    }
    protected_table out;
    out.m_kind = cells.kind();
    out.m_policy = cells.policy();
    const bool apportion = may_apportion(cells.policy());
    for (const auto& area : areas) {
        std::vector<std::size_t> members;
        for (const auto& part : area.parts) {
            if (part.cell >= cells.rows().size()) throw error("AggregateMismatch", "crosswalk part index out of range");
            members.push_back(part.cell);
        }
        protected_row row;
        if (area.exact()) {
            row = combine(area.code, area.name, members, cells.rows(), no_raw_counts(), out.m_policy);
        } else {
            row.code = area.code;
            row.name = area.name;
            row.cells = static_cast<std::int64_t>(area.parts.size());
            if (!apportion) {
                row.not_apportioned = true;
            } else {
                double estimate = 0;
                bool any_suppressed = false;
                for (const auto& part : area.parts) {
                    const protected_row& cell = cells.rows()[part.cell];
                    any_suppressed = any_suppressed || cell.suppressed;
                    if (!cell.value) continue;
                    const double v = static_cast<double>(*cell.value);
                    estimate += part.share * v;
                    // The true share lies anywhere from none to all of the old cell (and its rounding): the bound
                    // must cover both ends around the estimate.
                    row.uncertainty += part.share < 1 ? std::max(part.share * v, (1 - part.share) * v + cell.uncertainty)
                                                      : cell.uncertainty;
                    row.cells_with_value += 1;
                }
                if (row.cells_with_value > 0) {
                    row.value = static_cast<std::int64_t>(std::llround(estimate));
                    row.estimated = true;
                } else if (any_suppressed) {
                    row.suppressed = true;
                } else {
                    row.missing = true;
                }
            }
        }
        // The new area's own households: its rate is per 100 of them, and only when every part has a value.
        row.households = area.households;
        row.cells_with_households = area.households ? row.cells : 0;
        row.rate_value.reset();
        row.rate_households.reset();
        row.rate_per_100_households.reset();
        if (row.value && row.complete() && area.households && *area.households > 0) {
            row.rate_value = row.value;
            row.rate_households = area.households;
            set_rate(row);
        }
        out.m_rows.push_back(std::move(row));
    }
    std::vector<std::size_t> all(out.m_rows.size());
    for (std::size_t i = 0; i < all.size(); ++i) all[i] = i;
    out.m_total = combine("total", "Total", all, out.m_rows, no_raw_counts(), out.m_policy);
    return out;
}

} // namespace smallarea::disclosure
