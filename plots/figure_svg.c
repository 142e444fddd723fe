/* Figures as SVG: the same charts, ticks and legends as the text figures, for reports. */
#include <math.h>
#include <stdio.h>

#include "figure.h"
#include "svg.h"
#include "ticks.h"

enum { MARGIN_LEFT = 66, MARGIN_RIGHT = 18, MARGIN_TOP = 34, MARGIN_BOTTOM = 50 };

typedef struct panel {
    double left, top, width, height; /* the plot area, in pixels */
    double x_low, x_high, y_low, y_high;
    bool log_y;
} panel;

static double px(const panel *p, double x)
{
    double t = p->x_high > p->x_low ? (x - p->x_low) / (p->x_high - p->x_low) : 0.5;
    return p->left + t * p->width;
}

static double py(const panel *p, double y)
{
    double t = p->log_y ? (log10(y) - log10(p->y_low)) / (log10(p->y_high) - log10(p->y_low))
                        : (y - p->y_low) / (p->y_high - p->y_low);
    return p->top + (1.0 - t) * p->height;
}

static bool shown(const nn_series *series, int i, bool log_y)
{
    double y = series->y[i];
    return isfinite(y) && isfinite(nn_series_x(series, i)) && (!log_y || y > 0);
}

/* Each run of consecutive shown points is one polyline: gaps stay gaps. */
static void draw_series(nn_text *out, const panel *p, const nn_series *series, int style)
{
    const char *color = nn_svg_series_color(style);
    const char *dash = style % 2 == 1 ? " stroke-dasharray=\"7 4\"" : "";
    bool open = false;
    for (int i = 0; i < series->count; i++) {
        if (!shown(series, i, p->log_y)) {
            if (open)
                nn_text_append(out, "\"/>\n");
            open = false;
            continue;
        }
        if (!open)
            nn_text_printf(out, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"2\"%s "
                                "points=\"", color, dash);
        nn_text_printf(out, "%s%.1f,%.1f", open ? " " : "", px(p, nn_series_x(series, i)),
                       py(p, series->y[i]));
        open = true;
    }
    if (open)
        nn_text_append(out, "\"/>\n");
    /* Markers when the points are few enough to tell apart (epochs). */
    if (series->count <= 60)
        for (int i = 0; i < series->count; i++)
            if (shown(series, i, p->log_y))
                nn_text_printf(out, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" fill=\"%s\"/>\n",
                               px(p, nn_series_x(series, i)), py(p, series->y[i]), color);
}

/* The legend goes into the corner of the plot that has the fewest points under it. */
static void draw_legend(nn_text *out, const panel *p, const nn_chart *chart)
{
    double longest = 0;
    for (int s = 0; s < chart->series_count; s++) {
        const char *name = chart->series[s].name ? chart->series[s].name : "";
        double length = 0;
        for (const char *c = name; *c; c++)
            length += ((unsigned char)*c & 0xC0) != 0x80;
        if (length > longest)
            longest = length;
    }
    double box_width = 44 + longest * 7.2, box_height = 8 + 18.0 * chart->series_count;
    double best_x = 0, best_y = 0;
    int best_count = -1;
    for (int corner = 0; corner < 4; corner++) {
        double x = corner % 2 ? p->left + 8 : p->left + p->width - 8 - box_width;
        double y = corner < 2 ? p->top + 8 : p->top + p->height - 8 - box_height;
        /* Points along every segment, so a line crossing the corner counts too. */
        int count = 0;
        for (int s = 0; s < chart->series_count; s++) {
            const nn_series *series = &chart->series[s];
            for (int i = 0; i < series->count; i++) {
                if (!shown(series, i, p->log_y))
                    continue;
                double x1 = px(p, nn_series_x(series, i)), y1 = py(p, series->y[i]);
                bool joined = i > 0 && shown(series, i - 1, p->log_y);
                double x0 = joined ? px(p, nn_series_x(series, i - 1)) : x1;
                double y0 = joined ? py(p, series->y[i - 1]) : y1;
                for (int k = 0; k <= 16; k++) {
                    double sx = x0 + (x1 - x0) * k / 16, sy = y0 + (y1 - y0) * k / 16;
                    count += sx >= x - 6 && sx <= x + box_width + 6 && sy >= y - 6 &&
                             sy <= y + box_height + 6;
                }
            }
        }
        if (best_count < 0 || count < best_count)
            best_count = count, best_x = x, best_y = y;
    }
    nn_text_printf(out, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" rx=\"3\" "
                        "fill=\"white\" fill-opacity=\"0.85\" stroke=\"#cccccc\"/>\n",
                   best_x, best_y, box_width, box_height);
    for (int s = 0; s < chart->series_count; s++) {
        int style = chart->first_style + s;
        double y = best_y + 16 + 18.0 * s;
        nn_text_printf(out, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" "
                            "stroke-width=\"2\"%s/>\n",
                       best_x + 8, y - 4, best_x + 34, y - 4, nn_svg_series_color(style),
                       style % 2 == 1 ? " stroke-dasharray=\"7 4\"" : "");
        char label[160];
        int hidden = nn_series_hidden_count(&chart->series[s], chart->log_y);
        if (hidden > 0)
            snprintf(label, sizeof label, "%s (%d not shown)", chart->series[s].name, hidden);
        else
            snprintf(label, sizeof label, "%s", chart->series[s].name ? chart->series[s].name : "");
        nn_svg_text(out, best_x + 40, y, "start", NULL, label);
    }
}

