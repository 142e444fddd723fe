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

/* The columns: "Layer (type)", "Output Shape", "Param #", and "Trainable" when shown. */
enum { MAX_COLUMNS = 4 };

typedef enum cell_align { ALIGN_LEFT, ALIGN_RIGHT, ALIGN_CENTER } cell_align;

/* Keras 3's alignment: names and shapes left, counts right, the Y / N mark centred. */
static const cell_align column_align[MAX_COLUMNS] = {ALIGN_LEFT, ALIGN_LEFT, ALIGN_RIGHT,
                                                     ALIGN_CENTER};

/* A horizontal rule over `columns` columns of the given widths (each cell has a space
 * either side). */
static void rule(nn_text *out, const int *widths, int columns, const char *const ends[3],
                 const char *h, bool junctions)
{
    nn_text_append(out, ends[0]);
    for (int c = 0; c < columns; c++) {
        nn_text_repeat(out, h, widths[c] + 2);
        if (c < columns - 1)
            nn_text_append(out, junctions ? ends[1] : h);
    }
    nn_text_append(out, ends[2]);
    nn_text_append(out, "\n");
}

static void pad_cell(nn_text *out, const char *text, size_t length, int width, cell_align align)
{
    char piece[512];
    if (length >= sizeof piece)
        length = sizeof piece - 1;
    memcpy(piece, text, length);
    piece[length] = '\0';
    int room = width - nn_utf8_width(piece);
    int before = align == ALIGN_RIGHT ? room : align == ALIGN_CENTER ? room / 2 : 0;
    nn_text_repeat(out, " ", before);
    nn_text_append(out, piece);
    nn_text_repeat(out, " ", room - before);
}

enum { MAX_LINES = 16 };

/* One table row: its cells wrapped to their widths, side by side. */
static void row(nn_text *out, const box_glyphs *g, const int *widths, int columns,
                const char *const *cells)
{
    span spans[MAX_COLUMNS][MAX_LINES];
    int counts[MAX_COLUMNS], lines = 1;
    for (int c = 0; c < columns; c++) {
        counts[c] = wrap(cells[c], widths[c], spans[c], MAX_LINES);
        if (counts[c] > lines)
            lines = counts[c];
    }
    for (int line = 0; line < lines; line++) {
        nn_text_append(out, g->v);
        for (int c = 0; c < columns; c++) {
            nn_text_append(out, " ");
            if (line < counts[c])
                pad_cell(out, cells[c] + spans[c][line].start, spans[c][line].length,
                         widths[c], column_align[c]);
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
                     ALIGN_LEFT);
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

/* Keras 3's Trainable cell: Y or N for a layer with weights, - for one without. */
static const char *trainable_mark(const nn_summary_row *r)
{
    return !r->has_weights ? "-" : r->trainable ? "Y" : "N";
}

/* One entry per layer: "name (Type): N params", then its output shape; with
 * show_trainable the shape is followed by ", trainable: Y" (N, or - without weights). */
static void render_list(nn_text *out, const nn_summary *summary, char (*firsts)[160],
                        char (*params)[32], nn_charset charset, int width)
{
    const char *arrow = charset == NN_CHARSET_UNICODE ? "→" : "->";
    char line[256];
    for (int i = 0; i < summary->row_count; i++) {
        snprintf(line, sizeof line, " %s: %s params", firsts[i], params[i]);
        wrapped(out, line, width, 3);
        snprintf(line, sizeof line, "   %s %s%s%s", arrow, summary->rows[i].output,
                 summary->show_trainable ? ", trainable: " : "",
                 summary->show_trainable ? trainable_mark(&summary->rows[i]) : "");
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
    int columns = summary->show_trainable ? 4 : 3;
    const char *const header[MAX_COLUMNS] = {"Layer (type)", "Output Shape", "Param #",
                                             "Trainable"};
    int natural[MAX_COLUMNS] = {0};
    for (int c = 0; c < columns; c++)
        natural[c] = nn_utf8_width(header[c]);
    for (int i = 0; i < count; i++) {
        const nn_summary_row *r = &summary->rows[i];
        snprintf(firsts[i], sizeof firsts[i], "%s (%s)", r->name, r->type);
        nn_format_thousands(r->params, params[i], sizeof params[i]);
        const char *cells[MAX_COLUMNS] = {firsts[i], r->output, params[i], trainable_mark(r)};
        for (int c = 0; c < columns; c++) {
            int length = nn_utf8_width(cells[c]);
            if (length > natural[c])
                natural[c] = length;
        }
    }
    nn_text_printf(out, "Model: \"%s\"\n", summary->model_name);

    /* Borders and padding take 3 cells a column and one more; the names and shapes share
     * what the counts and marks leave. */
    int widths[MAX_COLUMNS] = {natural[0], natural[1], natural[2], natural[3]};
    int available = width - (3 * columns + 1) - widths[2] - (columns > 3 ? widths[3] : 0);
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
    /* Inside the outer borders and their spaces: every cell and separator but those. */
    int separators = 3 * columns - 3;
    int inner_width = separators;
    for (int c = 0; c < columns; c++)
        inner_width += widths[c];
    /* Explanations get room up to the terminal's width, in the shape column. */
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
    int inner = inner_width;

    rule(out, widths, columns, g->top, g->h, true);
    row(out, g, widths, columns, header);
    rule(out, widths, columns, g->middle, g->header_h, true);
    for (int i = 0; i < count; i++) {
        const nn_summary_row *r = &summary->rows[i];
        const char *cells[MAX_COLUMNS] = {firsts[i], r->output, params[i], trainable_mark(r)};
        row(out, g, widths, columns, cells);
        bool explained = explain && r->explanation && r->explanation[0];
        bool last = i == count - 1;
        if (explained) {
            rule(out, widths, columns, g->merge, g->h, true);
            spanning_lines(out, g, inner, r->explanation);
            if (last) {
                const char *const closing[3] = {g->bottom[0], g->h, g->bottom[2]};
                rule(out, widths, columns, closing, g->h, false);
            } else {
                rule(out, widths, columns, g->split, g->h, true);
            }
        } else if (last) {
            rule(out, widths, columns, g->bottom, g->h, true);
        } else if (separated) {
            rule(out, widths, columns, g->middle, g->h, true);
        }
    }
    if (count == 0)
        rule(out, widths, columns, g->bottom, g->h, true);
    totals(out, summary);
    free(firsts);
    free(params);
}
