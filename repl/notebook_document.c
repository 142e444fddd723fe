/* Reading and writing notebook documents (see notebook_document.h). */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lexer.h"
#include "notebook_document.h"

/* ---- lines ---- */

typedef struct line_span {
    size_t start, end, next; /* end excludes the newline; next is the following line */
} line_span;

static line_span line_at(const char *text, size_t length, size_t start)
{
    const char *newline = memchr(text + start, '\n', length - start);
    size_t end = newline ? (size_t)(newline - text) : length;
    return (line_span){start, end, newline ? end + 1 : length};
}

static bool is_blank(const char *text, line_span line)
{
    for (size_t i = line.start; i < line.end; i++)
        if (text[i] != ' ' && text[i] != '\t' && text[i] != '\r')
            return false;
    return true;
}

static bool starts_with(const char *text, line_span line, const char *prefix)
{
    size_t n = strlen(prefix);
    return line.end - line.start >= n && memcmp(text + line.start, prefix, n) == 0;
}

/* Whether the line's words (after offset `from`) include `word`. */
static bool has_word(const char *text, line_span line, size_t from, const char *word)
{
    size_t n = strlen(word);
    for (size_t i = from; i + n <= line.end; i++)
        if (memcmp(text + i, word, n) == 0 && (i == from || text[i - 1] == ' ' ||
                                               text[i - 1] == '\t' || text[i - 1] == ',') &&
            (i + n == line.end || text[i + n] == ' ' || text[i + n] == '\t' ||
             text[i + n] == '\r' || text[i + n] == ','))
            return true;
    return false;
}

static int count_lines(const char *text, size_t from, size_t to)
{
    int lines = 0;
    for (size_t i = from; i < to; i++)
        lines += text[i] == '\n';
    return lines;
}

/* ---- parts ---- */

static bool add_part(nnsh_notebook_document *document, nnsh_notebook_part part, int *capacity)
{
    if (!part.is_cell && part.length == 0)
        return true;
    if (document->part_count == *capacity) {
        *capacity = *capacity ? 2 * *capacity : 16;
        nnsh_notebook_part *grown =
            realloc(document->parts, sizeof *grown * (size_t)*capacity);
        if (!grown)
            return false;
        document->parts = grown;
    }
    document->parts[document->part_count++] = part;
    return true;
}

static nnsh_notebook_part prose(size_t start, size_t end)
{
    return (nnsh_notebook_part){.start = start, .length = end - start};
}

/* ---- Markdown ---- */

/* A fence line: up to three spaces, then at least three ` or ~. */
typedef struct fence {
    char mark;
    size_t count;
    size_t info; /* offset of the info string */
} fence;

static bool read_fence(const char *text, line_span line, fence *found)
{
    size_t i = line.start;
    while (i < line.end && i - line.start < 3 && text[i] == ' ')
        i++;
    if (i >= line.end || (text[i] != '`' && text[i] != '~'))
        return false;
    char mark = text[i];
    size_t count = 0;
    while (i < line.end && text[i] == mark)
        i++, count++;
    if (count < 3)
        return false;
    while (i < line.end && (text[i] == ' ' || text[i] == '\t'))
        i++;
    if (mark == '`' && memchr(text + i, '`', line.end - i))
        return false; /* a backtick fence's info string has no backticks */
    *found = (fence){mark, count, i};
    return true;
}

static bool closes(const char *text, line_span line, const fence *open)
{
    fence candidate;
    return read_fence(text, line, &candidate) && candidate.mark == open->mark &&
           candidate.count >= open->count &&
           is_blank(text, (line_span){candidate.info, line.end, 0});
}

/* Whether the info string's first word is `word`, in any case (```Lua, as editors and
 * GitHub take it). */
static bool info_is(const char *text, line_span line, const fence *f, const char *word)
{
    size_t n = strlen(word);
    return line.end - f->info >= n && strncasecmp(text + f->info, word, n) == 0 &&
           (f->info + n == line.end || text[f->info + n] == ' ' || text[f->info + n] == '\t' ||
            text[f->info + n] == '\r' || text[f->info + n] == '{');
}

/* Returns the offset after the block whose opening line is `open_line`; *content_end is
 * where its last content line ends (the closing fence's start). *closed says whether a
 * closing fence was found. */
