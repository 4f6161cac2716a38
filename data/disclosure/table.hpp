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
    /// The publisher suppressed the cell (value nullopt): shown as suppressed, not missing. Last, so the
    /// positional initialisers of the fields above stay valid.
    bool suppressed = false;
};

struct raw_table {
    measure_kind kind = measure_kind::count;
    std::vector<raw_row> rows;
};

/// One protected cell, or an aggregate of protected cells. Nothing here reveals an unrounded internal value.
struct protected_row {
    std::string code;
    std::string name;
    /// Census households summed over the covered cells that have a count (rule 8: unknown is never 0); nullopt
    /// when none of them has one.
    std::optional<std::int64_t> households;
    /// count measures: the protected volume (rounded, or as published). Always nullopt for percent_only.
    std::optional<std::int64_t> value;
    /// percent_only: whole percent; count: not set.
    std::optional<std::int64_t> percent;
    /// value per 100 households over the cells that have both a value and a household count (rule 8), from
    /// protected values only (rule 5), rounded to hundredths (halves up). nullopt when no cell has both.
    std::optional<double> rate_per_100_households;
    /// Households of the cells the rate is computed over (those with a value and a count).
    std::optional<std::int64_t> rate_households;
    /// Sum of the protected values of those same cells: the rate's numerator (not served on its own; totals
    /// add it up so that a total's rate is that of the rows shown).
    std::optional<std::int64_t> rate_value;
    /// true when the cell is hidden by a small-cell or small-denominator rule (value/percent are then null).
    bool suppressed = false;
    /// true when the source had no figure for this area (not the same as zero or suppressed).
    bool missing = false;
    /// Moved to another boundary vintage by apportioning a split or irregular old area by households (published
    /// data only): an estimate, its uncertainty widened to the whole range the apportioned share could take.
    bool estimated = false;
    /// On another boundary vintage, the figure would need apportioning, which internal MI never gets: no value.
    bool not_apportioned = false;
    /// Half-width of the interval the true value lies in, given the rounding (rule 1): cells with a value x
    /// base/2. 0 for unrounded data. count measures only.
    double uncertainty = 0;
    /// How many dataset-level cells the row covers (1 for an area at the dataset's level).
    std::int64_t cells = 1;
    /// Covered cells whose figure is in the row's value or percentage (neither missing nor suppressed).
    std::int64_t cells_with_value = 0;
    /// Covered cells that have a Census household count.
    std::int64_t cells_with_households = 0;
    /// Every covered cell has a value (rule 8: a partial aggregate says so).
    bool complete() const noexcept { return cells_with_value == cells; }
    /// Every covered cell has a household count.
    bool households_complete() const noexcept { return cells_with_households == cells; }
    /// The rounding error is at least half the value (many small rounded cells): the figure "could be of little
    /// value" (source guidance) and a coarser level should be used. Never set for unrounded data.
    bool rounding_dominates() const noexcept {
        return value && uncertainty > 0 && uncertainty * 2 >= static_cast<double>(*value);
    }
};

/// One old-vintage cell's part in an area of the new vintage: `share` of its figure (1 = the whole cell).
struct crosswalk_part {
    std::size_t cell = 0; ///< row index into the old-vintage protected table
    double share = 1;
};

/// An area of the new vintage and the old cells it is made of.
struct crosswalk_area {
    std::string code;
    std::string name;
    std::optional<std::int64_t> households; ///< the new area's own count: its rate's base
    std::vector<crosswalk_part> parts;
    /// Every part is a whole old cell lying wholly inside this area (unchanged or merged): an exact sum.
    bool exact() const noexcept;
};

