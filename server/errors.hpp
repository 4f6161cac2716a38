#pragma once

#include <httplib.h>

#include "core/error.hpp"

#include <cstdint>
#include <exception>
#include <string>

namespace smallarea::server {

/// A byte range a file route cannot serve (HTTP 416, with Content-Range: bytes */SIZE as RFC 9110 15.5.17 asks).
class range_not_satisfiable : public error {
public:
    explicit range_not_satisfiable(std::uint64_t size)
        : error("RangeNotSatisfiable", "the requested range starts past the end of the " + std::to_string(size) + "-byte file"),
          m_size(size) {}
    std::uint64_t size() const noexcept { return m_size; }

private:
    std::uint64_t m_size;
};

/// The one place where failures become HTTP: smallarea::error subclasses map to 4xx with their code and message;
/// anything else is a 500 with a generic body (the detail goes to the log, never to the client).
void write_error(httplib::Response& res, std::exception_ptr failure);

/// Writes {"code","message"} with a status.
void write_error(httplib::Response& res, int status, const std::string& code, const std::string& message);

} // namespace smallarea::server