static size_t skip_block(const char *text, size_t length, line_span open_line, const fence *f,
                         size_t *content_end, bool *closed)
{
    for (size_t at = open_line.next; at < length;) {
        line_span line = line_at(text, length, at);
        if (closes(text, line, f)) {
            *content_end = line.start;
            *closed = true;
            return line.next;
        }
        at = line.next;
    }
    *content_end = length; /* an unclosed fence runs to the end, as in CommonMark */
    *closed = false;
    return length;
}

/* Where the text after `line` goes on: past the line, or, when an HTML comment starts the
 * line (<!-- ..., as Markdown reads it, up to three spaces in), past the line where the
 * comment ends, so that a ```lua block commented out is not run. */
static size_t html_comment_end(const char *text, size_t length, line_span line)
{
    size_t i = line.start;
    while (i < line.end && i - line.start < 3 && text[i] == ' ')
        i++;
    if (line.end - i < 4 || memcmp(text + i, "<!--", 4) != 0)
        return line.next;
    for (size_t at = i + 4; at + 3 <= length; at++)
        if (memcmp(text + at, "-->", 3) == 0)
            return line_at(text, length, at).next; /* the rest of that line is text too */
    return length;
}

static bool parse_markdown(nnsh_notebook_document *document, const char *text, size_t length,
                           size_t from)
{
    int capacity = 0;
    size_t prose_start = 0;
    for (size_t at = from; at < length;) {
        line_span line = line_at(text, length, at);
        fence f;
        if (!read_fence(text, line, &f)) {
            at = html_comment_end(text, length, line);
            continue;
        }
        size_t content_end;
        bool closed;
        size_t block_end = skip_block(text, length, line, &f, &content_end, &closed);
        if (!info_is(text, line, &f, "lua")) {
            at = block_end;
            continue;
        }
        if (!closed && !document->unclosed_line)
            document->unclosed_line = 1 + count_lines(text, 0, line.start);
        nnsh_notebook_part cell = {
            .is_cell = true,
            .start = line.start,
            .length = block_end - line.start,
            .code_start = line.next,
            .code_length = content_end > line.next ? content_end - line.next : 0,
            .code_line = 1 + count_lines(text, 0, line.next),
            .expect_error = has_word(text, line, f.info, "expect-error"),
        };
        if (!add_part(document, prose(prose_start, line.start), &capacity) ||
            !add_part(document, cell, &capacity))
            return false;
        /* An ```output block right after the cell is the last run's output: drop it. */
        prose_start = block_end;
        size_t next = block_end;
        while (next < length && is_blank(text, line_at(text, length, next)))
            next = line_at(text, length, next).next;
        if (next < length) {
            line_span output_line = line_at(text, length, next);
            fence output;
            if (read_fence(text, output_line, &output) &&
                info_is(text, output_line, &output, "output")) {
                size_t ignored;
                prose_start = skip_block(text, length, output_line, &output, &ignored, &closed);
                if (!closed && !document->unclosed_line)
                    document->unclosed_line = 1 + count_lines(text, 0, output_line.start);
            }
        }
        at = prose_start;
    }
    return add_part(document, prose(prose_start, length), &capacity);
}

/* ---- Lua ---- */

static bool is_marker(const char *text, line_span line)
{
    if (!starts_with(text, line, "--"))
        return false;
    size_t i = line.start + 2;
    while (i < line.end && text[i] == ' ')
        i++;
    return i + 2 <= line.end && text[i] == '%' && text[i + 1] == '%';
}

bool nnsh_notebook_has_lua_cells(const char *text, size_t length)
{
    for (size_t at = 0; at < length;) {
        line_span line = line_at(text, length, at);
        if (is_marker(text, line))
            return true;
        at = line.next;
    }
    return false;
}

