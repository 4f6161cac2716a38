#include "server/errors.hpp"

#include "core/error.hpp"

#include <nlohmann/json.hpp>

#include <cstdio>

namespace smallarea::server {

void write_error(httplib::Response& res, int status, const std::string& code, const std::string& message) {
    res.status = status;
    res.set_header("Cache-Control", "no-store");
    const nlohmann::json body{{"code", code}, {"message", message}};
    res.set_content(body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace), "application/json");
}

void write_error(httplib::Response& res, std::exception_ptr failure) {
    try {
        std::rethrow_exception(failure);
    } catch (const bad_request& e) {
        write_error(res, 400, e.code(), e.what());
    } catch (const unauthorized& e) {
        res.set_header("WWW-Authenticate", "Bearer");
        write_error(res, 401, e.code(), e.what());
    } catch (const forbidden& e) {
        write_error(res, 403, e.code(), e.what());
    } catch (const not_found& e) {
        write_error(res, 404, e.code(), e.what());
    } catch (const unsupported_format& e) {
        write_error(res, 406, e.code(), e.what());
    } catch (const too_large& e) {
        write_error(res, 413, e.code(), e.what());
    } catch (const disclosure_refused& e) {
        write_error(res, 422, e.code(), e.what());
    } catch (const range_not_satisfiable& e) {
        res.set_header("Content-Range", "bytes */" + std::to_string(e.size()));
        write_error(res, 416, e.code(), e.what());
    } catch (const rate_limited& e) {
        res.set_header("Retry-After", std::to_string(e.retry_after_seconds()));
        write_error(res, 429, e.code(), e.what());
    } catch (const store_unavailable& e) {
        // Retryable: a load balancer or client may try again (another replica, or this one once reconnected).
        std::fprintf(stderr, "smallarea: store unavailable: %s\n", e.what());
        res.set_header("Retry-After", "1");
        write_error(res, 503, "StoreUnavailable", "the store cannot be reached; try again shortly");
    } catch (const std::exception& e) {
        std::fprintf(stderr, "smallarea: internal error: %s\n", e.what());
        write_error(res, 500, "InternalError", "internal error; see the server log");
    } catch (...) {
        std::fprintf(stderr, "smallarea: internal error of unknown type\n");
        write_error(res, 500, "InternalError", "internal error; see the server log");
    }
}

} // namespace smallarea::server
