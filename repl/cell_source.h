/* Reading a cell's Lua source the way the shell needs it: top-level `local` statements
 * turned into session variables, the places where a trailing expression could start
 * (so its value can be shown), and the call whose argument table the cursor is in (for
 * completion). All positions are byte offsets into the source. */
#ifndef NNSH_CELL_SOURCE_H
#define NNSH_CELL_SOURCE_H

#include <stdbool.h>
#include <stddef.h>

#include "text.h"

/* Appends to out the source with each top-level `local` statement rewritten as an
 * assignment, so the names outlive the cell:
 *   local x, y = 1, 2      ->  x, y = 1, 2
 *   local z                ->  z = nil
 *   local n <const> = 3    ->  n = 3
 *   local function f() end ->  function f() end
 * Statements inside blocks and functions are left alone, and so is a statement with a
 * <close> variable (closing needs a real local). Line numbers do not change. */
void nnsh_cell_rewrite_locals(const char *source, size_t length, nn_text *out);

/* Whether a top-level `local` statement of source declares `name` (one that
 * nnsh_cell_rewrite_locals makes a session variable, which Lua's messages then call a
 * global). */
bool nnsh_cell_declares_local(const char *source, size_t length, const char *name);

/* Whether source gives `name` a value as a variable: a top-level `local` statement
 * declares it, an assignment (`name = ...`, `a, name = ...`) or `function name()` sets
 * it. A name set to nil is then known as set, where a typo is not. */
bool nnsh_cell_assigns(const char *source, size_t length, const char *name);

/* Fills starts[] with the offsets where a trailing expression may begin: the first
 * token, then every later top-level statement that follows a ';' or begins a line with a
 * token that cannot continue the line before (so "(x)" or "-y" on a line of their own
 * never count), from the last up.
 * Returns how many were found (at most capacity). */
size_t nnsh_cell_expression_starts(const char *source, size_t length, size_t *starts,
                                   size_t capacity);

/* Appends to out the source with the trailing expression that begins at `start` (one of
 * nnsh_cell_expression_starts) made the chunk's return value:
 *   x = 1; x + 1  ->  x = 1; return (function(...) return ... end)(x + 1)
 * The values pass through a function rather than `return f()`, which as a tail call
 * would drop the cell's own frame from tracebacks. The closing parenthesis goes right
 * after the last token, before any comment that ends the source: Lua gives the
 * expression's last operation (`t.field`, `x[0]`) the line where the argument list
 * closes, so on a line of its own it would put errors a line too far. Returns false
 * (appending nothing) when the expression closes a bracket it did not open, as in
 * `1) + (2`, which would close the wrapper and compile as something else. */
bool nnsh_cell_return_expression(const char *source, size_t length, size_t start, nn_text *out);

/* The same with the expression's values dropped: `x;`, a lone expression that the cell
 * keeps quiet with ';' (IPython's way), still runs, where Lua takes no bare expression. */
bool nnsh_cell_discard_expression(const char *source, size_t length, size_t start, nn_text *out);

/* Whether the last token is ';' (the IPython way to keep a value from printing). */
bool nnsh_cell_ends_with_semicolon(const char *source, size_t length);

/* Whether a block (function, if, do, repeat), a bracket or a long string or comment is
 * still open at the end: then the cell cannot be complete, and no compiling is needed
 * to know that more lines are wanted (a long paste would compile its whole text again
 * at every line). false says nothing: the cell may still be unfinished. */
bool nnsh_cell_is_open(const char *source, size_t length);

/* The bracket still open at the end of source, innermost first: the character that
 * would close it ('}', ')' or ']'), with the 1-based line it opened on in *line and its
 * byte offset in *offset (either may be NULL); '\0' when every bracket closes (or one
 * closes a bracket never opened). Strings and comments are skipped. */
char nnsh_cell_unclosed_bracket(const char *source, size_t length, int *line, size_t *offset);

/* Whether the source ends the way a call does: with ')', '}' or a string. A lone nil
 * from a call (history:plot(), print-like functions) is not worth showing; from a name
 * it is (it tells of a misspelling). */
bool nnsh_cell_ends_with_call(const char *source, size_t length);

/* Where completion stands inside a call's argument table, as in
 * `nn.layers.Conv2D{32, 3, pad` or `model:fit(x, y, {epo`. */
typedef struct nnsh_argument_context {
    size_t callee_start, callee_length; /* "nn.layers.Conv2D", "model:fit" */
} nnsh_argument_context;

/* Whether text (everything before the word being completed) ends where an argument
 * name may go: just after the `{` or a `,` of a table that is the argument of a call
 * through a plain name path. Fills context when it does. */
bool nnsh_cell_argument_context(const char *text, size_t length, nnsh_argument_context *context);

#endif
