// Fuzz target: the strict CSV reader (data/csv_reader) on arbitrary bytes, through GDAL's /vsimem/ like a file.
// Bad input must end in ingest_error; anything else (a crash, a sanitizer report, another exception) is a bug.
#include "data/csv_reader.hpp"
#include "core/error.hpp"

#include <cpl_vsi.h>

#include <cstdint>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string path = "/vsimem/fuzz.csv";
    // FALSE: GDAL does not take ownership (the fuzzer owns data); the buffer is read-only for it.
    VSILFILE* f = VSIFileFromMemBuffer(path.c_str(), const_cast<GByte*>(data), size, FALSE);
    if (!f) return 0;
    VSIFCloseL(f);
    try {
        smallarea::data::csv_reader reader(path);
        (void)reader.column("value");
        std::vector<std::string> fields;
        long last_line = 0;
        while (reader.next(fields)) {
            // Invariants the ingest relies on: as many fields as the header, lines never go backwards.
            if (fields.size() != reader.header().size()) __builtin_trap();
            if (reader.line() < last_line) __builtin_trap();
            last_line = reader.line();
            for (const auto& field : fields) {
                if (!smallarea::data::valid_utf8(field)) __builtin_trap();
            }
        }
    } catch (const smallarea::ingest_error&) {
    }
    VSIUnlink(path.c_str());
    return 0;
}
