/* SVG to PNG with librsvg and cairo, when the build found them. */
#include "png.h"

#include <stdio.h>

#ifdef NNSH_HAVE_RSVG

#include <cairo.h>
#include <librsvg/rsvg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

bool nn_png_available(void) { return true; }

bool nn_png_write_svg(const char *svg, size_t length, double scale, const char *path, char *why,
                      size_t why_size)
{
    GError *error = NULL;
    RsvgHandle *handle = rsvg_handle_new_from_data((const guint8 *)svg, length, &error);
    if (!handle) {
        snprintf(why, why_size, "the SVG could not be read: %s", error ? error->message : "?");
        g_clear_error(&error);
        return false;
    }
    gdouble width = 0, height = 0;
    if (!rsvg_handle_get_intrinsic_size_in_pixels(handle, &width, &height) || width <= 0 ||
        height <= 0)
        width = 800, height = 600;
    cairo_surface_t *surface = cairo_image_surface_create(
        CAIRO_FORMAT_ARGB32, (int)(width * scale + 0.5), (int)(height * scale + 0.5));
    cairo_t *cr = cairo_create(surface);
    cairo_scale(cr, scale, scale);
    RsvgRectangle viewport = {0, 0, width, height};
    bool ok = rsvg_handle_render_document(handle, cr, &viewport, &error);
    if (!ok)
        snprintf(why, why_size, "the SVG could not be drawn: %s", error ? error->message : "?");
    g_clear_error(&error);
    cairo_destroy(cr);
    g_object_unref(handle);
    if (ok) {
        /* Written beside the target and renamed, so a reader never sees half a file. */
        size_t size = strlen(path) + 16;
        char *temporary = malloc(size);
        if (!temporary) {
            snprintf(why, why_size, "out of memory");
            ok = false;
        } else {
            snprintf(temporary, size, "%s.tmp%ld", path, (long)getpid());
            cairo_status_t status = cairo_surface_write_to_png(surface, temporary);
            if (status != CAIRO_STATUS_SUCCESS) {
                snprintf(why, why_size, "cannot write %s: %s", path,
                         cairo_status_to_string(status));
                remove(temporary);
                ok = false;
            } else if (rename(temporary, path) != 0) {
                snprintf(why, why_size, "cannot rename the PNG into %s", path);
                remove(temporary);
                ok = false;
            }
            free(temporary);
        }
    }
    cairo_surface_destroy(surface);
    return ok;
}

#else

bool nn_png_available(void) { return false; }

bool nn_png_write_svg(const char *svg, size_t length, double scale, const char *path, char *why,
                      size_t why_size)
{
    (void)svg, (void)length, (void)scale, (void)path;
    snprintf(why, why_size, "this nnsh was built without PNG support (install librsvg2-dev "
                            "and rebuild); SVG files need nothing: use a .svg name");
    return false;
}

#endif
