/* Line charts drawn with text: Braille dots (2 x 4 per cell) on a Unicode terminal, one
 * marker character per cell in ASCII. Several series with a legend, nice ticks,
 * automatic ranges, an optional logarithmic y axis; NaN and Inf leave gaps.
 *
 *     double loss[] = {0.19, 0.06, 0.05}, val[] = {0.06, 0.04, 0.04};
 *     nn_series series[] = {{"Train Loss", NULL, loss, 3}, {"Val Loss", NULL, val, 3}};
 *     nn_chart chart = {.title = "Loss", .x_label = "Epoch", .series = series,
 *                       .series_count = 2, .integer_x = true};
 *     nn_grid grid; nn_grid_init(&grid, 40, 14);
 *     nn_chart_draw(&grid, 0, 0, 40, 14, &chart, NN_CHARSET_UNICODE);
 */
#ifndef NN_PLOTS_CHART_H
#define NN_PLOTS_CHART_H

#include <stdbool.h>

#include "grid.h"

typedef enum nn_charset {
    NN_CHARSET_ASCII,   /* pipes, files, terminals that are not UTF-8 */
    NN_CHARSET_UNICODE, /* Braille dots, box lines, block bars */
} nn_charset;

/* One line of a chart. */
typedef struct nn_series {
    const char *name;
    const double *x; /* NULL: 1, 2, ..., count */
    const double *y; /* count values; NaN and Inf are gaps */
    int count;
} nn_series;

typedef struct nn_chart {
    const char *title;   /* centred on the first row; NULL or "" for none */
    const char *x_label; /* under the x tick labels; NULL for none */
    const char *y_label; /* SVG only: text charts leave it to the title */
    const nn_series *series;
    int series_count;
    bool log_y;          /* logarithmic y axis: values <= 0 are gaps too */
    bool integer_x;      /* x ticks on whole numbers only (epochs) */
    int first_style;     /* series i gets series style first_style + i (0: from 0) */
} nn_chart;

/* Draws chart into the rectangle (x, y, width, height) of grid. Rows, top down: title,
 * legend, the plot with y tick labels, the x axis, its tick labels, the x label. Too
 * small a rectangle (under 12 x 6) gets only the title. */
void nn_chart_draw(nn_grid *grid, int x, int y, int width, int height, const nn_chart *chart,
                   nn_charset charset);

/* The automatic y range of a chart: finite values only (and > 0 on a log axis).
 * Returns false when no value qualifies. */
bool nn_chart_y_range(const nn_chart *chart, double *low, double *high);
bool nn_chart_x_range(const nn_chart *chart, double *low, double *high);
/* How many values of a series the chart cannot show (NaN, Inf, <= 0 on a log axis). */
int nn_series_hidden_count(const nn_series *series, bool log_y);
/* x of point i of a series (its x array, or i + 1). */
double nn_series_x(const nn_series *series, int i);

#endif