class protected_table {
public:
    measure_kind kind() const noexcept { return m_kind; }
    const disclosure::policy& policy() const noexcept { return m_policy; }
    const std::vector<protected_row>& rows() const noexcept { return m_rows; }
    /// The total row: the sum of the rows shown, for every field (rule 8); for counts the sum of protected cells,
    /// never a separately rounded raw total (rule 2); for percent_only measures the percentage over the served
    /// cells of the rows.
    const protected_row& total() const noexcept { return m_total; }

private:
    friend protected_table protect(const raw_table&, const disclosure::policy&);
    friend protected_table aggregate_counts(const std::vector<std::pair<std::string, std::vector<std::size_t>>>&,
                                            const protected_table&);
    friend protected_table crosswalk(const std::vector<crosswalk_area>&, const protected_table&);
    friend protected_table aggregate(const std::vector<std::pair<std::string, std::vector<std::size_t>>>&,
                                     const protected_table&, const raw_table&);
    protected_table() = default;

    measure_kind m_kind = measure_kind::count;
    disclosure::policy m_policy;
    std::vector<protected_row> m_rows;
    protected_row m_total;
};

/// Applies the policy to every cell: rounding (internal counts, per cell, half up), suppression of small cells,
/// percentages for percentage-only measures (whole percent of the cell's own figures, suppressed below
/// policy.percent_min_denominator), rates per 100 households from protected values, the total row recomputed
/// from protected cells. Rows keep their order. Throws smallarea::error on a negative raw value (the store
/// refuses them at ingest, so this is a programmer error surfacing).
protected_table protect(const raw_table& raw, const disclosure::policy& p);

/// The served form of one count cell under the policy: the protected value (rounded, or as published), or
/// nullopt when the small-cell rule hides it. protect() serves every count cell through this; ingest digests
/// it to tell whether a period was revised, so the "revised" flag never changes where no served figure does.
std::optional<std::int64_t> protect_count_cell(std::int64_t raw, const policy& p);

/// Combines rows of a protected table into named aggregates (coarser standard areas, bespoke areas): each
/// aggregate's value is the sum of its members' protected values (never a re-rounded raw sum) and its uncertainty
/// the sum of theirs; households and the rate follow rule 8 (see protected_row). members are row indices into
/// cells.rows(); `raw` must be the table `cells` was protected from (same rows, same order).
///
/// Percentage-only aggregates are the percentage of the summed figures of the members that are *served* on their
/// own; suppressed and missing members contribute nothing. This is what makes percentages safe against
/// differencing on the standard hierarchy: multiplying every served cell's figures by any whole k changes no
/// answer (percentages are ratios, and a served base only grows), and suppressed cells enter no answer at all, so
/// no combination of answers pins down a volume or a base (README, rule 3). Callers must still never aggregate a
/// percentage-only measure over user-defined areas: their exact ratios between cells would give the volumes up to
/// one common factor (snapshot::table refuses them).
protected_table aggregate(const std::vector<std::pair<std::string, std::vector<std::size_t>>>& groups,
                          const protected_table& cells, const raw_table& raw);

/// aggregate() for a table of counts that has no raw table behind it (one already moved by crosswalk()): the
/// same sums of protected fields. Throws smallarea::error for a percentage-only table.
protected_table aggregate_counts(const std::vector<std::pair<std::string, std::vector<std::size_t>>>& groups,
                                 const protected_table& cells);

/// Moves a protected count table to another boundary vintage. An exact area (unchanged, merged) is the sum of its
/// cells' protected values, like any aggregate (rule 2). An area that needs a share of a split or irregular old
/// cell is estimated, `share x` the protected value rounded to a whole count, flagged `estimated`, with an
/// uncertainty that covers every split of the old cell (the share could be anything from none to all of it) on
/// top of its rounding; only for data whose policy allows it (published, not rounded by smallarea). For internal
/// MI such an area has no value and says `not_apportioned`: a share of a rounded cell estimated from households is
/// still an unrounded-looking figure, and next to the exact areas it would invite differencing. Rates are per 100
/// of the new area's households. Throws smallarea::error for a percentage-only table (never moved).
protected_table crosswalk(const std::vector<crosswalk_area>& areas, const protected_table& cells);

/// Whether a policy lets figures be apportioned across boundary vintages (published data as published).
bool may_apportion(const policy& p) noexcept;

} // namespace smallarea::disclosure
