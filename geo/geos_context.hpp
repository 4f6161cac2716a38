#pragma once
// RAII over the GEOS C "_r" API. GEOS handles are not thread-safe, and cpp-httplib serves from a thread pool, so
// each thread gets its own context (thread_local, created on first use). The context's message handler keeps
// GEOS's last error text so the exception we throw can say what GEOS said.

#include <geos_c.h>

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

namespace smallarea::geo {

/// One GEOS context handle plus a cached WKB reader and writer (2D, little-endian, ISO flavour).
class geos_context {
public:
    geos_context();
    ~geos_context();
    geos_context(const geos_context&) = delete;
    geos_context& operator=(const geos_context&) = delete;

    GEOSContextHandle_t handle() const noexcept { return m_handle; }

    /// The last error message GEOS reported on this context, cleared on read.
    std::string take_message();

    /// Throws smallarea::error(code, what + ": " + GEOS's last message).
    [[noreturn]] void fail(const char* code, std::string_view what);

    GEOSWKBReader* wkb_reader() const noexcept { return m_reader; }
    GEOSWKBWriter* wkb_writer() const noexcept { return m_writer; }

private:
    static void on_message(const char* message, void* self);

    GEOSContextHandle_t m_handle;
    GEOSWKBReader* m_reader = nullptr;
    GEOSWKBWriter* m_writer = nullptr;
    std::string m_message;
};

/// The calling thread's GEOS context (created on first use, destroyed at thread exit).
geos_context& thread_geos();

/// Deletes a GEOS geometry with the context that made it.
struct geometry_deleter {
    GEOSContextHandle_t handle = nullptr;
    void operator()(GEOSGeometry* g) const noexcept { GEOSGeom_destroy_r(handle, g); }
};

/// An owned GEOS geometry.
using geometry_ptr = std::unique_ptr<GEOSGeometry, geometry_deleter>;

/// Parses WKB (any CRS) into a GEOS geometry owned by ctx. Throws smallarea::error("InvalidGeometry").
geometry_ptr read_wkb(geos_context& ctx, const unsigned char* wkb, std::size_t size);

/// Writes a geometry as 2D little-endian ISO WKB. Throws smallarea::error("GeometryError") if GEOS fails.
std::string write_wkb(geos_context& ctx, const GEOSGeometry* g);

} // namespace smallarea::geo
