/* A shell session: the Lua state, the session environment that keeps the user's
 * variables (top-level locals included) from cell to cell, the numbered cells with their
 * inputs and outputs, and the capture of everything a cell prints. The REPL and the
 * notebook runner each drive one.
 *
 * Inside the session, In[n] is the source of cell n, Out[n] its value (a list when it
 * gave several) and _ the latest value. */
#ifndef NNSH_SESSION_H
#define NNSH_SESSION_H

#include <lua.h>
#include <stdbool.h>
#include <stddef.h>

#include "transcript.h"

/* One numbered cell. */
typedef struct nnsh_cell {
    int number;
    char *input;               /* the source as given (owned) */
    nnsh_transcript output;    /* what it printed, its value, its error */
    char *error;               /* the error message when it failed (owned), else NULL */
    bool failed;
    bool ran;                  /* its Lua code started (a failed cell may have changed state) */
    bool interrupted;          /* Ctrl-C stopped it */
    bool keep;                 /* whether %save writes it (%save and %quit are not kept) */
} nnsh_cell;

typedef enum nnsh_cell_status {
    NNSH_CELL_OK,
    NNSH_CELL_FAILED, /* a syntax or run-time error, recorded in the cell */
    NNSH_CELL_QUIT,   /* %quit */
} nnsh_cell_status;

typedef struct nnsh_session nnsh_session;

typedef enum nnsh_session_mode {
    /* The shell: output goes to stdout as it comes and is recorded, errors go to stderr,
     * values print after "Out[n]: ". */
    NNSH_SESSION_SHELL,
    /* A notebook run: everything is only recorded. */
    NNSH_SESSION_NOTEBOOK,
    /* `nnsh cells.lua`: print and nn write to stdout themselves, values print as they
     * are, errors go to stderr after "nnsh: "; nothing is recorded. */
    NNSH_SESSION_SCRIPT,
} nnsh_session_mode;

/* Starts a session in L (which must hold the nn module). Returns NULL when out of
 * memory. */
nnsh_session *nnsh_session_create(lua_State *L, nnsh_session_mode mode);
/* Ends the session and restores print, io.write and nn's output. L stays usable. */
void nnsh_session_free(nnsh_session *session);

lua_State *nnsh_session_lua(nnsh_session *session);
/* Whether the session is the shell's. */
bool nnsh_session_is_interactive(const nnsh_session *session);

/* Adds a "hint:" line to the error message on top of the stack when a Python habit in
 * source (its first line is first_line) caused it (python_hints.h), or, for a syntax
 * error at the end of the code, names the bracket still open. chunk names the chunk as
 * the message does (lua_Debug.short_src) for a run-time error, NULL for a syntax error
 * of source itself. */
void nnsh_add_python_hint(lua_State *L, const char *chunk, const char *source, size_t length,
                          int first_line);

/* Makes reading Python's None, True and False an error that says what Lua writes,
 * instead of a quiet nil, and so an nn option value written as a name (padding=same) in
 * a typed cell (the shell, notebooks): gives _G a metatable whose __index raises for those
 * names only (none when _G has one). For the nnsh program's own state; nn loaded into a
 * stock lua5.4 leaves _G alone. */
void nnsh_watch_python_names(lua_State *L);

/* Loads code as a chunk that shows its value, by the rule every cell follows (the shell,
 * notebooks, Lua notebook scripts, -e): unless the code ends in ';', a last statement that
 * is an expression becomes the chunk's return value (*returns_value is true then);
 * otherwise the code loads as it is. Pushes the function, or the error message of the
 * code as it is with any hint (nnsh_add_python_hint); returns lua_load's status. Line
 * numbers stay the code's. */
int nnsh_load_cell_code(lua_State *L, const char *code, size_t length, const char *chunk_name,
                        bool *returns_value);

/* Whether source is an unfinished chunk that another line could complete (an open
 * block, bracket or long string), so the REPL should read on. */
bool nnsh_session_needs_more(nnsh_session *session, const char *source, size_t length);

/* Runs source as the next cell: Lua code or a % command. file and first_line, when file
 * is not NULL, name where the cell comes from, so messages point into that file;
 * otherwise the cell is called In[n]. */