/* One cell of a Lua notebook: from `start` (its marker, if any) to `end`. */
static bool add_lua_cell(nnsh_notebook_document *document, const char *text, size_t start,
                         size_t end, bool has_marker, int *capacity)
{
    line_span first = line_at(text, end, start);
    size_t code_start = has_marker ? first.next : start;
    /* The code ends after its last line that is neither blank nor old output (-->). */
    size_t code_end = code_start, output_end = code_start;
    for (size_t at = code_start; at < end;) {
        line_span line = line_at(text, end, at);
        if (starts_with(text, line, "-->"))
            output_end = line.next;
        else if (!is_blank(text, line))
            code_end = output_end = line.next;
        at = line.next;
    }
    /* Before the first marker, a header of comments (`-- nnsh session`) is not a cell. */
    bool only_comments = true;
    for (size_t at = code_start; at < code_end && only_comments;) {
        line_span line = line_at(text, end, at);
        size_t i = line.start;
        while (i < line.end && (text[i] == ' ' || text[i] == '\t'))
            i++;
        line_span rest = {i, line.end, 0};
        /* `--[[ ... ]] code` is conservatively taken for code */
        only_comments = is_blank(text, line) ||
                        (starts_with(text, rest, "--") && !starts_with(text, rest, "--["));
        at = line.next;
    }
    if (!has_marker && only_comments)
        return add_part(document, prose(start, end), capacity);
    nnsh_notebook_part cell = {
        .is_cell = true,
        .start = start,
        .length = code_end - start,
        .code_start = code_start,
        .code_length = code_end - code_start,
        .code_line = 1 + count_lines(text, 0, code_start),
        .expect_error = has_marker && has_word(text, first, first.start, "expect-error"),
    };
    return add_part(document, cell, capacity) &&
           add_part(document, prose(output_end > code_end ? output_end : code_end, end), capacity);
}

static bool parse_lua(nnsh_notebook_document *document, const char *text, size_t length,
                      size_t from)
{
    int capacity = 0;
    size_t cell_start = from;
    bool has_marker = false;
    if (!add_part(document, prose(0, from), &capacity))
        return false;
    for (size_t at = from; at < length;) {
        line_span line = line_at(text, length, at);
        if (is_marker(text, line)) {
            if ((at > from || has_marker) &&
                !add_lua_cell(document, text, cell_start, line.start, has_marker, &capacity))
                return false;
            cell_start = line.start;
            has_marker = true;
        }
        at = line.next;
    }
    if (cell_start < length || has_marker)
        return add_lua_cell(document, text, cell_start, length, has_marker, &capacity);
    return true;
}

/* Why code, as a cell of a Lua notebook, would not read back as it is, or NULL. */
const char *nnsh_notebook_lua_cell_problem(const char *code)
{
    size_t length = strlen(code);
    line_span last = {0, 0, 0};
    for (size_t at = 0; at < length;) {
        line_span line = line_at(code, length, at);
        if (is_marker(code, line))
            return "a line of it starts with `-- %%`, which would start a new cell";
        if (!is_blank(code, line))
            last = line;
        at = line.next;
    }
    if (starts_with(code, last, "-->"))
        return "its last line starts with `-->`, which would read as its output";
    return NULL;
}

/* ---- the document ---- */

nnsh_notebook_format nnsh_notebook_format_of(const char *path)
{
    size_t n = strlen(path);
    return n >= 4 && strcmp(path + n - 4, ".lua") == 0 ? NNSH_NOTEBOOK_LUA : NNSH_NOTEBOOK_MARKDOWN;
}

bool nnsh_notebook_parse(nnsh_notebook_document *document, const char *text, size_t length,
                         nnsh_notebook_format format)
{
    *document = (nnsh_notebook_document){.format = format, .text = text, .length = length};
    /* An editor's byte order mark is kept in front, and is neither code nor a line's
     * start (Lua skips it in scripts too). */
    size_t from = length >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0 ? 3 : 0;
    /* Outputs end their lines as the document's first line does. */
    const char *newline = memchr(text, '\n', length);
    document->crlf = newline && newline > text && newline[-1] == '\r';
    bool ok = format == NNSH_NOTEBOOK_LUA ? parse_lua(document, text, length, from)
                                          : parse_markdown(document, text, length, from);
    if (!ok)
        nnsh_notebook_document_free(document);
    return ok;
}

void nnsh_notebook_document_free(nnsh_notebook_document *document)
{
    free(document->parts);
    document->parts = NULL;
    document->part_count = 0;
}

/* A fence longer than any run of backticks in text. */
static size_t fence_length(const char *text)
{
    size_t longest = 0, run = 0;
    for (const char *p = text; *p; p++) {
        run = *p == '`' ? run + 1 : 0;
        if (run > longest)
            longest = run;
    }
    return longest >= 3 ? longest + 1 : 3;
}

static void append_fence(nn_text *out, size_t count, const char *info, const char *eol)
{
    for (size_t i = 0; i < count; i++)
        nn_text_append(out, "`");
    nn_text_append(out, info);
    nn_text_append(out, eol);
}

/* The output's lines, each ended with eol (the last one too); a Lua notebook's as -->
 * comments. */
