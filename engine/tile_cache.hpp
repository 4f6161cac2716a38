#pragma once
// A size-capped LRU of rendered tiles. Keys name every input (level, vintage, z/x/y, dataset, measure, period,
// data release), so a new release never serves an old tile.

#include <cstddef>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

namespace smallarea::engine {

struct cached_tile {
    std::string mvt;   ///< uncompressed; empty for an empty tile (served as 204)
    std::string gzip;  ///< gzip of mvt, made on the first request that accepts gzip
    std::string etag;  ///< strong: release + content hash
};

class tile_cache {
public:
    explicit tile_cache(std::size_t max_bytes) : m_max_bytes(max_bytes) {}
    std::shared_ptr<const cached_tile> get(const std::string& key);
    void put(const std::string& key, std::shared_ptr<const cached_tile> tile);
    std::size_t bytes() const;
    std::size_t entries() const;

private:
    using entry = std::pair<std::string, std::shared_ptr<const cached_tile>>;
    mutable std::mutex m_mutex;
    std::list<entry> m_lru; // front = most recent
    std::unordered_map<std::string, std::list<entry>::iterator> m_map;
    std::size_t m_bytes = 0;
    std::size_t m_max_bytes;
};

} // namespace smallarea::engine
