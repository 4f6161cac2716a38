#pragma once

#include <httplib.h>

#include <exception>

namespace smallarea::server {

/// The one place where failures become HTTP: smallarea::error subclasses map to 4xx with their code and message;
/// anything else is a 500 with a generic body (the detail goes to the log, never to the client).
void write_error(httplib::Response& res, std::exception_ptr failure);

/// Writes {"code","message"} with a status.
void write_error(httplib::Response& res, int status, const std::string& code, const std::string& message);

} // namespace smallarea::server
