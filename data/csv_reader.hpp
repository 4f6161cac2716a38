#pragma once
// A strict RFC 4180 CSV reader over GDAL's virtual file system (so .csv.gz is read through /vsigzip/).
// Hand-written rather than GDAL's CSV driver because ingest must report physical line numbers and refuse ragged
// rows; the OGR CSV driver pads short rows with nulls and numbers features, not lines.

#include <cstdio>
#include <string>
#include <vector>

namespace smallarea::data {

class csv_reader {
public:
    /// Opens path (plain or .gz). Throws ingest_error(path) when it cannot be read or has no header.
    explicit csv_reader(const std::string& path);
    ~csv_reader();
    csv_reader(const csv_reader&) = delete;
    csv_reader& operator=(const csv_reader&) = delete;

    const std::vector<std::string>& header() const noexcept { return m_header; }
    /// Index of a header column (exact match, then case-insensitive), or -1.
    int column(const std::string& name) const;
    /// Reads the next record into fields. False at end of file. Throws ingest_error (with the line) on a ragged
    /// row, an unterminated quote, a NUL byte or invalid UTF-8.
    bool next(std::vector<std::string>& fields);
    /// Physical line on which the last record returned by next() started (header is line 1).
    long line() const noexcept { return m_record_line; }
    const std::string& path() const noexcept { return m_path; }

private:
    bool read_record(std::vector<std::string>& fields);
    int get();

    std::string m_path;
    void* m_file = nullptr; // VSILFILE*
    std::vector<char> m_buffer;
    std::size_t m_pos = 0;
    std::size_t m_end = 0;
    long m_line = 1;
    long m_record_line = 0;
    std::vector<std::string> m_header;
};

/// The GDAL path for a user path: .gz files go through /vsigzip/ unless already a /vsi path.
std::string gdal_path(const std::string& path);

/// True when text is valid UTF-8.
bool valid_utf8(const std::string& text) noexcept;

} // namespace smallarea::data
