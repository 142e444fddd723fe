/* Notebooks: running a lesson file cell by cell into a handout, and saving the REPL
 * session as a notebook. The formats are described in notebook_document.h. */
#ifndef NNSH_NOTEBOOK_H
#define NNSH_NOTEBOOK_H

#include <lua.h>
#include <stdbool.h>
#include <stddef.h>

#include "session.h"

typedef struct nnsh_notebook_options {
    const char *input;  /* the lesson */
    const char *output; /* where the handout goes: NULL for INPUT.out.md (or .out.lua),
                           "-" for stdout */
    bool keep_going;    /* run the cells after a failing one too */
} nnsh_notebook_options;

/* nnsh --notebook: runs every cell of the input in one session and writes the document
 * with the outputs filled in, even when a cell fails (its error is in the handout).
 * Returns the exit status: 0, or 1 when a cell failed unexpectedly or a file could not
 * be read or written (said on stderr). */
int nnsh_notebook_run(lua_State *L, const nnsh_notebook_options *options);

/* %save: writes the session's kept cells that ran without error, with their outputs,
 * in the format the path's extension names. Returns the number of cells written, with a
 * note in error or "" there, or -1 with a message in error. */
int nnsh_notebook_save_session(nnsh_session *session, const char *path, char *error,
                               size_t error_size);

#endif
