/* The network flow picture of a Sequential model, as the seed draws it on the board:
 * the input shape, then each layer with its arguments and an arrow with the shape it
 * produces.
 *
 *     Input: (28, 28, 1)
 *     ↓
 *     Conv2D(32, 3×3, relu)
 *     ↓ shape: (28, 28, 32)
 *     ...
 */
#ifndef NN_PLOTS_FLOW_H
#define NN_PLOTS_FLOW_H

#include "chart.h"
#include "text.h"

/* One layer. Each part that may be NULL is left out of the picture when it is. */
typedef struct nn_flow_step {
    const char *label; /* "Conv2D(32, 3×3, relu)" */
    const char *shape; /* what it produces, without the batch axis: "(28, 28, 32)"; may be NULL */
    const char *name;  /* the layer's name ("conv2d"); may be NULL */
} nn_flow_step;

typedef struct nn_flow {
    const char *title;       /* model name, SVG only; may be NULL */
    const char *input_shape; /* "(28, 28, 1)"; may be NULL */
    const char *dtype;       /* what every tensor holds ("float32"), shown after each shape; may be NULL */
    const nn_flow_step *steps;
    int count;
} nn_flow;

/* The text picture; a named layer reads "conv2d: Conv2D(32, 3×3, relu)". In ASCII,
 * arrows become "v" and "×" becomes "x". */
void nn_flow_render_text(nn_text *out, const nn_flow *flow, nn_charset charset);
/* The same picture as an SVG document: boxes joined by arrows labelled with shapes. */
void nn_flow_render_svg(nn_text *out, const nn_flow *flow);
/* Appends text with characters outside ASCII replaced: "×" by "x", "→" by "->",
 * anything else by "?". */
void nn_text_append_ascii(nn_text *out, const char *text);

#endif
