/* Keras-compatible text output: summary tables and progress lines. */
#include "text.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void nn_text_init(nn_text *text) { memset(text, 0, sizeof *text); }

void nn_text_free(nn_text *text)
{
    free(text->data);
    nn_text_init(text);
}

static bool reserve_text(nn_text *text, size_t extra)
{
    if (text->failed)
        return false;
    if (text->length + extra + 1 <= text->capacity)
        return true;
    size_t capacity = text->capacity ? text->capacity : 256;
    while (capacity < text->length + extra + 1)
        capacity *= 2;
    char *data = realloc(text->data, capacity);
    if (!data) {
        text->failed = true;
        return false;
    }
    text->data = data;
    text->capacity = capacity;
    return true;
}

void nn_text_append_n(nn_text *text, const char *s, size_t n)
{
    if (!reserve_text(text, n))
        return;
    memcpy(text->data + text->length, s, n);
    text->length += n;
    text->data[text->length] = '\0';
}

void nn_text_append(nn_text *text, const char *s) { nn_text_append_n(text, s, strlen(s)); }

void nn_text_printf(nn_text *text, const char *format, ...)
{
    va_list args;
    va_start(args, format);
    va_list copy;
    va_copy(copy, args);
    int needed = vsnprintf(NULL, 0, format, copy);
    va_end(copy);
    if (needed >= 0 && reserve_text(text, (size_t)needed)) {
        vsnprintf(text->data + text->length, (size_t)needed + 1, format, args);
        text->length += (size_t)needed;
    }
    va_end(args);
}

void nn_text_repeat(nn_text *text, const char *s, int count)
{
    for (int i = 0; i < count; i++)
        nn_text_append(text, s);
}

char *nn_format_thousands(long long value, char *buf, size_t size)
{
    char digits[32];
    unsigned long long magnitude = value < 0 ? 0ull - (unsigned long long)value : (unsigned long long)value;
    snprintf(digits, sizeof digits, "%llu", magnitude);
    size_t length = strlen(digits), used = 0;
    char result[48];
    if (value < 0)
        result[used++] = '-';
    for (size_t i = 0; i < length; i++) {
        if (i > 0 && (length - i) % 3 == 0)
            result[used++] = ',';
        result[used++] = digits[i];
    }
    result[used] = '\0';
    snprintf(buf, size, "%s", result);
    return buf;
}

/* ---- summary ---- */

enum { SUMMARY_WIDTH = 65 };
static const int summary_positions[3] = {29, 55, 65};

/* Prints one logical row as Keras does: each cell is cut to its column width minus the
 * two spaces that separate columns, the rest carried to the next physical line, and a
 * cut is moved back to just after "),", "},", "]," or "'," when one falls inside. */
static void render_row(nn_text *out, const char *const fields[3])
{
    size_t offsets[3] = {0, 0, 0};
    size_t lengths[3];
    for (int c = 0; c < 3; c++)
        lengths[c] = strlen(fields[c]);
    static const char *const breaks[] = {"),", "},", "],", "',"};
    for (;;) {
        bool remaining = false;
        for (int c = 0; c < 3; c++)
            remaining |= offsets[c] < lengths[c];
        if (!remaining)
            return;
        char line[512];
        int used = 0;
        for (int c = 0; c < 3; c++) {
            int start = c > 0 ? summary_positions[c - 1] : 0;
            int space = c != 2 ? 2 : 0;
            size_t cutoff = (size_t)(summary_positions[c] - start - space);
            const char *rest = fields[c] + offsets[c];
            size_t available = lengths[c] - offsets[c];
            size_t take = available < cutoff ? available : cutoff;
            size_t best = take;
            for (size_t b = 0; b < sizeof breaks / sizeof breaks[0]; b++) {
                for (size_t i = 0; i + 1 < take; i++) {
                    if (rest[i] == breaks[b][0] && rest[i + 1] == breaks[b][1]) {
                        if (i + 2 < best)
                            best = i + 2;
                        break;
                    }
                }
            }
            take = best;
            if (c == 0)
                line[used++] = ' ';
            memcpy(line + used, rest, take);
            used += (int)take;
            for (int s = 0; s < space; s++)
                line[used++] = ' ';
            offsets[c] += take;
            while (used < summary_positions[c])
                line[used++] = ' ';
        }
        line[used] = '\0';
        nn_text_append(out, line);
        nn_text_append(out, "\n");
    }
}

