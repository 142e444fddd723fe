/* Finding a line that starts with '(' right after a line that ends an expression. Lua
 * reads the two as one call (`y = f` then `(a):g()` is `y = f(a):g()`), where a reader,
 * and Python, see two statements; the error that follows names neither. Pure text.
 *
 *   nnsh_paren_call call;
 *   if (nnsh_paren_call_find("y = f\n(a):g()", 13, 2, &call))
 *       ...; // call.paren_line 2, call.above_line 1, the called expression "f"
 */
#ifndef NNSH_PAREN_CALL_H
#define NNSH_PAREN_CALL_H

#include <stdbool.h>
#include <stddef.h>

/* One such call. Lines count from 1 at the start of the source; bytes are offsets in it. */
typedef struct nnsh_paren_call {
    int callee_line;        /* where the called expression starts: Lua's line for the call */
    int above_line;         /* where it ends, the last line of code before the '(' */
    int paren_line;         /* the line that starts with '(' */
    int close_line;         /* where that '(' closes; the last line when it never does */
    size_t callee_start;    /* the called expression: from here ... */
    size_t callee_end;      /* ... to here (exclusive) */
    size_t callee_name;     /* its last name, as in d.bias, when it ends in one ... */
    size_t callee_name_length; /* ... (0 when it ends in a bracket: f(x), t[1]) */
} nnsh_paren_call;

/* Finds in source (length bytes) the first such call that `line` falls on: the line its
 * called expression starts or ends on, or a line from the '(' to its ')'. A '(' inside a
 * long string or comment, or after a line that ends in an operator, an opening bracket,
 * a comma or a keyword (`=`, `{`, `return`, `then`, `end`, ...) is no such call. Returns
 * false, leaving *call as it was, when there is none. */
bool nnsh_paren_call_find(const char *source, size_t length, int line, nnsh_paren_call *call);

#endif
