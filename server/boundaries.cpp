#include "server/boundaries.hpp"

#include "core/error.hpp"
#include "core/split.hpp"

#include <nlohmann/json.hpp>
#include <zlib.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>

namespace smallarea::server {

namespace {

std::uint64_t read_u64(const std::string& b, std::size_t at) {
    std::uint64_t v = 0;
    for (int i = 7; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(b[at + static_cast<std::size_t>(i)]);
    return v;
}

// Only the metadata (a few KiB) is ever inflated here, so a plain bounded loop over zlib's inflate is enough.
std::string gunzip(const std::string& in, std::size_t limit) {
    z_stream z{};
    if (inflateInit2(&z, 15 + 16) != Z_OK) return {};
    z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
    z.avail_in = static_cast<uInt>(in.size());
    std::string out;
    char buffer[16384];
    int rc = Z_OK;
    while (rc == Z_OK && out.size() <= limit) {
        z.next_out = reinterpret_cast<Bytef*>(buffer);
        z.avail_out = sizeof buffer;
        rc = inflate(&z, Z_NO_FLUSH);
        out.append(buffer, sizeof buffer - z.avail_out);
        if (rc == Z_BUF_ERROR && z.avail_in == 0) break;
    }
    inflateEnd(&z);
    if (rc != Z_STREAM_END || out.size() > limit) return {};
    return out;
}

} // namespace

boundary_archive open_boundary_archive(const std::string& path, const std::string& expected_level) {
    const auto bad = [&](const std::string& why) { return error("InvalidArchive", path + ": " + why); };
    std::ifstream in(path, std::ios::binary);
    if (!in) throw bad("cannot be read");
    std::string header(127, '\0');
    in.read(header.data(), 127);
    if (in.gcount() != 127 || header.compare(0, 7, "PMTiles") != 0) throw bad("not a PMTiles archive");
    if (header[7] != 3) throw bad("PMTiles version " + std::to_string(static_cast<int>(header[7])) + ", not 3");
    if (header[97] != 2) throw bad("metadata not gzip-compressed (not written by smallarea tiles export)");
    boundary_archive a;
    a.path = path;
    std::error_code ec;
    a.size = std::filesystem::file_size(path, ec);
    if (ec) throw bad("cannot be read");
    const auto meta_offset = read_u64(header, 24), meta_length = read_u64(header, 32);
    if (meta_length == 0 || meta_length > (1u << 20) || meta_offset > a.size || meta_length > a.size - meta_offset) {
        throw bad("metadata outside the file");
    }
    std::string packed(static_cast<std::size_t>(meta_length), '\0');
    in.seekg(static_cast<std::streamoff>(meta_offset));
    in.read(packed.data(), static_cast<std::streamsize>(meta_length));
    if (static_cast<std::uint64_t>(in.gcount()) != meta_length) throw bad("truncated");
    const auto meta = nlohmann::json::parse(gunzip(packed, 4u << 20), nullptr, false);
    if (meta.is_discarded() || !meta.is_object()) throw bad("metadata is not JSON");
    const auto s = meta.find("smallarea");
    if (s == meta.end() || !s->is_object() || !s->contains("level") || !(*s)["level"].is_string() || !s->contains("vintage") ||
        !(*s)["vintage"].is_number_integer()) {
        throw bad("metadata has no smallarea level and vintage (export it with smallarea tiles export)");
    }
    a.level = (*s)["level"].get<std::string>();
    a.vintage = (*s)["vintage"].get<int>();
    if (!expected_level.empty() && a.level != expected_level) throw bad("holds level " + a.level + ", not " + expected_level);
    const auto mtime = std::filesystem::last_write_time(path, ec).time_since_epoch().count();
    a.etag = "\"pm-" + std::to_string(a.size) + "-" + std::to_string(mtime) + "\"";
    return a;
}

std::vector<boundary_archive> load_boundary_archives(const std::string& spec) {
    std::vector<boundary_archive> out;
    if (spec.empty()) return out;
    std::error_code ec;
    if (spec.find('=') == std::string::npos) {
        if (!std::filesystem::is_directory(spec, ec)) {
            throw error("InvalidArchive", "--boundaries-pmtiles " + spec + ": neither LEVEL=PATH nor a folder");
        }
        std::vector<std::string> files;
        for (const auto& entry : std::filesystem::directory_iterator(spec, ec)) {
            if (entry.path().extension() == ".pmtiles") files.push_back(entry.path().string());
        }
        if (ec) throw error("InvalidArchive", "--boundaries-pmtiles " + spec + ": cannot list the folder");
        std::sort(files.begin(), files.end());
        for (const auto& f : files) out.push_back(open_boundary_archive(f, ""));
        if (out.empty()) throw error("InvalidArchive", "--boundaries-pmtiles " + spec + ": no .pmtiles file in the folder");
    } else {
        for (const auto& item : split_list(spec, empty_items::keep)) {
            const auto eq = item.find('=');
            if (eq == std::string::npos || eq == 0 || eq + 1 == item.size()) {
                throw error("InvalidArchive", "--boundaries-pmtiles: \"" + item + "\" is not LEVEL=PATH");
            }
            out.push_back(open_boundary_archive(item.substr(eq + 1), item.substr(0, eq)));
        }
    }
    std::set<std::string> levels;
    for (const auto& a : out) {
        if (!levels.insert(a.level).second) throw error("InvalidArchive", "--boundaries-pmtiles: two archives of level " + a.level);
    }
    return out;
}

} // namespace smallarea::server
