// bench_geo_tiles: measures the geo tile engine in-process on the bench/ data sets.
//
//   bench_geo_tiles DATA(any OGR source) TILELIST('z x y' lines) [--layer NAME] [--tolerance 3] [--extent 4096]
//                   [--buffer 64] [--passes 1] [--threads 1] [--out DIR]
//
// Reads polygons + attributes with GDAL, builds a polygon_layer, renders every listed tile (all string/integer/
// real attributes as properties, id = feature index), prints build seconds, tiles/s, bytes and peak RSS, and the
// last lines as RESULT|anchor|tiles|seconds|tiles_per_s|bytes|peak_rss_kb|p50_ms|p99_ms like bench/.

#include "geo/polygon_layer.hpp"

#include <gdal.h>
#include <ogr_api.h>
#include <ogrsf_frmts.h>

#include <sys/resource.h>
#include <time.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

namespace geo = smallarea::geo;

namespace {

double now() {
    return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// CPU time of the calling thread: the VM is shared and noisy, so tiles per CPU-second is the steadier figure.
double thread_cpu_seconds() {
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

long peak_rss_kb() {
    rusage u{};
    getrusage(RUSAGE_SELF, &u);
    return u.ru_maxrss;
}

struct attribute {
    std::uint32_t field;
    geo::property_value value;
};

} // namespace

int main(int argc, char** argv) {
    if (argc < 3) {
        std::cerr << "usage: bench_geo_tiles DATA TILELIST [--tolerance 3] [--extent 4096] [--buffer 64] "
                     "[--passes 1] [--threads 1] [--layer NAME] [--out DIR]\n";
        return 2;
    }
    const std::string data_path = argv[1];
    const std::string tile_path = argv[2];
    geo::tile_options options;
    options.tolerance = 3.0;
    int passes = 1;
    int threads = 1;
    std::string layer_name;
    std::string out_dir;
    for (int i = 3; i + 1 < argc; i += 2) {
        const std::string k = argv[i];
        const char* v = argv[i + 1];
        if (k == "--tolerance") {
            options.tolerance = std::atof(v);
        } else if (k == "--extent") {
            options.extent = static_cast<std::uint32_t>(std::atoi(v));
        } else if (k == "--buffer") {
            options.buffer = static_cast<std::uint32_t>(std::atoi(v));
        } else if (k == "--passes") {
            passes = std::max(1, std::atoi(v));
        } else if (k == "--threads") {
            threads = std::max(1, std::atoi(v));
        } else if (k == "--layer") {
            layer_name = v;
        } else if (k == "--out") {
            out_dir = v;
        } else {
            std::cerr << "unknown option " << k << "\n";
            return 2;
        }
    }

    std::vector<geo::tile_id> tiles;
    {
        std::ifstream in{tile_path};
        geo::tile_id t;
        while (in >> t.z >> t.x >> t.y) {
            tiles.push_back(t);
        }
    }

    GDALAllRegister();
    double t0 = now();
    GDALDatasetUniquePtr ds{GDALDataset::Open(data_path.c_str(), GDAL_OF_VECTOR | GDAL_OF_READONLY)};
    if (!ds) {
        std::cerr << "cannot open " << data_path << "\n";
        return 1;
    }
    OGRLayer* src = layer_name.empty() ? ds->GetLayer(0) : ds->GetLayerByName(layer_name.c_str());
    if (src == nullptr) {
        std::cerr << "no such layer\n";
        return 1;
    }
    std::vector<std::string> field_names;
    OGRFeatureDefn* defn = src->GetLayerDefn();
    for (int i = 0; i < defn->GetFieldCount(); ++i) {
        field_names.emplace_back(defn->GetFieldDefn(i)->GetNameRef());
    }
    geo::polygon_layer layer;
    std::vector<std::size_t> attr_start{0};
    std::vector<attribute> attrs;
    std::vector<unsigned char> wkb;
    std::size_t skipped = 0;
    double t_add = 0.0;
    for (auto& feature : *src) {
        OGRGeometry* g = feature->GetGeometryRef();
        if (g == nullptr) {
            ++skipped;
            continue;
        }
        wkb.resize(static_cast<std::size_t>(g->WkbSize()));
        g->exportToWkb(wkbNDR, wkb.data(), wkbVariantIso);
        const double a0 = now();
        try {
            layer.add(wkb.data(), wkb.size());
        } catch (const std::exception& e) {
            ++skipped;
            continue;
        }
        t_add += now() - a0;
        for (int i = 0; i < defn->GetFieldCount(); ++i) {
            if (!feature->IsFieldSetAndNotNull(i)) {
                continue;
            }
            const auto f = static_cast<std::uint32_t>(i);
            switch (defn->GetFieldDefn(i)->GetType()) {
            case OFTInteger:
            case OFTInteger64:
                attrs.push_back({f, static_cast<std::int64_t>(feature->GetFieldAsInteger64(i))});
                break;
            case OFTReal:
                attrs.push_back({f, feature->GetFieldAsDouble(i)});
                break;
            default:
                attrs.push_back({f, std::string{feature->GetFieldAsString(i)}});
                break;
            }
        }
        attr_start.push_back(attrs.size());
    }
    const double t_read = now() - t0;
    const long rss_before_build = peak_rss_kb();
    t0 = now();
    layer.build();
    const double t_build = now() - t0;
    std::fprintf(stderr, "# geo: features=%zu skipped=%zu read(GDAL+add)=%.3fs add(project+importance)=%.3fs "
                         "index=%.3fs layer_memory=%.1f MB tiles=%zu tolerance=%g peakRSS(before build)=%ld MB\n",
                 layer.size(), skipped, t_read, t_add, t_build, layer.memory_bytes() / 1048576.0, tiles.size(),
                 options.tolerance, rss_before_build / 1024);

    const auto feature_id = [](std::uint32_t i) { return static_cast<std::uint64_t>(i); };
    const auto properties = [&](std::uint32_t i, geo::feature_properties& out) {
        for (std::size_t a = attr_start[i]; a < attr_start[i + 1]; ++a) {
            const attribute& at = attrs[a];
            const std::string& key = field_names[at.field];
            if (const auto* s = std::get_if<std::string>(&at.value)) {
                out.add_string(key, *s);
            } else if (const auto* n = std::get_if<std::int64_t>(&at.value)) {
                out.add_int(key, *n);
            } else if (const auto* d = std::get_if<double>(&at.value)) {
                out.add_double(key, *d);
            }
        }
    };

    for (int pass = 1; pass <= passes; ++pass) {
        std::vector<double> latency(tiles.size());
        std::vector<std::size_t> tile_bytes(tiles.size());
        std::atomic<std::size_t> next{0};
        std::atomic<std::uint64_t> bytes{0};
        std::atomic<std::size_t> non_empty{0};
        std::atomic<double> cpu_seconds{0.0};
        const double start = now();
        auto worker = [&] {
            const double cpu0 = thread_cpu_seconds();
            for (;;) {
                const std::size_t i = next.fetch_add(1);
                if (i >= tiles.size()) {
                    double expected = cpu_seconds.load();
                    const double mine = thread_cpu_seconds() - cpu0;
                    while (!cpu_seconds.compare_exchange_weak(expected, expected + mine)) {
                    }
                    return;
                }
                const double s = now();
                const std::string mvt = geo::render_mvt(layer, "oa", tiles[i], feature_id, properties, options);
                latency[i] = (now() - s) * 1000.0;
                bytes += mvt.size();
                tile_bytes[i] = mvt.size();
                if (!mvt.empty()) {
                    ++non_empty;
                    if (!out_dir.empty() && pass == 1) {
                        const std::string dir = out_dir + "/" + std::to_string(tiles[i].z) + "/" +
                                                std::to_string(tiles[i].x);
                        const std::string cmd = "mkdir -p '" + dir + "'";
                        if (std::system(cmd.c_str()) == 0) {
                            std::ofstream f{dir + "/" + std::to_string(tiles[i].y) + ".mvt", std::ios::binary};
                            f.write(mvt.data(), static_cast<std::streamsize>(mvt.size()));
                        }
                    }
                }
            }
        };
        std::vector<std::thread> pool;
        for (int k = 1; k < threads; ++k) {
            pool.emplace_back(worker);
        }
        worker();
        for (auto& th : pool) {
            th.join();
        }
        const double sec = now() - start;
        if (pass == 1) { // where the time and bytes go, per zoom
            for (std::uint32_t z = 0; z <= geo::max_zoom; ++z) {
                double ms = 0;
                std::size_t count = 0;
                std::size_t zb = 0;
                for (std::size_t i = 0; i < tiles.size(); ++i) {
                    if (tiles[i].z == z) {
                        ms += latency[i];
                        ++count;
                        zb += tile_bytes[i];
                    }
                }
                if (count > 0) {
                    std::fprintf(stderr, "#   z%-2u tiles=%5zu total=%8.1fms mean=%7.3fms bytes=%10zu mean=%8.0f\n", z,
                                 count, ms, ms / count, zb, double(zb) / count);
                }
            }
        }
        std::sort(latency.begin(), latency.end());
        auto q = [&](double f) {
            return latency.empty() ? 0.0
                                   : latency[std::min(latency.size() - 1,
                                                      static_cast<std::size_t>(latency.size() * f))];
        };
        std::fprintf(stderr, "# geo pass %d (threads %d): %.3fs %.1f tiles/s (cpu %.3fs: %.1f tiles per cpu-s) "
                             "bytes=%llu mean=%.0f nonempty=%zu p50=%.3fms p99=%.3fms max=%.3fms\n",
                     pass, threads, sec, tiles.size() / sec, cpu_seconds.load(), tiles.size() / cpu_seconds.load(), static_cast<unsigned long long>(bytes.load()),
                     tiles.empty() ? 0.0 : double(bytes.load()) / tiles.size(), non_empty.load(), q(0.5), q(0.99),
                     latency.empty() ? 0.0 : latency.back());
        std::printf("RESULT|G:geo-render-t%d-pass%d|%zu|%.3f|%.1f|%llu|%ld|%.3f|%.3f\n", threads, pass, tiles.size(),
                    sec, tiles.size() / sec, static_cast<unsigned long long>(bytes.load()), peak_rss_kb(), q(0.5),
                    q(0.99));
    }
    std::printf("RESULT|G:geo-build(add+index)|%zu|%.3f|NA|NA|%ld|NA|NA\n", layer.size(), t_add + t_build,
                peak_rss_kb());
    return 0;
}
