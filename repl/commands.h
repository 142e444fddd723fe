/* Shell commands: a cell whose first non-blank character is %.
 *   %time CODE        run CODE as a cell and say how long it took (wall and CPU time)
 *   %who              list the session's variables with their types and values
 *   %run FILE [ARGS]  run a Lua file in the session (its top-level locals stay)
 *   %save FILE        save the session as a notebook (.md: Markdown, .lua: -- %% cells)
 *   %quit, %exit      leave the shell */
#ifndef NNSH_COMMANDS_H
#define NNSH_COMMANDS_H

#include <stdbool.h>
#include <stddef.h>

#include "session.h"

bool nnsh_command_is(const char *source, size_t length);
/* Whether the command's code (%time's) is unfinished and the REPL should read on. */
bool nnsh_command_needs_more(nnsh_session *session, const char *source, size_t length);
/* Runs the command in the current cell; file and first_line as for nnsh_session_run_cell. */
nnsh_cell_status nnsh_command_run(nnsh_session *session, const char *source, size_t length,
                                  const char *file, int first_line);
/* The command names, for completion; NULL-terminated. */
const char *const *nnsh_command_names(void);

#endif