static void append_output_lines(nn_text *out, nnsh_notebook_format format, const char *output,
                                const char *eol)
{
    for (const char *line = output; *line;) {
        const char *end = strchr(line, '\n');
        size_t length = end ? (size_t)(end - line) : strlen(line);
        if (format == NNSH_NOTEBOOK_LUA)
            nn_text_append(out, length ? "--> " : "-->");
        nn_text_append_n(out, line, length);
        nn_text_append(out, eol);
        line += length + (end ? 1 : 0);
    }
}

static void append_output(nn_text *out, nnsh_notebook_format format, const char *output,
                          const char *eol)
{
    if (!output || !*output)
        return;
    if (format == NNSH_NOTEBOOK_MARKDOWN) {
        size_t count = fence_length(output);
        nn_text_append(out, eol);
        append_fence(out, count, "output", eol);
        append_output_lines(out, format, output, eol); /* the closing fence on its own line */
        append_fence(out, count, "", eol);
        return;
    }
    append_output_lines(out, format, output, eol);
}

void nnsh_notebook_render(const nnsh_notebook_document *document, const char *const *outputs,
                          nn_text *out)
{
    int cell = 0;
    for (int i = 0; i < document->part_count; i++) {
        const nnsh_notebook_part *part = &document->parts[i];
        nn_text_append_n(out, document->text + part->start, part->length);
        if (!part->is_cell)
            continue;
        const char *output = outputs[cell++];
        const char *eol = document->crlf ? "\r\n" : "\n";
        if (output && *output && out->length > 0 && out->data[out->length - 1] != '\n')
            nn_text_append(out, eol);
        append_output(out, document->format, output, eol);
    }
}

void nnsh_notebook_append_cell(nn_text *out, nnsh_notebook_format format, bool expect_error,
                               const char *code, const char *output)
{
    size_t length = strlen(code);
    while (length > 0 && (code[length - 1] == '\n' || code[length - 1] == ' '))
        length--;
    if (format == NNSH_NOTEBOOK_MARKDOWN) {
        size_t count = fence_length(code);
        append_fence(out, count, expect_error ? "lua expect-error" : "lua", "\n");
        nn_text_append_n(out, code, length);
        nn_text_append(out, "\n");
        append_fence(out, count, "", "\n");
    } else {
        nn_text_append(out, expect_error ? "-- %% expect-error\n" : "-- %%\n");
        nn_text_append_n(out, code, length);
        nn_text_append(out, "\n");
    }
    append_output(out, format, output, "\n");
    nn_text_append(out, "\n");
}

int nnsh_notebook_renumber_references(nn_text *out, const char *code, const int *numbers,
                                      int count)
{
    size_t length = strlen(code), copied = 0;
    int left_out = 0;
    nnsh_lexer lexer;
    nnsh_lexer_init(&lexer, code, length);
    /* The last five tokens: In [ 3 ] and the one before, which must not make In a field
     * (t.In[3]) or a method. */
    nnsh_token window[5] = {{0}};
    for (;;) {
        nnsh_token token = nnsh_lexer_next(&lexer);
        if (token.kind == NNSH_TOKEN_END)
            break;
        memmove(window, window + 1, 4 * sizeof *window);
        window[4] = token;
        const nnsh_token *name = &window[1], *number = &window[3];
        if (name->kind != NNSH_TOKEN_NAME || number->kind != NNSH_TOKEN_NUMBER ||
            !nnsh_token_is(&lexer, &window[2], "[") || !nnsh_token_is(&lexer, &window[4], "]") ||
            nnsh_token_is(&lexer, &window[0], ".") || nnsh_token_is(&lexer, &window[0], ":") ||
            !((name->length == 2 && strncmp(code + name->start, "In", 2) == 0) ||
              (name->length == 3 && strncmp(code + name->start, "Out", 3) == 0)))
            continue;
        int old_number = 0;
        bool whole = number->length <= 6;
        for (size_t i = 0; whole && i < number->length; i++) {
            char digit = code[number->start + i];
            whole = digit >= '0' && digit <= '9';
            old_number = old_number * 10 + (digit - '0');
        }
        if (whole && old_number > 0 && old_number < count && numbers[old_number] <= 0)
            left_out++;
        if (!whole || old_number <= 0 || old_number >= count || numbers[old_number] <= 0 ||
            numbers[old_number] == old_number)
            continue;
        nn_text_append_n(out, code + copied, number->start - copied);
        nn_text_printf(out, "%d", numbers[old_number]);
        copied = number->start + number->length;
    }
    nn_text_append_n(out, code + copied, length - copied);
    return left_out;
}
