#pragma once
// The command line's argument parsing and one function per command (tools/main.cpp dispatches). The commands
// but `serve` live in smallarea_cli, which links the engine and data layers and never cpp-httplib; `serve` is
// the only one that needs the HTTP server (tools/serve.cpp).

#include <map>
#include <stdexcept>
#include <string>
#include <vector>

namespace smallarea::cli {

struct usage_error : std::runtime_error {
    using std::runtime_error::runtime_error;
};

/// --key value options after the positional arguments.
struct arguments {
    std::vector<std::string> positional;
    std::map<std::string, std::string> options;

    std::string get(const std::string& key, const std::string& fallback = {}) const {
        const auto it = options.find(key);
        return it == options.end() ? fallback : it->second;
    }
    std::string require(const std::string& key) const {
        const auto it = options.find(key);
        if (it == options.end() || it->second.empty()) throw usage_error("missing --" + key);
        return it->second;
    }
};

arguments parse(int argc, char** argv, int first, const std::vector<std::string>& known);

/// A whole number option value; usage_error naming the option otherwise.
int number(const std::string& text, const char* what);

int run_ingest(const arguments& a);
int run_inspect(const arguments& a);
int run_export(const arguments& a);
int run_tiles_export(const arguments& a);
int run_serve(const arguments& a); // tools/serve.cpp
int run_keys(int argc, char** argv); // tools/keys.cpp

} // namespace smallarea::cli
