#pragma once
// Store access for bespoke (combined) areas: tables bespoke_areas and bespoke_members (schema v2; ownership
// columns v3). Plain structs in and out; no HTTP, no JSON.
//
// Ownership (DESIGN rule 7): an area made with a key belongs to the key's organisation and is private to it
// unless published; zones and areas derived from internal MI are always private. An area made without a key
// has no organisation and is public. Every read of a stored area goes through a bespoke_reader, so no caller
// can load a private area it may not see: load_bespoke, load_bespoke_areas and has_bespoke_areas, all here.

#include "data/sqlite.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace smallarea::data {

struct bespoke_record {
    std::string id;         ///< short random id, stable, shareable in a URL
    std::string name;
    std::string level;      ///< the members' level
    int vintage = 0;
    std::string owner;      ///< hash of the owner token (never the token itself)
    std::string source;     ///< "codes", "polygon" or "zones"
    std::string created_at; ///< ISO 8601 UTC
    std::string outline;    ///< dissolved WKB MultiPolygon, EPSG:4326 (may be empty)
    std::vector<std::int64_t> members; ///< area ids, ascending
    std::optional<std::int64_t> organisation_id; ///< the owning organisation; none when made without a key
    std::string organisation;   ///< its name (filled by load_bespoke; "" when none)
    bool is_public = true;      ///< readable by anyone with the id; else only by its organisation
    bool always_private = false; ///< zones and areas derived from internal MI: can never be made public
};

/// Who reads stored bespoke areas. Default: an anonymous caller (public areas only), so a reader that was
/// never set up fails closed.
struct bespoke_reader {
    bool everything = false; ///< whoever holds the store file (the CLI) holds everything
    /// The caller's organisation when its key may be used now (valid, not revoked, organisation active, sharing
    /// not suspended, representative named): its private areas are readable too.
    std::optional<std::int64_t> organisation;

    static bespoke_reader store_holder() { return bespoke_reader{true, std::nullopt}; }
    /// Whether this reader may see an area with this ownership.
    bool may_read(bool is_public, const std::optional<std::int64_t>& owner) const {
        return everything || is_public || (organisation && owner && *organisation == *owner);
    }
    bool may_read(const bespoke_record& b) const { return may_read(b.is_public, b.organisation_id); }
    /// Whether the reader's organisation owns the area (it may publish, unpublish and see who owns it).
    bool owns(const bespoke_record& b) const { return organisation && b.organisation_id && *organisation == *b.organisation_id; }
};

/// Inserts one bespoke area and its members (in one transaction). Throws store_error (e.g. a duplicate id).
void insert_bespoke(database& db, const bespoke_record& b);

/// The one way to read a stored bespoke area: with its members, the outline only when asked (it can be large).
/// nullopt when there is none *or* `who` may not read it (private to another organisation): callers answer
/// both alike (404 UnknownBespoke), so a private area's existence is not revealed. `hidden`, when given, is set
/// to whether it exists but was withheld (for the audit log only).
std::optional<bespoke_record> load_bespoke(database& db, const std::string& id, bool with_outline,
                                           const bespoke_reader& who, bool* hidden = nullptr);

/// Whether any bespoke area `who` may read is stored. Throws store_error on an SQL failure.
bool has_bespoke_areas(database& db, const bespoke_reader& who);

/// Every bespoke area `who` may read (public ones and, for an organisation's key, its own), with its members
/// and outline, ordered by id. Throws store_error on an SQL failure.
std::vector<bespoke_record> load_bespoke_areas(database& db, const bespoke_reader& who);

/// Sets whether an area is public. Refuses nothing: the caller checks ownership and always_private first.
void set_bespoke_public(database& db, const std::string& id, bool is_public);

/// Deletes a bespoke area and its members; false when there was none.
bool delete_bespoke(database& db, const std::string& id);

} // namespace smallarea::data
