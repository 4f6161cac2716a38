#pragma once
// Bespoke areas as the HTTP layer sees them: who a request speaks for (owner token, key), the one resolver of a
// bespoke id named by a request (audited), ownership of a new area, and saving through the server's writer. The
// domain itself (type, validation, outline, JSON) is engine/bespoke.hpp.

#include "engine/bespoke.hpp"
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

/// The one resolver of a bespoke id named by an HTTP request (path, query parameter or body): the stored area
/// when `who` (context::bespoke_reader of the request) may read it. A private area of another organisation
/// throws not_found("UnknownBespoke") with exactly the message of an unknown id, and is audited as refused;
/// reading a private area is audited and keeps the response out of shared caches.
data::bespoke_record resolve_bespoke_record(context& ctx, const httplib::Request& req, const data::bespoke_reader& who,
                                            const std::string& id, bool with_outline);

/// Loads a saved bespoke area the request may read (resolve_bespoke_record). Throws not_found("UnknownBespoke").
bespoke_area load_bespoke_area(context& ctx, const httplib::Request& req, const snapshot& s, const std::string& id,
                               bool with_outline);

/// The ownership of an area this request creates: with a usable key, the key's organisation, private unless
/// `want_public` (and never public when always_private); without a key, public. A request that presents a key
/// which cannot be used (unknown, revoked, suspended) is refused with the same 401/403 as for internal data, so
/// an area is never silently made public when its creator meant it to be private. Throws bad_request when
/// want_public is false without a key (a private area needs an owner), disclosure_refused("AlwaysPrivate")
/// when want_public is true for an always-private area.
bespoke_ownership ownership_for(context& ctx, const httplib::Request& req, std::optional<bool> want_public, bool always_private);

/// Validates and saves new areas in one write (engine::prepare_bespoke, server_config::max_bespoke_members).
/// Returns the saved records (with their new ids). Throws bad_request.
std::vector<data::bespoke_record> save_bespoke_areas(context& ctx, const snapshot& s, const std::vector<bespoke_draft>& drafts,
                                                     const std::string& owner_hash, const bespoke_ownership& ownership);

/// Serves GET /api/table?level=bespoke&ids=a,b (one row per bespoke area). Called by the /api/table route.
void serve_bespoke_table(context& ctx, const httplib::Request& req, httplib::Response& res);

} // namespace smallarea::server
