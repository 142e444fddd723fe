/* SVG to PNG through librsvg and cairo, loaded when a PNG is first asked for: nnsh does
 * not link them (they would double its start-up libraries for a rarely used format),
 * and needs no development package to build. The few functions used are declared here
 * with the C types of their stable ABI (librsvg 2.52+, cairo 1.x). */
#include "png.h"

#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* GError and RsvgRectangle as the libraries lay them out. */
typedef struct rsvg_error {
    uint32_t domain;
    int code;
    char *message;
} rsvg_error;

typedef struct rsvg_rectangle {
    double x, y, width, height;
} rsvg_rectangle;

enum { CAIRO_FORMAT_ARGB32 = 0, CAIRO_STATUS_SUCCESS = 0, CAIRO_STATUS_NO_MEMORY = 1 };

typedef struct png_library {
    bool tried, ready;
    char problem[160];
    void *handle;
    void *(*new_from_data)(const unsigned char *data, size_t length, rsvg_error **error);
    int (*intrinsic_size)(void *handle, double *width, double *height);
    int (*render_document)(void *handle, void *cairo, const rsvg_rectangle *viewport,
                           rsvg_error **error);
    void (*object_unref)(void *object);
    void (*error_free)(rsvg_error *error);
    void *(*image_surface_create)(int format, int width, int height);
    void *(*create)(void *surface);
    void (*scale)(void *cairo, double x, double y);
    void (*destroy)(void *cairo);
    int (*write_to_png_stream)(void *surface,
                               int (*write)(void *closure, const unsigned char *data,
                                            unsigned int length),
                               void *closure);
    void (*surface_destroy)(void *surface);
    const char *(*status_to_string)(int status);
} png_library;

static png_library library;

/* dlsym returns an object pointer; a function pointer is copied out of it bit for bit
 * (POSIX guarantees this works for dlsym). */
static bool find(void *target, size_t size, const char *name)
{
    void *symbol = dlsym(library.handle, name);
    if (!symbol) {
        snprintf(library.problem, sizeof library.problem,
                 "the installed librsvg lacks %s (2.52 or newer is needed)", name);
        return false;
    }
    memcpy(target, &symbol, size);
    return true;
}

#define FIND(field, name) find(&library.field, sizeof library.field, name)

static bool load(void)
{
    if (library.tried)
        return library.ready;
    library.tried = true;
    /* librsvg brings GLib and cairo along; dlsym on its handle finds their symbols too. */
    library.handle = dlopen("librsvg-2.so.2", RTLD_NOW | RTLD_LOCAL);
    if (!library.handle) {
        snprintf(library.problem, sizeof library.problem,
                 "PNG files need librsvg (Debian: apt-get install librsvg2-2); SVG files need "
                 "nothing: use a .svg name");
        return false;
    }
    library.ready = FIND(new_from_data, "rsvg_handle_new_from_data") &&
                    FIND(intrinsic_size, "rsvg_handle_get_intrinsic_size_in_pixels") &&
                    FIND(render_document, "rsvg_handle_render_document") &&
                    FIND(object_unref, "g_object_unref") && FIND(error_free, "g_error_free") &&
                    FIND(image_surface_create, "cairo_image_surface_create") &&
                    FIND(create, "cairo_create") && FIND(scale, "cairo_scale") &&
                    FIND(destroy, "cairo_destroy") &&
                    FIND(write_to_png_stream, "cairo_surface_write_to_png_stream") &&
                    FIND(surface_destroy, "cairo_surface_destroy") &&
                    FIND(status_to_string, "cairo_status_to_string");
    return library.ready;
}

bool nn_png_available(void) { return load(); }

static void take_error(rsvg_error **error, const char *what, char *why, size_t why_size)
{
    snprintf(why, why_size, "%s: %s", what, *error && (*error)->message ? (*error)->message : "?");
    if (*error)
        library.error_free(*error);
    *error = NULL;
}

/* cairo's write callback: the PNG's bytes into an nn_text. */
static int append_bytes(void *closure, const unsigned char *data, unsigned int length)
{
    nn_text *png = closure;
    size_t before = png->length;
    nn_text_append_n(png, (const char *)data, length);
    return png->length == before + length ? CAIRO_STATUS_SUCCESS : CAIRO_STATUS_NO_MEMORY;
}

bool nn_png_render_svg(const char *svg, size_t length, double scale, nn_text *png, char *why,
                       size_t why_size)
{
    if (!load()) {
        snprintf(why, why_size, "%s", library.problem);
        return false;
    }
    rsvg_error *error = NULL;
    void *handle = library.new_from_data((const unsigned char *)svg, length, &error);
    if (!handle) {
        take_error(&error, "the SVG could not be read", why, why_size);
        return false;
    }
    double width = 0, height = 0;
    if (!library.intrinsic_size(handle, &width, &height) || width <= 0 || height <= 0)
        width = 800, height = 600;
    void *surface = library.image_surface_create(CAIRO_FORMAT_ARGB32, (int)(width * scale + 0.5),
                                                 (int)(height * scale + 0.5));
    void *cairo = library.create(surface);
    library.scale(cairo, scale, scale);
    rsvg_rectangle viewport = {0, 0, width, height};
    bool ok = library.render_document(handle, cairo, &viewport, &error) != 0;
    if (!ok)
        take_error(&error, "the SVG could not be drawn", why, why_size);
    library.destroy(cairo);
    library.object_unref(handle);
    if (ok) {
        int status = library.write_to_png_stream(surface, append_bytes, png);
        if (status != CAIRO_STATUS_SUCCESS) {
            snprintf(why, why_size, "the PNG could not be encoded: %s",
                     library.status_to_string(status));
            ok = false;
        }
    }
    library.surface_destroy(surface);
    return ok;
}
