// Fuzz target: HTTP parameter handling (server/http_util): the query string is parsed the way cpp-httplib parses
// it, then param(), raw_param_count(), format_of() and parse_integer() run on it. Bad input must end in a
// smallarea::error (4xx); anything else is a bug. Accepted values obey their contracts.
#include "data/csv_reader.hpp"
#include "core/error.hpp"
#include "server/http_util.hpp"

#include <cstdint>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string input(reinterpret_cast<const char*>(data), size);
    httplib::Request req;
    req.method = "GET";
    req.target = "/api/table?" + input;
    req.path = "/api/table";
    httplib::detail::parse_query_text(input, req.params);
    for (const char* name : {"dataset", "measure", "period", "level", "within", "classes", "zoom", "format", ""}) {
        try {
            const std::string value = smallarea::server::param(req, name);
            if (value.size() > 256 || !smallarea::data::valid_utf8(value)) __builtin_trap();
            (void)smallarea::server::raw_param_count(req, name);
            const long n = smallarea::server::parse_integer(value, name, 3, 9);
            if (n < 3 || n > 9) __builtin_trap();
        } catch (const smallarea::error&) {
        }
    }
    try {
        const auto f = smallarea::server::format_of(req);
        if (f != "json" && f != "csv") __builtin_trap();
    } catch (const smallarea::error&) {
    }
    try {
        const long n = smallarea::server::parse_integer(input, "x", 0, 2147483647L);
        if (n < 0) __builtin_trap();
    } catch (const smallarea::error&) {
    }
    (void)smallarea::server::base_url(req);
    return 0;
}
