/* The interactive shell and the program's shared helpers. */
#ifndef NNSH_REPL_H
#define NNSH_REPL_H

#include <lua.h>

#define NNSH_VERSION_STRING "0.1.0"

/* Runs the function below `argument_count` arguments on the stack with a traceback
 * handler; prints the error to stderr. Returns the lua_pcall status. */
int nnsh_run_chunk(lua_State *L, int argument_count);
lua_State *nnsh_new_state(void);
/* What nnsh -i runs in the shell's session before the first prompt: the -e chunks, then
 * the script, whose top-level locals are then the session's variables. */
typedef struct nnsh_repl_start {
    const char *const *code;
    int code_count;
    const char *script; /* NULL: none */
    char *const *script_args; /* its arguments, arg[1] on */
    int script_arg_count;
} nnsh_repl_start;

/* The interactive shell (start may be NULL); returns when the user quits. */
int nnsh_repl(lua_State *L, const nnsh_repl_start *start);
/* nnsh --doctor: what this installation can do and what is missing. */
int nnsh_doctor(void);

#endif
