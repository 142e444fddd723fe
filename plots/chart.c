/* Text line charts: axes and labels in cells, lines on a dot canvas (Braille or ASCII). */
#include "chart.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ticks.h"

double nn_series_x(const nn_series *series, int i)
{
    return series->x ? series->x[i] : (double)(i + 1);
}

/* A value an axis can hold: finite, and small enough that differences between two such
 * values (the axis span, tick steps) stay finite. Others are counted as not shown. */
static bool plottable(double value)
{
    return fabs(value) <= 1e300;
}

static bool point_shown(const nn_series *series, int i, bool log_y)
{
    double y = series->y[i];
    return plottable(y) && plottable(nn_series_x(series, i)) && (!log_y || y > 0);
}

int nn_series_hidden_count(const nn_series *series, bool log_y)
{
    int hidden = 0;
    for (int i = 0; i < series->count; i++)
        hidden += !point_shown(series, i, log_y);
    return hidden;
}

bool nn_chart_y_range(const nn_chart *chart, double *low, double *high)
{
    bool any = false;
    for (int s = 0; s < chart->series_count; s++) {
        const nn_series *series = &chart->series[s];
        for (int i = 0; i < series->count; i++) {
            if (!point_shown(series, i, chart->log_y))
                continue;
            double y = series->y[i];
            if (!any || y < *low)
                *low = y;
            if (!any || y > *high)
                *high = y;
            any = true;
        }
    }
    return any;
}

bool nn_chart_x_range(const nn_chart *chart, double *low, double *high)
{
    bool any = false;
    for (int s = 0; s < chart->series_count; s++) {
        const nn_series *series = &chart->series[s];
        for (int i = 0; i < series->count; i++) {
            double x = nn_series_x(series, i);
            if (!plottable(x))
                continue;
            if (!any || x < *low)
                *low = x;
            if (!any || x > *high)
                *high = x;
            any = true;
        }
    }
    return any;
}

/* ---- the dot canvas ---- */

/* The plot area as dots: cell_width x cell_height dots per cell (2 x 4 for Braille,
 * 1 x 1 in ASCII). Each cell remembers which series drew in it last, for its style. */
typedef struct canvas {
    int columns, rows;
    int cell_width, cell_height;
    uint8_t *bits;  /* per cell: Braille dot bits, or 1 for ASCII */
    uint8_t *owner; /* per cell: series index + 1, 0 for none */
} canvas;

/* Braille dot (column, row) within a cell -> its bit in U+2800..U+28FF. */
static const uint8_t braille_bits[2][4] = {{0x01, 0x02, 0x04, 0x40}, {0x08, 0x10, 0x20, 0x80}};

static void canvas_set(canvas *c, int dot_x, int dot_y, int series)
{
    int width = c->columns * c->cell_width, height = c->rows * c->cell_height;
    if (dot_x < 0 || dot_y < 0 || dot_x >= width || dot_y >= height)
        return;
    int column = dot_x / c->cell_width, row = dot_y / c->cell_height;
    size_t cell = (size_t)row * (size_t)c->columns + (size_t)column;
    c->bits[cell] |= c->cell_width == 2 ? braille_bits[dot_x % 2][dot_y % 4] : 1;
    c->owner[cell] = (uint8_t)(series + 1);
}

/* Line patterns, so series stay apart without colour: solid, dashed, dotted. The
 * counter runs along the whole line, across its segments. */
static bool pattern_on(int series, long step)
{
    switch (series % 3) {
    case 1: return step % 3 < 2;
    case 2: return step % 2 == 0;
    default: return true;
    }
}

typedef struct pen {
    canvas *canvas;
    int series;
    bool patterned; /* Braille only: ASCII tells series apart by their characters */
    long step;
} pen;

static void pen_dot(pen *p, double x, double y)
{
    if (!p->patterned || pattern_on(p->series, p->step))
        canvas_set(p->canvas, (int)lround(x), (int)lround(y), p->series);
    p->step++;
}

