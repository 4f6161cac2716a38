// The smallarea command line. A thin main: parse arguments, call the library, and map failures to messages and
// exit codes in one catch ladder (osmium-tool style). Only this file prints or exits.

#include "data/error.hpp"
#include "data/ingest.hpp"
#include "data/inspect.hpp"
#include "server/app.hpp"
#include "server/export.hpp"

#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <algorithm>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include <pthread.h>

int run_keys(int argc, char** argv); // tools/keys.cpp

namespace {

const char* const usage_text = R"(usage:
  smallarea ingest MANIFEST.json --db STORE.sqlite
  smallarea inspect FILE... [--db STORE.sqlite]   (what each file is; a manifest for ingest on stdout)
  smallarea serve --db STORE.sqlite [--host 127.0.0.1] [--port 8080] [--web DIR] [--cache-mb 256]
                  [--threads N] [--basemap URL] [--rate-limit 50/s] [--burst 200]
                  [--max-bespoke-members 20000] [--max-export-rows 250000]   (--rate-limit 0 disables)
  smallarea export --db STORE.sqlite [--dataset ID] [--measure M] [--period P] [--level L] [--within CODE]
                   [--vintage Y] --format csv|xlsx|geojson|gpkg --out FILE [--totals true] [--preamble comments]
                   (a CSV gets its CSV on the Web sidecar FILE-metadata.json)
  smallarea export --db STORE.sqlite --level bespoke --ids ID,ID [--dataset ID ...] --format ... --out FILE
  smallarea export --db STORE.sqlite --targets MIN-MAX [--limit 20] --dataset ID [--measure M] [--period P]
                   [--within CODE|bespoke:ID] --format csv|xlsx --out FILE   (the target finder's top N)
  smallarea keys org-add|org-update|org-list|issue|revoke|suspend|resume|suspend-all|resume-all|audit --db STORE ...
  smallarea --version
exit codes: 0 ok, 1 bad input or unusable store, 2 usage, 3 internal error
)";

struct usage_error : std::runtime_error {
    using std::runtime_error::runtime_error;
};

/// --key value options after the positional arguments.
struct arguments {
    std::vector<std::string> positional;
    std::map<std::string, std::string> options;

    std::string get(const std::string& key, const std::string& fallback = {}) const {
        const auto it = options.find(key);
        return it == options.end() ? fallback : it->second;
    }
    std::string require(const std::string& key) const {
        const auto it = options.find(key);
        if (it == options.end() || it->second.empty()) throw usage_error("missing --" + key);
        return it->second;
    }
};

arguments parse(int argc, char** argv, int first, const std::vector<std::string>& known) {
    arguments a;
    for (int i = first; i < argc; ++i) {
        std::string arg = argv[i];
        if (arg.rfind("--", 0) == 0) {
            const auto key = arg.substr(2);
            if (std::find(known.begin(), known.end(), key) == known.end()) throw usage_error("unknown option " + arg);
            if (i + 1 >= argc) throw usage_error("option " + arg + " needs a value");
            a.options[key] = argv[++i];
        } else {
            a.positional.push_back(arg);
        }
    }
    return a;
}

int number(const std::string& text, const char* what) {
    try {
        std::size_t used = 0;
        const int v = std::stoi(text, &used);
        if (used != text.size()) throw usage_error("");
        return v;
    } catch (...) {
        throw usage_error(std::string(what) + " must be a number, got " + text);
    }
}

int run_ingest(const arguments& a) {
    if (a.positional.size() != 1) throw usage_error("ingest takes one manifest");
    const auto started = std::chrono::steady_clock::now();
    const auto summary = smallarea::data::ingest_manifest(a.positional[0], a.require("db"), [&](const std::string& line) {
        const std::chrono::duration<double> elapsed = std::chrono::steady_clock::now() - started;
        char stamp[16];
        std::snprintf(stamp, sizeof stamp, "[%6.1fs] ", elapsed.count());
        std::cerr << stamp << line << '\n';
    });
    std::cout << "ingested into " << a.require("db") << " (data release " << summary.release << "):\n"
              << "  boundary features:   " << summary.features << " (" << summary.repaired_geometries
              << " repaired with MakeValid)\n"
              << "  derived boundaries:  " << summary.derived_boundaries << '\n'
              << "  lookup rows:         " << summary.lookup_rows << '\n'
              << "  denominator rows:    " << summary.denominator_rows << '\n'
              << "  dataset cells:       " << summary.observation_rows << '\n'
              << "  skipped rows:        " << summary.skipped_rows << '\n';
    for (const auto& d : summary.datasets) std::cout << "  dataset " << d << '\n';
    for (const auto& n : summary.notes) std::cout << "  note: " << n << '\n';
    return 0;
}

int run_inspect(const arguments& a) {
    if (a.positional.empty()) throw usage_error("inspect takes one or more files");
    const auto report = smallarea::data::inspect_files(a.positional, a.get("db"));
    // Findings on stderr, the manifest alone on stdout: `smallarea inspect F --db S > manifest.json` just works.
    for (const auto& line : report.findings) std::cerr << "inspect: " << line << '\n';
    std::cout << report.manifest;
    return 0;
}

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
    std::cerr << "smallarea: serving " << config.db_path << " on http://" << config.host << ":" << port << "/\n";
    std::cout << "listening on " << config.host << ":" << port << std::endl;
    server.serve();
    pthread_kill(waiter.native_handle(), SIGTERM); // wake the waiter if serve() ended another way
    waiter.join();
    std::cerr << "smallarea: stopped\n";
    return 0;
}

