#pragma once
// Access control for internal MI (DESIGN.md rule 4): published datasets need no key; internal datasets need
// `Authorization: Bearer KEY` of an active organisation they are shared with. Also the per-address and per-key
// rate limits and the append-only audit log of every request touching an internal dataset.
//
// Status codes, for a request naming a dataset that is not published (internal, or unknown: both are treated
// alike, so the answer never says whether a hidden dataset exists): an unknown, malformed or revoked key ->
// 401 (with WWW-Authenticate: Bearer); a valid key whose organisation is suspended, all sharing suspended, or
// whose organisation has not named its representative -> 403; otherwise, unless the key's organisation may read
// it, 404 UnknownDataset exactly as for an id that does not exist (no key at all included). Over the rate limit
// -> 429 with Retry-After. Keys are checked against the store on every request (no cache), so a suspension or
// revocation takes effect on the next request.

#include "data/access_store.hpp"
#include "core/error.hpp"
#include "data/store.hpp"
#include "server/rate_limit.hpp"

#include <httplib.h>

#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace smallarea::server {

class access_control {
public:
    /// The calling thread's read connection (context::connection).
    using reader = std::function<data::database&()>;
    /// Runs a function on the one writer connection (context::with_writer).
    using writer = std::function<void(const std::function<void(data::database&)>&)>;

    access_control(reader read, writer write, double rate_per_second, double burst);
    /// Stops the audit flusher and writes what is still queued.
    ~access_control();
    access_control(const access_control&) = delete;
    access_control& operator=(const access_control&) = delete;

    /// First thing for every request (pre-routing): resets this thread's request state and takes a token from
    /// the client address's bucket and, when a Bearer key is presented, from the key's bucket.
    /// Throws rate_limited (429).
    void begin_request(const httplib::Request& req);

    /// Whether the request may read the dataset `id` (d: the dataset, or null when the store has none by that id).
    /// Published datasets pass. For any other id the key is checked first, whether or not the dataset exists:
    /// throws unauthorized (401) or forbidden (403) for key problems; then returns false when the key's
    /// organisation may not read it (the caller answers 404 as for an unknown id). Every call for a non-published
    /// id is audited once per request and id, with the real id (refusals with status 404).
    bool readable(const httplib::Request& req, const data::dataset_info* d, const std::string& id);

    /// Whether the dataset is listed for this request: published always; internal only to a key that could read it.
    bool visible(const httplib::Request& req, const data::dataset_info& d);

    /// The organisation whose private bespoke areas this request may read: its key is valid and not revoked, the
    /// organisation is active and has named its representative, and sharing is not suspended. nullopt otherwise
    /// (no key, a refused key: the caller then sees public areas only; no 401 here).
    std::optional<std::int64_t> organisation(const httplib::Request& req);

    /// For a request that presents a key (Authorization header) to own what it creates: throws as readable does
    /// for key problems (401 InvalidKey/KeyRevoked, 403 SharingSuspended/OrganisationSuspended/DatasetNotShared
    /// for an organisation without a representative). Does nothing without an Authorization header.
    void require_usable_key(const httplib::Request& req);

    /// Records a request for a private bespoke area: audited (area "bespoke:ID", dataset none; refused ones with
    /// 404), and an allowed answer is kept out of shared caches as internal data is.
    void note_private_bespoke(const httplib::Request& req, const std::string& id, bool allowed);

    /// The response depends on the caller's key (private bespoke areas listed to their owner): no shared cache.
    void mark_private(const httplib::Request& req);

    /// Last thing for every request (post-routing): queues the request's audit entries with the final status,
    /// and makes responses built on internal data `Cache-Control: private, no-cache` (+ Vary: Authorization).
    void end_request(const httplib::Request& req, httplib::Response& res);

    /// Writes every queued audit entry now (tests, shutdown).
    void flush();

private:
    void flusher();

    reader m_read;
    writer m_write;
    rate_limiter m_limiter;
    std::mutex m_queue_mutex;
    std::condition_variable m_wake;
    std::vector<data::audit_entry> m_queue;
    bool m_stop = false;
    std::mutex m_flush_mutex; // one flush at a time keeps the log in arrival order
    std::thread m_thread;
};

/// The key presented in `Authorization: Bearer KEY` ("" when none). Query-string keys are never accepted:
/// they end up in logs and browser history, and MapLibre can send headers (transformRequest).
std::string bearer_key(const httplib::Request& req);

/// The answer for a dataset id the caller may not see, identical to the one for an id the store does not have
/// (snapshot::dataset): not_found("UnknownDataset", "no dataset \"ID\"").
not_found unknown_dataset(const std::string& id);

} // namespace smallarea::server
