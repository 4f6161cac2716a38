#pragma once
// Bespoke (combined) areas as one domain: one type (bespoke_area: the stored record with its members resolved
// against a snapshot), one store reader/writer (data/bespoke_store.hpp), one outline function (bespoke_outline,
// a GEOS dissolve of the members' stored boundaries) and, on the server, one resolver of ids named by a request
// (server/bespoke.hpp). No HTTP here: the server and the CLI both use it.

#include "core/error.hpp"
#include "data/bespoke_store.hpp"
#include "engine/catalog.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace smallarea::engine {

/// A stored bespoke area with its members resolved against a snapshot: indices into snapshot::areas, sorted by
/// area code (store ids the snapshot no longer has are dropped; record.members keeps them all).
struct bespoke_area {
    data::bespoke_record record;
    std::vector<std::size_t> members;
};

/// record's members as snapshot indices, sorted by code.
bespoke_area resolve_members(const snapshot& s, data::bespoke_record record);

/// Whether an id can exist: 1..32 characters of lowercase RFC 4648 base32 (new_bespoke_id). Anything else is
/// answered as unknown without a query.
bool well_formed_bespoke_id(const std::string& id);

/// The one lookup of a bespoke id: the stored area when it is well formed, exists and `who` may read it, else
/// nullopt (`hidden`, when given, says it exists but was withheld: for the audit log only).
std::optional<data::bespoke_record> find_bespoke(data::database& db, const std::string& id, bool with_outline,
                                                 const data::bespoke_reader& who, bool* hidden = nullptr);

/// The refusal for an id find_bespoke did not return: the same message whether the area does not exist or is
/// another organisation's private one, so the answer does not reveal which.
not_found unknown_bespoke(const std::string& id);

/// Bespoke areas by id, in the order given (duplicates kept), as `who` may read them. Throws
/// not_found("UnknownBespoke") for an unknown or malformed id or a private area `who` may not read (alike),
/// store_error on an SQL failure.
std::vector<bespoke_area> load_bespoke_areas(const snapshot& s, data::database& db, const std::vector<std::string>& ids,
                                             bool with_outline, const data::bespoke_reader& who);

/// Whether dataset d can be summed over b without apportioning: b has members, all on d's vintage at d's level or
/// coarser (snapshot::cells_covering would otherwise refuse it with LevelTooFine / InvalidVintage).
bool bespoke_fits(const bespoke_area& b, const data::dataset_info& d);

/// The one outline function: the dissolved boundary (WKB MultiPolygon, EPSG:4326) of snapshot areas, from their
/// stored boundaries. Empty input gives an empty MultiPolygon.
std::string dissolve_areas(data::database& db, const snapshot& s, const std::vector<std::size_t>& members);

/// b's outline: as stored (saved areas store theirs), else dissolve_areas of its members; empty when none.
std::string bespoke_outline(data::database& db, const snapshot& s, const bespoke_area& b);

/// Appends one group per area to q (level=bespoke: snapshot::table then returns one row per area, in order, each
/// the disclosure::aggregate of the protected cells its members cover).
void add_bespoke_groups(table_query& q, const std::vector<const bespoke_area*>& areas);

/// A new random id: 10 characters of RFC 4648 base32 in lowercase (50 bits), e.g. "k3v7q2mxa4".
std::string new_bespoke_id();
/// A new random owner token (32 bytes as hex), returned once at creation.
std::string new_owner_token();

/// Who owns a new area and who may see it.
struct bespoke_ownership {
    std::optional<std::int64_t> organisation; ///< the creating key's organisation; none without a key
    bool is_public = true;
    bool always_private = false; ///< zones, areas derived from internal MI
};

/// What a new area is made of.
struct bespoke_draft {
    std::string name;
    std::vector<std::size_t> members; ///< snapshot indices
    std::string source;               ///< codes | polygon | zones
};

/// Validates a draft (non-empty, at most max_members, one level and vintage) and builds the record to save, with
/// a new id and its dissolved outline; members sorted and deduplicated. Throws bad_request (EmptySelection,
/// TooManyMembers, MixedLevels).
data::bespoke_record prepare_bespoke(data::database& db, const snapshot& s, const bespoke_draft& draft, std::size_t max_members,
                                     const std::string& owner_hash, const bespoke_ownership& ownership);

/// Members of a new area given as codes of one level and vintage. Throws bad_request (TooManyMembers,
/// UnknownCodes naming up to 10, MixedLevels).
std::vector<std::size_t> members_from_codes(const snapshot& s, const std::string& level, int vintage,
                                            const std::vector<std::string>& codes, std::size_t max_members);

/// Members of a new area drawn as a polygon (GeoJSON geometry text): the level's areas whose point on surface
/// (of the stored, exact boundary) lies inside it. Throws bad_request (InvalidPolygon, EmptySelection).
std::vector<std::size_t> members_in_polygon(data::database& db, const snapshot& s, const std::string& level, int vintage,
                                            const std::string& geojson_geometry);

/// Metadata: id, name, level, vintage, source, created_at, visibility ("public" | "private"), member count,
/// households (Census, published), bbox [minx, miny, maxx, maxy] EPSG:4326, url; members as [{code, name,
/// households}] when with_members. To its owner (`owner_view`) also organisation (name) and publishable.
nlohmann::json bespoke_json(const snapshot& s, const bespoke_area& b, bool with_members, bool owner_view);

/// GET /api/bespoke/{id}.geojson: the outline as a Feature, or with `with_members` a FeatureCollection of the
/// outline and each member's boundary with its Census households.
nlohmann::json bespoke_geojson(data::database& db, const snapshot& s, const bespoke_area& b, bool with_members);

/// Whether a caller may change an area's visibility to `want_public`: only the organisation that owns it
/// (forbidden("NotOwner"); an area made without a key has no organisation and stays public), and never public
/// when it is always private (zones, areas derived from internal MI: disclosure_refused("AlwaysPrivate")).
void check_may_publish(const data::bespoke_record& record, bool caller_owns, bool want_public);

/// Whether a caller may delete an area: a key of the owning organisation (caller_owns), or the owner token given
/// at creation, as its hash (owner_hash, "" when none was sent: unauthorized("OwnerTokenRequired"); another
/// token: forbidden("NotOwner")).
void check_may_delete(const data::bespoke_record& record, bool caller_owns, const std::string& owner_hash);

/// Whether an area's name mentions one of `internal_datasets` (by id or title, case-insensitive): such an area
/// says something about internal MI (a zone's name does), so it is made always private.
bool names_internal_dataset(const std::string& name, const std::vector<const data::dataset_info*>& internal_datasets);

/// The GeoJSON geometry (EPSG:4326) of a WKB, as JSON; null for an empty WKB.
nlohmann::json geometry_json(const std::string& wkb);

} // namespace smallarea::engine
