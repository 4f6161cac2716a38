#include "server/access.hpp"

#include "core/error.hpp"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <optional>

namespace smallarea::server {

namespace {

/// One audit entry being built during a request; written with the final status in end_request.
struct pending_entry {
    std::optional<std::string> dataset;
    int refused_status = 0; ///< 401/403 when refused here; 0: allowed, the response's status is the outcome
    std::string detail;
    std::optional<std::string> area; ///< the area of this entry when it is not the request's (a bespoke id)
};

/// What this thread knows about the request it is serving. cpp-httplib runs a request from pre-routing to
/// post-routing on one pool thread, so thread-local state is request-local state.
struct request_state {
    const httplib::Request* request = nullptr;
    bool identified = false;
    std::string key;                 ///< presented key ("" when none); never logged
    std::string key_problem;         ///< "" when the key is usable as a credential
    data::key_access access;
    bool key_refusal_logged = false;
    bool internal = false;           ///< the response is built on internal data
    std::vector<pending_entry> entries;
};

thread_local request_state current;

request_state& state_of(const httplib::Request& req) {
    if (current.request != &req) {
        current = request_state{};
        current.request = &req;
    }
    return current;
}

bool iequals_prefix(const std::string& text, const char* prefix) {
    std::size_t i = 0;
    for (; prefix[i]; ++i) {
        if (i >= text.size() || std::tolower(static_cast<unsigned char>(text[i])) != prefix[i]) return false;
    }
    return true;
}

std::string area_of(const httplib::Request& req) {
    for (const char* name : {"within", "area", "code", "bespoke"}) {
        if (req.has_param(name)) return req.get_param_value(name).substr(0, 64);
    }
    return {};
}

} // namespace

not_found unknown_dataset(const std::string& id) { return not_found("UnknownDataset", "no dataset \"" + id + "\""); }

std::string bearer_key(const httplib::Request& req) {
    const auto header = req.get_header_value("Authorization");
    if (!iequals_prefix(header, "bearer ")) return {};
    auto key = header.substr(7);
    key.erase(0, key.find_first_not_of(' '));
    key.erase(key.find_last_not_of(' ') + 1);
    return key;
}

access_control::access_control(reader read, writer write, double rate_per_second, double burst)
    : m_read(std::move(read)), m_write(std::move(write)), m_limiter(rate_per_second, burst),
      m_thread([this] { flusher(); }) {}

access_control::~access_control() {
    {
        std::lock_guard<std::mutex> lock(m_queue_mutex);
        m_stop = true;
    }
    m_wake.notify_all();
    m_thread.join();
    flush();
}

void access_control::begin_request(const httplib::Request& req) {
    current = request_state{};
    current.request = &req;
    const bool has_authorization = req.has_header("Authorization");
    if (has_authorization) {
        current.key = bearer_key(req);
        if (current.key.empty()) current.key_problem = "malformed Authorization header (expected Bearer KEY)";
    }
    if (!m_limiter.enabled()) return;
    if (const int wait = m_limiter.take("a:" + req.remote_addr)) {
        throw rate_limited("more than the allowed requests per second from " + req.remote_addr + "; retry after " +
                               std::to_string(wait) + " s", wait);
    }
    if (!current.key.empty()) {
        // A hash prefix names the key's bucket without a store lookup; unknown keys get buckets too, which is
        // harmless: the address bucket bounds them.
        if (const int wait = m_limiter.take("k:" + data::hash_key(current.key).substr(0, 16))) {
            throw rate_limited("more than the allowed requests per second with this key; retry after " +
                                   std::to_string(wait) + " s", wait);
        }
    }
}

namespace {

/// Looks the presented key up once per request.
void identify(request_state& st, const httplib::Request& req, const access_control::reader& read) {
    if (st.identified) return;
    st.identified = true;
    if (st.key.empty()) {
        if (req.has_header("Authorization") && st.key_problem.empty()) {
            st.key = bearer_key(req);
            if (st.key.empty()) st.key_problem = "malformed Authorization header (expected Bearer KEY)";
        }
        if (st.key.empty()) return;
    }
    st.access = data::lookup_key(read(), data::hash_key(st.key));
    if (!st.access.found) {
        st.key_problem = "unknown key";
    } else if (st.access.revoked) {
        st.key_problem = "revoked key " + st.access.prefix;
    }
}

} // namespace

namespace {

/// The refusals that depend only on the presented key, never on what the request names: an unusable key (401),
/// then the organisation's state (403). `record(status, detail)` audits the refusal before it is thrown.
/// A request without a key passes (callers decide what it may see).
void refuse_key_problems(request_state& st, const std::function<void(int, const std::string&)>& record) {
    if (!st.key_problem.empty()) {
        if (!st.key_refusal_logged) record(401, st.key_problem);
        st.key_refusal_logged = true;
        throw unauthorized(st.access.revoked ? "KeyRevoked" : "InvalidKey", "internal MI is for named partners: " + st.key_problem);
    }
    if (st.key.empty()) return;
    if (st.access.sharing_suspended) {
        record(403, "all sharing suspended");
        throw forbidden("SharingSuspended", "sharing of internal MI is suspended for all organisations");
    }
    if (st.access.organisation_suspended) {
        record(403, "organisation suspended");
        throw forbidden("OrganisationSuspended", "sharing with " + st.access.organisation + " is suspended");
    }
    if (!st.access.has_representative) {
        // The source guidance: sharing starts only once the agreement is signed *and* a representative is named.
        record(403, "no representative named");
        throw forbidden("DatasetNotShared", "no internal MI is shared with " + st.access.organisation +
                                                " until it names the representative responsible for its confidentiality "
                                                "agreement (smallarea keys org-update --name ORG --representative NAME "
                                                "--representative-contact EMAIL_OR_PHONE)");
    }
}

} // namespace

bool access_control::readable(const httplib::Request& req, const data::dataset_info* d, const std::string& id) {
    if (d && d->policy.classification == disclosure::classification::published) return true;
    auto& st = state_of(req);
    st.internal = true;
    identify(st, req, m_read);
    // The real id, also for one the store does not have: probing for hidden ids shows in the log.
    const std::string logged = id.substr(0, 100);
    auto record = [&](int status, const std::string& detail) {
        const bool seen = std::any_of(st.entries.begin(), st.entries.end(),
                                      [&](const pending_entry& e) { return e.dataset && *e.dataset == logged; });
        if (!seen) st.entries.push_back(pending_entry{logged, status, detail, std::nullopt});
    };
    // Key problems first and whatever the id names: their answers must not depend on whether it exists.
    refuse_key_problems(st, record);
    if (st.key.empty()) {
        record(404, d ? "no key" : "no such dataset (no key)");
        return false;
    }
    if (!d || std::find(st.access.datasets.begin(), st.access.datasets.end(), d->id) == st.access.datasets.end()) {
        record(404, d ? "dataset not shared with organisation" : "no such dataset");
        return false;
    }
    record(0, "allowed");
    return true;
}

bool access_control::visible(const httplib::Request& req, const data::dataset_info& d) {
    if (d.policy.classification == disclosure::classification::published) return true;
    auto& st = state_of(req);
    identify(st, req, m_read);
    if (!st.key_problem.empty()) {
        if (!st.key_refusal_logged) {
            // A refused key is audited even where it only hides datasets from a listing.
            st.key_refusal_logged = true;
            st.entries.push_back(pending_entry{std::nullopt, 401, st.key_problem, std::nullopt});
        }
        return false;
    }
    if (st.key.empty() || st.access.sharing_suspended || st.access.organisation_suspended ||
        !st.access.has_representative) {
        return false;
    }
    const bool shared = std::find(st.access.datasets.begin(), st.access.datasets.end(), d.id) != st.access.datasets.end();
    if (shared) st.internal = true; // the listing describes internal data: keep it out of shared caches
    return shared;
}

std::optional<std::int64_t> access_control::organisation(const httplib::Request& req) {
    auto& st = state_of(req);
    identify(st, req, m_read);
    if (st.key.empty() || !st.key_problem.empty() || !st.access.found || st.access.sharing_suspended ||
        st.access.organisation_suspended || !st.access.has_representative) {
        return std::nullopt;
    }
    return st.access.organisation_id;
}

void access_control::require_usable_key(const httplib::Request& req) {
    if (!req.has_header("Authorization")) return;
    auto& st = state_of(req);
    identify(st, req, m_read);
    if (st.key.empty() && st.key_problem.empty()) st.key_problem = "malformed Authorization header (expected Bearer KEY)";
    refuse_key_problems(st, [&](int status, const std::string& detail) {
        st.entries.push_back(pending_entry{std::nullopt, status, detail, std::nullopt});
    });
}

void access_control::note_private_bespoke(const httplib::Request& req, const std::string& id, bool allowed) {
    auto& st = state_of(req);
    if (allowed) st.internal = true;
    const std::string area = "bespoke:" + id.substr(0, 40);
    const bool seen = std::any_of(st.entries.begin(), st.entries.end(),
                                  [&](const pending_entry& e) { return !e.dataset && e.area && *e.area == area; });
    if (seen) return;
    st.entries.push_back(pending_entry{std::nullopt, allowed ? 0 : 404,
                                       allowed ? "private bespoke area" : "private bespoke area of another organisation",
                                       area});
}

void access_control::mark_private(const httplib::Request& req) { state_of(req).internal = true; }

void access_control::end_request(const httplib::Request& req, httplib::Response& res) {
    auto& st = state_of(req);
    if (st.internal && res.status < 400) {
        // private: no shared cache (proxy, CDN) may keep internal MI. no-cache: the browser may keep it but must
        // revalidate every time, so each use passes the access check (a 304 is only sent after authorisation)
        // and a suspension takes effect on the next request; the ETag still saves resending unchanged tiles.
        res.headers.erase("Cache-Control");
        res.set_header("Cache-Control", "private, no-cache");
        // One Vary header (some routes already vary on Accept-Encoding).
        std::string vary = res.get_header_value("Vary");
        res.headers.erase("Vary");
        res.set_header("Vary", vary.empty() ? "Authorization" : vary + ", Authorization");
    }
    if (!st.entries.empty()) {
        std::vector<data::audit_entry> out;
        const auto at = data::utc_now();
        const auto area = area_of(req);
        for (auto& e : st.entries) {
            data::audit_entry a;
            a.at = at;
            if (st.access.found) {
                a.organisation_id = st.access.organisation_id;
                a.key_id = st.access.key_id;
            }
            a.client = req.remote_addr;
            a.endpoint = (req.method + " " + req.path).substr(0, 300);
            a.dataset = e.dataset;
            if (e.area) a.area = e.area;
            else if (!area.empty()) a.area = area;
            a.outcome = e.refused_status != 0 ? e.refused_status : res.status;
            a.detail = std::move(e.detail);
            out.push_back(std::move(a));
        }
        std::lock_guard<std::mutex> lock(m_queue_mutex);
        m_queue.insert(m_queue.end(), std::make_move_iterator(out.begin()), std::make_move_iterator(out.end()));
    }
    current = request_state{};
}

// Audit rows are queued and written by this thread at most every 200 ms, in one transaction per batch, rather
// than one write per request: every write takes the single writer mutex and commits, which would serialise
// tile-heavy map traffic on internal data behind the disk. At most 200 ms of rows are at risk on a crash
// (SIGKILL); a clean shutdown flushes in the destructor.
void access_control::flusher() {
    std::unique_lock<std::mutex> lock(m_queue_mutex);
    while (!m_stop) {
        m_wake.wait_for(lock, std::chrono::milliseconds(200));
        lock.unlock();
        flush();
        lock.lock();
    }
}

void access_control::flush() {
    std::lock_guard<std::mutex> flush_lock(m_flush_mutex);
    std::vector<data::audit_entry> batch;
    {
        std::lock_guard<std::mutex> lock(m_queue_mutex);
        batch.swap(m_queue);
    }
    if (batch.empty()) return;
    try {
        m_write([&](data::database& db) { data::append_audit(db, batch); });
    } catch (const std::exception& e) {
        // Keep the rows for the next attempt (e.g. the store was briefly locked by `smallarea keys`).
        std::fprintf(stderr, "smallarea: audit log write failed (%zu rows kept for retry): %s\n", batch.size(), e.what());
        std::lock_guard<std::mutex> lock(m_queue_mutex);
        m_queue.insert(m_queue.begin(), std::make_move_iterator(batch.begin()), std::make_move_iterator(batch.end()));
    }
}

} // namespace smallarea::server
