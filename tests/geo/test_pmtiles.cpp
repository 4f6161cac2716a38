// The PMTiles v3 writer (geo/pmtiles.hpp) checked against the spec with a hand-written reader
// (pmtiles_reader.hpp): Hilbert TileIds, varint directories, run lengths, deduplication, leaf directories, the
// header, and that a failed or abandoned export leaves nothing behind.

#include <doctest/doctest.h>

#include "core/error.hpp"
#include "geo/pmtiles.hpp"
#include "pmtiles_reader.hpp"

#include <filesystem>
#include <set>
#include <stdexcept>
#include <string>

#include <unistd.h>

using namespace smallarea::geo;
namespace fs = std::filesystem;

namespace {

struct scratch {
    fs::path dir;
    scratch() {
        std::string pattern = (fs::temp_directory_path() / "smallarea-pmtiles-XXXXXX").string();
        if (!mkdtemp(pattern.data())) throw std::runtime_error("mkdtemp failed");
        dir = pattern;
    }
    ~scratch() {
        std::error_code ec;
        fs::remove_all(dir, ec);
    }
    std::size_t files() const { return static_cast<std::size_t>(std::distance(fs::directory_iterator(dir), fs::directory_iterator())); }
};

pmtiles::archive_info info_for(std::uint8_t minz, std::uint8_t maxz) {
    pmtiles::archive_info info;
    info.min_zoom = minz;
    info.max_zoom = maxz;
    info.bounds_lonlat = bbox{-2.5, 53.3, -2.1, 53.6};
    info.center_lon = -2.3;
    info.center_lat = 53.45;
    info.center_zoom = 11;
    info.metadata_json = R"({"vector_layers":[{"id":"oa","fields":{"code":"String"}}]})";
    return info;
}

} // namespace

TEST_CASE("pmtiles - TileIds are the spec's Hilbert positions") {
    // The spec's series: zoom 0 is id 0, zoom 1 ids 1..4 along the curve (0,0) (0,1) (1,1) (1,0), then zoom 2 from 5.
    CHECK(pmtiles::tile_id_of({0, 0, 0}) == 0);
    CHECK(pmtiles::tile_id_of({1, 0, 0}) == 1);
    CHECK(pmtiles::tile_id_of({1, 0, 1}) == 2);
    CHECK(pmtiles::tile_id_of({1, 1, 1}) == 3);
    CHECK(pmtiles::tile_id_of({1, 1, 0}) == 4);
    CHECK(pmtiles::tile_id_of({2, 0, 0}) == 5);
    CHECK(pmtiles::tile_id_of({2, 1, 3}) == 11);
    CHECK(pmtiles::tile_id_of({3, 3, 0}) == 26);
    // The reference implementation's own test value (pmtiles zxyToTileId(12, 3423, 1763)).
    CHECK(pmtiles::tile_id_of({12, 3423, 1763}) == 19078479);
    // Zoom 16's first and last: (4^16 - 1) / 3 tiles come before it.
    CHECK(pmtiles::tile_id_of({16, 0, 0}) == 1431655765ULL);
    CHECK(pmtiles::tile_id_of({16, 65535, 0}) == 1431655765ULL + 65536ULL * 65536ULL - 1);
}

TEST_CASE("pmtiles - tile_of inverts tile_id_of and the ids of a zoom are a permutation of one range") {
    for (std::uint32_t z = 0; z <= 5; ++z) {
        std::set<std::uint64_t> ids;
        for (std::uint32_t x = 0; x < (1U << z); ++x) {
            for (std::uint32_t y = 0; y < (1U << z); ++y) {
                const auto id = pmtiles::tile_id_of({z, x, y});
                ids.insert(id);
                const auto back = pmtiles::tile_of(id);
                CHECK(back.z == z);
                CHECK(back.x == x);
                CHECK(back.y == y);
            }
        }
        CHECK(ids.size() == (1ULL << (2 * z)));
        CHECK(*ids.begin() == ((1ULL << (2 * z)) - 1) / 3);
        // Consecutive ids are neighbouring tiles (the point of a Hilbert order: one range request, nearby tiles).
        for (auto id = *ids.begin(); id + 1 <= *ids.rbegin(); ++id) {
            const auto a = pmtiles::tile_of(id), b = pmtiles::tile_of(id + 1);
            CHECK(std::abs(int(a.x) - int(b.x)) + std::abs(int(a.y) - int(b.y)) == 1);
        }
    }
    CHECK_THROWS_AS(pmtiles::tile_of(pmtiles::tile_id_of({16, 0, 0}) + (1ULL << 32)), std::out_of_range);
}

