#pragma once
// Small HTTP helpers shared by the route files: strict query parameters, ETags, gzip, JSON bodies.

#include "engine/export.hpp"
#include "server/errors.hpp"

#include <httplib.h>
#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>

namespace smallarea::engine {
struct export_file;
class snapshot;
}

namespace smallarea::server {

/// How often a key occurs in the raw query string (cpp-httplib folds identical key=value pairs).
std::size_t raw_param_count(const httplib::Request& req, const std::string& name);
/// One query parameter: absent -> "", repeated -> 400, invalid UTF-8 or over 256 bytes -> 400.
std::string param(const httplib::Request& req, const char* name);
/// A whole number in [lo, hi]; 400 with `code` otherwise.
long parse_integer(const std::string& text, const char* what, long lo, long hi, const char* code = "InvalidParameter");

/// The one reading of a boundary vintage from a request (`vintage=`): a year in 1971..2100, or when absent the
/// latest vintage the store has for `level`. 400 InvalidParameter otherwise.
int vintage_param(const httplib::Request& req, const engine::snapshot& s, const std::string& level);

/// From `min_households` / `max_households` query parameters (whole numbers in 0..1,000,000; defaults 100 and
/// 150). 400 InvalidParameter when malformed or min > max (engine::check_household_band).
engine::household_band band_param(const httplib::Request& req);
std::string gzip(const std::string& input);
std::uint64_t fnv1a(const std::string& data, std::uint64_t seed = 1469598103934665603ULL);
std::string hex(std::uint64_t v);
bool accepts_gzip(const httplib::Request& req);
bool etag_matches(const httplib::Request& req, const std::string& etag);
/// http://HOST of the request (for links in TileJSON and OGC documents).
std::string base_url(const httplib::Request& req);
/// "json" (default) or "csv" from ?format=; 406 otherwise.
std::string format_of(const httplib::Request& req);
void send_json(httplib::Response& res, const nlohmann::json& body, const char* content_type = "application/json");

/// The request's path and query with `format` set to the given value (others kept, encoded again): the URL of
/// a sibling representation, e.g. a CSV's CSVW sidecar.
std::string url_with_format(const httplib::Request& req, const std::string& path, const std::string& format);

/// Sends a table file as an attachment. A CSV gets `Link: <sidecar_url>; rel="describedby"` to its CSV on the
/// Web sidecar; with `sidecar` the sidecar itself is sent (application/csvm+json), its "url" set to csv_url.
void send_table_file(httplib::Response& res, const engine::export_file& file, bool sidecar, const std::string& csv_url,
                     const std::string& sidecar_url);

/// Wraps a handler so every exception becomes the one error response (errors.cpp).
template <typename Handler>
httplib::Server::Handler wrap(Handler handler) {
    return [handler](const httplib::Request& req, httplib::Response& res) {
        try {
            handler(req, res);
        } catch (...) {
            write_error(res, std::current_exception());
        }
    };
}

} // namespace smallarea::server
