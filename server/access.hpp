#pragma once
// Access control for internal MI (DESIGN.md rule 4): published datasets need no key; internal datasets need
// `Authorization: Bearer KEY` of an active organisation they are shared with. Also the per-address and per-key
// rate limits and the append-only audit log of every request touching an internal dataset.
//
// Status codes: no key, an unknown or a revoked key -> 401 (with WWW-Authenticate: Bearer); a valid key whose
// organisation is suspended, all sharing suspended, or a dataset not shared with it -> 403; over the rate
// limit -> 429 with Retry-After. Keys are checked against the store on every request (no cache), so a
// suspension or revocation takes effect on the next request.

#include "data/access_store.hpp"
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

    /// Throws unauthorized (401) or forbidden (403) unless the request may see this dataset's values.
    /// Published datasets always pass. Every call for an internal dataset is audited (once per request and dataset).
    void authorize(const httplib::Request& req, const data::dataset_info& d);

    /// Whether the dataset is listed for this request: published always; internal only to a key that could read it.
    bool visible(const httplib::Request& req, const data::dataset_info& d);

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

} // namespace smallarea::server
