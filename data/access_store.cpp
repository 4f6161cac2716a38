#include "data/access_store.hpp"

#include "core/error.hpp"
#include "core/utc.hpp"

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <chrono>
#include <ctime>
#include <memory>

namespace smallarea::data {

namespace {

std::string to_hex(const unsigned char* bytes, std::size_t size) {
    static const char digits[] = "0123456789abcdef";
    std::string out;
    out.reserve(size * 2);
    for (std::size_t i = 0; i < size; ++i) {
        out += digits[bytes[i] >> 4];
        out += digits[bytes[i] & 0xf];
    }
    return out;
}

std::optional<std::int64_t> find_organisation(database& db, const std::string& name) {
    statement s(db, "SELECT id FROM organisations WHERE name = ?");
    s.bind(1, name);
    if (!s.step()) return std::nullopt;
    return s.int64(0);
}

std::int64_t require_organisation(database& db, const std::string& name) {
    const auto id = find_organisation(db, name);
    if (!id) throw not_found("UnknownOrganisation", "no organisation \"" + name + "\" (see `smallarea keys org-list`)");
    return *id;
}

/// Statements of the per-request key lookup, prepared once per connection and thread. They are reset after
/// every use, so no read transaction stays open and the next lookup sees the latest suspension or revocation.
struct lookup_statements {
    const void* handle = nullptr;
    std::unique_ptr<statement> key;
    std::unique_ptr<statement> datasets;
};

/// Resets a statement when the lookup leaves, even by exception.
struct reset_on_exit {
    statement& s;
    ~reset_on_exit() { s.reset(); }
};

} // namespace

std::string hash_key(std::string_view key) {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int size = 0;
    if (EVP_Digest(key.data(), key.size(), digest, &size, EVP_sha256(), nullptr) != 1) {
        throw error("CryptoError", "SHA-256 failed");
    }
    return to_hex(digest, size);
}

std::string utc_now() { return utc_now_text(utc_precision::milliseconds); }

void validate_date(const std::string& date) {
    auto bad = [&]() { return bad_request("InvalidDate", "\"" + date.substr(0, 40) + "\" is not a date YYYY-MM-DD"); };
    if (date.size() != 10 || date[4] != '-' || date[7] != '-') throw bad();
    for (const std::size_t i : {0, 1, 2, 3, 5, 6, 8, 9}) {
        if (date[i] < '0' || date[i] > '9') throw bad();
    }
    const int year = std::stoi(date.substr(0, 4));
    const int month = std::stoi(date.substr(5, 2));
    const int day = std::stoi(date.substr(8, 2));
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (year < 1900 || month < 1 || month > 12 || day < 1) throw bad();
    const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    if (day > days[month - 1] + (month == 2 && leap ? 1 : 0)) throw bad();
}

void validate_representative(const representative& rep) {
    auto bad = [](const std::string& why) {
        return bad_request("InvalidRepresentative",
                           why + " (internal MI is shared only once the organisation names the representative responsible "
                                 "for its confidentiality agreement: --representative NAME --representative-contact EMAIL_OR_PHONE)");
    };
    auto trimmed = [](const std::string& t) {
        const auto first = t.find_first_not_of(" \t");
        return first == std::string::npos ? std::string() : t.substr(first, t.find_last_not_of(" \t") - first + 1);
    };
    if (trimmed(rep.name).empty() || rep.name.size() > 200) throw bad("a representative needs a name of 1 to 200 characters");
    const auto contact = trimmed(rep.contact);
    if (contact.empty() || contact.size() > 200) throw bad("a representative needs a contact: an e-mail address or a telephone number");
    for (const char c : contact) {
        if (static_cast<unsigned char>(c) < 0x20) throw bad("the representative's contact has a control character");
    }
    const auto at = contact.find('@');
    if (at != std::string::npos) {
        const auto dot = contact.rfind('.');
        const bool email = at > 0 && contact.find('@', at + 1) == std::string::npos && dot != std::string::npos &&
                           dot > at + 1 && dot + 1 < contact.size() && contact.find(' ') == std::string::npos;
        if (!email) throw bad("\"" + contact.substr(0, 60) + "\" is not an e-mail address");
        return;
    }
    int digits = 0;
    for (const char c : contact) {
        if (c >= '0' && c <= '9') ++digits;
        else if (c != ' ' && c != '+' && c != '-' && c != '(' && c != ')') {
            throw bad("\"" + contact.substr(0, 60) + "\" is neither an e-mail address nor a telephone number");
        }
    }
    if (digits < 7 || digits > 15) throw bad("a telephone number has 7 to 15 digits");
}

namespace {

/// The administrative change as an audit row (client "cli", endpoint "keys ..."), in the caller's transaction,
/// so who was named responsible, and when, stays on the append-only record.
void audit_admin(database& db, const char* command, std::int64_t organisation_id, const std::string& detail) {
    audit_entry e;
    e.at = utc_now();
    e.organisation_id = organisation_id;
    e.client = "cli";
    e.endpoint = command;
    e.outcome = 0;
    e.detail = detail.substr(0, 1000);
    statement s(db, "INSERT INTO audit_log (at, organisation_id, key_id, client, endpoint, dataset_id, area, outcome, detail) "
                    "VALUES (?, ?, NULL, ?, ?, NULL, NULL, ?, ?)");
    s.bind(1, e.at).bind(2, e.organisation_id).bind(3, e.client).bind(4, e.endpoint).bind(5, e.outcome).bind(6, e.detail).run();
}

std::string describe_representative(const representative& rep) {
    return "representative " + rep.name + " <" + rep.contact + ">";
}

} // namespace

organisation add_organisation(database& db, const std::string& name, const std::string& agreement_signed,
                              const std::vector<std::string>& datasets, const representative& rep) {
    if (name.empty() || name.size() > 200) throw bad_request("InvalidName", "an organisation needs a name of 1 to 200 characters");
    validate_date(agreement_signed);
    if (datasets.empty()) throw bad_request("MissingParameter", "--datasets names at least one dataset to share");
    validate_representative(rep);
    transaction t(db);
    if (find_organisation(db, name)) throw bad_request("DuplicateOrganisation", "organisation \"" + name + "\" already exists");
    for (const auto& d : datasets) {
        statement s(db, "SELECT 1 FROM datasets WHERE id = ?");
        s.bind(1, d);
        if (!s.step()) throw not_found("UnknownDataset", "no dataset \"" + d + "\" in the store");
    }
    organisation o;
    o.name = name;
    o.agreement_signed = agreement_signed;
    o.created_at = utc_now();
    o.datasets = datasets;
    o.rep = rep;
    statement insert(db, "INSERT INTO organisations (name, agreement_signed, status, created_at, representative, "
                         "representative_contact) VALUES (?, ?, 'active', ?, ?, ?) RETURNING id");
    insert.bind(1, name).bind(2, agreement_signed).bind(3, o.created_at).bind(4, rep.name).bind(5, rep.contact);
    if (!insert.step()) throw store_error("no id for the new organisation");
    o.id = insert.int64(0);
    insert.reset();
    statement share(db, "INSERT INTO organisation_datasets (organisation_id, dataset_id) VALUES (?, ?) ON CONFLICT DO NOTHING");
    for (const auto& d : datasets) share.bind(1, o.id).bind(2, d).run();
    std::string list;
    for (const auto& d : datasets) list += (list.empty() ? "" : ",") + d;
    audit_admin(db, "keys org-add", o.id, "agreement signed " + agreement_signed + "; " + describe_representative(rep) +
                                              "; datasets " + list);
    t.commit();
    return o;
}

organisation update_representative(database& db, const std::string& organisation_name, const representative& rep) {
    validate_representative(rep);
    transaction t(db);
    const auto id = require_organisation(db, organisation_name);
    statement s(db, "UPDATE organisations SET representative = ?, representative_contact = ? WHERE id = ?");
    s.bind(1, rep.name).bind(2, rep.contact).bind(3, id).run();
    audit_admin(db, "keys org-update", id, describe_representative(rep));
    t.commit();
    for (auto& o : list_organisations(db)) {
        if (o.id == id) return o;
    }
    throw not_found("UnknownOrganisation", "no organisation \"" + organisation_name + "\"");
}

std::vector<organisation> list_organisations(database& db) {
    std::vector<organisation> out;
    statement s(db, "SELECT o.id, o.name, o.agreement_signed, o.status, o.created_at, "
                    "(SELECT count(*) FROM api_keys k WHERE k.organisation_id = o.id AND k.revoked_at IS NULL), "
                    "coalesce(o.representative, ''), coalesce(o.representative_contact, '') "
                    "FROM organisations o ORDER BY o.name");
    while (s.step()) {
        organisation o;
        o.id = s.int64(0);
        o.name = s.text(1);
        o.agreement_signed = s.text(2);
        o.suspended = s.text(3) == "suspended";
        o.created_at = s.text(4);
        o.active_keys = static_cast<int>(s.int64(5));
        o.rep.name = s.text(6);
        o.rep.contact = s.text(7);
        out.push_back(std::move(o));
    }
    statement d(db, "SELECT dataset_id FROM organisation_datasets WHERE organisation_id = ? ORDER BY dataset_id");
    for (auto& o : out) {
        d.bind(1, o.id);
        while (d.step()) o.datasets.push_back(d.text(0));
        d.reset();
    }
    return out;
}

issued_key issue_key(database& db, const std::string& organisation) {
    transaction t(db);
    const auto org_id = require_organisation(db, organisation);
    unsigned char random[24]; // 192 bits from the OS CSPRNG via OpenSSL
    if (RAND_bytes(random, sizeof random) != 1) throw error("CryptoError", "no random bytes for a key");
    issued_key k;
    k.key = "sak_" + to_hex(random, sizeof random);
    k.prefix = k.key.substr(0, 12);
    k.organisation = organisation;
    statement s(db, "INSERT INTO api_keys (organisation_id, key_hash, prefix, created_at) VALUES (?, ?, ?, ?) RETURNING id");
    s.bind(1, org_id).bind(2, hash_key(k.key)).bind(3, k.prefix).bind(4, utc_now());
    if (!s.step()) throw store_error("no id for the new key");
    k.id = s.int64(0);
    s.reset();
    t.commit();
    return k;
}

void revoke_key(database& db, std::int64_t key_id) {
    transaction t(db);
    statement find(db, "SELECT 1 FROM api_keys WHERE id = ?");
    find.bind(1, key_id);
    if (!find.step()) throw not_found("UnknownKey", "no key with id " + std::to_string(key_id));
    statement s(db, "UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL");
    s.bind(1, utc_now()).bind(2, key_id).run();
    t.commit();
}

void set_organisation_suspended(database& db, const std::string& organisation, bool suspended) {
    transaction t(db);
    const auto id = require_organisation(db, organisation);
    statement s(db, "UPDATE organisations SET status = ? WHERE id = ?");
    s.bind(1, suspended ? "suspended" : "active").bind(2, id).run();
    t.commit();
}

void set_sharing_suspended(database& db, bool suspended) {
    statement s(db, "UPDATE sharing SET suspended_all = ?, changed_at = ? WHERE id = 1");
    s.bind(1, suspended ? 1 : 0).bind(2, utc_now()).run();
}

bool sharing_suspended(database& db) {
    statement s(db, "SELECT suspended_all FROM sharing WHERE id = 1");
    return s.step() && s.int64(0) != 0;
}

key_access lookup_key(database& db, const std::string& key_hash) {
    thread_local lookup_statements cache;
    if (cache.handle != db.identity() || !cache.key) {
        // A different connection on this thread (a new store path): finalize the old statements first. The old
        // handle cannot be a reused address: sqlite3_close_v2 keeps a zombie until its statements are finalized.
        cache.key.reset();
        cache.datasets.reset();
        cache.key = std::make_unique<statement>(
            db, "SELECT k.id, k.organisation_id, o.name, k.prefix, k.revoked_at IS NOT NULL, o.status = 'suspended', "
                "(SELECT suspended_all FROM sharing WHERE id = 1), "
                "coalesce(o.representative, '') <> '' AND coalesce(o.representative_contact, '') <> '' "
                "FROM api_keys k JOIN organisations o ON o.id = k.organisation_id WHERE k.key_hash = ?");
        cache.datasets = std::make_unique<statement>(db, "SELECT dataset_id FROM organisation_datasets WHERE organisation_id = ?");
        cache.handle = db.identity();
    }
    key_access out;
    {
        reset_on_exit guard{*cache.key};
        cache.key->bind(1, key_hash);
        if (!cache.key->step()) return out;
        out.found = true;
        out.key_id = cache.key->int64(0);
        out.organisation_id = cache.key->int64(1);
        out.organisation = cache.key->text(2);
        out.prefix = cache.key->text(3);
        out.revoked = cache.key->int64(4) != 0;
        out.organisation_suspended = cache.key->int64(5) != 0;
        out.sharing_suspended = cache.key->int64(6) != 0;
        out.has_representative = cache.key->int64(7) != 0;
    }
    reset_on_exit guard{*cache.datasets};
    cache.datasets->bind(1, out.organisation_id);
    while (cache.datasets->step()) out.datasets.push_back(cache.datasets->text(0));
    return out;
}

void append_audit(database& db, const std::vector<audit_entry>& entries) {
    if (entries.empty()) return;
    transaction t(db);
    statement s(db, "INSERT INTO audit_log (at, organisation_id, key_id, client, endpoint, dataset_id, area, outcome, detail) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)");
    for (const auto& e : entries) {
        s.bind(1, e.at).bind(2, e.organisation_id).bind(3, e.key_id).bind(4, e.client).bind(5, e.endpoint);
        s.bind(6, e.dataset).bind(7, e.area).bind(8, e.outcome).bind(9, e.detail).run();
    }
    t.commit();
}

std::vector<audit_row> read_audit(database& db, int limit, const std::string& organisation) {
    std::optional<std::int64_t> org_id;
    if (!organisation.empty()) org_id = require_organisation(db, organisation);
    statement s(db, "SELECT a.id, a.at, a.organisation_id, a.key_id, a.client, a.endpoint, a.dataset_id, a.area, a.outcome, "
                    "a.detail, coalesce(o.name, ''), coalesce(k.prefix, '') "
                    "FROM audit_log a LEFT JOIN organisations o ON o.id = a.organisation_id "
                    "LEFT JOIN api_keys k ON k.id = a.key_id "
                    "WHERE CAST(?1 AS BIGINT) IS NULL OR a.organisation_id = ?1 ORDER BY a.id DESC LIMIT ?2");
    s.bind(1, org_id).bind(2, static_cast<std::int64_t>(limit < 0 ? 0 : limit));
    std::vector<audit_row> out;
    while (s.step()) {
        audit_row r;
        r.id = s.int64(0);
        r.at = s.text(1);
        r.organisation_id = s.optional_int64(2);
        r.key_id = s.optional_int64(3);
        r.client = s.text(4);
        r.endpoint = s.text(5);
        if (!s.is_null(6)) r.dataset = s.text(6);
        if (!s.is_null(7)) r.area = s.text(7);
        r.outcome = static_cast<int>(s.int64(8));
        r.detail = s.text(9);
        r.organisation = s.text(10);
        r.key_prefix = s.text(11);
        out.push_back(std::move(r));
    }
    return out;
}

} // namespace smallarea::data
