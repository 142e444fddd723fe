/* Model summaries as box-drawn tables fitted to the terminal. */
#include "summary_box.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "grid.h"

char *nn_format_param_bytes(long long params, char *buf, size_t size)
{
    double bytes = (double)params * 4.0;
    static const char *const units[] = {"B", "KB", "MB", "GB", "TB"};
    int unit = 0;
    while (bytes >= 1024.0 && unit < 4) {
        bytes /= 1024.0;
        unit++;
    }
    if (unit == 0)
        snprintf(buf, size, "%.0f B", bytes);
    else
        snprintf(buf, size, "%.2f %s", bytes, units[unit]);
    return buf;
}

/* ---- wrapping ---- */

/* The byte length of the next line of text at most `width` characters wide: it ends
 * after the last space that fits (or, for a name, before " ("), or is cut hard. *skip
 * receives the bytes to drop after it (the space). */
static size_t wrap_line(const char *text, int width, size_t *skip)
{
    *skip = 0;
    if (nn_utf8_width(text) <= width)
        return strlen(text);
    size_t cut = nn_utf8_offset(text, width);
    size_t space = 0;
    for (size_t i = 0; i <= cut && text[i]; i++)
        if (text[i] == ' ')
            space = i;
    if (space > 0) {
        *skip = 1;
        return space;
    }
    return cut;
}

/* Splits text into lines of at most width characters (malloc'd array of offsets into
 * text: start and length pairs). Returns the number of lines, 1 at least. */
typedef struct span {
    size_t start, length;
} span;

static int wrap(const char *text, int width, span *spans, int max_spans)
{
    int count = 0;
    size_t at = 0;
    do {
        size_t skip;
        size_t length = wrap_line(text + at, width, &skip);
        if (count < max_spans)
            spans[count] = (span){at, length};
        count++;
        at += length + skip;
    } while (text[at] && count < max_spans);
    return count < max_spans ? count : max_spans;
}

/* ---- lines ---- */

typedef struct box_glyphs {
    const char *h, *v;
    const char *top[3], *middle[3], *bottom[3]; /* left, junction, right */
    const char *merge[3], *split[3];            /* junctions closing / opening columns */
    const char *header_h;
} box_glyphs;

static const box_glyphs unicode_box = {
    "─", "│", {"┌", "┬", "┐"}, {"├", "┼", "┤"}, {"└", "┴", "┘"},
    {"├", "┴", "┤"}, {"├", "┬", "┤"}, "─",
};
static const box_glyphs ascii_box = {
    "-", "|", {"+", "+", "+"}, {"+", "+", "+"}, {"+", "+", "+"},
    {"+", "+", "+"}, {"+", "+", "+"}, "=",
};

/* A horizontal rule over columns of the given widths (each cell has a space either side). */
static void rule(nn_text *out, const int widths[3], const char *const ends[3], const char *h,
                 bool junctions)
{
    nn_text_append(out, ends[0]);
    for (int c = 0; c < 3; c++) {
        nn_text_repeat(out, h, widths[c] + 2);
        if (c < 2)
            nn_text_append(out, junctions ? ends[1] : h);
    }
    nn_text_append(out, ends[2]);
    nn_text_append(out, "\n");
}

static void pad_cell(nn_text *out, const char *text, size_t length, int width, bool right)
{
    char piece[512];
    if (length >= sizeof piece)
        length = sizeof piece - 1;
    memcpy(piece, text, length);
    piece[length] = '\0';
    int used = nn_utf8_width(piece);
    if (right)
        nn_text_repeat(out, " ", width - used);
    nn_text_append(out, piece);
    if (!right)
        nn_text_repeat(out, " ", width - used);
}

enum { MAX_LINES = 16 };