/* Dots from (x0, y0) to (x1, y1), the first one left out (it ends the previous
 * segment), one per step of the longer axis so steep lines stay connected. */
static void pen_line(pen *p, double x0, double y0, double x1, double y1)
{
    double span = fmax(fabs(x1 - x0), fabs(y1 - y0));
    long steps = (long)ceil(span);
    if (steps > 1L << 20)
        steps = 1L << 20;
    for (long i = 1; i <= steps; i++) {
        double t = (double)i / (double)steps;
        pen_dot(p, x0 + (x1 - x0) * t, y0 + (y1 - y0) * t);
    }
}

/* A point with no neighbour to join: a small cross, so it shows. */
static void pen_marker(pen *p, double x, double y)
{
    int cx = (int)lround(x), cy = (int)lround(y);
    canvas_set(p->canvas, cx, cy, p->series);
    if (p->canvas->cell_width == 2) {
        canvas_set(p->canvas, cx - 1, cy, p->series);
        canvas_set(p->canvas, cx + 1, cy, p->series);
        canvas_set(p->canvas, cx, cy - 1, p->series);
        canvas_set(p->canvas, cx, cy + 1, p->series);
    }
}

/* ---- mapping values to dots ---- */

typedef struct axes {
    double x_low, x_high, y_low, y_high;
    bool log_y;
    int dots_x, dots_y;
} axes;

static double dot_x(const axes *a, double x)
{
    double t = a->x_high > a->x_low ? (x - a->x_low) / (a->x_high - a->x_low) : 0.5;
    return t * (a->dots_x - 1);
}

static double dot_y(const axes *a, double y)
{
    double t;
    if (a->log_y)
        t = (log10(y) - log10(a->y_low)) / (log10(a->y_high) - log10(a->y_low));
    else
        t = a->y_high > a->y_low ? (y - a->y_low) / (a->y_high - a->y_low) : 0.5;
    return (1.0 - t) * (a->dots_y - 1);
}

static void draw_series(canvas *c, const axes *a, const nn_series *series, int index,
                        bool log_y)
{
    pen p = {.canvas = c, .series = index, .patterned = c->cell_width == 2};
    bool previous = false;
    double px = 0, py = 0;
    for (int i = 0; i < series->count; i++) {
        if (!point_shown(series, i, log_y)) {
            previous = false;
            continue;
        }
        double x = dot_x(a, nn_series_x(series, i)), y = dot_y(a, series->y[i]);
        bool next = i + 1 < series->count && point_shown(series, i + 1, log_y);
        if (previous)
            pen_line(&p, px, py, x, y);
        else if (next)
            pen_dot(&p, x, y);
        else
            pen_marker(&p, x, y);
        previous = true;
        px = x;
        py = y;
    }
}

/* ---- glyphs ---- */

typedef struct glyphs {
    const char *vertical, *y_tick, *corner, *horizontal, *x_tick;
} glyphs;

static const glyphs unicode_glyphs = {"│", "┤", "└", "─", "┬"};
static const glyphs ascii_glyphs = {"|", "+", "+", "-", "+"};
static const char ascii_markers[] = "*o+x#@";

static void braille_glyph(uint8_t bits, char out[4])
{
    unsigned code = 0x2800u + bits;
    out[0] = (char)(0xE0 | (code >> 12));
    out[1] = (char)(0x80 | ((code >> 6) & 0x3F));
    out[2] = (char)(0x80 | (code & 0x3F));
    out[3] = '\0';
}

static nn_style series_style(const nn_chart *chart, int index)
{
    return (nn_style)(NN_STYLE_SERIES_1 + (chart->first_style + index) % NN_SERIES_STYLES);
}

/* "⠒⠐⠂ Val Loss": the series' own line pattern (or character) then its name, and how
 * many values it cannot show. Returns the number of cells used. */
