#pragma once
// The one error hierarchy of smallarea. Library code throws these; server/ maps them to HTTP in one function
// (server/errors.cpp) and tools/ maps them to exit codes in one catch ladder (tools/main.cpp).

#include <stdexcept>
#include <string>
#include <utility>

namespace smallarea {

/// Base of every smallarea failure. `code()` is the stable machine-readable code listed in the README
/// (e.g. "InvalidTile"); what() is the human message.
class error : public std::runtime_error {
public:
    error(std::string code, const std::string& message) : std::runtime_error(message), m_code(std::move(code)) {}
    const std::string& code() const noexcept { return m_code; }

private:
    std::string m_code;
};

/// The request is malformed (HTTP 400).
class bad_request : public error {
public:
    using error::error;
};

/// No or unknown credentials (HTTP 401).
class unauthorized : public error {
public:
    using error::error;
};

/// Valid credentials that may not see this (HTTP 403): suspended organisation, dataset not shared with it.
class forbidden : public error {
public:
    using error::error;
};

/// A named thing does not exist (HTTP 404).
class not_found : public error {
public:
    using error::error;
};

/// The representation asked for cannot be produced (HTTP 406).
class unsupported_format : public error {
public:
    using error::error;
};

/// The request would break a disclosure rule, e.g. a volume of a percentage-only measure (HTTP 422).
class disclosure_refused : public error {
public:
    using error::error;
};

/// Too many requests from one key or address (HTTP 429).
class rate_limited : public error {
public:
    rate_limited(const std::string& message, int retry_after_seconds)
        : error("RateLimited", message), m_retry_after(retry_after_seconds) {}
    int retry_after_seconds() const noexcept { return m_retry_after; }

private:
    int m_retry_after;
};

/// The request body or result would exceed a configured limit (HTTP 413).
class too_large : public error {
public:
    using error::error;
};

/// A file given to `smallarea ingest` is unusable. Carries where: file, and line (CSV) or feature (vector source).
class ingest_error : public error {
public:
    ingest_error(const std::string& file, long line_or_feature, const std::string& what_is_wrong,
                 const char* unit = "line")
        : error("IngestError", format(file, line_or_feature, what_is_wrong, unit)), m_file(file),
          m_position(line_or_feature) {}
    const std::string& file() const noexcept { return m_file; }
    long position() const noexcept { return m_position; }

private:
    static std::string format(const std::string& file, long pos, const std::string& msg, const char* unit) {
        std::string out = file;
        if (pos > 0) {
            out += ", ";
            out += unit;
            out += ' ';
            out += std::to_string(pos);
        }
        out += ": ";
        out += msg;
        return out;
    }
    std::string m_file;
    long m_position;
};

/// The store file cannot be used (missing, locked, newer schema, corrupt).
class store_error : public error {
public:
    explicit store_error(const std::string& message) : error("StoreError", message) {}
};

/// The store cannot be reached right now (a PostgreSQL connection lost and not yet re-made): a retry may work.
class store_unavailable : public store_error {
public:
    explicit store_unavailable(const std::string& message) : store_error(message) {}
};

} // namespace smallarea