/* One table row: three cells wrapped to their widths, side by side. */
static void row(nn_text *out, const box_glyphs *g, const int widths[3],
                const char *const cells[3])
{
    span spans[3][MAX_LINES];
    int counts[3], lines = 1;
    for (int c = 0; c < 3; c++) {
        counts[c] = wrap(cells[c], widths[c], spans[c], MAX_LINES);
        if (counts[c] > lines)
            lines = counts[c];
    }
    for (int line = 0; line < lines; line++) {
        nn_text_append(out, g->v);
        for (int c = 0; c < 3; c++) {
            nn_text_append(out, " ");
            if (line < counts[c])
                pad_cell(out, cells[c] + spans[c][line].start, spans[c][line].length,
                         widths[c], c == 2);
            else
                nn_text_repeat(out, " ", widths[c]);
            nn_text_append(out, " ");
            nn_text_append(out, g->v);
        }
        nn_text_append(out, "\n");
    }
}

static int rows_needed(const char *text, int width)
{
    span spans[MAX_LINES];
    return wrap(text, width, spans, MAX_LINES);
}

/* An explanation under a row, across the whole table. */
static void spanning_lines(nn_text *out, const box_glyphs *g, int inner, const char *text)
{
    const char *part = text;
    while (*part) {
        const char *end = strchr(part, '\n');
        size_t length = end ? (size_t)(end - part) : strlen(part);
        char line[512];
        snprintf(line, sizeof line, "%.*s", (int)length, part);
        span spans[MAX_LINES];
        /* Two spaces of indent, four on continuation lines. */
        int count = wrap(line, inner - 4, spans, MAX_LINES);
        for (int i = 0; i < count; i++) {
            nn_text_append(out, g->v);
            nn_text_append(out, i == 0 ? "   " : "     ");
            pad_cell(out, line + spans[i].start, spans[i].length, inner - (i == 0 ? 2 : 4),
                     false);
            nn_text_append(out, " ");
            nn_text_append(out, g->v);
            nn_text_append(out, "\n");
        }
        part += length + (end ? 1 : 0);
    }
}

/* ---- the summary ---- */

static void totals(nn_text *out, const nn_summary *summary)
{
    char number[32], bytes[32];
    const struct {
        const char *what;
        long long count;
    } lines[] = {{"Total", summary->total},
                 {"Trainable", summary->trainable},
                 {"Non-trainable", summary->non_trainable}};
    for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++)
        nn_text_printf(out, " %s params: %s (%s)\n", lines[i].what,
                       nn_format_thousands(lines[i].count, number, sizeof number),
                       nn_format_param_bytes(lines[i].count, bytes, sizeof bytes));
}

/* Appends text wrapped to width, continuation lines indented by `indent` spaces. */
static void wrapped(nn_text *out, const char *text, int width, int indent)
{
    int room = width;
    while (*text) {
        size_t skip;
        size_t length = wrap_line(text, room, &skip);
        nn_text_append_n(out, text, length);
        nn_text_append(out, "\n");
        text += length + skip;
        while (*text == ' ')
            text++;
        if (*text) {
            nn_text_repeat(out, " ", indent);
            room = width - indent > 8 ? width - indent : 8;
        }
    }
}

/* One entry per layer: "name (Type): N params", then its output shape. */
static void render_list(nn_text *out, const nn_summary *summary, char (*firsts)[160],
                        char (*params)[32], nn_charset charset, int width)
{
    const char *arrow = charset == NN_CHARSET_UNICODE ? "→" : "->";
    char line[256];
    for (int i = 0; i < summary->row_count; i++) {
        snprintf(line, sizeof line, " %s: %s params", firsts[i], params[i]);
        wrapped(out, line, width, 3);
        snprintf(line, sizeof line, "   %s %s", arrow, summary->rows[i].output);
        wrapped(out, line, width, 5);
    }
    char number[32], bytes[32];
    const struct {
        const char *what;
        long long count;
    } lines[] = {{"Total", summary->total},
                 {"Trainable", summary->trainable},
                 {"Non-trainable", summary->non_trainable}};
    for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++) {
        snprintf(line, sizeof line, " %s params: %s (%s)", lines[i].what,
                 nn_format_thousands(lines[i].count, number, sizeof number),
                 nn_format_param_bytes(lines[i].count, bytes, sizeof bytes));
        wrapped(out, line, width, 3);
    }
}

