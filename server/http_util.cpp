#include "server/http_util.hpp"

#include "engine/catalog.hpp"

#include "engine/export.hpp"

#include "data/csv_reader.hpp"
#include "core/error.hpp"

#include <zlib.h>

#include <algorithm>
#include <cctype>
#include <cstdio>

namespace smallarea::server {

using nlohmann::json;

/// How often a key occurs in the raw query string. cpp-httplib 0.11 folds identical key=value pairs while
/// parsing, so its own count cannot see "?a=1&a=1".
std::size_t raw_param_count(const httplib::Request& req, const std::string& name) {
    const auto q = req.target.find('?');
    if (q == std::string::npos) return 0;
    std::size_t count = 0;
    std::size_t start = q + 1;
    while (start <= req.target.size()) {
        auto end = req.target.find('&', start);
        if (end == std::string::npos) end = req.target.size();
        const auto pair = req.target.substr(start, end - start);
        const auto key = pair.substr(0, pair.find('='));
        if (httplib::detail::decode_url(key, true) == name) ++count;
        start = end + 1;
    }
    return count;
}

/// One query parameter: absent -> "", repeated -> 400 (which one would win is not obvious to the user).
std::string param(const httplib::Request& req, const char* name) {
    const auto count = std::max(req.get_param_value_count(name), raw_param_count(req, name));
    if (count == 0) return {};
    if (count > 1) throw bad_request("RepeatedParameter", std::string("parameter \"") + name + "\" is given more than once");
    std::string value = req.get_param_value(name);
    if (!data::valid_utf8(value)) throw bad_request("InvalidParameter", std::string("parameter \"") + name + "\" is not valid UTF-8");
    // Long enough for 100 bespoke ids or a list of area codes; the request line itself is capped by cpp-httplib (414).
    if (value.size() > 2048) throw bad_request("InvalidParameter", std::string("parameter \"") + name + "\" is too long");
    return value;
}

/// A whole number in [lo, hi] from a parameter or path segment; 400 otherwise.
long parse_integer(const std::string& text, const char* what, long lo, long hi, const char* code) {
    if (text.empty() || text.size() > 10 ||
        !std::all_of(text.begin(), text.end(), [](unsigned char c) { return std::isdigit(c); })) {
        throw bad_request(code, std::string(what) + " must be a whole number, got \"" + text.substr(0, 20) + "\"");
    }
    const long value = std::stol(text);
    if (value < lo || value > hi) {
        throw bad_request(code, std::string(what) + " " + text + " is outside " + std::to_string(lo) + ".." + std::to_string(hi));
    }
    return value;
}

int vintage_param(const httplib::Request& req, const engine::snapshot& s, const std::string& level) {
    const auto v = param(req, "vintage");
    return v.empty() ? s.default_vintage(level) : static_cast<int>(parse_integer(v, "vintage", 1971, 2100));
}

engine::household_band band_param(const httplib::Request& req) {
    engine::household_band band;
    const auto lo = param(req, "min_households");
    const auto hi = param(req, "max_households");
    if (!lo.empty()) band.min = parse_integer(lo, "min_households", 0, 1000000);
    if (!hi.empty()) band.max = parse_integer(hi, "max_households", 0, 1000000);
    engine::check_household_band(band.min, band.max);
    return band;
}

std::string gzip(const std::string& input) {
    z_stream z{};
    // windowBits 15 + 16 asks zlib for a gzip wrapper, which is what Content-Encoding: gzip means.
    if (deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) return {};
    std::string out;
    out.resize(deflateBound(&z, input.size()) + 32);
    z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(input.data()));
    z.avail_in = static_cast<uInt>(input.size());
    z.next_out = reinterpret_cast<Bytef*>(out.data());
    z.avail_out = static_cast<uInt>(out.size());
    deflate(&z, Z_FINISH);
    out.resize(z.total_out);
    deflateEnd(&z);
    return out;
}

std::uint64_t fnv1a(const std::string& data, std::uint64_t seed) {
    std::uint64_t h = seed;
    for (const unsigned char c : data) {
        h ^= c;
        h *= 1099511628211ULL;
    }
    return h;
}

std::string hex(std::uint64_t v) {
    char buffer[17];
    std::snprintf(buffer, sizeof buffer, "%016llx", static_cast<unsigned long long>(v));
    return buffer;
}

bool accepts_gzip(const httplib::Request& req) {
    const auto header = req.get_header_value("Accept-Encoding");
    return header.find("gzip") != std::string::npos;
}

bool etag_matches(const httplib::Request& req, const std::string& etag) {
    const auto header = req.get_header_value("If-None-Match");
    return !header.empty() && (header == "*" || header.find(etag) != std::string::npos);
}

std::string base_url(const httplib::Request& req) {
    std::string host = req.get_header_value("Host");
    if (host.empty() || host.find_first_of(" \"<>\\") != std::string::npos) host = "127.0.0.1";
    return "http://" + host;
}

std::string format_of(const httplib::Request& req) {
    const std::string f = param(req, "format");
    if (f.empty() || f == "json") return "json";
    if (f == "csv") return "csv";
    if (f == "csvw") return "csvw"; // the CSV's CSV on the Web metadata
    throw unsupported_format("UnsupportedFormat", "format must be json, csv or csvw");
}

std::string url_with_format(const httplib::Request& req, const std::string& path, const std::string& format) {
    auto params = req.params;
    params.erase("format");
    if (!format.empty()) params.emplace("format", format);
    const std::string query = httplib::detail::params_to_query_str(params);
    return query.empty() ? path : path + "?" + query;
}

void send_table_file(httplib::Response& res, const engine::export_file& file, bool sidecar, const std::string& csv_url,
                     const std::string& sidecar_url) {
    if (sidecar) {
        auto metadata = file.csv_metadata;
        metadata["url"] = csv_url;
        res.set_header("Content-Disposition", "attachment; filename=\"" + file.filename + "-metadata.json\"");
        send_json(res, metadata, "application/csvm+json");
        return;
    }
    if (!file.csv_metadata.is_null()) res.set_header("Link", "<" + sidecar_url + ">; rel=\"describedby\"; type=\"application/csvm+json\"");
    res.set_header("Content-Disposition", "attachment; filename=\"" + file.filename + "\"");
    res.set_content(file.bytes, file.content_type);
}

void send_json(httplib::Response& res, const json& body, const char* content_type) {
    res.set_content(body.dump(-1, ' ', false, json::error_handler_t::replace), content_type);
}

} // namespace smallarea::server
