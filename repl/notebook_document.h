/* Notebook documents: the text of a lesson split into prose and Lua cells, and written
 * back with each cell's output below it. Two formats:
 *
 *   Markdown: every ```lua fenced block is a cell; its output follows as an ```output
 *   block. A cell whose info string says `lua expect-error` is meant to fail.
 *
 *   Lua: `-- %%` lines start cells; the output follows the code as `-->` comment lines,
 *   so the handout is still a Lua script. `-- %% expect-error` marks a cell meant to fail.
 *
 * Output already in the document (from an earlier run) is replaced, never repeated. */
#ifndef NNSH_NOTEBOOK_DOCUMENT_H
#define NNSH_NOTEBOOK_DOCUMENT_H

#include <stdbool.h>
#include <stddef.h>

#include "text.h"

typedef enum nnsh_notebook_format {
    NNSH_NOTEBOOK_MARKDOWN,
    NNSH_NOTEBOOK_LUA,
} nnsh_notebook_format;

/* A stretch of the document: prose to copy, or a cell (copied, then its output). */
typedef struct nnsh_notebook_part {
    bool is_cell;
    size_t start, length;           /* the text written back as it is */
    size_t code_start, code_length; /* a cell's Lua source */
    int code_line;                  /* the line of the document where the code starts */
    bool expect_error;              /* the cell is meant to fail */
} nnsh_notebook_part;

typedef struct nnsh_notebook_document {
    nnsh_notebook_format format;
    const char *text; /* the document (not owned) */
    size_t length;
    nnsh_notebook_part *parts; /* owned */
    int part_count;
    bool crlf;         /* its lines end in \r\n: outputs are written so too */
    int unclosed_line; /* Markdown: the line of the first ```lua or ```output fence that is
                          never closed (its cell and handout would swallow the rest); 0: none */
} nnsh_notebook_document;

/* The format a file name suggests: .lua is Lua, anything else Markdown. */
nnsh_notebook_format nnsh_notebook_format_of(const char *path);

/* Whether text is a Lua notebook: a line of it starts a cell with `-- %%`. */
bool nnsh_notebook_has_lua_cells(const char *text, size_t length);

/* Splits text into parts. Returns false when out of memory; a fence never closed is
 * noted in unclosed_line for the caller to report. */
bool nnsh_notebook_parse(nnsh_notebook_document *document, const char *text, size_t length,
                         nnsh_notebook_format format);
void nnsh_notebook_document_free(nnsh_notebook_document *document);

/* Writes the document back with outputs[i] below the i-th cell (NULL or "": nothing). */
void nnsh_notebook_render(const nnsh_notebook_document *document, const char *const *outputs,
                          nn_text *out);

/* Why code would not read back whole as a cell of a Lua notebook (a line that reads as a
 * marker or, at its end, as output), or NULL when it would. */
const char *nnsh_notebook_lua_cell_problem(const char *code);

/* Appends code to out with each In[n] and Out[n] of it (n written as a whole number, in
 * the code, not in a string or comment) renumbered to numbers[n], where 0 < n < count and
 * numbers[n] > 0; others stay as written. A saved session runs as a notebook whose cells
 * count from 1 without the cells %save left out, so its references must follow. Returns
 * how many references name a cell left out (0 < n < count, numbers[n] == 0). */
int nnsh_notebook_renumber_references(nn_text *out, const char *code, const int *numbers,
                                      int count);

/* Appends one cell in the format, code and output, as a new document would hold it. */
void nnsh_notebook_append_cell(nn_text *out, nnsh_notebook_format format, bool expect_error,
                               const char *code, const char *output);

#endif
