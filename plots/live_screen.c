/* The live training screen laid out in cells: header, progress, speeds, metrics,
 * charts, the record's last lines and the key line. */
#include "live_screen.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "summary_box.h"
#include "text.h"

enum { RECENT_LINES = 3, SIDE = 1 };

/* "3.4s" under ten seconds (epochs can be short), else as Keras' ETA: "42s", "1:05". */
static char *format_duration(double seconds, char *buf, size_t size)
{
    if (seconds < 9.95) {
        snprintf(buf, size, "%.1fs", seconds > 0 ? seconds : 0.0);
        return buf;
    }
    return nn_format_eta(seconds, buf, size);
}

static void format_value(double value, char *buf, size_t size)
{
    /* As Keras prints logs: four decimals, or an exponent for tiny values. */
    if (fabs(value) > 1e-3 || isnan(value) || value == 0.0)
        snprintf(buf, size, "%.4f", value);
    else
        snprintf(buf, size, "%.4e", value);
}

/* "loss 0.3120 · accuracy 0.9012" */
static void logs_text(nn_text *out, int count, const char *const *names, const double *values,
                      const char *separator)
{
    for (int i = 0; i < count; i++) {
        char value[32];
        format_value(values[i], value, sizeof value);
        nn_text_printf(out, "%s%s %s", i ? separator : "", names[i], value);
    }
}

static void write_text(nn_grid *grid, int x, int y, const nn_text *text, nn_style style)
{
    if (text->data)
        nn_grid_write(grid, x, y, text->data, style);
}

static void header(nn_grid *grid, const nn_live_screen *s, const char *dot)
{
    const char *status = s->stopping     ? "stopping after this batch"
                         : s->paused     ? "PAUSED - p resumes"
                         : s->validating ? "validating"
                                         : "running";
    int length = nn_utf8_width(status);
    int room = grid->width - 2 * SIDE - length - 2;
    /* The status always shows; the title gives way, a whole part at a time (the size in
     * bytes, then the counts), so that no number is cut in the middle. */
    char params[32], bytes[32];
    nn_format_thousands(s->params, params, sizeof params);
    nn_format_param_bytes(s->params, bytes, sizeof bytes);
    const char *name = s->model_name ? s->model_name : "model";
    nn_text line;
    for (int parts = 3; parts >= 1; parts--) {
        nn_text_init(&line);
        nn_text_printf(&line, "nnsh %s fit %s \"%s\"", dot, dot, name);
        if (parts >= 2)
            nn_text_printf(&line, " %s %d layer%s %s %s params", dot, s->layer_count,
                           s->layer_count == 1 ? "" : "s", dot, params);
        if (parts >= 3)
            nn_text_printf(&line, " (%s)", bytes);
        if (parts == 1 || (line.data && nn_utf8_width(line.data) <= room))
            break;
        nn_text_free(&line);
    }
    if (line.data)
        nn_grid_write_n(grid, SIDE, 0, line.data, room, NN_STYLE_TITLE);
    nn_text_free(&line);
    nn_grid_write(grid, grid->width - SIDE - length, 0, status,
                  s->stopping || s->paused ? NN_STYLE_WARNING
                  : s->validating          ? NN_STYLE_TITLE
                                           : NN_STYLE_DIM);
}

/* A bar of `width` cells: eighth blocks in Unicode, "=>." in ASCII. */
static void bar(nn_grid *grid, int x, int y, int width, double fraction, nn_charset charset)
{
    if (fraction < 0)
        fraction = 0;
    if (fraction > 1)
        fraction = 1;
    if (charset == NN_CHARSET_UNICODE) {
        static const char *const eighths[] = {"", "▏", "▎", "▍", "▌", "▋", "▊", "▉"};
        int total = (int)(fraction * width * 8);
        int full = total / 8, part = total % 8;
        for (int i = 0; i < width; i++) {
            if (i < full)
                nn_grid_set(grid, x + i, y, "█", NN_STYLE_BAR);
            else if (i == full && part > 0)
                nn_grid_set(grid, x + i, y, eighths[part], NN_STYLE_BAR);
            else
                nn_grid_set(grid, x + i, y, "░", NN_STYLE_DIM);
        }
    } else {
        int full = (int)(fraction * width);
        for (int i = 0; i < width; i++)
            nn_grid_set(grid, x + i, y, i < full ? "=" : i == full && full > 0 ? ">" : ".",
                        i <= full ? NN_STYLE_BAR : NN_STYLE_DIM);
    }
}