int run_export(const arguments& a) { // the same export as /api/export and /api/table?format=xlsx (server/export.cpp)
    if (!a.positional.empty()) throw usage_error("export takes no positional arguments");
    smallarea::server::export_request r;
    r.dataset = a.get("dataset");
    r.measure = a.get("measure");
    r.period = a.get("period");
    r.level = a.get("level");
    r.vintage = a.get("vintage");
    r.within = a.get("within");
    r.ids = a.get("ids");
    r.format = a.require("format");
    r.options = smallarea::server::parse_file_options(a.get("totals"), a.get("preamble"));
    if (const auto band = a.get("targets"); !band.empty()) { // --targets MIN-MAX: households band of /api/targets
        const auto dash = band.find('-');
        if (dash == std::string::npos) throw usage_error("--targets takes MIN-MAX households, e.g. 100-150");
        const int lo = number(band.substr(0, dash), "--targets minimum");
        const int hi = number(band.substr(dash + 1), "--targets maximum");
        const int limit = number(a.get("limit", "20"), "--limit");
        if (lo < 0 || hi < lo || limit < 1) throw usage_error("--targets needs 0 <= MIN <= MAX and --limit 1 or more");
        const auto out = smallarea::server::export_targets_to_path(a.require("db"), r, lo, hi, limit, a.require("out"));
        std::cout << "wrote " << out.features << " target areas to " << a.require("out") << " (suggested name " << out.filename << ")\n";
        return 0;
    }
    if (a.options.count("limit")) throw usage_error("--limit goes with --targets");
    const auto out = smallarea::server::export_to_path(a.require("db"), r, a.require("out"));
    std::cout << "wrote " << out.features << " rows to " << a.require("out") << " (suggested name " << out.filename << ")\n";
    return 0;
}

} // namespace

int main(int argc, char** argv) {
    try {
        if (argc < 2) throw usage_error("no command");
        const std::string command = argv[1];
        if (command == "--version") {
            std::cout << "smallarea 0.1.0\n";
            return 0;
        }
        if (command == "--help" || command == "-h" || command == "help") {
            std::cout << usage_text;
            return 0;
        }
        if (command == "keys") return run_keys(argc, argv);
        if (command == "ingest") return run_ingest(parse(argc, argv, 2, {"db"}));
        if (command == "inspect") return run_inspect(parse(argc, argv, 2, {"db"}));
        if (command == "export") {
            return run_export(parse(argc, argv, 2, {"db", "dataset", "measure", "period", "level", "within", "vintage", "format", "out",
                                                  "ids", "targets", "limit", "totals", "preamble"}));
        }
        if (command == "serve") {
            return run_serve(parse(argc, argv, 2, {"db", "host", "port", "web", "cache-mb", "threads", "basemap",
                                                  "rate-limit", "burst", "max-bespoke-members", "max-export-rows"}));
        }
        throw usage_error("unknown command " + command);
    } catch (const usage_error& e) {
        std::cerr << "smallarea: " << e.what() << "\n" << usage_text;
        return 2;
    } catch (const smallarea::ingest_error& e) {
        // inspect reads the same files with the same reader; it writes nothing, so it does not speak of the store.
        if (argc > 1 && std::string(argv[1]) == "inspect") {
            std::cerr << "smallarea: inspect failed: " << e.what() << '\n';
        } else {
            std::cerr << "smallarea: ingest failed: " << e.what() << "\nthe store is unchanged\n";
        }
        return 1;
    } catch (const smallarea::store_error& e) {
        std::cerr << "smallarea: " << e.what() << '\n';
        return 1;
    } catch (const smallarea::error& e) {
        std::cerr << "smallarea: " << e.what() << '\n';
        return 1;
    } catch (const std::exception& e) {
        std::cerr << "smallarea: internal error: " << e.what() << '\n';
        return 3;
    }
}
