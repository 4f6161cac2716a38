// Fuzz target: manifest parsing (ingest_manifest on a temporary file). The store path is in a folder that does
// not exist, so a manifest that parses fails at once when the store is opened instead of ingesting: only the
// parse step (JSON, keys, types, levels, vintages, periods, identifiers) is exercised.
// Bad input must end in a smallarea::error; a std::exception of another kind (e.g. a JSON type_error) would reach
// the CLI as an "internal error" exit 3 and is reported as a bug.
#include "core/error.hpp"
#include "data/ingest.hpp"

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <fstream>
#include <string>
#include <unistd.h>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static const std::string path = "/tmp/smallarea-fuzz-manifest-" + std::to_string(getpid()) + ".json";
    {
        std::ofstream out(path, std::ios::binary | std::ios::trunc);
        out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
    }
    try {
        smallarea::data::ingest_manifest(path, "/nonexistent-smallarea-fuzz-folder/store.sqlite");
    } catch (const smallarea::error&) {
    } catch (const std::exception& e) {
        std::fprintf(stderr, "manifest parse escaped with a non-smallarea exception: %s\n", e.what());
        std::abort();
    }
    return 0;
}
