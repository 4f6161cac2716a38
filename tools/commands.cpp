// The commands of smallarea_cli: ingest, inspect and export call the data and engine layers directly.

#include "tools/cli.hpp"

#include "data/ingest.hpp"
#include "data/inspect.hpp"
#include "engine/export.hpp"
#include "engine/tile_export.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <iostream>

namespace smallarea::cli {

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
    if (summary.postcodes > 0 || summary.postcodes_outside > 0) {
        std::cout << "  postcodes:           " << summary.postcodes << " (" << summary.postcodes_terminated
                  << " terminated; " << summary.postcodes_outside << " outside the store's OAs, not stored)\n";
    }
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

int run_export(const arguments& a) { // the same export as /api/export and /api/table?format=xlsx (engine/export.cpp)
    if (!a.positional.empty()) throw usage_error("export takes no positional arguments");
    smallarea::engine::export_request r;
    r.dataset = a.get("dataset");
    r.measure = a.get("measure");
    r.period = a.get("period");
    r.level = a.get("level");
    r.vintage = a.get("vintage");
    r.within = a.get("within");
    r.ids = a.get("ids");
    r.format = a.require("format");
    r.options = smallarea::engine::parse_file_options(a.get("totals"), a.get("preamble"));
    r.periods = a.get("periods");
    if (const auto band = a.get("targets"); !band.empty()) { // --targets MIN-MAX: households band of /api/targets
        const auto dash = band.find('-');
        if (dash == std::string::npos) throw usage_error("--targets takes MIN-MAX households, e.g. 100-150");
        const int lo = number(band.substr(0, dash), "--targets minimum");
        const int hi = number(band.substr(dash + 1), "--targets maximum");
        const int limit = number(a.get("limit", "20"), "--limit");
        if (lo < 0 || hi < lo || limit < 1) throw usage_error("--targets needs 0 <= MIN <= MAX and --limit 1 or more");
        const auto out = smallarea::engine::export_targets_to_path(a.require("db"), r, lo, hi, limit, a.require("out"));
        std::cout << "wrote " << out.features << " target areas to " << a.require("out") << " (suggested name " << out.filename << ")\n";
        return 0;
    }
    if (a.options.count("limit")) throw usage_error("--limit goes with --targets");
    const auto out = smallarea::engine::export_to_path(a.require("db"), r, a.require("out"));
    std::cout << "wrote " << out.features << " rows to " << a.require("out") << " (suggested name " << out.filename << ")\n";
    return 0;
}

int run_tiles_export(const arguments& a) { // engine/tile_export.hpp: boundaries only, never a dataset value
    if (!a.positional.empty()) throw usage_error("tiles export takes no positional arguments");
    const int threads = number(a.get("threads", "0"), "--threads");
    if (threads < 0 || threads > 256) throw usage_error("--threads must be 0 (one per core) to 256");
    const auto started = std::chrono::steady_clock::now();
    const auto out = a.require("out");
    const auto sum = smallarea::engine::export_pmtiles_to_path(
        a.require("db"), a.require("level"), a.get("vintage"), a.get("minzoom"), a.get("maxzoom"), out,
        static_cast<unsigned>(threads), [&](const std::string& line) {
            const std::chrono::duration<double> elapsed = std::chrono::steady_clock::now() - started;
            char stamp[16];
            std::snprintf(stamp, sizeof stamp, "[%6.1fs] ", elapsed.count());
            std::cerr << stamp << line << '\n';
        });
    std::cout << "wrote " << out << ": " << sum.level << " " << sum.vintage << ", " << sum.features << " features, zooms "
              << sum.zooms.min << "-" << sum.zooms.max << ", " << sum.archive.addressed_tiles << " tiles ("
              << sum.archive.tile_contents << " distinct), " << sum.archive.file_bytes << " bytes ("
              << sum.archive.leaf_directories << " leaf directories)\n";
    return 0;
}

} // namespace smallarea::cli