void nn_summary_render_keras(nn_text *out, const nn_summary *summary, bool explain)
{
    char number[32], total[32];
    nn_text_printf(out, "Model: \"%s\"\n", summary->model_name);
    nn_text_repeat(out, "_", SUMMARY_WIDTH);
    nn_text_append(out, "\n");
    render_row(out, (const char *const[3]){"Layer (type)", "Output Shape", "Param #"});
    nn_text_repeat(out, "=", SUMMARY_WIDTH);
    nn_text_append(out, "\n");
    for (int i = 0; i < summary->row_count; i++) {
        const nn_summary_row *row = &summary->rows[i];
        char first[160];
        snprintf(first, sizeof first, "%s (%s)", row->name, row->type);
        snprintf(number, sizeof number, "%lld", row->params);
        render_row(out, (const char *const[3]){first, row->output, number});
        if (explain && row->explanation && row->explanation[0]) {
            /* Explanations are indented under the row, one line per "; " part. */
            const char *part = row->explanation;
            while (*part) {
                const char *end = strstr(part, "\n");
                size_t length = end ? (size_t)(end - part) : strlen(part);
                nn_text_append(out, "     ");
                nn_text_append_n(out, part, length);
                nn_text_append(out, "\n");
                part += length;
                if (*part == '\n')
                    part++;
            }
        }
        if (i < summary->row_count - 1) {
            nn_text_repeat(out, " ", SUMMARY_WIDTH);
            nn_text_append(out, "\n");
        }
    }
    nn_text_repeat(out, "=", SUMMARY_WIDTH);
    nn_text_append(out, "\n");
    nn_text_printf(out, "Total params: %s\n", nn_format_thousands(summary->total, total, sizeof total));
    nn_text_printf(out, "Trainable params: %s\n",
                   nn_format_thousands(summary->trainable, number, sizeof number));
    nn_text_printf(out, "Non-trainable params: %s\n",
                   nn_format_thousands(summary->non_trainable, number, sizeof number));
    nn_text_repeat(out, "_", SUMMARY_WIDTH);
    nn_text_append(out, "\n");
}

/* ---- progress ---- */

char *nn_format_eta(double seconds, char *buf, size_t size)
{
    long long whole = (long long)seconds;
    if (whole < 0)
        whole = 0;
    if (seconds > 3600)
        snprintf(buf, size, "%lld:%02lld:%02lld", whole / 3600, (whole % 3600) / 60, whole % 60);
    else if (seconds > 60)
        snprintf(buf, size, "%lld:%02lld", whole / 60, whole % 60);
    else
        snprintf(buf, size, "%llds", whole);
    return buf;
}

char *nn_format_per_unit(double seconds, const char *unit, char *buf, size_t size)
{
    if (seconds >= 1 || seconds == 0)
        snprintf(buf, size, "%.0fs/%s", seconds, unit);
    else if (seconds >= 1e-3)
        snprintf(buf, size, "%.0fms/%s", seconds * 1e3, unit);
    else
        snprintf(buf, size, "%.0fus/%s", seconds * 1e6, unit);
    return buf;
}

void nn_progress_render_logs(nn_text *out, int count, const char *const *names,
                             const double *values)
{
    for (int i = 0; i < count; i++) {
        double value = values[i];
        if (fabs(value) > 1e-3 || isnan(value))
            nn_text_printf(out, " - %s: %.4f", names[i], value);
        else
            nn_text_printf(out, " - %s: %.4e", names[i], value);
    }
}

void nn_progress_render_bar(nn_text *out, const nn_progress_state *state)
{
    enum { BAR_WIDTH = 30 };
    char buf[64];
    int64_t steps = state->steps > 0 ? state->steps : 1;
    int digits = (int)floor(log10((double)steps)) + 1;
    nn_text_printf(out, "%*lld/%lld [", digits, (long long)state->step, (long long)steps);
    int filled = (int)(BAR_WIDTH * state->step / steps);
    if (filled > 0) {
        nn_text_repeat(out, "=", filled - 1);
        nn_text_append(out, state->step < steps ? ">" : "=");
    }
    nn_text_repeat(out, ".", BAR_WIDTH - filled);
    nn_text_append(out, "]");
    if (state->step < steps) {
        double per_step = state->step > 0 ? state->elapsed_seconds / (double)state->step : 0.0;
        nn_text_printf(out, " - ETA: %s",
                       nn_format_eta(per_step * (double)(steps - state->step), buf, sizeof buf));
    } else {
        nn_text_printf(out, " - %.0fs %s", state->elapsed_seconds,
                       nn_format_per_unit(state->elapsed_seconds / (double)steps, "step", buf,
                                          sizeof buf));
    }
    nn_progress_render_logs(out, state->log_count, state->log_names, state->log_values);
}

void nn_progress_render_epoch_line(nn_text *out, const nn_progress_state *state)
{
    char buf[64];
    int64_t steps = state->steps > 0 ? state->steps : 1;
    nn_text_printf(out, "%lld/%lld - %.0fs", (long long)state->step, (long long)steps,
                   state->elapsed_seconds);
    nn_progress_render_logs(out, state->log_count, state->log_names, state->log_values);
    nn_text_printf(out, " - %s", nn_format_per_unit(state->elapsed_seconds, "epoch", buf, sizeof buf));
    nn_text_printf(out, " - %s",
                   nn_format_per_unit(state->elapsed_seconds / (double)steps, "step", buf, sizeof buf));
}
