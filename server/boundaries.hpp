#pragma once
// Boundary archives served as static files (`smallarea serve --boundaries-pmtiles`): PMTiles v3 archives written
// by `smallarea tiles export`, one per level, read by the map with the npm `pmtiles` protocol through HTTP Range
// requests. They hold shapes, codes and names only, so they are public whatever the datasets are: the figures
// come from /api/values.

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace smallarea::server {

/// One archive, checked when the server starts.
struct boundary_archive {
    std::string level;
    int vintage = 0;
    std::string path;
    std::uint64_t size = 0;
    std::string etag; ///< strong: the file's size and modification time (the bytes change only with a new export)
};

/// Reads the header and metadata of a PMTiles v3 archive of `smallarea tiles export` and returns what the server
/// needs. Throws error("InvalidArchive") naming the file when it cannot be read, is not PMTiles v3 with gzip
/// metadata, has no smallarea level/vintage in its metadata, or (expected_level not empty) holds another level.
boundary_archive open_boundary_archive(const std::string& path, const std::string& expected_level);

/// --boundaries-pmtiles: "LEVEL=PATH[,LEVEL=PATH...]", or a folder whose every *.pmtiles file is an archive (its
/// level read from its metadata). Throws error("InvalidArchive") for a malformed list, an unreadable folder, a
/// level given twice, or what open_boundary_archive throws.
std::vector<boundary_archive> load_boundary_archives(const std::string& spec);

} // namespace smallarea::server