nnsh_cell_status nnsh_session_run_cell(nnsh_session *session, const char *source, size_t length,
                                       const char *file, int first_line);

/* The number the next cell will get. */
int nnsh_session_next_number(const nnsh_session *session);
/* "In [12]: " for cell 12, "    ...: " (as wide) for its next lines. */
void nnsh_cell_prompt(char *prompt, size_t size, int number, bool continuation);
int nnsh_session_cell_count(const nnsh_session *session);
/* Whether a notebook's cell called os.exit (which there stops the cell with
 * NNSH_CELL_QUIT rather than the process), and with which exit status. */
bool nnsh_session_exit_requested(const nnsh_session *session, int *code);
/* Cell by position, 0 .. count-1. */
nnsh_cell *nnsh_session_cell(nnsh_session *session, int position);

/* ---- for shell commands ---- */

/* Runs Lua code in the session environment, as part of the current cell. chunk_name
 * follows Lua's convention ("=In[3]", "@file.lua"). With show_value, a trailing
 * expression's value is shown and stored in Out and _. */
nnsh_cell_status nnsh_session_run_code(nnsh_session *session, const char *source, size_t length,
                                       const char *chunk_name, int first_line, bool show_value);
/* Runs a Lua file in the session environment (a byte order mark and a #! first line are
 * skipped); its top-level locals become session variables. A Lua notebook (-- %% cells,
 * each a chunk of its own) or a Markdown notebook (FILE.md: its ```lua blocks) runs cell
 * by cell, showing each cell's value. The file's `...`
 * (each cell's) is arg[1] .. arg[#arg] of the global `arg`, which the caller sets to the
 * file's arguments first, as lua.c does. Used by %run, nnsh -i and nnsh FILE.lua for
 * notebooks. path "-" reads standard input. */
nnsh_cell_status nnsh_session_run_file(nnsh_session *session, const char *path);
/* The same for nnsh -i's script, before the first cell: command is the %run line that
 * %save writes first in its place, so that a saved session replays whole. */
nnsh_cell_status nnsh_session_run_start_file(nnsh_session *session, const char *path,
                                             const char *command);
/* That %run cell, or NULL when the shell started without a script. */
const nnsh_cell *nnsh_session_start_cell(const nnsh_session *session);
/* The same for a file's text, which `name` (a path, or "stdin") names in messages. */
nnsh_cell_status nnsh_session_run_text(nnsh_session *session, const char *text, size_t length,
                                       const char *name);
/* Whether text is a Lua notebook whose cells each read as a chunk (or a % command): a
 * `-- %%` line inside a long string or a function leaves the file a plain script. */
bool nnsh_session_reads_as_cells(lua_State *L, const char *text, size_t length);
/* Whether a file name ends in .md or .markdown: a Markdown notebook, whose ```lua blocks
 * `nnsh FILE` and %run FILE run as cells (--notebook also writes their outputs back). */
bool nnsh_names_markdown(const char *path);
/* Where a file's code starts: after a byte order mark and a #! line (up to its newline, so
 * line numbers stay the file's), as lua skips them. */
size_t nnsh_source_code_start(const char *text, size_t length);
/* The whole text of a file, or of standard input for "-" (malloc'd, NUL-terminated), or
 * NULL with the errno in *cause. */
char *nnsh_read_source(const char *path, size_t *length, int *cause);
/* Text for the current cell's output (and stdout when interactive). */
void nnsh_session_write(nnsh_session *session, const char *text, size_t length);
void nnsh_session_printf(nnsh_session *session, const char *format, ...)
    __attribute__((format(printf, 2, 3)));
/* Records an error in the current cell (and prints it to stderr when interactive). */
void nnsh_session_fail(nnsh_session *session, const char *message);
/* Calls shell.<name>(words...) from shell.lua and writes the string it returns; false
 * (and the error recorded in the cell) when it fails. */
bool nnsh_session_write_from_shell(nnsh_session *session, const char *name,
                                   char *const *words, int count);
/* Whether the running cell is one %save keeps. */
void nnsh_session_keep_cell(nnsh_session *session, bool keep);

#endif