static void draw_chart(nn_text *out, double left, double top, double width, double height,
                       const nn_chart *chart)
{
    panel p = {.left = left + MARGIN_LEFT, .top = top + MARGIN_TOP,
               .width = width - MARGIN_LEFT - MARGIN_RIGHT,
               .height = height - MARGIN_TOP - MARGIN_BOTTOM, .log_y = chart->log_y};
    if (chart->title)
        nn_svg_text(out, left + width / 2, top + 22, "middle",
                    "font-size=\"15\" font-weight=\"bold\"", chart->title);
    double y_low = 0, y_high = 1, x_low = 0, x_high = 1;
    bool any = nn_chart_y_range(chart, &y_low, &y_high);
    nn_chart_x_range(chart, &x_low, &x_high);
    nn_ticks y_ticks, x_ticks;
    int y_target = (int)(p.height / 45) + 1;
    if (chart->log_y)
        nn_ticks_log(&y_ticks, any ? y_low : 0.1, any ? y_high : 1, y_target);
    else
        nn_ticks_linear(&y_ticks, y_low, y_high, y_target, false);
    nn_ticks_linear_inside(&x_ticks, x_low, x_high, (int)(p.width / 60) + 1, chart->integer_x);
    p.x_low = x_ticks.low, p.x_high = x_ticks.high;
    p.y_low = y_ticks.low, p.y_high = y_ticks.high;

    for (int i = 0; i < y_ticks.count; i++) {
        double y = py(&p, y_ticks.values[i]);
        nn_text_printf(out, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
                            "stroke=\"#e6e6e6\"/>\n", p.left, y, p.left + p.width, y);
        nn_svg_text(out, p.left - 6, y + 4, "end", NULL, y_ticks.labels[i]);
    }
    for (int i = 0; i < x_ticks.count; i++) {
        double x = px(&p, x_ticks.values[i]);
        nn_text_printf(out, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
                            "stroke=\"#e6e6e6\"/>\n", x, p.top, x, p.top + p.height);
        nn_svg_text(out, x, p.top + p.height + 17, "middle", NULL, x_ticks.labels[i]);
    }
    nn_text_printf(out, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" "
                        "fill=\"none\" stroke=\"#444444\"/>\n", p.left, p.top, p.width, p.height);
    if (chart->x_label)
        nn_svg_text(out, p.left + p.width / 2, p.top + p.height + 38, "middle", NULL,
                    chart->x_label);
    if (chart->y_label) {
        char rotate[96];
        snprintf(rotate, sizeof rotate, "transform=\"rotate(-90 %.1f %.1f)\"", left + 16,
                 p.top + p.height / 2);
        nn_svg_text(out, left + 16, p.top + p.height / 2, "middle", rotate, chart->y_label);
    }
    for (int s = 0; s < chart->series_count; s++)
        draw_series(out, &p, &chart->series[s], chart->first_style + s);
    if (!any)
        nn_svg_text(out, p.left + p.width / 2, p.top + p.height / 2, "middle",
                    "fill=\"#888888\"", "no data");
    else if (chart->series_count > 0)
        draw_legend(out, &p, chart);
}

void nn_figure_render_svg(nn_text *out, const nn_figure *figure, int width, int height)
{
    int columns = figure->columns > 0 ? figure->columns : figure->count < 3 ? figure->count : 3;
    if (columns > figure->count)
        columns = figure->count;
    if (columns < 1)
        columns = 1;
    int rows = (figure->count + columns - 1) / columns;
    if (rows < 1)
        rows = 1;
    if (width <= 0)
        width = 600 * columns;
    if (height <= 0)
        height = 400 * rows;
    nn_svg_begin(out, width, height);
    double chart_width = (double)width / columns, chart_height = (double)height / rows;
    for (int i = 0; i < figure->count; i++)
        draw_chart(out, (i % columns) * chart_width, (i / columns) * chart_height, chart_width,
                   chart_height, &figure->charts[i]);
    nn_svg_end(out);
}