static int draw_legend_entry(nn_grid *grid, int x, int y, int limit, const nn_chart *chart,
                             int index, nn_charset charset)
{
    const nn_series *series = &chart->series[index];
    nn_style style = series_style(chart, index);
    int used = 0;
    if (charset == NN_CHARSET_UNICODE) {
        for (int cell = 0; cell < 3; cell++) {
            uint8_t bits = 0;
            for (int half = 0; half < 2; half++)
                if (pattern_on(index, cell * 2 + half))
                    bits |= braille_bits[half][1];
            char glyph[4];
            braille_glyph(bits, glyph);
            if (used < limit)
                nn_grid_set(grid, x + used++, y, glyph, style);
        }
    } else {
        char marker[2] = {ascii_markers[index % (int)(sizeof ascii_markers - 1)], '\0'};
        for (int cell = 0; cell < 2 && used < limit; cell++)
            nn_grid_set(grid, x + used++, y, marker, style);
    }
    char label[160];
    int hidden = nn_series_hidden_count(series, chart->log_y);
    if (hidden > 0)
        snprintf(label, sizeof label, " %s (%d not shown)", series->name ? series->name : "",
                 hidden);
    else
        snprintf(label, sizeof label, " %s", series->name ? series->name : "");
    if (used < limit)
        used += nn_grid_write_n(grid, x + used, y, label, limit - used, NN_STYLE_PLAIN);
    return used;
}

static void draw_centered(nn_grid *grid, int x, int y, int width, const char *text,
                          nn_style style)
{
    int length = nn_utf8_width(text);
    int start = length < width ? x + (width - length) / 2 : x;
    nn_grid_write_n(grid, start, y, text, width, style);
}

