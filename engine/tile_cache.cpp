#include "engine/tile_cache.hpp"

namespace smallarea::engine {

namespace {
std::size_t cost(const std::string& key, const cached_tile& t) {
    return key.size() + t.mvt.size() + t.gzip.size() + t.etag.size() + 64;
}
} // namespace

std::shared_ptr<const cached_tile> tile_cache::get(const std::string& key) {
    std::lock_guard<std::mutex> lock(m_mutex);
    const auto it = m_map.find(key);
    if (it == m_map.end()) return nullptr;
    m_lru.splice(m_lru.begin(), m_lru, it->second);
    return it->second->second;
}

void tile_cache::put(const std::string& key, std::shared_ptr<const cached_tile> tile) {
    const std::size_t size = cost(key, *tile);
    if (size > m_max_bytes) return;
    std::lock_guard<std::mutex> lock(m_mutex);
    if (const auto it = m_map.find(key); it != m_map.end()) {
        m_bytes -= cost(it->first, *it->second->second);
        m_lru.erase(it->second);
        m_map.erase(it);
    }
    m_lru.emplace_front(key, std::move(tile));
    m_map.emplace(key, m_lru.begin());
    m_bytes += size;
    while (m_bytes > m_max_bytes && !m_lru.empty()) {
        auto& last = m_lru.back();
        m_bytes -= cost(last.first, *last.second);
        m_map.erase(last.first);
        m_lru.pop_back();
    }
}

std::size_t tile_cache::bytes() const {
    std::lock_guard<std::mutex> lock(m_mutex);
    return m_bytes;
}

std::size_t tile_cache::entries() const {
    std::lock_guard<std::mutex> lock(m_mutex);
    return m_map.size();
}

} // namespace smallarea::engine
