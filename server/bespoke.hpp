#pragma once
// Bespoke (combined) areas on the server side: ids and owner tokens, loading a saved area against the current
// snapshot, validating and saving a new one (members + dissolved outline), and the JSON that describes it.
// Store access lives in data/bespoke_store.hpp; geometry in geo/bespoke_geometry.hpp.

#include "data/bespoke_store.hpp"
#include "server/context.hpp"

#include <httplib.h>
#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace smallarea::server {

/// The owner a request speaks for: data::hash_key (SHA-256 hex) of its X-Owner-Token header, "" when it sends none. Only
/// hashes are stored. One function so access control can later map owners to API keys here.
std::string bespoke_owner(const httplib::Request& req);

/// A new random id: 10 characters of RFC 4648 base32 in lowercase (50 bits), e.g. "k3v7q2mxa4".
std::string new_bespoke_id();
/// A new random owner token (32 bytes as hex), returned once at creation.
std::string new_owner_token();

/// A saved bespoke area with its members resolved against a snapshot (indices into snapshot::areas, by code).
struct bespoke_area {
    data::bespoke_record record;
    std::vector<std::size_t> members;
};

/// Loads a saved bespoke area. Throws not_found("UnknownBespoke").
bespoke_area load_bespoke_area(context& ctx, const snapshot& s, const std::string& id, bool with_outline);

/// Validates members (non-empty, at most server_config::max_bespoke_members, one level and vintage), dissolves their outline
/// and saves the area. members: snapshot indices. Returns the saved record (with its new id). Throws bad_request.
data::bespoke_record save_bespoke_area(context& ctx, const snapshot& s, const std::string& name,
                                       std::vector<std::size_t> members, const std::string& source,
                                       const std::string& owner_hash);

/// Same, for many areas at once in one write (the zone builder).
std::vector<data::bespoke_record> save_bespoke_areas(context& ctx, const snapshot& s,
                                                     const std::vector<std::pair<std::string, std::vector<std::size_t>>>& areas,
                                                     const std::string& source, const std::string& owner_hash);

/// Metadata: id, name, level, vintage, source, created_at, member count, households (Census, published),
/// bbox [minx, miny, maxx, maxy] EPSG:4326, url; members as [{code, name, households}] when with_members.
nlohmann::json bespoke_json(const snapshot& s, const bespoke_area& b, bool with_members);

/// The GeoJSON geometry (EPSG:4326) of a WKB, as JSON; null for an empty WKB.
nlohmann::json geometry_json(const std::string& wkb);

/// Dissolved outline (WKB) of snapshot areas, from their stored boundaries.
std::string dissolve_areas(context& ctx, const snapshot& s, const std::vector<std::size_t>& members);

/// Serves GET /api/table?level=bespoke&ids=a,b (one row per bespoke area). Called by the /api/table route.
void serve_bespoke_table(context& ctx, const httplib::Request& req, httplib::Response& res);

} // namespace smallarea::server
