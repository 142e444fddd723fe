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

/* ---- character widths ---- */

int nn_utf8_char_size(const char *text)
{
    unsigned char lead = (unsigned char)text[0];
    int size = lead < 0x80 ? 1 : lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 1;
    /* A truncated sequence counts as single bytes, so nothing reads past the end. */
    for (int i = 1; i < size; i++)
        if (((unsigned char)text[i] & 0xC0) != 0x80)
            return 1;
    return size;
}

/* The code point of the UTF-8 character of `size` bytes at text (the byte itself for an
 * invalid one). */
static uint32_t code_point(const char *text, int size)
{
    const unsigned char *bytes = (const unsigned char *)text;
    if (size == 1)
        return bytes[0];
    uint32_t value = bytes[0] & (0x7Fu >> size);
    for (int i = 1; i < size; i++)
        value = value << 6 | (bytes[i] & 0x3Fu);
    return value;
}

typedef struct code_range {
    uint32_t first, last;
} code_range;

/* Combining marks and zero-width characters: drawn over the character before them. */
static const code_range zero_width[] = {
    {0x0300, 0x036F}, {0x0483, 0x0489}, {0x0591, 0x05BD}, {0x0610, 0x061A}, {0x064B, 0x065F},
    {0x0E31, 0x0E31}, {0x0E34, 0x0E3A}, {0x0E47, 0x0E4E}, {0x1AB0, 0x1AFF}, {0x1DC0, 0x1DFF},
    {0x200B, 0x200F}, {0x202A, 0x202E}, {0x2060, 0x2064}, {0x20D0, 0x20FF}, {0x302A, 0x302D},
    {0x3099, 0x309A}, {0xFE00, 0xFE0F}, {0xFE20, 0xFE2F}, {0xFEFF, 0xFEFF}, {0xE0100, 0xE01EF},
};

/* East Asian Wide and Fullwidth characters and the emoji terminals draw two cells wide
 * (Unicode's EastAsianWidth.txt, condensed to the blocks in use). */
static const code_range double_width[] = {
    {0x1100, 0x115F},   {0x231A, 0x231B},   {0x2329, 0x232A},   {0x23E9, 0x23EC},
    {0x23F0, 0x23F0},   {0x23F3, 0x23F3},   {0x25FD, 0x25FE},   {0x2614, 0x2615},
    {0x2648, 0x2653},   {0x267F, 0x267F},   {0x2693, 0x2693},   {0x26A1, 0x26A1},
    {0x26AA, 0x26AB},   {0x26BD, 0x26BE},   {0x26C4, 0x26C5},   {0x26CE, 0x26CE},
    {0x26D4, 0x26D4},   {0x26EA, 0x26EA},   {0x26F2, 0x26F3},   {0x26F5, 0x26F5},
    {0x26FA, 0x26FA},   {0x26FD, 0x26FD},   {0x2705, 0x2705},   {0x270A, 0x270B},
    {0x2728, 0x2728},   {0x274C, 0x274C},   {0x274E, 0x274E},   {0x2753, 0x2755},
    {0x2757, 0x2757},   {0x2795, 0x2797},   {0x27B0, 0x27B0},   {0x27BF, 0x27BF},
    {0x2B1B, 0x2B1C},   {0x2B50, 0x2B50},   {0x2B55, 0x2B55},   {0x2E80, 0x3029},
    {0x302E, 0x303E},   {0x3041, 0x3096},   {0x309B, 0x33FF},   {0x3400, 0x4DBF},
    {0x4E00, 0x9FFF},   {0xA000, 0xA4CF},   {0xA960, 0xA97F},   {0xAC00, 0xD7A3},
    {0xF900, 0xFAFF},   {0xFE10, 0xFE19},   {0xFE30, 0xFE6F},   {0xFF00, 0xFF60},
    {0xFFE0, 0xFFE6},   {0x16FE0, 0x16FE4}, {0x17000, 0x18CFF}, {0x1B000, 0x1B2FF},
    {0x1F004, 0x1F004}, {0x1F0CF, 0x1F0CF}, {0x1F18E, 0x1F18E}, {0x1F191, 0x1F19A},
    {0x1F200, 0x1F251}, {0x1F300, 0x1F320}, {0x1F32D, 0x1F335}, {0x1F337, 0x1F37C},
    {0x1F37E, 0x1F393}, {0x1F3A0, 0x1F3CA}, {0x1F3CF, 0x1F3D3}, {0x1F3E0, 0x1F3F0},
    {0x1F3F4, 0x1F3F4}, {0x1F3F8, 0x1F43E}, {0x1F440, 0x1F440}, {0x1F442, 0x1F4FC},
    {0x1F4FF, 0x1F53D}, {0x1F54B, 0x1F54E}, {0x1F550, 0x1F567}, {0x1F57A, 0x1F57A},
    {0x1F595, 0x1F596}, {0x1F5A4, 0x1F5A4}, {0x1F5FB, 0x1F64F}, {0x1F680, 0x1F6C5},
    {0x1F6CC, 0x1F6CC}, {0x1F6D0, 0x1F6D2}, {0x1F6D5, 0x1F6D7}, {0x1F6EB, 0x1F6EC},
    {0x1F6F4, 0x1F6FC}, {0x1F7E0, 0x1F7EB}, {0x1F90C, 0x1F93A}, {0x1F93C, 0x1F945},
    {0x1F947, 0x1F9FF}, {0x1FA70, 0x1FAFF}, {0x20000, 0x2FFFD}, {0x30000, 0x3FFFD},
};

