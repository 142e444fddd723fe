/* PNG files from the SVG documents of figures and flows, drawn by librsvg (loaded at the
 * first PNG; Debian's librsvg2-2). Without it PNG is reported as unavailable and SVG
 * remains the file format for reports. */
#ifndef NN_PLOTS_PNG_H
#define NN_PLOTS_PNG_H

#include <stdbool.h>
#include <stddef.h>

#include "text.h"

/* Whether PNG can be written here (loads librsvg on first use). */
bool nn_png_available(void);
/* Renders the SVG document (length bytes) at `scale` times its size, appending the PNG
 * file's bytes to png (the caller writes them, as it writes any file). On failure
 * returns false with why filled in. */
bool nn_png_render_svg(const char *svg, size_t length, double scale, nn_text *png, char *why,
                       size_t why_size);

#endif
