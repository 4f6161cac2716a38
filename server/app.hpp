#pragma once
// The HTTP server: routes -> handlers (parse -> call -> encode -> set headers). Errors become HTTP in one
// function (errors.cpp). Binds where the config says (127.0.0.1 by default).

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

namespace smallarea::server {

struct server_config {
    std::string db_path;
    std::string host = "127.0.0.1";
    int port = 8080;                      ///< 0 picks a free ephemeral port (tests)
    std::string web_root;                 ///< folder served at / (the map); empty serves no static files
    std::size_t tile_cache_bytes = 256u << 20;
    /// Cache protected value tables per release (tiles, breaks, OGC items read them); off only to compare cached
    /// answers with uncached ones (tests) or with --cache-mb 0.
    bool value_cache = true;
    int threads = 0;                      ///< worker threads; 0: 32
    std::string basemap_url;              ///< optional raster basemap URL template for the map
    /// --boundaries-pmtiles: "LEVEL=PATH[,...]" or a folder of `smallarea tiles export` archives, served at
    /// /boundaries/LEVEL.pmtiles with Range requests (server/boundaries.hpp); empty: none.
    std::string boundaries_pmtiles;
    std::size_t max_body_bytes = 1u << 20;
    /// Token bucket per client address and per API key: `rate_limit_per_second` refill, `rate_limit_burst`
    /// capacity; 0 disables. A map opening fetches dozens of tiles at once, hence the burst.
    double rate_limit_per_second = 50;
    double rate_limit_burst = 200;
    std::size_t max_bespoke_members = 20000; ///< member areas of one bespoke area, or areas a zone build may consider (400 TooManyMembers above)
    std::size_t max_export_rows = 250000; ///< rows (or features) of one table/GeoJSON/XLSX export (413 above)
};

class app {
public:
    /// Opens the store and loads the first snapshot. Throws store_error when the store is unusable.
    explicit app(server_config config);
    ~app();
    app(const app&) = delete;
    app& operator=(const app&) = delete;

    /// Binds and serves until stop(). Throws error when it cannot bind.
    void run();
    /// Binds to the configured host/port and returns the port actually bound (for port 0), without serving yet.
    int bind();
    /// Serves on the socket bound by bind(); blocks until stop().
    void serve();
    /// Stops accepting; in-flight requests finish. Safe from a signal-handling thread.
    void stop();

private:
    struct impl;
    std::unique_ptr<impl> m_impl;
};

} // namespace smallarea::server
