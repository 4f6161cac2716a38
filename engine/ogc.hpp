#pragma once
// OGC API Features model shared by routes_ogc.cpp and the exports (export.cpp): the collections a store offers,
// the attribute schema of an area feature (with protected values when a dataset is involved), GeoJSON feature
// text, and mapping OGC `datetime` to a dataset period. No HTTP here.

#include "data/bespoke_store.hpp"
#include "data/ogc_queries.hpp"
#include "geo/vector_writer.hpp"
#include "engine/bespoke.hpp"
#include "engine/catalog.hpp"

#include <nlohmann/json.hpp>

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace smallarea::engine {

/// One OGC collection: the boundaries of a level/vintage, one dataset measure on its boundaries, the bespoke
/// areas, or one dataset measure summed over the bespoke areas (type bespoke with a dataset).
struct ogc_collection {
    enum class kind { boundaries, dataset, bespoke };
    kind type = kind::boundaries;
    std::string id;    ///< "lsoa-2011", "claimant_count.claimants", "bespoke", "claimant_count.claimants.bespoke"
    std::string title;
    std::string description;
    std::string level;
    int vintage = 0;
    const data::dataset_info* dataset = nullptr;
    const data::measure_info* measure = nullptr;
    /// Dataset collections only. "{dataset}.{measure}.{period}": the figures of that one period (for clients that
    /// pick a collection and cannot filter); empty for the others.
    std::string fixed_period;
    /// "{dataset}.{measure}.all-periods": one feature per area and period (feature id "{code}_{period}"), so a
    /// client's time filter (datetime intervals, QGIS's temporal controller on period_start) sees every month.
    bool all_periods = false;
    /// "{dataset}.{measure}.change": one feature per area with the period's figures (latest, or period=) and the
    /// change since `compare=` (default: the period before), as compare=PERIOD on tables and tiles.
    bool change = false;
};

/// Every collection of the snapshot: one per level/vintage with boundaries, one per servable measure of each
/// dataset that `visible` lets through and whose level has boundaries, and when has_bespoke "bespoke" plus one
/// "{dataset}.{measure}.bespoke" per servable measure of each visible dataset.
std::vector<ogc_collection> ogc_collections(const snapshot& s, bool has_bespoke,
                                            const std::function<bool(const data::dataset_info&)>& visible);

/// The attribute schema of area features: code, name, level, vintage, households, <coarser level>_code..., and
/// with a table: dataset, measure, period, value, rate_per_100_households, uncertainty (or percent), suppressed,
/// missing, cells, classification. Values come from the protected table only.
class feature_schema {
public:
    /// table may be null (boundaries only). The table must outlive the schema.
    feature_schema(const snapshot& s, const std::string& level, const table_result* table);

    const std::vector<geo::vector_field>& fields() const noexcept { return m_fields; }
    /// Attribute values of one area (index into snapshot::areas); row = index into the table's rows, or -1 when
    /// the area has no row (then the value columns are null and missing is true).
    std::vector<geo::field_value> values(std::size_t area, long row) const;
    /// The same as GeoJSON properties, in field order.
    nlohmann::ordered_json properties(std::size_t area, long row) const;
    /// area index -> row of the table (-1 when none); empty without a table.
    const std::vector<std::int32_t>& row_of_area() const noexcept {
        return m_table && !m_table->row_of_area.empty() ? m_table->row_of_area : m_own_rows;
    }

private:
    const snapshot& m_s;
    const table_result* m_table;
    bool m_percent = false;
    /// The table is on another boundary vintage than its dataset's: features say per row how their area changed
    /// (change) and whether the figure is estimated or withheld (README "Boundary vintages").
    bool m_moved = false;
    bool m_change_codes = false;
    std::vector<std::string> m_parent_levels;
    std::vector<geo::vector_field> m_fields;
    std::vector<std::int32_t> m_own_rows; ///< only when the table does not carry row_of_area
    /// Boundaries without a table: households of areas with no own Census count (LADs in the sample), summed over
    /// their areas of m_households_from (the coarsest finer level with counts); labelled by households_basis.
    std::map<std::size_t, std::int64_t> m_summed_households;
    std::string m_households_from;
};

/// The attribute schema of bespoke features: code (the bespoke id), name, level (of the members), vintage, source,
/// created_at, members (count), households, and with a table (rows in item order, from add_bespoke_groups) the
/// same value fields as feature_schema: dataset, measure, period, value, rate_per_100_households, uncertainty (or
/// percent), suppressed, missing, cells, classification. Households: the Census count summed over the members,
/// or with a table the aggregate row's own (the rate's denominator).
class bespoke_schema {
public:
    /// table may be null (outline and metadata only). The snapshot and table must outlive the schema.
    bespoke_schema(const snapshot& s, const table_result* table);

    const std::vector<geo::vector_field>& fields() const noexcept { return m_fields; }
    /// row = index into the table's rows (ignored without a table).
    std::vector<geo::field_value> values(const bespoke_area& b, std::size_t row) const;
    nlohmann::ordered_json properties(const bespoke_area& b, std::size_t row) const;

private:
    const snapshot& m_s;
    const table_result* m_table;
    bool m_percent = false;
    std::vector<geo::vector_field> m_fields;
};

/// Converts attribute values to GeoJSON properties (null for std::monostate).
nlohmann::ordered_json properties_json(const std::vector<geo::vector_field>& fields, const std::vector<geo::field_value>& values);

/// Appends a GeoJSON Feature: {"type":"Feature","id":id,"geometry":<from WKB EPSG:4326, or null>,"properties":...}.
/// Throws smallarea::error("InvalidGeometry") on unparseable WKB.
void append_feature(std::string& out, const std::string& id, const std::string& wkb, const nlohmann::ordered_json& properties);

/// Maps an OGC `datetime` (RFC 3339 date or date-time, YYYY-MM or YYYY; or an interval a/b with ".." or empty
/// for an open end) to the latest of `periods` (YYYY-MM or YYYY, ascending) that overlaps it; nullopt when none
/// does. Throws bad_request("InvalidParameter") on a malformed value.
std::optional<std::string> period_for_datetime(const std::vector<std::string>& periods, const std::string& datetime);

/// Every one of `periods` that overlaps `datetime` (as period_for_datetime), ascending. Throws as it.
std::vector<std::string> periods_for_datetime(const std::vector<std::string>& periods, const std::string& datetime);

/// A dataset period as an RFC 3339 interval [first instant, last instant] (UTC).
std::pair<std::string, std::string> period_interval(const std::string& period);

/// Percent-encodes a query-string component.
std::string url_encode(const std::string& text);

} // namespace smallarea::engine
