/* A figure: several charts laid out in rows, as text (cells) or SVG. */
#ifndef NN_PLOTS_FIGURE_H
#define NN_PLOTS_FIGURE_H

#include "chart.h"
#include "text.h"

typedef struct nn_figure {
    const nn_chart *charts;
    int count;
    int columns;      /* charts per row; 0 picks as many as fit (about 36 cells each) */
    int chart_height; /* rows of one chart; 0: 14 */
} nn_figure;

enum { NN_FIGURE_GAP = 3, NN_FIGURE_MIN_CHART_WIDTH = 36, NN_FIGURE_CHART_HEIGHT = 14 };

/* The number of charts per row the figure uses at this width. */
int nn_figure_columns(const nn_figure *figure, int width);
/* Rows of cells the figure needs at this width. */
int nn_figure_height(const nn_figure *figure, int width);
/* Draws the figure into grid from (x, y), width cells wide. */
void nn_figure_draw(nn_grid *grid, int x, int y, int width, const nn_figure *figure,
                    nn_charset charset);
/* The figure as text lines, width cells wide; with ansi, series in colour. */
void nn_figure_render_text(nn_text *out, const nn_figure *figure, int width, nn_charset charset,
                           bool ansi);
/* The figure as a standalone SVG document, width x height pixels in all. */
void nn_figure_render_svg(nn_text *out, const nn_figure *figure, int width, int height);

#endif
