// bench_geo_union: the bespoke-area geometry work in-process on one OGR source (e.g. the 1,530 OAs of one LA).
//
//   bench_geo_union DATA(any OGR source in EPSG:4326) [--households FIELD] [--passes 3] [--out union.wkb]
//
// Times (wall seconds, best of --passes): dissolve_wkb (coverage union with overlay fallback) of every polygon,
// union_wkb (GEOSUnaryUnion, what PostGIS ST_Union runs) for comparison, build_contiguity (rook), and
// build_zones (floor 100, ceiling 150, households from FIELD or 125 each, synthetic values), and prints
// RESULT|name|features|seconds lines. --out writes the dissolved WKB so the script can compare areas with PostGIS.

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
#include <string>
#include <vector>

namespace geo = smallarea::geo;

namespace {

double now() { return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count(); }

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
        std::fprintf(stderr, "usage: bench_geo_union DATA [--households FIELD] [--passes N] [--out FILE]\n");
        return 2;
    }
    std::string households_field;
    std::string out_path;
    int passes = 3;
    for (int i = 2; i + 1 < argc; i += 2) {
        if (std::strcmp(argv[i], "--households") == 0) households_field = argv[i + 1];
        else if (std::strcmp(argv[i], "--passes") == 0) passes = std::max(1, std::atoi(argv[i + 1]));
        else if (std::strcmp(argv[i], "--out") == 0) out_path = argv[i + 1];
    }
    GDALAllRegister();
    GDALDatasetUniquePtr ds(GDALDataset::Open(argv[1], GDAL_OF_VECTOR | GDAL_OF_READONLY));
    if (!ds) {
        std::fprintf(stderr, "cannot open %s\n", argv[1]);
        return 1;
    }
    OGRLayer* layer = ds->GetLayer(0);
    std::vector<std::string> wkbs;
    std::vector<std::int64_t> households;
    for (auto& feature : *layer) {
        const OGRGeometry* g = feature->GetGeometryRef();
        if (g == nullptr) continue;
        std::string w(static_cast<std::size_t>(g->WkbSize()), '\0');
        g->exportToWkb(wkbNDR, reinterpret_cast<unsigned char*>(w.data()), wkbVariantIso);
        wkbs.push_back(std::move(w));
        households.push_back(households_field.empty() ? 125 : feature->GetFieldAsInteger64(households_field.c_str()));
    }
    std::vector<std::string_view> views(wkbs.begin(), wkbs.end());
    std::string dissolved;
    const double t_dissolve = best_of(passes, [&] { dissolved = geo::dissolve_wkb(views); });
    const double t_unary = best_of(passes, [&] { (void)geo::union_wkb(views); });
    geo::contiguity_graph graph;
    const double t_graph = best_of(passes, [&] { graph = geo::build_contiguity(views, geo::contiguity::rook); });
    std::vector<std::int64_t> values(views.size());
    for (std::size_t i = 0; i < values.size(); ++i) values[i] = static_cast<std::int64_t>((i * 7919) % 97) / 20 * 20;
    geo::zone_result zones;
    geo::zone_options options;
    options.max_zones = views.size();
    const double t_zones = best_of(passes, [&] { zones = geo::build_zones(graph, households, values, options); });
    std::size_t edges = 0;
    for (const auto& n : graph.neighbours) edges += n.size();
    std::printf("features %zu, rook edges %zu (mean degree %.2f), zones %zu, unplaced %zu\n", views.size(), edges / 2,
                views.empty() ? 0.0 : static_cast<double>(edges) / static_cast<double>(views.size()), zones.zones.size(),
                zones.unplaced.size());
    std::printf("RESULT|dissolve_coverage|%zu|%.4f\n", views.size(), t_dissolve);
    std::printf("RESULT|union_unary|%zu|%.4f\n", views.size(), t_unary);
    std::printf("RESULT|contiguity_rook|%zu|%.4f\n", views.size(), t_graph);
    std::printf("RESULT|zones_greedy|%zu|%.4f\n", views.size(), t_zones);
    std::printf("RESULT|contiguity_plus_zones|%zu|%.4f\n", views.size(), t_graph + t_zones);
    if (!out_path.empty()) std::ofstream(out_path, std::ios::binary) << dissolved;
    return 0;
}
