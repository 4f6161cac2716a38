#pragma once
// OGC API - Features Part 1 (Core, GeoJSON, OpenAPI 3.0, HTML) as documents and feature pages, without HTTP:
// server/routes_ogc.cpp parses a request into an ogc_item_request, asks here, and sends what comes back. The
// collections themselves and the feature schemas are engine/ogc.hpp.

#include "data/bespoke_store.hpp"
#include "engine/catalog.hpp"
#include "engine/ogc.hpp"
#include "geo/tile.hpp"

#include <nlohmann/json.hpp>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace smallarea::engine {

inline constexpr const char* ogc_crs84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84";
inline constexpr const char* geojson_media_type = "application/geo+json";
inline constexpr const char* openapi_media_type = "application/vnd.oai.openapi+json;version=3.0";
inline constexpr long ogc_default_limit = 100;
inline constexpr long ogc_max_limit = 10000;

/// The protected table of a query, from whatever caches it (the server's context::table_values).
using table_source = std::function<std::shared_ptr<const table_result>(const table_query&)>;

/// What an items (or one item) request names, parsed but not yet checked against the snapshot. The one-item
/// request fills only period and datetime.
struct ogc_item_request {
    long limit = ogc_default_limit;
    long offset = 0;
    std::optional<geo::bbox> bbox;
    std::vector<std::string> codes;
    std::string within; ///< an ancestor area code
    std::string period;
    std::string datetime;
    std::string compare; ///< change collections: the period to compare with (default: the one before)
};

/// An items request checked against the snapshot and the collection.
struct item_selection {
    long limit = ogc_default_limit;
    long offset = 0;
    std::optional<geo::bbox> bbox;
    std::vector<std::string> codes;
    std::optional<std::size_t> within;
    std::optional<table_query> query; ///< dataset collections (all-periods: the latest chosen, for the headers)
    std::vector<table_query> queries; ///< all-periods collections: one per chosen period, ascending
    bool empty_period = false;        ///< datetime matched no period: no features
    std::optional<table_query> compare; ///< change collections: the period compared with
};

/// bbox=minlon,minlat,maxlon,maxlat (or 6 numbers with heights), CRS84 degrees. Throws bad_request("InvalidParameter").
geo::bbox parse_bbox_crs84(const std::string& text);

/// Checks an items request against the collection: `within` must be a known area (404 UnknownArea), a period a
/// period of the dataset (404 UnknownPeriod), period and datetime not both, period only on dataset collections.
item_selection select_items(const snapshot& s, const ogc_collection& c, const ogc_item_request& r);

/// One page of features: the GeoJSON features joined by commas, and how many matched in all.
struct feature_page {
    std::string features;
    std::size_t matched = 0;
    std::size_t returned = 0;
};

/// The page of an area collection (boundaries, a dataset, all periods of a dataset) ordered by area code (all
/// periods: period by period, each in code order). Values come only from protected tables.
feature_page area_features(const snapshot& s, data::database& db, const table_source& tables, const ogc_collection& c,
                           const item_selection& sel);

/// The page of a bespoke collection: the stored bespoke areas `who` may read (ordered by id) that pass the filters
/// and, for a dataset collection, that the dataset can be summed over (bespoke_fits). With a dataset the values
/// are the protected table of exactly the page's areas.
feature_page bespoke_features(const snapshot& s, data::database& db, const ogc_collection& c, const item_selection& sel,
                              const data::bespoke_reader& who);

/// One feature of an area collection by its id (the area code; all periods: CODE_PERIOD among the periods the
/// filter lets through). Returns the GeoJSON Feature and the query its values come from (none for boundaries).
/// Throws not_found("UnknownFeature").
std::pair<std::string, std::optional<table_query>> area_feature(const snapshot& s, data::database& db, const table_source& tables,
                                                                const ogc_collection& c, const item_selection& sel,
                                                                const std::string& feature_id);

/// One bespoke feature from a record the caller may read (resolved by the server, which audits it). Throws
/// not_found("UnknownFeature") when the filter or the dataset excludes it.
std::string bespoke_feature(const snapshot& s, data::database& db, const ogc_collection& c, const item_selection& sel,
                            data::bespoke_record record);

/// not_found("UnknownFeature") naming the collection and the feature.
not_found unknown_feature(const ogc_collection& c, const std::string& feature_id);

/// The FeatureCollection members around a page: numberMatched/Returned, timeStamp, self/alternate/collection
/// and next/prev links (base = scheme://host, query = this request's query string without offset, limit and f),
/// and with a dataset the period(s), classification and disclosure statement.
nlohmann::json items_head(const ogc_collection& c, const item_selection& sel, const feature_page& page, const std::string& base,
                          const std::string& query);

/// {"links": self/alternate/collection} of one feature.
nlohmann::json item_links(const ogc_collection& c, const std::string& feature_id, const std::string& base);

/// The landing page, conformance declaration, OpenAPI 3.0 definition, collection list, one collection and its
/// styles list. base = scheme://host (the service is under base + "/ogc").
nlohmann::json landing_document(const std::string& base);
nlohmann::json conformance_document();
nlohmann::json openapi_document(const std::string& base);
nlohmann::json collections_document(const std::vector<ogc_collection>& collections, const snapshot& s, const std::string& base);
nlohmann::json collection_document(const ogc_collection& c, const snapshot& s, const std::string& base);
/// Throws not_found("UnknownStyle") for collections without styles (all but dataset collections).
nlohmann::json styles_document(const ogc_collection& c, const std::string& base);

/// A plain HTML view of any of the documents above or a feature page (the html conformance class): title,
/// description, links, and a table of collections or features.
std::string ogc_html(const nlohmann::json& doc, const std::string& fallback_title);

} // namespace smallarea::engine
