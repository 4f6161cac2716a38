#include "server/app.hpp"

#include "core/error.hpp"
#include "server/context.hpp"
#include "server/errors.hpp"

#include <httplib.h>

namespace smallarea::server {

struct app::impl {
    context ctx;
    httplib::Server http;
    explicit impl(server_config c) : ctx(std::move(c)) {}
    void routes();
};

void app::impl::routes() {
    const server_config& config = ctx.config();
    http.set_payload_max_length(config.max_body_bytes);
    // cpp-httplib holds a worker for each kept-alive connection until it idles out (5 s). Its default pool of 8
    // lets two map users (a browser opens about six connections for tiles) queue behind each other's idle
    // connections; idle workers cost a stack and, once used, a SQLite connection.
    const int threads = config.threads > 0 ? config.threads : 32;
    http.new_task_queue = [threads] { return new httplib::ThreadPool(static_cast<std::size_t>(threads)); };
    // cpp-httplib closes a kept-alive connection after 5 requests; a map or a load balancer then reconnects
    // constantly (and each new connection may meet a full listen queue). 100 keeps reconnects rare.
    http.set_keep_alive_max_count(100);
    // Without TCP_NODELAY small responses on a kept-alive connection wait ~40 ms for a delayed ACK (Nagle).
    http.set_tcp_nodelay(true);
    // Rate limits and the access gate run before any route (and before the tile cache); the audit entries are
    // completed with the final status after the handler.
    http.set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
        if (req.method == "OPTIONS") {
            // A CORS preflight carries no key and returns no data, so it is answered before the access gate:
            // a partner's own web page may then fetch keyed tiles and tables with an Authorization header.
            res.status = 204;
            res.set_header("Access-Control-Allow-Origin", "*");
            res.set_header("Access-Control-Allow-Methods", "GET, HEAD, POST, PATCH, DELETE, OPTIONS");
            res.set_header("Access-Control-Allow-Headers", "Authorization, Content-Type, If-None-Match, X-Owner-Token");
            res.set_header("Access-Control-Max-Age", "600");
            return httplib::Server::HandlerResponse::Handled;
        }
        // Byte ranges are for the boundary archives (/boundaries/, for the pmtiles protocol). Every other answer is
        // sent whole, as RFC 9110 14.2 lets a server ignore Range: cpp-httplib 0.11 would otherwise cut a JSON
        // document or an MVT into an unusable fragment (206) or refuse it (416). The request is the server's own
        // object, alive until the response is written, so clearing its parsed ranges here is safe.
        if (!req.ranges.empty() && req.path.rfind("/boundaries/", 0) != 0) const_cast<httplib::Request&>(req).ranges.clear();
        try {
            ctx.begin_request(req);
        } catch (...) {
            write_error(res, std::current_exception());
            ctx.end_request(req, res); // audits a refusal here, since post-routing may not run for it
            return httplib::Server::HandlerResponse::Handled;
        }
        return httplib::Server::HandlerResponse::Unhandled;
    });
    http.set_post_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
        // Keys are bearer tokens, never cookies, so allowing any origin exposes nothing a page could not fetch
        // itself; it lets partners' maps and notebooks on other origins read the API and tiles.
        if (!res.has_header("Access-Control-Allow-Origin")) res.set_header("Access-Control-Allow-Origin", "*");
        ctx.end_request(req, res);
    });
    register_api_routes(http, ctx);
    register_tile_routes(http, ctx);
    register_ogc_routes(http, ctx);
    register_export_routes(http, ctx);
    register_bespoke_routes(http, ctx);
    register_places_routes(http, ctx);
    if (!config.web_root.empty()) {
        // cpp-httplib's mount point refuses paths that climb out of the folder ("..", encoded or not).
        http.set_mount_point("/", config.web_root);
    }
    http.set_error_handler([&config](const httplib::Request& req, httplib::Response& res) {
        if (res.status == 404 && res.body.empty()) {
            write_error(res, 404, "NotFound", "no such resource: " + req.path.substr(0, 200));
        } else if (res.status == 413) {
            write_error(res, 413, "TooLarge", "request body is larger than " + std::to_string(config.max_body_bytes) + " bytes");
        } else if (res.status == 416 && res.body.empty()) {
            // cpp-httplib refuses a malformed Range header itself, before any route.
            write_error(res, 416, "RangeNotSatisfiable", "malformed Range header");
        } else if (res.status == 414) {
            write_error(res, 414, "UriTooLong", "the request line is too long");
        } else if (res.status >= 400 && res.body.empty()) {
            // Failures cpp-httplib detects itself (malformed requests, bad ranges) get a JSON body too.
            write_error(res, res.status, "BadRequest", "malformed request");
        }
    });
    http.set_exception_handler([](const httplib::Request&, httplib::Response& res, std::exception_ptr ep) {
        write_error(res, ep);
    });
}

app::app(server_config config) : m_impl(std::make_unique<impl>(std::move(config))) { m_impl->routes(); }

app::~app() = default;

int app::bind() {
    const int port = m_impl->ctx.config().port == 0 ? m_impl->http.bind_to_any_port(m_impl->ctx.config().host)
                                              : (m_impl->http.bind_to_port(m_impl->ctx.config().host, m_impl->ctx.config().port)
                                                     ? m_impl->ctx.config().port
                                                     : -1);
    if (port < 0) {
        throw error("BindFailed", "cannot listen on " + m_impl->ctx.config().host + ":" + std::to_string(m_impl->ctx.config().port) +
                                      " (in use, or not an address of this machine)");
    }
    return port;
}

void app::serve() { m_impl->http.listen_after_bind(); }

void app::run() {
    bind();
    serve();
}

void app::stop() { m_impl->http.stop(); }

} // namespace smallarea::server