TEST_CASE("pmtiles - a directory round-trips through the spec's varint columns") {
    const std::vector<pmtiles::entry> entries{
        {0, 0, 100, 1},       // first offset: stored as offset + 1
        {1, 100, 50, 1},      // contiguous: stored as 0
        {5, 150, 20000, 3},   // run length 3: ids 5, 6, 7
        {9, 0, 100, 1},       // a deduplicated tile pointing back to offset 0
        {300000, 20150, 7, 0}, // a leaf pointer (run length 0), a large delta
    };
    const std::string bytes = pmtiles::serialize_directory(entries);
    // By hand: count 5; deltas 0 1 4 4 299991; runs 1 1 3 1 0; lengths 100 50 20000 100 7; offsets 1 0 0 1 20151.
    CHECK(static_cast<unsigned char>(bytes[0]) == 5);
    CHECK(static_cast<unsigned char>(bytes[1]) == 0);
    CHECK(static_cast<unsigned char>(bytes[2]) == 1);
    const auto back = pmtiles_test::decode_directory(bytes);
    REQUIRE(back.size() == entries.size());
    for (std::size_t i = 0; i < entries.size(); ++i) {
        CHECK(back[i].tile_id == entries[i].tile_id);
        CHECK(back[i].offset == entries[i].offset);
        CHECK(back[i].length == entries[i].length);
        CHECK(back[i].run_length == entries[i].run_length);
    }
    // The offsets column holds 1 0 0 1 20151: the contiguous ones are a single zero byte each.
    std::size_t pos = 0;
    pmtiles_test::varint(bytes, pos);
    for (int i = 0; i < 15; ++i) pmtiles_test::varint(bytes, pos);
    CHECK(pmtiles_test::varint(bytes, pos) == 1);
    CHECK(pmtiles_test::varint(bytes, pos) == 0);
    CHECK(pmtiles_test::varint(bytes, pos) == 0);
    CHECK(pmtiles_test::varint(bytes, pos) == 1);
    CHECK(pmtiles_test::varint(bytes, pos) == 20151);
}

TEST_CASE("pmtiles - an archive: header, metadata, run lengths and deduplicated tiles") {
    scratch s;
    const std::string path = (s.dir / "a.pmtiles").string();
    const std::string a = pmtiles::gzip("tile a"), b = pmtiles::gzip("tile b"), c = pmtiles::gzip("tile c");
    {
        pmtiles::writer w(path);
        w.add_gzipped_tile({0, 0, 0}, a);
        w.add_gzipped_tile({1, 0, 0}, b); // id 1
        w.add_gzipped_tile({1, 0, 1}, b); // id 2: same bytes, next id -> one entry of run length 2
        w.add_gzipped_tile({1, 1, 0}, c); // id 4 (id 3 absent)
        w.add_gzipped_tile({2, 0, 0}, a); // id 5: same as 0/0/0 -> points back, not stored twice
        CHECK_THROWS_AS(w.add_gzipped_tile({1, 1, 1}, c), std::invalid_argument); // id 3: out of order
        CHECK_THROWS_AS(w.add_gzipped_tile({3, 0, 0}, ""), std::invalid_argument);
        CHECK_FALSE(fs::exists(path)); // nothing at the path before finish
        const auto sum = w.finish(info_for(0, 2));
        CHECK(sum.addressed_tiles == 5);
        CHECK(sum.tile_entries == 4);
        CHECK(sum.tile_contents == 3);
        CHECK(sum.leaf_directories == 0);
    }
    CHECK(s.files() == 1); // the temporary files are gone
    const auto r = pmtiles_test::read_archive(path);
    CHECK(r.root_offset == 127);
    CHECK(r.metadata_offset == r.root_offset + r.root_length);
    CHECK(r.data_offset + r.data_length == r.bytes.size());
    CHECK(r.data_length == a.size() + b.size() + c.size());
    CHECK(r.addressed == 5);
    CHECK(r.entries == 4);
    CHECK(r.contents == 3);
    CHECK(r.clustered == 1);
    CHECK(r.internal_compression == 2);
    CHECK(r.tile_compression == 2);
    CHECK(r.tile_type == 1);
    CHECK(r.min_zoom == 0);
    CHECK(r.max_zoom == 2);
    CHECK(r.min_lon == doctest::Approx(-2.5));
    CHECK(r.max_lat == doctest::Approx(53.6));
    CHECK(r.center_zoom == 11);
    CHECK(r.center_lat == doctest::Approx(53.45));
    CHECK(r.metadata() == R"({"vector_layers":[{"id":"oa","fields":{"code":"String"}}]})");
    const auto root = r.root();
    REQUIRE(root.size() == 4);
    CHECK(root[1].tile_id == 1);
    CHECK(root[1].run_length == 2);
    CHECK(root[3].tile_id == 5);
    CHECK(root[3].offset == root[0].offset); // deduplicated
    CHECK(pmtiles_test::gunzip(*r.tile(0)) == "tile a");
    CHECK(pmtiles_test::gunzip(*r.tile(2)) == "tile b");
    CHECK_FALSE(r.tile(3).has_value());
    CHECK(pmtiles_test::gunzip(*r.tile(4)) == "tile c");
    CHECK(pmtiles_test::gunzip(*r.tile(5)) == "tile a");
}

