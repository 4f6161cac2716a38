#pragma once
// Token-bucket rate limiting per client address and per API key. A bucket holds up to `burst` tokens and
// refills at `rate` tokens per second; each request takes one. Buckets idle long enough to be full again are
// dropped, so memory is bounded by the clients active in the last few seconds.

#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>
#include <unordered_map>

namespace smallarea::server {

class rate_limiter {
public:
    using clock = std::chrono::steady_clock;

    /// rate <= 0 disables limiting (e.g. for load benchmarks). burst < 1 is taken as 1.
    rate_limiter(double rate_per_second, double burst);

    bool enabled() const noexcept { return m_rate > 0.0; }

    /// Takes one token from the bucket `key`. Returns 0 when allowed, otherwise the whole seconds (>= 1) until
    /// a token is available (for Retry-After).
    int take(const std::string& key, clock::time_point now = clock::now());

private:
    struct bucket {
        double tokens;
        clock::time_point last;
    };
    void prune(clock::time_point now); // with m_mutex held

    double m_rate;
    double m_burst;
    std::mutex m_mutex; // one short critical section per request: a map lookup and a few flops
    std::unordered_map<std::string, bucket> m_buckets;
    clock::time_point m_last_prune{};
};

} // namespace smallarea::server