static void progress(nn_grid *grid, int y, const nn_live_screen *s, nn_charset charset,
                     const char *dot)
{
    char prefix[64], suffix[96], eta[32];
    snprintf(prefix, sizeof prefix, "Epoch %d/%d", s->epoch, s->epochs);
    if (s->validating)
        snprintf(suffix, sizeof suffix, "%lld/%lld  validating", (long long)s->step,
                 (long long)s->steps);
    else if (s->steps_per_second > 0 && s->step < s->steps)
        snprintf(suffix, sizeof suffix, "%lld/%lld  ETA %s", (long long)s->step,
                 (long long)s->steps,
                 format_duration((double)(s->steps - s->step) / s->steps_per_second, eta,
                                 sizeof eta));
    else
        snprintf(suffix, sizeof suffix, "%lld/%lld", (long long)s->step, (long long)s->steps);
    int x = SIDE + nn_grid_write(grid, SIDE, y, prefix, NN_STYLE_TITLE) + 2;
    int suffix_length = nn_utf8_width(suffix);
    int width = grid->width - SIDE - x - suffix_length - 2;
    if (width > 60)
        width = 60;
    if (width >= 5) {
        bar(grid, x, y, width, s->steps > 0 ? (double)s->step / (double)s->steps : 0, charset);
        x += width + 2;
    }
    nn_grid_write(grid, x, y, suffix, NN_STYLE_PLAIN);

    /* Speeds and times. */
    nn_text line;
    nn_text_init(&line);
    char number[32];
    if (s->steps_per_second > 0) {
        if (s->steps_per_second < 100)
            nn_text_printf(&line, "%.1f steps/s", s->steps_per_second);
        else
            nn_text_printf(&line, "%s steps/s",
                           nn_format_thousands((long long)llround(s->steps_per_second), number,
                                               sizeof number));
        nn_text_printf(&line, " %s %s samples/s", dot,
                       nn_format_thousands((long long)llround(s->samples_per_second), number,
                                           sizeof number));
    } else {
        nn_text_append(&line, "measuring speed");
    }
    nn_text_printf(&line, " %s epoch %s", dot, format_duration(s->epoch_seconds, eta, sizeof eta));
    if (s->run_eta_seconds >= 0)
        nn_text_printf(&line, " %s run ETA %s", dot,
                       format_duration(s->run_eta_seconds, eta, sizeof eta));
    write_text(grid, SIDE, y + 1, &line, NN_STYLE_DIM);
    nn_text_free(&line);
}

static void metrics(nn_grid *grid, int y, const nn_live_screen *s, const char *separator)
{
    nn_text line;
    nn_text_init(&line);
    logs_text(&line, s->log_count, s->log_names, s->log_values, separator);
    write_text(grid, SIDE, y, &line, NN_STYLE_PLAIN);
    nn_text_free(&line);
    nn_text_init(&line);
    if (s->last_epoch > 0) {
        nn_text_printf(&line, "epoch %d: ", s->last_epoch);
        logs_text(&line, s->last_count, s->last_names, s->last_values, separator);
    } else {
        nn_text_append(&line, "epoch results appear here when the first epoch ends");
    }
    write_text(grid, SIDE, y + 1, &line, NN_STYLE_DIM);
    nn_text_free(&line);
}

static void placeholder(nn_grid *grid, int x, int y, int width, int height, const char *text)
{
    int length = nn_utf8_width(text);
    nn_grid_write_n(grid, x + (length < width ? (width - length) / 2 : 0), y + height / 2, text,
                    width, NN_STYLE_DIM);
}

