#include "geo/geos_context.hpp"

#include "core/error.hpp"

#include <new>

namespace smallarea::geo {

geos_context::geos_context() : m_handle(GEOS_init_r()) {
    if (m_handle == nullptr) {
        throw std::bad_alloc();
    }
    GEOSContext_setErrorMessageHandler_r(m_handle, &geos_context::on_message, this);
    // Notices (e.g. "Self-intersection at ...") are what isValid reports by design; they are not errors.
    m_reader = GEOSWKBReader_create_r(m_handle);
    m_writer = GEOSWKBWriter_create_r(m_handle);
    if (m_reader == nullptr || m_writer == nullptr) {
        if (m_reader != nullptr) {
            GEOSWKBReader_destroy_r(m_handle, m_reader);
        }
        if (m_writer != nullptr) {
            GEOSWKBWriter_destroy_r(m_handle, m_writer);
        }
        GEOS_finish_r(m_handle);
        throw std::bad_alloc();
    }
    GEOSWKBWriter_setOutputDimension_r(m_handle, m_writer, 2);
    GEOSWKBWriter_setByteOrder_r(m_handle, m_writer, GEOS_WKB_NDR);
    GEOSWKBWriter_setFlavor_r(m_handle, m_writer, GEOS_WKB_ISO);
}

geos_context::~geos_context() {
    GEOSWKBReader_destroy_r(m_handle, m_reader);
    GEOSWKBWriter_destroy_r(m_handle, m_writer);
    GEOS_finish_r(m_handle);
}

void geos_context::on_message(const char* message, void* self) {
    static_cast<geos_context*>(self)->m_message = message != nullptr ? message : "";
}

std::string geos_context::take_message() {
    std::string m = std::move(m_message);
    m_message.clear();
    return m;
}

void geos_context::fail(const char* code, std::string_view what) {
    std::string msg{what};
    const std::string geos = take_message();
    if (!geos.empty()) {
        msg += ": ";
        msg += geos;
    }
    throw smallarea::error(code, msg);
}

geos_context& thread_geos() {
    thread_local geos_context ctx;
    return ctx;
}

geometry_ptr read_wkb(geos_context& ctx, const unsigned char* wkb, std::size_t size) {
    GEOSGeometry* g = GEOSWKBReader_read_r(ctx.handle(), ctx.wkb_reader(), wkb, size);
    if (g == nullptr) {
        ctx.fail("InvalidGeometry", "cannot parse WKB");
    }
    return geometry_ptr{g, geometry_deleter{ctx.handle()}};
}

std::string write_wkb(geos_context& ctx, const GEOSGeometry* g) {
    std::size_t size = 0;
    unsigned char* buf = GEOSWKBWriter_write_r(ctx.handle(), ctx.wkb_writer(), g, &size);
    if (buf == nullptr) {
        ctx.fail("GeometryError", "cannot write WKB");
    }
    std::string out{reinterpret_cast<const char*>(buf), size};
    GEOSFree_r(ctx.handle(), buf);
    return out;
}

} // namespace smallarea::geo
