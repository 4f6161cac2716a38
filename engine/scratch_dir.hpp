#pragma once
// A private temporary folder removed with everything in it on scope exit: libxlsxwriter and GDAL write files,
// so exports are written here and read back.

#include "core/error.hpp"

#include <cstdlib>
#include <filesystem>
#include <string>

namespace smallarea::engine {

class scratch_dir {
public:
    /// Throws smallarea::error("ExportFailed") when no folder can be made.
    explicit scratch_dir(const std::string& prefix = "smallarea-export") {
        std::string pattern = (std::filesystem::temp_directory_path() / (prefix + "-XXXXXX")).string();
        if (!mkdtemp(pattern.data())) throw error("ExportFailed", "cannot create a temporary folder");
        m_path = pattern;
    }
    ~scratch_dir() {
        std::error_code ec;
        std::filesystem::remove_all(m_path, ec);
    }
    scratch_dir(const scratch_dir&) = delete;
    scratch_dir& operator=(const scratch_dir&) = delete;
    const std::string& path() const noexcept { return m_path; }

private:
    std::string m_path;
};

} // namespace smallarea::engine
