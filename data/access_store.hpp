#pragma once
// Access control for internal MI in the store: organisations that signed a confidentiality agreement, the
// datasets shared with each, their API keys (only a SHA-256 hash and a short prefix are stored), the global
// "suspend all sharing" switch, and the append-only audit log. Typed functions; no SQL leaves data/.
// Tables: schema v2 in data/store.cpp (organisations, organisation_datasets, api_keys, sharing, audit_log); v3
// adds the organisation's representative.

#include "data/sqlite.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace smallarea::data {

/// The person an organisation names as responsible for keeping the confidentiality agreement. The source
/// guidance shares internal MI only once the agreement is signed *and* this person is named.
struct representative {
    std::string name;
    std::string contact; ///< an e-mail address or a telephone number
};

struct organisation {
    std::int64_t id = 0;
    std::string name;
    std::string agreement_signed; ///< YYYY-MM-DD
    representative rep;           ///< empty name/contact: an organisation from an older store, none named yet
    bool suspended = false;
    std::string created_at;       ///< ISO 8601 UTC
    std::vector<std::string> datasets;
    int active_keys = 0;
};

/// A freshly issued key. `key` exists only in this value: the store keeps its hash.
struct issued_key {
    std::int64_t id = 0;
    std::string key;
    std::string prefix;
    std::string organisation;
};

/// What the store says about one presented key (looked up by hash).
struct key_access {
    bool found = false;
    std::int64_t key_id = 0;
    std::int64_t organisation_id = 0;
    std::string organisation;
    std::string prefix;
    bool revoked = false;
    bool organisation_suspended = false;
    bool sharing_suspended = false; ///< all sharing suspended
    bool has_representative = false; ///< a representative and a contact are named (else nothing internal is shared)
    std::vector<std::string> datasets;
};

struct audit_entry {
    std::string at; ///< ISO 8601 UTC with milliseconds
    std::optional<std::int64_t> organisation_id;
    std::optional<std::int64_t> key_id;
    std::string client;   ///< remote address
    std::string endpoint; ///< method + path, never the query string (a key could be pasted there)
    std::optional<std::string> dataset;
    std::optional<std::string> area; ///< the area/within code asked for, if any
    int outcome = 0;                 ///< HTTP status
    std::string detail;
};

struct audit_row : audit_entry {
    std::int64_t id = 0;
    std::string organisation; ///< name, empty when no (valid) key
    std::string key_prefix;
};

/// Lower-case hex SHA-256 of a key (OpenSSL EVP). Keys carry 192 random bits, so an unsalted fast hash is
/// enough: nobody can brute-force the pre-image, and a fast hash keeps per-request checks cheap.
std::string hash_key(std::string_view key);

/// Current time, ISO 8601 UTC ("2024-05-01T12:00:00.123Z").
std::string utc_now();

/// Validates YYYY-MM-DD as a real calendar date. Throws bad_request("InvalidDate").
void validate_date(const std::string& date);

/// Validates a representative: a name of 1 to 200 characters and a contact that is an e-mail address
/// (local@domain.tld) or a telephone number (7 to 15 digits; spaces, +, -, (, ) allowed).
/// Throws bad_request("InvalidRepresentative").
void validate_representative(const representative& rep);

/// Adds an organisation with the datasets shared with it and its representative, and writes an audit entry
/// ("keys org-add"). Throws bad_request (bad date, duplicate name, empty name, no datasets, no or an invalid
/// representative) or not_found("UnknownDataset") when a dataset id is not in the store.
organisation add_organisation(database& db, const std::string& name, const std::string& agreement_signed,
                              const std::vector<std::string>& datasets, const representative& rep);

/// Names (or replaces) an organisation's representative, and writes an audit entry ("keys org-update").
/// Throws not_found("UnknownOrganisation"), bad_request("InvalidRepresentative").
organisation update_representative(database& db, const std::string& organisation, const representative& rep);

std::vector<organisation> list_organisations(database& db);

/// Issues a new random key for an organisation. Throws not_found("UnknownOrganisation").
issued_key issue_key(database& db, const std::string& organisation);

/// Revokes a key by id (idempotent). Throws not_found("UnknownKey").
void revoke_key(database& db, std::int64_t key_id);

/// Suspends or resumes one organisation. Throws not_found("UnknownOrganisation").
void set_organisation_suspended(database& db, const std::string& organisation, bool suspended);

/// Suspends or resumes all sharing at once (the provider may do this at any time, without notice).
void set_sharing_suspended(database& db, bool suspended);
bool sharing_suspended(database& db);

/// Looks a presented key up by its hash. Cheap: its statements are prepared once per connection and thread.
key_access lookup_key(database& db, const std::string& key_hash);

/// Appends audit entries in one transaction.
void append_audit(database& db, const std::vector<audit_entry>& entries);

/// The newest `limit` audit rows (newest first), optionally of one organisation (not_found when unknown).
std::vector<audit_row> read_audit(database& db, int limit, const std::string& organisation = {});

} // namespace smallarea::data
