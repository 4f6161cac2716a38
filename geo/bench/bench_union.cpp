// bench_geo_union: the bespoke-area geometry work in-process on one OGR source (e.g. the 1,530 OAs of one LA).
//
//   bench_geo_union DATA(any OGR source in EPSG:4326) [--households FIELD | --households-csv FILE --code-field F]
//                   [--passes 3] [--out union.wkb]
//
// Times (wall seconds, best of --passes): dissolve_wkb (coverage union with overlay fallback) of every polygon,
// union_wkb (GEOSUnaryUnion, what PostGIS ST_Union runs) for comparison, build_contiguity (rook), and
// build_zones (every zone allowed; band 100-150, the API's default, and 200-300, where most zones need several
// areas) with synthetic values, and prints RESULT|name|features|seconds lines. Households: the feature field
// FIELD, or a CSV (code,households,...: the sample's households_oa11_*.csv) joined on the feature field F, or 125
// each. As in POST /api/zones, areas without a household count are left out of the graph and the zones.
// --out writes the dissolved WKB so the script can compare areas with PostGIS.

#include "geo/bespoke_geometry.hpp"
#include "geo/contiguity.hpp"
#include "geo/geometry_ops.hpp"
#include "geo/zones.hpp"

#include <gdal.h>
#include <ogrsf_frmts.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

namespace geo = smallarea::geo;

namespace {

double now() { return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count(); }

// code -> households from a CSV whose first column is the code and second the count (header row skipped).
std::unordered_map<std::string, std::int64_t> read_households(const std::string& path) {
    std::unordered_map<std::string, std::int64_t> out;
    std::ifstream in(path);
    std::string line;
    std::getline(in, line);
    while (std::getline(in, line)) {
        std::istringstream row(line);
        std::string code, count;
        if (std::getline(row, code, ',') && std::getline(row, count, ',') && !count.empty()) {
            out[code] = std::atoll(count.c_str());
        }
    }
    return out;
}

template <typename F>
double best_of(int passes, F&& f) {
    double best = 1e300;
    for (int i = 0; i < passes; ++i) {
        const double t0 = now();
        f();
        best = std::min(best, now() - t0);
    }
    return best;
}

} // namespace

int main(int argc, char** argv) {
    if (argc < 2) {
        std::fprintf(stderr, "usage: bench_geo_union DATA [--households FIELD | --households-csv FILE --code-field F] "
                             "[--passes N] [--out FILE]\n");
        return 2;
    }
    std::string households_field;
    std::string out_path;
    std::string households_csv;
    std::string code_field;
    int passes = 3;
    for (int i = 2; i + 1 < argc; i += 2) {
        if (std::strcmp(argv[i], "--households") == 0) households_field = argv[i + 1];
        else if (std::strcmp(argv[i], "--passes") == 0) passes = std::max(1, std::atoi(argv[i + 1]));
        else if (std::strcmp(argv[i], "--out") == 0) out_path = argv[i + 1];
        else if (std::strcmp(argv[i], "--households-csv") == 0) households_csv = argv[i + 1];
        else if (std::strcmp(argv[i], "--code-field") == 0) code_field = argv[i + 1];
    }
    GDALAllRegister();
    GDALDatasetUniquePtr ds(GDALDataset::Open(argv[1], GDAL_OF_VECTOR | GDAL_OF_READONLY));
    if (!ds) {
        std::fprintf(stderr, "cannot open %s\n", argv[1]);
        return 1;
    }
    OGRLayer* layer = ds->GetLayer(0);
    const auto csv = households_csv.empty() ? std::unordered_map<std::string, std::int64_t>{} : read_households(households_csv);
    std::vector<std::string> wkbs;
    std::vector<std::int64_t> households; // -1: no count
    for (auto& feature : *layer) {
        const OGRGeometry* g = feature->GetGeometryRef();
        if (g == nullptr) continue;
        std::string w(static_cast<std::size_t>(g->WkbSize()), '\0');
        g->exportToWkb(wkbNDR, reinterpret_cast<unsigned char*>(w.data()), wkbVariantIso);
        wkbs.push_back(std::move(w));
        if (!households_csv.empty()) {
            const auto h = csv.find(feature->GetFieldAsString(code_field.c_str()));
            households.push_back(h == csv.end() ? -1 : h->second);
        } else {
            households.push_back(households_field.empty() ? 125 : feature->GetFieldAsInteger64(households_field.c_str()));
        }
    }
    std::vector<std::string_view> views(wkbs.begin(), wkbs.end());
    std::string dissolved;
    const double t_dissolve = best_of(passes, [&] { dissolved = geo::dissolve_wkb(views); });
    const double t_unary = best_of(passes, [&] { (void)geo::union_wkb(views); });
    // The zone build's input, as the server makes it: only areas with a household count.
    std::vector<std::string_view> counted;
    std::vector<std::int64_t> counted_households;
    for (std::size_t i = 0; i < views.size(); ++i) {
        if (households[i] < 0) continue;
        counted.push_back(views[i]);
        counted_households.push_back(households[i]);
    }
    geo::contiguity_graph graph;
    const double t_graph = best_of(passes, [&] { graph = geo::build_contiguity(counted, geo::contiguity::rook); });
    std::vector<std::int64_t> values(counted.size());
    for (std::size_t i = 0; i < values.size(); ++i) values[i] = static_cast<std::int64_t>((i * 7919) % 97) / 20 * 20;
    std::size_t edges = 0;
    for (const auto& n : graph.neighbours) edges += n.size();
    std::printf("features %zu (%zu with households), rook edges %zu (mean degree %.2f)\n", views.size(), counted.size(),
                edges / 2, counted.empty() ? 0.0 : static_cast<double>(edges) / static_cast<double>(counted.size()));
    std::printf("RESULT|dissolve_coverage|%zu|%.4f\n", views.size(), t_dissolve);
    std::printf("RESULT|union_unary|%zu|%.4f\n", views.size(), t_unary);
    std::printf("RESULT|contiguity_rook|%zu|%.4f\n", counted.size(), t_graph);
    double t_zones_worst = 0;
    for (const auto& band : {std::pair<std::int64_t, std::int64_t>{100, 150}, {200, 300}}) {
        geo::zone_result zones;
        geo::zone_options options;
        options.min_households = band.first;
        options.max_households = band.second;
        options.max_zones = counted.size();
        const double t = best_of(passes, [&] { zones = geo::build_zones(graph, counted_households, values, options); });
        t_zones_worst = std::max(t_zones_worst, t);
        std::size_t members = 0;
        for (const auto& z : zones.zones) members += z.members.size();
        std::printf("band %lld-%lld: %zu zones (%zu areas, %.2f per zone), %zu unplaced\n", static_cast<long long>(band.first),
                    static_cast<long long>(band.second), zones.zones.size(), members,
                    zones.zones.empty() ? 0.0 : static_cast<double>(members) / static_cast<double>(zones.zones.size()),
                    zones.unplaced.size());
        std::printf("RESULT|zones_greedy_%lld_%lld|%zu|%.4f\n", static_cast<long long>(band.first),
                    static_cast<long long>(band.second), counted.size(), t);
    }
    std::printf("RESULT|contiguity_plus_zones|%zu|%.4f\n", counted.size(), t_graph + t_zones_worst);
    if (!out_path.empty()) std::ofstream(out_path, std::ios::binary) << dissolved;
    return 0;
}
