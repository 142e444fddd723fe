/* The model summary as a table with box-drawing lines, for terminals: columns sized to
 * their contents and fitted to the terminal's width (cells wrap at spaces), and a plain
 * list when even that does not fit. Pipes, files and notebooks keep the exact Keras
 * layout of nn_summary_render_keras. */
#ifndef NN_PLOTS_SUMMARY_BOX_H
#define NN_PLOTS_SUMMARY_BOX_H

#include "chart.h"
#include "text.h"

/* Narrowest table: below this many cells the summary becomes a list. */
enum { NN_SUMMARY_BOX_MIN_WIDTH = 40 };

/* With NN_CHARSET_ASCII the lines are drawn with + - |. */
void nn_summary_render_box(nn_text *out, const nn_summary *summary, int width,
                           nn_charset charset, bool explain);
/* 421642 floats -> "1.61 MB" (float32 weights, 1024-based units as Keras). */
char *nn_format_param_bytes(long long params, char *buf, size_t size);

#endif