void nn_chart_draw(nn_grid *grid, int x, int y, int width, int height, const nn_chart *chart,
                   nn_charset charset)
{
    const glyphs *g = charset == NN_CHARSET_UNICODE ? &unicode_glyphs : &ascii_glyphs;
    bool has_title = chart->title && chart->title[0];
    bool has_legend = chart->series_count > 0;
    bool has_x_label = chart->x_label && chart->x_label[0];
    if (width < 12 || height < 6) {
        if (has_title && height > 0)
            draw_centered(grid, x, y, width, chart->title, NN_STYLE_TITLE);
        return;
    }
    /* Give up the x label, then the title, before the plot gets under three rows. */
    int fixed = 2 + has_title + has_legend + has_x_label;
    if (height - fixed < 3 && has_x_label)
        has_x_label = false, fixed--;
    if (height - fixed < 3 && has_title)
        has_title = false, fixed--;
    int plot_rows = height - fixed;
    int row = y;
    if (has_title)
        draw_centered(grid, x, row++, width, chart->title, NN_STYLE_TITLE);
    if (has_legend) {
        int used = 0;
        for (int s = 0; s < chart->series_count && used < width; s++) {
            if (s > 0)
                used += 2;
            used += draw_legend_entry(grid, x + used, row, width - used, chart, s, charset);
        }
        row++;
    }

    /* Ranges and ticks. */
    double y_low = 0, y_high = 1, x_low = 0, x_high = 1;
    bool any = nn_chart_y_range(chart, &y_low, &y_high);
    nn_chart_x_range(chart, &x_low, &x_high);
    nn_ticks y_ticks, x_ticks;
    int y_target = plot_rows / 3 + 1;
    if (chart->log_y)
        nn_ticks_log(&y_ticks, any ? y_low : 0.1, any ? y_high : 1.0, y_target);
    else
        nn_ticks_linear(&y_ticks, y_low, y_high, y_target, false);
    int label_width = 1;
    for (int i = 0; i < y_ticks.count; i++) {
        int length = nn_utf8_width(y_ticks.labels[i]);
        if (length > label_width)
            label_width = length;
    }
    int axis_x = x + label_width + 1;
    int plot_x = axis_x + 1;
    int plot_columns = x + width - plot_x;
    if (plot_columns < 4)
        return;
    /* As many x ticks as fit with their labels a space or more apart. */
    for (int x_target = plot_columns / 6 + 1;; x_target--) {
        nn_ticks_linear_inside(&x_ticks, x_low, x_high, x_target, chart->integer_x);
        int widest = 1;
        for (int i = 0; i < x_ticks.count; i++) {
            int length = nn_utf8_width(x_ticks.labels[i]);
            if (length > widest)
                widest = length;
        }
        double span = x_ticks.high - x_ticks.low;
        double spacing = span > 0 ? plot_columns * x_ticks.step / span : plot_columns;
        if (widest + 2 <= spacing || x_target <= 2)
            break;
    }

    canvas c = {.columns = plot_columns, .rows = plot_rows,
                .cell_width = charset == NN_CHARSET_UNICODE ? 2 : 1,
                .cell_height = charset == NN_CHARSET_UNICODE ? 4 : 1};
    size_t cells = (size_t)plot_columns * (size_t)plot_rows;
    c.bits = calloc(cells, 1);
    c.owner = calloc(cells, 1);
    if (!c.bits || !c.owner) {
        free(c.bits);
        free(c.owner);
        return;
    }
    axes a = {.x_low = x_ticks.low, .x_high = x_ticks.high, .y_low = y_ticks.low,
              .y_high = y_ticks.high, .log_y = chart->log_y,
              .dots_x = plot_columns * c.cell_width, .dots_y = plot_rows * c.cell_height};

    /* The y axis with its labels. */
    for (int r = 0; r < plot_rows; r++)
        nn_grid_set(grid, axis_x, row + r, g->vertical, NN_STYLE_DIM);
    int last_label_row = -1;
    for (int i = y_ticks.count - 1; i >= 0; i--) {
        int r = (int)lround(dot_y(&a, y_ticks.values[i])) / c.cell_height;
        if (r == last_label_row)
            continue;
        last_label_row = r;
        int length = nn_utf8_width(y_ticks.labels[i]);
        nn_grid_write(grid, axis_x - 1 - length, row + r, y_ticks.labels[i], NN_STYLE_PLAIN);
        nn_grid_set(grid, axis_x, row + r, g->y_tick, NN_STYLE_DIM);
    }

    for (int s = 0; s < chart->series_count; s++)
        draw_series(&c, &a, &chart->series[s], s, chart->log_y);
    for (int r = 0; r < plot_rows; r++) {
        for (int col = 0; col < plot_columns; col++) {
            size_t cell = (size_t)r * (size_t)plot_columns + (size_t)col;
            if (!c.bits[cell])
                continue;
            int series = c.owner[cell] - 1;
            char glyph[4];
            if (charset == NN_CHARSET_UNICODE)
                braille_glyph(c.bits[cell], glyph);
            else
                glyph[0] = ascii_markers[series % (int)(sizeof ascii_markers - 1)], glyph[1] = '\0';
            nn_grid_set(grid, plot_x + col, row + r, glyph, series_style(chart, series));
        }
    }
    free(c.bits);
    free(c.owner);
    if (!any)
        draw_centered(grid, plot_x, row + plot_rows / 2, plot_columns, "no data", NN_STYLE_DIM);
    row += plot_rows;

    /* The x axis, its ticks and labels (a label that would touch the previous is left
     * out). */
    nn_grid_set(grid, axis_x, row, g->corner, NN_STYLE_DIM);
    for (int col = 0; col < plot_columns; col++)
        nn_grid_set(grid, plot_x + col, row, g->horizontal, NN_STYLE_DIM);
    int free_from = x;
    for (int i = 0; i < x_ticks.count; i++) {
        int col = (int)lround(dot_x(&a, x_ticks.values[i])) / c.cell_width;
        nn_grid_set(grid, plot_x + col, row, g->x_tick, NN_STYLE_DIM);
        int length = nn_utf8_width(x_ticks.labels[i]);
        int start = plot_x + col - (length - 1) / 2;
        if (start + length > x + width)
            start = x + width - length;
        if (start < free_from)
            continue;
        nn_grid_write(grid, start, row + 1, x_ticks.labels[i], NN_STYLE_PLAIN);
        free_from = start + length + 1;
    }
    row += 2;
    if (has_x_label)
        draw_centered(grid, plot_x, row, plot_columns, chart->x_label, NN_STYLE_PLAIN);
}