TEST_CASE("pmtiles - many tiles go to leaf directories and the root stays within 16 KiB with the header") {
    scratch s;
    const std::string path = (s.dir / "big.pmtiles").string();
    std::vector<std::uint64_t> ids;
    {
        pmtiles::writer w(path);
        // 40,000 distinct tiles at zoom 10 in TileId order with irregular gaps and sizes (a regular series gzips
        // so well that 40,000 entries fit in the root), never consecutive, so no two form a run.
        std::uint64_t id = pmtiles::tile_id_of({10, 0, 0}), lcg = 12345;
        for (std::uint64_t i = 0; i < 40000; ++i) {
            lcg = lcg * 6364136223846793005ULL + 1442695040888963407ULL;
            id += 2 + (lcg >> 60);
            ids.push_back(id);
            w.add_gzipped_tile(pmtiles::tile_of(id), pmtiles::gzip("tile " + std::to_string(i) + std::string(1 + (lcg >> 33) % 300, 'x')));
        }
        const auto sum = w.finish(info_for(10, 10));
        CHECK(sum.leaf_directories > 1);
        CHECK(sum.tile_entries == 40000);
    }
    const auto r = pmtiles_test::read_archive(path);
    CHECK(127 + r.root_length <= 16384);
    CHECK(r.leaf_length > 0);
    for (const auto& e : r.root()) CHECK(e.run_length == 0); // root entries point at leaves
    const auto all = r.all_entries();
    REQUIRE(all.size() == ids.size());
    for (std::size_t i = 0; i < all.size(); i += 997) {
        CHECK(all[i].tile_id == ids[i]);
        CHECK(pmtiles_test::gunzip(r.section(r.data_offset + all[i].offset, all[i].length)).rfind("tile " + std::to_string(i) + "x", 0) == 0);
    }
}

TEST_CASE("pmtiles - an unwritable path fails up front and an abandoned writer leaves nothing") {
    scratch s;
    CHECK_THROWS_AS(pmtiles::writer((s.dir / "no-such-folder" / "x.pmtiles").string()), smallarea::error);
    CHECK_THROWS_AS(pmtiles::writer(s.dir.string()), smallarea::error); // a folder
    {
        pmtiles::writer w((s.dir / "x.pmtiles").string());
        w.add_gzipped_tile({0, 0, 0}, pmtiles::gzip("x"));
        CHECK(s.files() == 1); // the tile data's temporary file
    }
    CHECK(s.files() == 0);
    pmtiles::writer empty((s.dir / "y.pmtiles").string());
    CHECK_THROWS_AS(empty.finish(info_for(0, 0)), std::logic_error);
}

TEST_CASE("pmtiles - gzip is deterministic and decompresses to its input") {
    const std::string text(10000, 'x');
    CHECK(pmtiles::gzip(text) == pmtiles::gzip(text));
    CHECK(pmtiles_test::gunzip(pmtiles::gzip(text)) == text);
    CHECK(pmtiles_test::gunzip(pmtiles::gzip("")).empty());
}
