#include "data/disclosure/table.hpp"

#include "data/disclosure/rounding.hpp"
#include "data/error.hpp"

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
    if (row.value && row.households && *row.households > 0) {
        // Rounded here, once, to hundredths with halves up in integer arithmetic, so every format (JSON, CSV,
        // XLSX, tiles) shows the same digits: 20 per 128 households is 15.63 everywhere, never 15.62 by a float.
        const std::int64_t h = *row.households;
        const std::int64_t hundredths = (*row.value * 20000 + h) / (2 * h);
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
}

void check_raw(const raw_row& row) {
    if ((row.value && *row.value < 0) || (row.denominator && *row.denominator < 0)) {
        throw error("NegativeCount", "negative raw value for area " + row.code);
    }
}

/// Sums members of a protected table (rule 2) or, for percentage-only measures, recomputes the percentage from
/// the members' raw figures (rule 3). Shared by the total row and by aggregate().
protected_row combine(const std::string& code, const std::string& name, const std::vector<std::size_t>& members,
                      const std::vector<protected_row>& cells, const raw_table& raw, const policy& p,
                      std::optional<std::int64_t> own_households = std::nullopt) {
    protected_row row;
    row.code = code;
    row.name = name;
    row.cells = 0;
    std::int64_t households = 0;
    bool any_households = false;
    std::int64_t numerator = 0;
    std::int64_t denominator = 0;
    bool any_percent_figures = false;
    for (std::size_t index : members) {
        if (index >= cells.size()) {
            throw error("AggregateMismatch", "aggregate member index out of range");
        }
        const protected_row& cell = cells[index];
        ++row.cells;
        if (cell.households) {
            any_households = true;
            households += *cell.households;
        }
        if (raw.kind == measure_kind::percent_only) {
            const raw_row& r = raw.rows[index];
            if (r.value && r.denominator) {
                any_percent_figures = true;
                numerator += *r.value;
                denominator += *r.denominator;
            }
            continue;
        }
        if (cell.value) {
            row.value = row.value.value_or(0) + *cell.value; // the sum of protected cells, never re-rounded
            row.uncertainty += cell.uncertainty;
        } else {
            ++row.excluded_cells;
        }
    }
    if (own_households) {
        row.households = own_households;
    } else if (any_households) {
        row.households = households;
    }
    if (raw.kind == measure_kind::percent_only) {
        set_percent(row, any_percent_figures ? std::optional<std::int64_t>(numerator) : std::nullopt,
                    std::optional<std::int64_t>(denominator), p);
    } else if (!row.value) {
        row.missing = true;
    } else {
        set_rate(row);
    }
    return row;
}

std::vector<std::size_t> all_rows(std::size_t n) {
    std::vector<std::size_t> rows(n);
    for (std::size_t i = 0; i < n; ++i) {
        rows[i] = i;
    }
    return rows;
}

} // namespace

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
        if (raw.kind == measure_kind::percent_only) {
            set_percent(row, r.value, r.denominator, p);
        } else if (!r.value) {
            row.missing = true;
        } else {
            const std::int64_t value = protect_count(*r.value, p);
            if (p.suppression_threshold > 0 && value < p.suppression_threshold) {
                // Compared on the protected value, so being suppressed says nothing finer than the rounding does.
                row.suppressed = true;
            } else {
                row.value = value;
                row.uncertainty = cell_uncertainty(p);
                set_rate(row);
            }
        }
        out.m_rows.push_back(std::move(row));
    }
    out.m_total = combine("total", "Total", all_rows(out.m_rows.size()), out.m_rows, raw, p);
    return out;
}

protected_table aggregate(const std::vector<std::pair<std::string, std::vector<std::size_t>>>& groups,
                          const protected_table& cells, const raw_table& raw,
                          const std::vector<std::optional<std::int64_t>>& households) {
    if (raw.rows.size() != cells.rows().size() || raw.kind != cells.kind()) {
        throw error("AggregateMismatch", "aggregate() needs the raw table its cells were protected from");
    }
    protected_table out;
    out.m_kind = cells.kind();
    out.m_policy = cells.policy();
    for (std::size_t i = 0; i < groups.size(); ++i) {
        const auto own = i < households.size() ? households[i] : std::nullopt;
        out.m_rows.push_back(combine(groups[i].first, groups[i].first, groups[i].second, cells.rows(), raw, out.m_policy, own));
    }
    out.m_total = combine("total", "Total", all_rows(cells.rows().size()), cells.rows(), raw, out.m_policy);
    return out;
}

} // namespace smallarea::disclosure