static bool in_ranges(uint32_t value, const code_range *ranges, size_t count)
{
    size_t low = 0, high = count;
    while (low < high) {
        size_t middle = low + (high - low) / 2;
        if (value < ranges[middle].first)
            high = middle;
        else if (value > ranges[middle].last)
            low = middle + 1;
        else
            return true;
    }
    return false;
}

int nn_utf8_char_width(const char *text)
{
    int size = nn_utf8_char_size(text);
    if (size == 1)
        return 1;
    uint32_t value = code_point(text, size);
    if (in_ranges(value, zero_width, sizeof zero_width / sizeof zero_width[0]))
        return 0;
    return in_ranges(value, double_width, sizeof double_width / sizeof double_width[0]) ? 2 : 1;
}

int nn_utf8_width(const char *text)
{
    int width = 0;
    while (*text) {
        width += nn_utf8_char_width(text);
        text += nn_utf8_char_size(text);
    }
    return width;
}

size_t nn_utf8_offset(const char *text, int cells)
{
    size_t offset = 0;
    int used = 0;
    while (text[offset]) {
        int width = nn_utf8_char_width(text + offset);
        if (used + width > cells)
            break;
        used += width;
        offset += (size_t)nn_utf8_char_size(text + offset);
    }
    return offset;
}

/* ---- summary ---- */

enum { SUMMARY_WIDTH = 65, SUMMARY_MAX_COLUMNS = 4, TRAINABLE_WIDTH = 11 };
/* Keras' default column ends as fractions of the line: 29, 55 and 65 of 65. */
static const double summary_positions[3] = {0.45, 0.85, 1.0};

/* Prints one logical row as Keras does: each cell is cut to its column width minus the
 * two spaces that separate columns (none after the last), the rest carried to the next
 * physical line, and a cut is moved back to just after "),", "},", "]," or "'," when one
 * falls inside. positions[c] is where column c ends. Widths are terminal cells, so a
 * name in CJK characters is cut between characters and its columns still line up. */
static void render_row(nn_text *out, const char *const *fields, int count, const int *positions)
{
    size_t offsets[SUMMARY_MAX_COLUMNS] = {0};
    size_t lengths[SUMMARY_MAX_COLUMNS];
    for (int c = 0; c < count; c++)
        lengths[c] = strlen(fields[c]);
    static const char *const breaks[] = {"),", "},", "],", "',"};
    for (;;) {
        bool remaining = false;
        for (int c = 0; c < count; c++)
            remaining |= offsets[c] < lengths[c];
        if (!remaining)
            return;
        int column = 0;
        for (int c = 0; c < count; c++) {
            int start = c > 0 ? positions[c - 1] : 0;
            int space = c != count - 1 ? 2 : 0;
            int cutoff = positions[c] - start - space;
            const char *rest = fields[c] + offsets[c];
            size_t take = nn_utf8_offset(rest, cutoff);
            if (take == 0 && *rest) /* never stall on a character wider than the column */
                take = (size_t)nn_utf8_char_size(rest);
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
            if (c == 0) {
                nn_text_append(out, " ");
                column++;
            }
            char piece[256];
            size_t length = take < sizeof piece ? take : sizeof piece - 1;
            memcpy(piece, rest, length);
            piece[length] = '\0';
            nn_text_append(out, piece);
            column += nn_utf8_width(piece);
            offsets[c] += take;
            int end = positions[c] > column + space ? positions[c] : column + space;
            nn_text_repeat(out, " ", end - column);
            column = end;
        }
        nn_text_append(out, "\n");
    }
}

void nn_summary_render_keras(nn_text *out, const nn_summary *summary, bool explain)
{
    char number[32], total[32];
    /* Keras' column ends: the three given (or its defaults), then "Trainable" 11 wider. */
    int width = summary->line_length > 0 ? summary->line_length : SUMMARY_WIDTH;
    int positions[SUMMARY_MAX_COLUMNS];
    for (int c = 0; c < 3; c++)
        positions[c] = summary->positions[2] > 0 ? summary->positions[c]
                                                 : (int)(width * summary_positions[c]);
    int columns = 3;
    if (summary->show_trainable) {
        width += TRAINABLE_WIDTH;
        positions[columns++] = width;
    }
    const char *header[SUMMARY_MAX_COLUMNS] = {"Layer (type)", "Output Shape", "Param #",
                                               "Trainable"};
    nn_text_printf(out, "Model: \"%s\"\n", summary->model_name);
    nn_text_repeat(out, "_", width);
    nn_text_append(out, "\n");
    render_row(out, header, columns, positions);
    nn_text_repeat(out, "=", width);
    nn_text_append(out, "\n");
    for (int i = 0; i < summary->row_count; i++) {
        const nn_summary_row *row = &summary->rows[i];
        char first[160];
        snprintf(first, sizeof first, "%s (%s)", row->name, row->type);
        snprintf(number, sizeof number, "%lld", row->params);
        /* Keras 2 marks every layer by its trainable flag, weights or none. */
        const char *fields[SUMMARY_MAX_COLUMNS] = {first, row->output, number,
                                                   row->trainable ? "Y" : "N"};
        render_row(out, fields, columns, positions);
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
            nn_text_repeat(out, " ", width);
            nn_text_append(out, "\n");
        }
    }
    nn_text_repeat(out, "=", width);
    nn_text_append(out, "\n");
    nn_text_printf(out, "Total params: %s\n", nn_format_thousands(summary->total, total, sizeof total));
    nn_text_printf(out, "Trainable params: %s\n",
                   nn_format_thousands(summary->trainable, number, sizeof number));
    nn_text_printf(out, "Non-trainable params: %s\n",
                   nn_format_thousands(summary->non_trainable, number, sizeof number));
    nn_text_repeat(out, "_", width);
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
