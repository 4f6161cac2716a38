// The smallarea command line. A thin main: parse arguments, call the library, and map failures to messages and
// exit codes in one catch ladder (osmium-tool style). Only this file prints or exits.

#include "core/error.hpp"
#include "tools/cli.hpp"

#include <iostream>
#include <string>

namespace {

const char* const usage_text = R"(usage:
  smallarea ingest MANIFEST.json --db STORE.sqlite
  smallarea inspect FILE... [--db STORE.sqlite]   (what each file is; a manifest for ingest on stdout)
  smallarea serve --db STORE.sqlite [--host 127.0.0.1] [--port 8080] [--web DIR] [--cache-mb 256]
                  [--threads N] [--basemap URL] [--rate-limit 50/s] [--burst 200]
                  [--max-bespoke-members 20000] [--max-export-rows 250000]   (--rate-limit 0 disables)
                  [--boundaries-pmtiles LEVEL=FILE.pmtiles[,LEVEL=FILE...]|DIR]   (archives of tiles export)
  smallarea export --db STORE.sqlite [--dataset ID] [--measure M] [--period P] [--level L] [--within CODE]
                   [--vintage Y] --format csv|xlsx|geojson|gpkg --out FILE [--totals true] [--preamble comments] [--periods all]
                   (a CSV gets its CSV on the Web sidecar FILE-metadata.json)
  smallarea export --db STORE.sqlite --level bespoke --ids ID,ID [--dataset ID ...] --format ... --out FILE
  smallarea export --db STORE.sqlite --targets MIN-MAX [--limit 20] --dataset ID [--measure M] [--period P]
                   [--within CODE|bespoke:ID] --format csv|xlsx --out FILE   (the target finder's top N)
  smallarea tiles export --db STORE.sqlite --level L [--vintage Y] --out FILE.pmtiles [--minzoom 0] [--maxzoom 14]
                   [--threads N]   (boundaries only, code and name: a PMTiles v3 archive for any static server)
  smallarea keys org-add|org-update|org-list|issue|revoke|suspend|resume|suspend-all|resume-all|audit --db STORE ...
  smallarea --version
exit codes: 0 ok, 1 bad input or unusable store, 2 usage, 3 internal error
)";

} // namespace

int main(int argc, char** argv) {
    using namespace smallarea::cli;
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
                                                  "ids", "targets", "limit", "totals", "preamble", "periods"}));
        }
        if (command == "tiles") {
            if (argc < 3 || std::string(argv[2]) != "export") throw usage_error("tiles takes the subcommand export");
            return run_tiles_export(parse(argc, argv, 3, {"db", "level", "vintage", "out", "minzoom", "maxzoom", "threads"}));
        }
        if (command == "serve") {
            return run_serve(parse(argc, argv, 2, {"db", "host", "port", "web", "cache-mb", "threads", "basemap",
                                                  "rate-limit", "burst", "max-bespoke-members", "max-export-rows",
                                                  "boundaries-pmtiles"}));
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