static void charts(nn_grid *grid, int y, int height, const nn_live_screen *s,
                   nn_charset charset)
{
    int width = grid->width - 2 * SIDE;
    int curve_count = s->curves ? s->curves->count : 0;
    int columns = width >= 3 * 36 + 2 * 3 ? 3 : 2;
    int gap = 3;
    int chart_width = (width - gap * (columns - 1)) / columns;
    nn_series empty = {.name = "loss", .count = 0};
    nn_chart batch = {.title = "Batch loss (smoothed)", .x_label = height >= 12 ? "Epoch" : NULL,
                      .series = s->batch_loss ? s->batch_loss : &empty, .series_count = 1};
    nn_chart_draw(grid, SIDE, y, chart_width, height, &batch, charset);

    int x = SIDE + chart_width + gap;
    int right_width = width - chart_width - gap;
    if (curve_count == 0) {
        placeholder(grid, x, y, right_width, height, "epoch curves appear after epoch 1");
        return;
    }
    if (columns == 3) {
        for (int i = 0; i < 2 && i < curve_count; i++)
            nn_chart_draw(grid, x + i * (chart_width + gap), y, chart_width, height,
                          &s->curves->charts[i], charset);
    } else if (curve_count >= 2 && height >= 2 * 8 + 1) {
        int top = height / 2;
        nn_chart_draw(grid, x, y, right_width, top, &s->curves->charts[0], charset);
        nn_chart_draw(grid, x, y + top + 1, right_width, height - top - 1,
                      &s->curves->charts[1], charset);
    } else {
        nn_chart_draw(grid, x, y, right_width, height, &s->curves->charts[0], charset);
    }
}

static void recent(nn_grid *grid, int y, int rows, const nn_live_screen *s)
{
    int first = s->line_count > rows ? s->line_count - rows : 0;
    for (int i = first; i < s->line_count; i++)
        nn_grid_write_n(grid, SIDE, y + (i - first), s->lines[i], grid->width - 2 * SIDE,
                        NN_STYLE_DIM);
}

static void key_line(nn_grid *grid, const nn_live_screen *s)
{
    int y = grid->height - 1;
    for (int x = 0; x < grid->width; x++)
        nn_grid_set(grid, x, y, " ", NN_STYLE_KEYS);
    const char *keys = !s->keys   ? " no keyboard here: Ctrl-C stops after the current batch"
                       : s->paused ? " p resume   q stop after this batch   Ctrl-C stop"
                                   : " q stop after this batch   p pause   Ctrl-C stop";
    nn_grid_write(grid, 0, y, keys, NN_STYLE_KEYS);
}

void nn_live_screen_draw(nn_grid *grid, const nn_live_screen *s, nn_charset charset)
{
    const char *dot = charset == NN_CHARSET_UNICODE ? "·" : "-";
    const char *separator = charset == NN_CHARSET_UNICODE ? " · " : " - ";
    if (grid->height < 4) {
        /* A terminal of a line or three (a small tmux pane) still shows how far training
         * is, and how fast. */
        progress(grid, 0, s, charset, dot);
        return;
    }
    header(grid, s, dot);
    progress(grid, 2, s, charset, dot);
    if (grid->width < NN_LIVE_MIN_COLUMNS || grid->height < NN_LIVE_MIN_LINES) {
        if (grid->height >= 7)
            metrics(grid, 4, s, separator);
        char notice[96];
        snprintf(notice, sizeof notice, "enlarge the terminal to %dx%d for charts (now %dx%d)",
                 NN_LIVE_MIN_COLUMNS, NN_LIVE_MIN_LINES, grid->width, grid->height);
        if (grid->height >= 8)
            nn_grid_write(grid, SIDE, 6, notice, NN_STYLE_WARNING);
        if (grid->height >= 5)
            key_line(grid, s);
        return;
    }
    metrics(grid, 4, s, separator);
    int charts_top = 7;
    int charts_height = grid->height - charts_top - RECENT_LINES - 2;
    charts(grid, charts_top, charts_height, s, charset);
    recent(grid, grid->height - 1 - RECENT_LINES, RECENT_LINES, s);
    key_line(grid, s);
}
