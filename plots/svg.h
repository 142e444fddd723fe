/* Small helpers shared by the SVG writers (figures, network flows). */
#ifndef NN_PLOTS_SVG_H
#define NN_PLOTS_SVG_H

#include "text.h"

/* Appends text with &, <, >, " and ' escaped for XML. */
void nn_svg_escape(nn_text *out, const char *text);
/* <text x y [anchor] [extra attributes]>escaped</text> */
void nn_svg_text(nn_text *out, double x, double y, const char *anchor, const char *attributes,
                 const char *text);
/* The opening <svg> element with a white background; close with nn_svg_end. */
void nn_svg_begin(nn_text *out, int width, int height);
void nn_svg_end(nn_text *out);
/* Series colours of SVG figures (the usual plotting palette: blue, orange, ...). */
const char *nn_svg_series_color(int index);

#endif