void nn_summary_render_box(nn_text *out, const nn_summary *summary, int width,
                           nn_charset charset, bool explain)
{
    const box_glyphs *g = charset == NN_CHARSET_UNICODE ? &unicode_box : &ascii_box;
    int count = summary->row_count;
    char (*firsts)[160] = calloc((size_t)(count + 1), sizeof *firsts);
    char (*params)[32] = calloc((size_t)(count + 1), sizeof *params);
    if (!firsts || !params) {
        free(firsts);
        free(params);
        out->failed = true;
        return;
    }
    const char *const header[3] = {"Layer (type)", "Output Shape", "Param #"};
    int natural[3];
    for (int c = 0; c < 3; c++)
        natural[c] = nn_utf8_width(header[c]);
    for (int i = 0; i < count; i++) {
        const nn_summary_row *r = &summary->rows[i];
        snprintf(firsts[i], sizeof firsts[i], "%s (%s)", r->name, r->type);
        nn_format_thousands(r->params, params[i], sizeof params[i]);
        const char *cells[3] = {firsts[i], r->output, params[i]};
        for (int c = 0; c < 3; c++) {
            int length = nn_utf8_width(cells[c]);
            if (length > natural[c])
                natural[c] = length;
        }
    }
    nn_text_printf(out, "Model: \"%s\"\n", summary->model_name);

    /* Borders and padding take 10 cells; the names and shapes share the rest. */
    int widths[3] = {natural[0], natural[1], natural[2]};
    int available = width - 10 - widths[2];
    if (natural[0] + natural[1] > available) {
        if (width < NN_SUMMARY_BOX_MIN_WIDTH || available < 24) {
            render_list(out, summary, firsts, params, charset, width);
            free(firsts);
            free(params);
            return;
        }
        widths[0] = available * natural[0] / (natural[0] + natural[1]);
        if (widths[0] < 12)
            widths[0] = 12;
        widths[1] = available - widths[0];
        if (widths[1] > natural[1]) {
            widths[0] += widths[1] - natural[1];
            widths[1] = natural[1];
        }
    }
    /* Explanations get room up to the terminal's width, in the shape column. */
    int inner_width = widths[0] + widths[1] + widths[2] + 6;
    for (int i = 0; explain && i < count; i++) {
        const char *part = summary->rows[i].explanation;
        while (part && *part) {
            const char *end = strchr(part, '\n');
            int length = (int)(end ? (size_t)(end - part) : strlen(part)) + 4;
            int limit = width - 4;
            int wanted = length < limit ? length : limit;
            if (wanted > inner_width) {
                widths[1] += wanted - inner_width;
                inner_width = wanted;
            }
            part += end ? (size_t)(end - part) + 1 : strlen(part);
        }
    }
    /* Rows are separated by rules only when some row takes several lines. */
    bool separated = false;
    for (int i = 0; i < count && !separated; i++)
        separated = rows_needed(firsts[i], widths[0]) > 1 ||
                    rows_needed(summary->rows[i].output, widths[1]) > 1;
    int inner = widths[0] + widths[1] + widths[2] + 6;

    rule(out, widths, g->top, g->h, true);
    row(out, g, widths, header);
    rule(out, widths, g->middle, g->header_h, true);
    for (int i = 0; i < count; i++) {
        const nn_summary_row *r = &summary->rows[i];
        row(out, g, widths, (const char *const[3]){firsts[i], r->output, params[i]});
        bool explained = explain && r->explanation && r->explanation[0];
        bool last = i == count - 1;
        if (explained) {
            rule(out, widths, g->merge, g->h, true);
            spanning_lines(out, g, inner, r->explanation);
            if (last) {
                const char *const closing[3] = {g->bottom[0], g->h, g->bottom[2]};
                rule(out, widths, closing, g->h, false);
            } else {
                rule(out, widths, g->split, g->h, true);
            }
        } else if (last) {
            rule(out, widths, g->bottom, g->h, true);
        } else if (separated) {
            rule(out, widths, g->middle, g->h, true);
        }
    }
    if (count == 0)
        rule(out, widths, g->bottom, g->h, true);
    totals(out, summary);
    free(firsts);
    free(params);
}
