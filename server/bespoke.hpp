#pragma once
// Bespoke (combined) areas on the server side: ids and owner tokens, loading a saved area against the current
// snapshot, validating and saving a new one (members + dissolved outline), and the JSON that describes it.
// Store access lives in data/bespoke_store.hpp; geometry in geo/bespoke_geometry.hpp.

#include "data/bespoke_store.hpp"
#include "server/context.hpp"

#include <httplib.h>
#include <nlohmann/json.hpp>

#include <optional>
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

/// The one resolver of a bespoke id named by an HTTP request (path, query parameter or body): the stored area
/// when `who` (context::bespoke_reader of the request) may read it. A private area of another organisation
/// throws not_found("UnknownBespoke") with exactly the message of an unknown id, and is audited as refused;
/// reading a private area is audited and keeps the response out of shared caches.
data::bespoke_record resolve_bespoke_record(context& ctx, const httplib::Request& req, const data::bespoke_reader& who,
                                            const std::string& id, bool with_outline);

/// Loads a saved bespoke area the request may read (resolve_bespoke_record). Throws not_found("UnknownBespoke").
bespoke_area load_bespoke_area(context& ctx, const httplib::Request& req, const snapshot& s, const std::string& id,
                               bool with_outline);

/// Who owns a new area and who may see it.
struct bespoke_ownership {
    std::optional<std::int64_t> organisation; ///< the creating key's organisation; none without a key
    bool is_public = true;
    bool always_private = false; ///< zones, areas derived from internal MI
};

/// The ownership of an area this request creates: with a usable key, the key's organisation, private unless
/// `want_public` (and never public when always_private); without a key, public. A request that presents a key
/// which cannot be used (unknown, revoked, suspended) is refused with the same 401/403 as for internal data, so
/// an area is never silently made public when its creator meant it to be private. Throws bad_request when
/// want_public is false without a key (a private area needs an owner), disclosure_refused("AlwaysPrivate")
/// when want_public is true for an always-private area.
bespoke_ownership ownership_for(context& ctx, const httplib::Request& req, std::optional<bool> want_public, bool always_private);

/// Validates members (non-empty, at most server_config::max_bespoke_members, one level and vintage), dissolves their outline
/// and saves the area. members: snapshot indices. Returns the saved record (with its new id). Throws bad_request.
data::bespoke_record save_bespoke_area(context& ctx, const snapshot& s, const std::string& name,
                                       std::vector<std::size_t> members, const std::string& source,
                                       const std::string& owner_hash, const bespoke_ownership& ownership);

/// Same, for many areas at once in one write (the zone builder).
std::vector<data::bespoke_record> save_bespoke_areas(context& ctx, const snapshot& s,
                                                     const std::vector<std::pair<std::string, std::vector<std::size_t>>>& areas,
                                                     const std::string& source, const std::string& owner_hash,
                                                     const bespoke_ownership& ownership);

/// Metadata: id, name, level, vintage, source, created_at, visibility ("public" | "private"), member count,
/// households (Census, published), bbox [minx, miny, maxx, maxy] EPSG:4326, url; members as [{code, name,
/// households}] when with_members. To its owner (`owner_view`) also organisation (name) and publishable.
nlohmann::json bespoke_json(const snapshot& s, const bespoke_area& b, bool with_members, bool owner_view);

/// The GeoJSON geometry (EPSG:4326) of a WKB, as JSON; null for an empty WKB.
nlohmann::json geometry_json(const std::string& wkb);

/// Dissolved outline (WKB) of snapshot areas, from their stored boundaries.
std::string dissolve_areas(context& ctx, const snapshot& s, const std::vector<std::size_t>& members);

/// Serves GET /api/table?level=bespoke&ids=a,b (one row per bespoke area). Called by the /api/table route.
void serve_bespoke_table(context& ctx, const httplib::Request& req, httplib::Response& res);

} // namespace smallarea::server
