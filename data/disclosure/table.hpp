#pragma once
// raw_table -> protect() -> protected_table. Encoders accept only protected_table, so the type system keeps
// unrounded internal values out of every response: a protected_table can only be made by protect() or
// aggregate() below (its constructor is private).

#include "data/disclosure/policy.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace smallarea::disclosure {

/// How a measure may be served.
enum class measure_kind {
    count,        ///< a volume: rounded per the policy
    percent_only, ///< only as a percentage of a base (rule 3), never as a volume
};

/// One area's raw (unprotected) figures for one measure and period, straight from the store.
struct raw_row {
    std::string code;
    std::string name;
    std::optional<std::int64_t> households; ///< Census households (published), for rates
    /// count: the cell value; percent_only: the numerator. nullopt = no value in the source (or publisher-suppressed).
    std::optional<std::int64_t> value;
    /// percent_only only: the unrounded base the percentage is of.
    std::optional<std::int64_t> denominator;
};

struct raw_table {
    measure_kind kind = measure_kind::count;
    std::vector<raw_row> rows;
};

/// One protected cell. Nothing here reveals an unrounded internal value.
struct protected_row {
    std::string code;
    std::string name;
    std::optional<std::int64_t> households;
    /// count measures: the protected volume (rounded, or as published). Always nullopt for percent_only.
    std::optional<std::int64_t> value;
    /// percent_only: whole percent; count: not set.
    std::optional<std::int64_t> percent;
    /// value (or percent) per 100 households, from protected values only (rule 5), rounded to hundredths (halves up).
    std::optional<double> rate_per_100_households;
    /// true when the cell is hidden by a small-cell or small-denominator rule (value/percent are then null).
    bool suppressed = false;
    /// true when the source had no figure for this area (not the same as zero or suppressed).
    bool missing = false;
    /// Half-width of the interval the true value lies in, given the rounding (rule 1): members x base/2.
    /// 0 for unrounded data. count measures only.
    double uncertainty = 0;
    /// Members whose cell was suppressed or missing; their values are not in an aggregate's sum.
    std::int64_t excluded_cells = 0;
    /// How many cells were summed into this row (1 for an area, n for an aggregate).
    std::int64_t cells = 1;
};

class protected_table {
public:
    measure_kind kind() const noexcept { return m_kind; }
    const disclosure::policy& policy() const noexcept { return m_policy; }
    const std::vector<protected_row>& rows() const noexcept { return m_rows; }
    /// The total row: for counts the sum of the protected cells, never a separately rounded raw total (rule 2);
    /// for percent_only measures the percentage of the summed raw figures, rounded and suppressed like a cell.
    const protected_row& total() const noexcept { return m_total; }

private:
    friend protected_table protect(const raw_table&, const disclosure::policy&);
    friend protected_table aggregate(const std::vector<std::pair<std::string, std::vector<std::size_t>>>&,
                                     const protected_table&, const raw_table&,
                                     const std::vector<std::optional<std::int64_t>>&);
    protected_table() = default;

    measure_kind m_kind = measure_kind::count;
    disclosure::policy m_policy;
    std::vector<protected_row> m_rows;
    protected_row m_total;
};

/// Applies the policy to every cell: rounding (internal counts, per cell, half up), suppression of small cells,
/// percentages for percentage-only measures (from unrounded figures, whole percent, suppressed below
/// policy.percent_min_denominator), rates per 100 households from protected values, the total row recomputed
/// from protected cells. Rows keep their order. Throws smallarea::error on a negative raw value (the store
/// refuses them at ingest, so this is a programmer error surfacing).
protected_table protect(const raw_table& raw, const disclosure::policy& p);

/// Combines rows of a protected table into named aggregates (bespoke areas, LA totals): each aggregate's value
/// is the sum of its members' protected values (never a re-rounded raw sum); its uncertainty is the sum of the
/// members'. Percentage-only aggregates are computed from the members' raw figures (rule 3), so `raw` must be the
/// table `cells` was protected from (same rows, same order). members are row indices into cells.rows().
/// Households sum over members that have them, unless `households` gives an aggregate its own published count
/// (e.g. an LSOA's Census households, more complete than the sum of its OAs'): then that one is used. Rates use
/// the summed protected value.
protected_table aggregate(const std::vector<std::pair<std::string, std::vector<std::size_t>>>& groups,
                          const protected_table& cells, const raw_table& raw,
                          const std::vector<std::optional<std::int64_t>>& households = {});

} // namespace smallarea::disclosure
