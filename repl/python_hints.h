/* Hints for Python habits in Lua code. Keras users write `fit(x, y, epochs=3)`, `# a
 * comment`, `[1, 2]`, `x ** 2`, `if x:`; Lua answers with a parse error that names a
 * symbol and nothing more. These functions read the error and the line it names and, when
 * a Python habit is plainly the cause, say how Lua writes it. Pure text: no Lua.
 *
 *   nn_text hint;
 *   nn_text_init(&hint);
 *   if (nnsh_python_hint(&hint, "In[1]:1: ')' expected near '='", NULL,
 *                        "model:fit(x, y, epochs=3)", 25, 1))
 *       puts(hint.data); // hint: Lua passes options in a table: model:fit(x, y, {epochs = 3})
 *   nn_text_free(&hint);
 */
#ifndef NNSH_PYTHON_HINTS_H
#define NNSH_PYTHON_HINTS_H

#include <stdbool.h>
#include <stddef.h>

#include "text.h"

/* Appends to hint one line, "hint: ..." without a newline, when message (Lua's error,
 * "chunk:line: text", perhaps followed by a traceback) is one that a Python habit on the
 * line it names causes. source holds the lines first_line, first_line + 1, ... of the
 * chunk. chunk is the chunk as the message names it ("In[3]", "file.lua"); a message that
 * names another chunk gets no hint. NULL takes any (a syntax error always names the chunk
 * that was compiled). A line that starts with '(' (a new statement in Python), which Lua
 * reads as a call of the line above (paren_call.h), counts as a habit when the error is on
 * either. Returns false, appending nothing, when no habit matches: ordinary Lua mistakes
 * get no hint. */
bool nnsh_python_hint(nn_text *hint, const char *message, const char *chunk, const char *source,
                      size_t length, int first_line);

/* Whether the line (length bytes, no newline needed) is a Python block header, as in
 * `if x:`, `for i in range(3):`, `def f(x):` or `else:`. Lua reads such a line as
 * unfinished (`x:` starts a method call), so the shell would wait for more lines. */
bool nnsh_python_block_header(const char *line, size_t length);

/* The message for reading the Python constant `name` (None, True, False) as a Lua global,
 * or NULL for any other name. */
const char *nnsh_python_constant_message(const char *name);

/* Appends the message for reading `name`, a string value some nn option takes ('same'
 * for padding), as a Lua global:
 * "'same' is not defined: nn's option values are strings in Lua, so write 'same'". */
void nnsh_python_option_message(nn_text *out, const char *name);

#endif
