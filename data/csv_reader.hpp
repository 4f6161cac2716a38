#pragma once
// A strict RFC 4180 CSV reader over GDAL's virtual file system (so .csv.gz is read through /vsigzip/).
// Hand-written rather than GDAL's CSV driver because ingest must report physical line numbers and refuse ragged
// rows; the OGR CSV driver pads short rows with nulls and numbers features, not lines.

#include <cstdio>
#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace smallarea::data {

/// Where the table sits in a file that publishers wrap in a title block and footnotes (NOMIS web downloads,
/// Stat-Xplore exports). The defaults read a plain CSV: the header on line 1, every later line a row.
struct csv_options {
    /// Physical lines before the header (a title block). They are read as CSV records but not held to the
    /// header's width; title_block() returns them.
    long skip_lines = 0;
    /// When set (and skip_lines is 0), the header is the first of the first 64 records for which it holds; the
    /// records before it are the title block. Throws ingest_error when none holds.
    std::function<bool(const std::vector<std::string>&)> is_header;
    /// A blank line after at least one row ends the table: what follows is footnotes (footer_line() says where).
    bool end_at_blank_line = false;
};

class csv_reader {
public:
    /// Opens path (plain or .gz). Throws ingest_error(path) when it cannot be read or has no header.
    explicit csv_reader(const std::string& path);
    csv_reader(const std::string& path, const csv_options& options);
    ~csv_reader();
    csv_reader(const csv_reader&) = delete;
    csv_reader& operator=(const csv_reader&) = delete;

    const std::vector<std::string>& header() const noexcept { return m_header; }
    /// Index of a header column (exact match, then case-insensitive), or -1.
    int column(const std::string& name) const;
    /// Reads the next record into fields. False at end of file. Throws ingest_error (with the line) on a ragged
    /// row, an unterminated quote, a NUL byte or invalid UTF-8.
    bool next(std::vector<std::string>& fields);
    /// Reads the next record as it is, not held to the header's width (for `inspect`, which looks for the table
    /// in a publisher's title block). False at end of file. Throws as next() for quotes, NUL bytes and UTF-8.
    bool next_raw(std::vector<std::string>& fields);
    /// Physical line on which the last record returned by next() started (header is line 1).
    long line() const noexcept { return m_record_line; }
    const std::string& path() const noexcept { return m_path; }
    /// Physical line of the header (1 unless a title block precedes it).
    long header_line() const noexcept { return m_header_line; }
    /// The title block: (line, fields) of each record before the header.
    const std::vector<std::pair<long, std::vector<std::string>>>& title_block() const noexcept { return m_title; }
    /// First line of the footnotes once next() stopped at them (end_at_blank_line), else 0.
    long footer_line() const noexcept { return m_footer_line; }
    /// True when one or more blank lines came before the last record returned.
    bool blank_before() const noexcept { return m_blank_before; }

private:
    void open(const std::string& path);
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
    long m_header_line = 1;
    std::vector<std::pair<long, std::vector<std::string>>> m_title;
    bool m_end_at_blank_line = false;
    bool m_blank_before = false;
    long m_rows = 0;
    long m_footer_line = 0;
};

/// The GDAL path for a user path: .gz files go through /vsigzip/ unless already a /vsi path.
std::string gdal_path(const std::string& path);

/// True when text is valid UTF-8.
bool valid_utf8(const std::string& text) noexcept;

} // namespace smallarea::data
