#include "server/rate_limit.hpp"

#include <algorithm>
#include <cmath>

namespace smallarea::server {

rate_limiter::rate_limiter(double rate_per_second, double burst)
    : m_rate(rate_per_second), m_burst(std::max(1.0, burst)) {}

int rate_limiter::take(const std::string& key, clock::time_point now) {
    if (!enabled()) return 0;
    std::lock_guard<std::mutex> lock(m_mutex);
    if (now - m_last_prune > std::chrono::seconds(10)) prune(now);
    auto [it, inserted] = m_buckets.try_emplace(key, bucket{m_burst, now});
    bucket& b = it->second;
    if (!inserted) {
        const double elapsed = std::chrono::duration<double>(now - b.last).count();
        b.tokens = std::min(m_burst, b.tokens + std::max(0.0, elapsed) * m_rate);
        b.last = now;
    }
    if (b.tokens >= 1.0) {
        b.tokens -= 1.0;
        return 0;
    }
    return std::max(1, static_cast<int>(std::ceil((1.0 - b.tokens) / m_rate)));
}

void rate_limiter::prune(clock::time_point now) {
    m_last_prune = now;
    // A bucket that would be full by now carries no state worth keeping.
    const double full_after = m_burst / m_rate;
    for (auto it = m_buckets.begin(); it != m_buckets.end();) {
        if (std::chrono::duration<double>(now - it->second.last).count() > full_after) {
            it = m_buckets.erase(it);
        } else {
            ++it;
        }
    }
}

} // namespace smallarea::server
