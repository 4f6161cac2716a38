#include "data/csv_reader.hpp"

#include "core/error.hpp"

#include <cpl_vsi.h>

#include <algorithm>
#include <cctype>

namespace smallarea::data {

std::string gdal_path(const std::string& path) {
    const bool gz = path.size() > 3 && path.compare(path.size() - 3, 3, ".gz") == 0;
    if (gz && path.rfind("/vsi", 0) != 0) {
        return "/vsigzip/" + path;
    }
    return path;
}

bool valid_utf8(const std::string& text) noexcept {
    // Well-formed UTF-8 exactly as Unicode defines it (table 3-7): besides the byte patterns, the second byte of
    // E0/ED/F0/F4 is narrowed so overlong forms (E0 80..9F, F0 80..8F; C0/C1 as lead bytes), UTF-16 surrogates
    // (ED A0..BF) and code points above U+10FFFF (F4 90..BF) are refused: they spell the same text two ways or
    // characters that do not exist, which would let e.g. "%c0%ae" pass as '.' further down the line.
    std::size_t i = 0;
    const auto n = text.size();
    while (i < n) {
        const auto c = static_cast<unsigned char>(text[i]);
        std::size_t extra = 0;
        unsigned char low = 0x80, high = 0xBF; // allowed range of the second byte
        if (c < 0x80) {
            ++i;
            continue;
        }
        if (c >= 0xC2 && c <= 0xDF) extra = 1;
        else if (c >= 0xE0 && c <= 0xEF) {
            extra = 2;
            if (c == 0xE0) low = 0xA0;
            if (c == 0xED) high = 0x9F;
        } else if (c >= 0xF0 && c <= 0xF4) {
            extra = 3;
            if (c == 0xF0) low = 0x90;
            if (c == 0xF4) high = 0x8F;
        } else {
            return false;
        }
        if (i + extra >= n) return false;
        const auto second = static_cast<unsigned char>(text[i + 1]);
        if (second < low || second > high) return false;
        for (std::size_t k = 2; k <= extra; ++k) {
            if ((static_cast<unsigned char>(text[i + k]) & 0xC0) != 0x80) return false;
        }
        i += extra + 1;
    }
    return true;
}

csv_reader::csv_reader(const std::string& path) : csv_reader(path, csv_options{}) {}

csv_reader::csv_reader(const std::string& path, const csv_options& options)
    : m_path(path), m_buffer(1 << 16), m_end_at_blank_line(options.end_at_blank_line) {
    open(path);
    auto clean = [](std::vector<std::string>& record) {
        if (!record.empty() && record[0].rfind("\xEF\xBB\xBF", 0) == 0) record[0].erase(0, 3);
        for (auto& h : record) {
            while (!h.empty() && (h.back() == ' ' || h.back() == '\t')) h.pop_back();
            while (!h.empty() && (h.front() == ' ' || h.front() == '\t')) h.erase(0, 1);
        }
    };
    if (!read_record(m_header)) {
        throw ingest_error(path, 1, "file is empty: expected a header row");
    }
    clean(m_header);
    if (options.skip_lines > 0) {
        while (m_record_line <= options.skip_lines) {
            m_title.emplace_back(m_record_line, m_header);
            if (!read_record(m_header)) {
                throw ingest_error(path, m_line, "no header after the " + std::to_string(options.skip_lines) +
                                                     " lines of \"skip_lines\"");
            }
            clean(m_header);
        }
    } else if (options.is_header) {
        int records = 1;
        while (!options.is_header(m_header)) {
            m_title.emplace_back(m_record_line, m_header);
            if (++records > 64 || !read_record(m_header)) {
                throw ingest_error(path, 1, "no header row found in the first " + std::to_string(records - 1) +
                                                " records");
            }
            clean(m_header);
        }
    }
    m_header_line = m_record_line;
    for (const auto& [line, record] : m_title) {
        for (const auto& f : record) {
            if (!valid_utf8(f)) throw ingest_error(m_path, line, "text is not valid UTF-8");
        }
    }
}

void csv_reader::open(const std::string& path) {
    m_file = VSIFOpenL(gdal_path(path).c_str(), "rb");
    if (!m_file) {
        throw ingest_error(path, 0, "cannot open file");
    }
    // A UTF-8 byte-order mark (Excel, some NOMIS exports) is skipped before parsing, so a quoted first header
    // field is still recognised as quoted.
    unsigned char bom[4] = {0, 0, 0, 0};
    auto* file = static_cast<VSILFILE*>(m_file);
    const auto got = VSIFReadL(bom, 1, 4, file);
    // A zip read as text fails on its first NUL byte, which says nothing about the cause (NOMIS bulk downloads
    // are zips of one CSV per level).
    if (got == 4 && bom[0] == 'P' && bom[1] == 'K' && bom[2] == 3 && bom[3] == 4) {
        throw ingest_error(path, 0, "is a zip archive, not a CSV: name the CSV inside it with \"member\" (a dataset "
                                    "file) or give the path as /vsizip/ARCHIVE.zip/MEMBER.csv");
    }
    if (got < 3 || bom[0] != 0xEF || bom[1] != 0xBB || bom[2] != 0xBF) {
        VSIFSeekL(file, 0, SEEK_SET);
    } else {
        VSIFSeekL(file, 3, SEEK_SET);
    }
}

csv_reader::~csv_reader() {
    if (m_file) {
        VSIFCloseL(static_cast<VSILFILE*>(m_file));
    }
}

int csv_reader::column(const std::string& name) const {
    for (std::size_t i = 0; i < m_header.size(); ++i) {
        if (m_header[i] == name) return static_cast<int>(i);
    }
    auto lower = [](std::string s) {
        std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
        return s;
    };
    const auto wanted = lower(name);
    for (std::size_t i = 0; i < m_header.size(); ++i) {
        if (lower(m_header[i]) == wanted) return static_cast<int>(i);
    }
    return -1;
}

int csv_reader::get() {
    if (m_pos == m_end) {
        m_end = VSIFReadL(m_buffer.data(), 1, m_buffer.size(), static_cast<VSILFILE*>(m_file));
        m_pos = 0;
        if (m_end == 0) return EOF;
    }
    return static_cast<unsigned char>(m_buffer[m_pos++]);
}

bool csv_reader::read_record(std::vector<std::string>& fields) {
    fields.clear();
    int c = get();
    // Skip blank lines between records (remembered: a blank line can end a table before its footnotes).
    m_blank_before = false;
    while (c == '\n' || c == '\r') {
        m_blank_before = true;
        if (c == '\n') ++m_line;
        c = get();
    }
    if (c == EOF) return false;
    m_record_line = m_line;
    std::string field;
    bool quoted = false;
    bool was_quoted = false;
    for (;; c = get()) {
        if (c == EOF) {
            if (quoted) throw ingest_error(m_path, m_record_line, "unterminated quoted field");
            fields.push_back(std::move(field));
            return true;
        }
        if (c == 0) throw ingest_error(m_path, m_line, "NUL byte in a text file");
        if (quoted) {
            if (c == '"') {
                const int next = get();
                if (next == '"') {
                    field.push_back('"');
                } else {
                    quoted = false;
                    if (next == EOF) {
                        fields.push_back(std::move(field));
                        return true;
                    }
                    c = next;
                    goto unquoted; // re-dispatch the character after a closing quote
                }
            } else {
                if (c == '\n') ++m_line;
                field.push_back(static_cast<char>(c));
            }
            continue;
        }
    unquoted:
        if (c == '"' && field.empty() && !was_quoted) {
            quoted = true;
            was_quoted = true;
        } else if (c == ',') {
            fields.push_back(std::move(field));
            field.clear();
            was_quoted = false;
        } else if (c == '\n' || c == '\r') {
            if (c == '\r') {
                const int next = get();
                if (next != '\n' && next != EOF) --m_pos; // a lone CR ends the line too
            }
            ++m_line;
            fields.push_back(std::move(field));
            return true;
        } else {
            if (was_quoted) throw ingest_error(m_path, m_record_line, "text after a closing quote");
            field.push_back(static_cast<char>(c));
        }
    }
}

bool csv_reader::next(std::vector<std::string>& fields) {
    if (m_footer_line > 0) return false;
    if (!read_record(fields)) return false;
    if (m_end_at_blank_line && m_blank_before && m_rows > 0) {
        m_footer_line = m_record_line;
        return false;
    }
    if (fields.size() != m_header.size()) {
        // Footnotes after a blank line are the usual cause in a publisher's download; say so.
        const std::string hint = m_blank_before && m_rows > 0
                                     ? " (it follows a blank line: footnotes? set \"end_at_blank_line\": true)"
                                     : std::string();
        throw ingest_error(m_path, m_record_line,
                           "expected " + std::to_string(m_header.size()) + " fields as in the header, found " +
                               std::to_string(fields.size()) + hint);
    }
    ++m_rows;
    for (const auto& f : fields) {
        if (!valid_utf8(f)) throw ingest_error(m_path, m_record_line, "text is not valid UTF-8");
    }
    return true;
}

} // namespace smallarea::data

namespace smallarea::data {

bool csv_reader::next_raw(std::vector<std::string>& fields) {
    if (!read_record(fields)) return false;
    for (const auto& f : fields) {
        if (!valid_utf8(f)) throw ingest_error(m_path, m_record_line, "text is not valid UTF-8");
    }
    return true;
}

} // namespace smallarea::data
