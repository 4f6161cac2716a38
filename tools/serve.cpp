// `smallarea serve`: the one command that links the HTTP server.

#include "tools/cli.hpp"

#include "data/sqlite.hpp"
#include "server/app.hpp"

#include <csignal>
#include <iostream>
#include <thread>

#include <pthread.h>

namespace smallarea::cli {

int run_serve(const arguments& a) {
    if (!a.positional.empty()) throw usage_error("serve takes no positional arguments");
    smallarea::server::server_config config;
    config.db_path = a.require("db");
    config.host = a.get("host", "127.0.0.1");
    config.port = number(a.get("port", "8080"), "--port");
    config.web_root = a.get("web", "");
    config.tile_cache_bytes = static_cast<std::size_t>(number(a.get("cache-mb", "256"), "--cache-mb")) << 20;
    config.value_cache = config.tile_cache_bytes > 0; // --cache-mb 0: nothing cached, every answer computed afresh
    config.threads = number(a.get("threads", "0"), "--threads");
    config.basemap_url = a.get("basemap", "");
    config.boundaries_pmtiles = a.get("boundaries-pmtiles", "");
    if (auto rate = a.get("rate-limit"); !rate.empty()) { // "N/s" or "N" requests per second per address and per key
        if (rate.size() > 2 && rate.compare(rate.size() - 2, 2, "/s") == 0) rate.resize(rate.size() - 2);
        config.rate_limit_per_second = number(rate, "--rate-limit");
    }
    config.rate_limit_burst = number(a.get("burst", "200"), "--burst");
    config.max_bespoke_members = static_cast<std::size_t>(number(a.get("max-bespoke-members", "20000"), "--max-bespoke-members"));
    config.max_export_rows = static_cast<std::size_t>(number(a.get("max-export-rows", "250000"), "--max-export-rows"));

    // SIGINT/SIGTERM are taken by a thread that waits for them, so stop() runs outside a signal handler and
    // in-flight requests finish.
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGINT);
    sigaddset(&signals, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &signals, nullptr);

    smallarea::server::app server(config);
    const int port = server.bind();
    std::thread waiter([&server, signals]() {
        int received = 0;
        sigwait(&signals, &received);
        std::cerr << "smallarea: signal " << received << ", finishing in-flight requests\n";
        server.stop();
    });
    std::cerr << "smallarea: serving " << smallarea::data::store_display_name(config.db_path) << " on http://" << config.host << ":" << port << "/\n";
    std::cout << "listening on " << config.host << ":" << port << std::endl;
    server.serve();
    pthread_kill(waiter.native_handle(), SIGTERM); // wake the waiter if serve() ended another way
    waiter.join();
    std::cerr << "smallarea: stopped\n";
    return 0;
}

} // namespace smallarea::cli
